"""The per-engine primitives give the same answers on every engine."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from cxlab.engine import coerce, epoch_seconds, get_engine, local_timestamp
from cxlab.engine.primitives import strftime_to_java
from cxlab.exceptions import InputDataError

TABLE = pa.table(
    {
        "ts": pa.array(
            [dt.datetime(2024, 1, 31, 23, 30), dt.datetime(2024, 7, 1, 12, 0), dt.datetime(2024, 3, 31, 0, 30), None],
            pa.timestamp("us"),
        ),
        "tz": ["Asia/Tokyo", "America/New_York", "Europe/Berlin", "Europe/Berlin"],
        "iso": ["2024-01-31 23:30:00+09:00", "2024-07-01T12:00:00", "2024-03-31", "garbage"],
        "dmy": ["31/01/2024 10:00", "01/07/2024 12:00", "x", None],
        # as spreadsheets export them: no zero padding (Spark's 'dd/MM' would read none)
        "mdy": ["1/31/2024 9:05", "12/1/2010 8:26", "07/01/2024 12:00", "13/1/2024 8:00"],
        "compact": ["20240131", "20100112", "2024131", None],
        "named": ["01-Dec-2010", "31-Jan-2024", "1-Jul-2024", "31-Foo-2024"],
        "ampm": ["12/1/2010 8:26 PM", "1/31/2024 12:05 AM", "7/1/2024 11:59 am", "7/1/2024 13:00 PM"],
        "num": ["1.5", " 2 ", "abc", None],
        "flag": ["Yes", "0", "maybe", "FALSE"],
        "fid": pa.array([12346.0, 2.5, None, 7.0]),
        # the same ids as text, as a CSV written from pandas holds them
        "sid": ["12346.0", " 17850.00 ", "A1.0", "2.5"],
    }
)


def test_local_time_epoch_and_parsing(engine) -> None:
    lf = engine.from_arrow(TABLE)
    lf = local_timestamp(lf, "ts", "tz", "local")
    lf = epoch_seconds(lf, "ts", "epoch")
    lf = coerce(lf, "iso", "timestamp", timezone="Europe/Berlin")
    lf = coerce(lf, "dmy", "timestamp", timestamp_format="%d/%m/%Y %H:%M")
    lf = coerce(lf, "mdy", "timestamp", timestamp_format="%m/%d/%Y %H:%M")
    lf = coerce(lf, "compact", "timestamp", timestamp_format="%Y%m%d")
    lf = coerce(lf, "named", "timestamp", timestamp_format="%d-%b-%Y")
    lf = coerce(lf, "ampm", "timestamp", timestamp_format="%m/%d/%Y %I:%M %p")
    lf = coerce(lf, "num", "float")
    lf = coerce(lf, "flag", "bool")
    lf = coerce(lf, "fid", "string")
    lf = coerce(lf, "sid", "string")
    df = engine.to_pandas(lf)
    # 23:30 UTC on 31 January is already 1 February in Tokyo.
    assert df["local"].tolist()[:3] == [
        dt.datetime(2024, 2, 1, 8, 30), dt.datetime(2024, 7, 1, 8, 0), dt.datetime(2024, 3, 31, 1, 30),
    ]
    assert df["epoch"].iloc[0] == pytest.approx(1706743800.0)
    # an offset wins over the table's zone; a bare time is read in the zone
    assert df["iso"].tolist()[:3] == [
        dt.datetime(2024, 1, 31, 14, 30), dt.datetime(2024, 7, 1, 10, 0), dt.datetime(2024, 3, 30, 23, 0),
    ]
    assert df["iso"].isna().iloc[3]
    assert df["dmy"].tolist()[:2] == [dt.datetime(2024, 1, 31, 10), dt.datetime(2024, 7, 1, 12)]
    assert df["dmy"].isna().tolist()[2:] == [True, True]
    assert df["mdy"].tolist()[:3] == [dt.datetime(2024, 1, 31, 9, 5), dt.datetime(2010, 12, 1, 8, 26), dt.datetime(2024, 7, 1, 12)]
    assert df["mdy"].isna().iloc[3]  # month 13
    assert df["compact"].tolist()[:2] == [dt.datetime(2024, 1, 31), dt.datetime(2010, 1, 12)]
    assert df["named"].tolist()[:3] == [dt.datetime(2010, 12, 1), dt.datetime(2024, 1, 31), dt.datetime(2024, 7, 1)]
    assert df["named"].isna().iloc[3]
    assert df["ampm"].tolist()[:2] == [dt.datetime(2010, 12, 1, 20, 26), dt.datetime(2024, 1, 31, 0, 5)]
    assert df["num"].tolist()[:2] == [1.5, 2.0] and df["num"].isna().tolist()[2:] == [True, True]
    assert df["flag"].tolist() == [True, False, None, False]
    assert df["fid"].tolist()[:2] == ["12346", "2.5"] and df["fid"].iloc[3] == "7"
    assert df["sid"].tolist() == ["12346", "17850", "A1.0", "2.5"]


def test_strftime_to_java() -> None:
    # between separators: one letter, which reads one or two digits
    assert strftime_to_java("%d/%m/%Y %H:%M:%S") == "d/M/yyyy H:m:s"
    # next to another number or an offset: the fixed width Java needs to split them
    assert strftime_to_java("%Y-%m-%dT%H:%M%z") == "yyyy-M-d'T'H:mmXX"
    assert strftime_to_java("%Y%m%d%H%M") == "yyyyMMddHHmm"


def test_unknown_engine_lists_the_choices() -> None:
    with pytest.raises(InputDataError, match="duckdb, polars, spark"):
        get_engine("pandas")
