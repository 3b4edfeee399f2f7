"""Local time and day counts agree across engines, at DST changes and far from now.

DuckDB converts through a table of offsets read from ICU (``timezone()`` per
row only outside 1990-2039 and for zones ICU does not know); these tests hold
it to the same answers as Polars, Spark and Python's ``zoneinfo``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import narwhals as nw
import numpy as np
import pyarrow as pa
import pytest

from cxlab.engine import days_per_group, local_timestamp, materialize, materialize_with_ids
from cxlab.exceptions import InputDataError

UTC = dt.timezone.utc

#: (UTC instant, zone, expected wall clock) on both sides of DST changes.
DST_CASES = [
    # Berlin springs forward at 01:00 UTC on 31 March 2024 (02:00 -> 03:00 local)
    (dt.datetime(2024, 3, 31, 0, 30), "Europe/Berlin", dt.datetime(2024, 3, 31, 1, 30)),
    (dt.datetime(2024, 3, 31, 0, 59, 59, 999999), "Europe/Berlin",
     dt.datetime(2024, 3, 31, 1, 59, 59, 999999)),
    (dt.datetime(2024, 3, 31, 1, 0), "Europe/Berlin", dt.datetime(2024, 3, 31, 3, 0)),
    (dt.datetime(2024, 3, 31, 1, 30), "Europe/Berlin", dt.datetime(2024, 3, 31, 3, 30)),
    # Berlin falls back at 01:00 UTC on 27 October 2024 (03:00 -> 02:00 local)
    (dt.datetime(2024, 10, 27, 0, 30), "Europe/Berlin", dt.datetime(2024, 10, 27, 2, 30)),
    (dt.datetime(2024, 10, 27, 1, 30), "Europe/Berlin", dt.datetime(2024, 10, 27, 2, 30)),
    # New York falls back at 06:00 UTC on 3 November 2024 (02:00 EDT -> 01:00 EST)
    (dt.datetime(2024, 11, 3, 5, 30), "America/New_York", dt.datetime(2024, 11, 3, 1, 30)),
    (dt.datetime(2024, 11, 3, 6, 30), "America/New_York", dt.datetime(2024, 11, 3, 1, 30)),
    (dt.datetime(2024, 11, 3, 23, 30), "America/New_York", dt.datetime(2024, 11, 3, 18, 30)),
    # New York springs forward at 07:00 UTC on 10 March 2024
    (dt.datetime(2024, 3, 10, 6, 59), "America/New_York", dt.datetime(2024, 3, 10, 1, 59)),
    (dt.datetime(2024, 3, 10, 7, 0), "America/New_York", dt.datetime(2024, 3, 10, 3, 0)),
    # half-hour changes (Lord Howe: +10:30 <-> +11 at 15:00 UTC), no DST, the date line
    (dt.datetime(2024, 4, 6, 14, 59), "Australia/Lord_Howe", dt.datetime(2024, 4, 7, 1, 59)),
    (dt.datetime(2024, 4, 6, 15, 0), "Australia/Lord_Howe", dt.datetime(2024, 4, 7, 1, 30)),
    (dt.datetime(2024, 1, 31, 23, 30), "Asia/Tokyo", dt.datetime(2024, 2, 1, 8, 30)),
    (dt.datetime(2024, 1, 31, 18, 29), "Asia/Kolkata", dt.datetime(2024, 1, 31, 23, 59)),
    (dt.datetime(2024, 1, 1, 10, 0), "Pacific/Kiritimati", dt.datetime(2024, 1, 2, 0, 0)),
    # outside the 1990-2039 offset table: per-row conversion on DuckDB
    (dt.datetime(1960, 7, 1, 12, 0), "Europe/London", dt.datetime(1960, 7, 1, 13, 0)),
    (None, "Europe/Berlin", None),
    (dt.datetime(2024, 6, 1), None, None),
]


def _local(engine, ts, tz, zones, coded=False):
    """Local times of ``ts``; with ``coded`` the zone column holds positions in ``zones``."""
    zone = pa.array(tz, pa.string())
    if coded:
        zone = pa.array([None if z is None else zones.index(z) for z in tz], pa.int32())
    table = pa.table({"ts": pa.array(ts, pa.timestamp("us")), "tz": zone})
    lf = engine.from_arrow(table)
    if coded:  # (Spark gets integers with nulls from Arrow as doubles)
        lf = lf.with_columns(nw.col("tz").cast(nw.Int32))
    lf = local_timestamp(lf, "ts", "tz", "local", zones=zones)
    return engine.to_pandas(lf.select("local"))["local"]


@pytest.mark.parametrize(
    "zones_are", ["given", "found", "positions"], ids=["zones-given", "zones-found", "zone-positions"]
)
def test_local_time_at_dst_changes(engine, zones_are) -> None:
    ts, tz, want = zip(*DST_CASES, strict=True)
    zones = sorted({z for z in tz if z}, reverse=True) if zones_are != "found" else None
    got = _local(engine, list(ts), list(tz), zones, coded=zones_are == "positions")
    got = [None if v is None or v != v else v.to_pydatetime() for v in got]
    assert got == list(want)


def test_zone_positions_need_the_zones(engine) -> None:
    table = pa.table({"ts": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us")),
                      "tz": pa.array([0], pa.int32())})
    with pytest.raises(InputDataError, match="pass zones"):
        local_timestamp(engine.from_arrow(table), "ts", "tz", "local")


def test_materialize_with_ids(engine) -> None:
    """A distinct stand-in per row, the rows unchanged, and the same ids on every read."""
    table = pa.table({"customer_id": ["c3", "c1", "c2", "c10"], "x": [3.0, 1.0, 2.0, 10.0]})
    lf = materialize_with_ids(engine.from_arrow(table), "customer_id", "_unit")
    first = engine.to_pandas(lf).sort_values("customer_id")
    again = engine.to_pandas(lf).sort_values("customer_id")
    assert first["customer_id"].tolist() == ["c1", "c10", "c2", "c3"]
    assert first["x"].tolist() == [1.0, 10.0, 2.0, 3.0]
    assert first["_unit"].nunique() == 4
    assert first["_unit"].tolist() == again["_unit"].tolist()
    # joins on the stand-in find the same rows as joins on the key
    joined = engine.to_pandas(lf.join(lf.select("customer_id", "_unit"), on="_unit"))
    assert (joined["customer_id"] == joined["customer_id_right"]).all()


@pytest.mark.parametrize("coded", [False, True], ids=["zone-names", "zone-positions"])
def test_local_time_matches_zoneinfo_over_150_years(engine, coded) -> None:
    zones = [
        "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Sydney",
        "Europe/London", "Asia/Tokyo", "Asia/Kolkata", "Asia/Tehran", "Pacific/Chatham",
        "America/St_Johns", "Antarctica/Troll",
    ]
    rng = np.random.default_rng(7)
    n = 3000
    seconds = rng.integers(0, 150 * 365 * 86_400, n)  # 1960 .. 2110
    start = dt.datetime(1960, 1, 1)
    ts = [start + dt.timedelta(seconds=int(s), microseconds=int(u))
          for s, u in zip(seconds, rng.integers(0, 10**6, n), strict=True)]
    # the last second before and the first after each DST change of 2024
    for zone in zones:
        info = zoneinfo.ZoneInfo(zone)
        hour = dt.datetime(2024, 1, 1, tzinfo=UTC)
        while hour.year == 2024:
            after = hour + dt.timedelta(minutes=30)
            if hour.astimezone(info).utcoffset() != after.astimezone(info).utcoffset():
                change = hour
                while change.astimezone(info).utcoffset() == hour.astimezone(info).utcoffset():
                    change += dt.timedelta(minutes=15)
                ts += [(change - dt.timedelta(microseconds=1)).replace(tzinfo=None),
                       change.replace(tzinfo=None)]
            hour = after
    tz = [zones[i % len(zones)] for i in range(len(ts))]
    got = _local(engine, ts, tz, zones, coded=coded)

    def wall(t: dt.datetime, zone: str) -> dt.datetime:
        return t.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)

    # 2000-2034 only: zone data versions differ for long-past years, and
    # Polars (chrono-tz) applies no DST rules after 2037
    want = [wall(t, z) for t, z in zip(ts, tz, strict=True)]
    recent = [i for i, t in enumerate(ts) if 2000 <= t.year < 2035]
    assert [got.iloc[i].to_pydatetime() for i in recent] == [want[i] for i in recent]
    assert not got.isna().any()


def test_local_time_far_range_same_on_every_engine(engine, request) -> None:
    """DuckDB's offset table against its own per-row ICU, and the other engines.

    (Casablanca: ICU's and the system's zone data differ after 2025; DuckDB must
    still give ICU's answer.)
    """
    rng = np.random.default_rng(11)
    zones = [
        "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
        "Africa/Casablanca",
    ]
    seconds = rng.integers(0, 150 * 365 * 86_400, 2000)
    ts = [dt.datetime(1960, 1, 1) + dt.timedelta(seconds=int(s)) for s in seconds]
    tz = [zones[i % len(zones)] for i in range(len(ts))]
    got = _local(engine, ts, tz, zones)
    duck = request.getfixturevalue("duckdb_icu")(ts, tz)
    # Spark and Polars agree with ICU here
    mask = [1970 <= t.year < 2038 and z != "Africa/Casablanca" for t, z in zip(ts, tz, strict=True)]
    assert (got[mask].to_numpy() == duck[mask].to_numpy()).all()
    if engine.name == "duckdb":
        assert (got.to_numpy() == duck.to_numpy()).all()


@pytest.fixture
def duckdb_icu():
    """DuckDB's per-row ``timezone()``: the result the offset table must reproduce."""
    import duckdb

    def convert(ts, tz):
        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        table = pa.table({"ts": pa.array(ts, pa.timestamp("us")), "tz": pa.array(tz)})
        con.register("t", table)
        out = con.execute("SELECT timezone(tz, ts AT TIME ZONE 'UTC') AS l FROM t").df()["l"]
        con.close()
        return out

    return convert


def test_days_per_group(engine) -> None:
    table = pa.table(
        {
            "k": ["a", "a", "a", "a", "b", "b", "c"],
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, 0, 0), dt.datetime(2024, 1, 1, 23, 59),
                 dt.datetime(2024, 1, 31, 12), dt.datetime(2024, 1, 15, 3),
                 dt.datetime(2024, 2, 29, 1), None, None],
                pa.timestamp("us"),
            ),
        }
    )
    lf = days_per_group(materialize(engine.from_arrow(table)), ["k"], "ts", "days")
    got = engine.to_pandas(lf).sort_values("k")
    assert got["k"].tolist() == ["a", "b", "c"]
    assert got["days"].tolist() == [3.0, 1.0, 0.0]
    total = engine.to_pandas(days_per_group(engine.from_arrow(table), [], "ts", "days"))
    # without keys, one group: days told apart by day of month (1, 31, 15, 29)
    assert total["days"].tolist() == [4.0]
