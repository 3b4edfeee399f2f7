"""Row-level primitives (and one aggregate) implemented per engine.

Narwhals does not convert time zones on DuckDB or Spark, has no portable epoch,
and its casts either fail or differ between engines when a string cannot be
parsed; its distinct counts are slow on DuckDB. These few operations are
therefore written natively for each engine, behind one signature, and tested
for equality across engines (``tests/engine/``). Everything else stays in
Narwhals.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import narwhals as nw

from cxlab.exceptions import InputDataError

TargetType = Literal["string", "timestamp", "float", "int", "bool"]

_ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
)
#: A whole number written as a float, blanks around it allowed: '12346.0' -> '12346'.
_WHOLE_FLOAT = r"^\s*(-?[0-9]+)\.0+\s*$"
_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")


def _kind(lf: nw.LazyFrame) -> str:
    name = lf.implementation.name.lower()
    if name in ("duckdb", "polars", "pyspark", "pyspark_connect", "sqlframe"):
        return "spark" if name.startswith("pyspark") else name
    raise TypeError(f"unsupported engine behind this frame: {name}")


def _q(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- DuckDB ------------------------------------------------------------------


def _duck_with(lf: nw.LazyFrame, exprs: dict[str, str]) -> nw.LazyFrame:
    rel = lf.to_native()
    existing = [c for c in rel.columns if c in exprs]
    new = [c for c in exprs if c not in rel.columns]
    star = "*"
    if existing:
        star += " REPLACE (" + ", ".join(f"{exprs[c]} AS {_q(c)}" for c in existing) + ")"
    select = ", ".join([star] + [f"{exprs[c]} AS {_q(c)}" for c in new])
    return nw.from_native(rel.project(select))


#: UTC window in which DuckDB local time comes from offset tables (outside it,
#: and for zones ICU does not know, ``timezone()`` runs per row). Each offset
#: change adds to the SQL text, which DuckDB parses again for every step built
#: on it: half a century (about 100 changes a zone) keeps that small.
_TZ_WINDOW = (dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1))

Offsets = tuple[int, tuple[tuple[dt.datetime, int], ...]]


def _icu_offset(ts: str) -> str:
    """SQL: the UTC offset (microseconds) of zone ``z`` at naive UTC ``ts``."""
    return f"epoch_us(timezone(z, {ts} AT TIME ZONE 'UTC')) - epoch_us({ts})"


@functools.lru_cache(maxsize=64)
def _zone_offsets(zones: tuple[str, ...]) -> dict[str, Offsets]:
    """UTC offsets of each zone over :data:`_TZ_WINDOW`, read from DuckDB's ICU.

    Per zone: the offset at the window start and the (instant, new offset) of
    every change, to the second. Offsets are sampled at each UTC midnight and
    each change is found by bisection, so two changes within one day would be
    missed; tzdata has none since 1970 (the closest are weeks apart). Zones
    ICU does not know are left out.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        known = []
        for zone in zones:
            try:
                con.execute("SELECT timezone(?, TIMESTAMPTZ '2000-01-01 00:00:00+00')", [zone])
            except duckdb.Error:
                continue
            known.append(zone)
        zones = tuple(known)
        if not zones:
            return {}
        start, end = _TZ_WINDOW
        args = {"zones": list(zones), "a": start, "b": end}
        rows = con.execute(
            f"""WITH d AS (
                  SELECT z, t, {_icu_offset("t")} AS o FROM unnest($zones) AS u(z),
                  generate_series($a::TIMESTAMP, $b::TIMESTAMP, INTERVAL 1 DAY) AS g(t))
                SELECT z, t, o, lead(o) OVER (PARTITION BY z ORDER BY t) AS n FROM d
                QUALIFY n <> o OR t = $a""",
            args,
        ).fetchall()

        def offsets_at(pairs: list[tuple[str, dt.datetime]]) -> list[int]:
            if not pairs:
                return []
            return con.execute(
                f"SELECT list({_icu_offset('t')} ORDER BY i) FROM (SELECT unnest($z) AS z, "
                "unnest($t) AS t, generate_subscripts($z, 1) AS i)",
                {"z": [z for z, _ in pairs], "t": [t for _, t in pairs]},
            ).fetchone()[0]

        # bisection: the offset at ``t`` is the old one, at ``t + step`` the new one
        changes = [(z, t, o) for z, t, o, n in rows if n is not None and n != o]
        step = 86_400
        while step > 1 and changes:
            half = step // 2
            mids = [(z, t + dt.timedelta(seconds=half)) for z, t, _ in changes]
            got = offsets_at(mids)
            changes = [
                (z, m if g == o else t, o)
                for (z, t, o), (_, m), g in zip(changes, mids, got, strict=True)
            ]
            step -= half
        at = [(z, t + dt.timedelta(seconds=1)) for z, t, _ in changes]
        new = offsets_at(at)
    finally:
        con.close()
    found: dict[str, list[tuple[dt.datetime, int]]] = {z: [] for z in zones}
    for (z, t), o in sorted(zip(at, new, strict=True), key=lambda r: r[0][1]):
        found[z].append((t, o))
    first = {z: o for z, t, o, _ in rows if t == start}
    return {z: (first[z], tuple(found[z])) for z in zones}


def _ts_lit(value: dt.datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _offset_search(c: str, first: int, changes: tuple[tuple[dt.datetime, int], ...]) -> str:
    """SQL: the offset at timestamp ``c``, a binary search over the ``changes``."""
    offsets = [first, *(o for _, o in changes)]

    def segment(lo: int, hi: int) -> str:  # segments lo..hi; segment k starts at changes[k-1]
        if lo == hi:
            return str(offsets[lo])
        mid = (lo + hi + 1) // 2
        return (
            f"CASE WHEN {c} < {_ts_lit(changes[mid - 1][0])} "
            f"THEN {segment(lo, mid - 1)} ELSE {segment(mid, hi)} END"
        )

    return segment(0, len(changes))


def _duck_local(
    rel: Any, column: str, tz_column: str, zones: Sequence[str] | None, coded: bool
) -> str:
    """SQL for :func:`local_timestamp` on DuckDB.

    ICU's ``timezone()`` costs about 250 ns a row. Offsets change only a few
    times a year, so for the zones present (and timestamps in
    :data:`_TZ_WINDOW`) the wall clock is ``ts + offset``, the offset picked by a
    binary search over that zone's changes, read once from ICU itself; other
    rows still go through ``timezone()``, so the result is ICU's on every row.
    With ``coded`` the zone column holds positions in ``zones``: the branch is
    picked by an integer comparison instead of a string one.
    """
    c, z = _q(column), _q(tz_column)
    name = z
    if coded:
        assert zones is not None
        name = f"[{', '.join(_lit(zone) for zone in zones)}][{z} + 1]"
    icu = f"timezone({name}, {c} AT TIME ZONE 'UTC')"
    if zones is None:
        zones = [r[0] for r in rel.project(z).distinct().fetchall()]
    table = _zone_offsets(tuple(sorted({zone for zone in zones if zone is not None})))
    if not table:
        return icu
    start, end = _TZ_WINDOW
    if coded:
        key = {zone: str(i) for i, zone in enumerate(zones)}
    else:
        key = {zone: _lit(zone) for zone in table}
    branches = " ".join(
        f"WHEN {z} = {key[zone]} THEN {_offset_search(c, *table[zone])}" for zone in table
    )
    inside = f"{c} >= {_ts_lit(start)} AND {c} < {_ts_lit(end)}"
    offset = f"CASE WHEN {inside} THEN CASE {branches} END END"
    # make_timestamp(µs) is much cheaper than adding an INTERVAL
    return f"coalesce(make_timestamp(epoch_us({c}) + {offset}), {icu})"


# -- Spark -------------------------------------------------------------------


def _spark_with(lf: nw.LazyFrame, exprs: dict[str, Any]) -> nw.LazyFrame:
    return nw.from_native(lf.to_native().withColumns(exprs))


def strftime_to_java(fmt: str) -> str:
    """Translate a strftime format (``%Y-%m-%d %H:%M``) into a Java pattern for parsing.

    strptime (and DuckDB, Polars) read ``%d/%m/%Y %H:%M`` from ``1/12/2010 8:26`` as
    well as ``01/12/2010 08:26``; Java's ``dd`` wants two digits. So a day, month,
    hour, minute or second between separators becomes the one-letter pattern
    (``d``, ``M``, ...), which reads one or two digits; next to another number
    (``%Y%m%d``) it keeps its fixed width, which Java needs to split the digits.
    """
    table = {
        "%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh",
        "%M": "mm", "%S": "ss", "%f": "SSSSSS", "%z": "XX", "%Z": "z", "%p": "a",
        "%b": "MMM", "%B": "MMMM", "%j": "DDD", "%%": "%", "%e": "d",
    }
    numeric = {"%Y", "%y", "%m", "%d", "%H", "%I", "%M", "%S", "%f", "%j", "%e", "%z"}
    flexible = {"%m": "M", "%d": "d", "%H": "H", "%I": "h", "%M": "m", "%S": "s"}
    tokens, i = [], 0
    while i < len(fmt):
        step = 2 if fmt[i : i + 2] in table else 1
        tokens.append(fmt[i : i + step])
        i += step
    out = []
    for k, token in enumerate(tokens):
        if token in flexible:
            neighbours = tokens[k - 1 : k] + tokens[k + 1 : k + 2]
            out.append(flexible[token] if not any(n in numeric for n in neighbours) else table[token])
        elif token in table:
            out.append(table[token])
        elif token.isalpha():
            out.append(f"'{token}'")
        else:
            out.append(token)
    return "".join(out)


# -- public primitives -------------------------------------------------------


def epoch_seconds(lf: nw.LazyFrame, column: str, name: str) -> nw.LazyFrame:
    """Add ``name``: seconds since 1970-01-01 UTC of timestamp ``column`` (float)."""
    kind = _kind(lf)
    if kind == "duckdb":
        return _duck_with(lf, {name: f"epoch({_q(column)})::DOUBLE"})
    if kind == "polars":
        import polars as pl

        expr = pl.col(column).dt.epoch("us").cast(pl.Float64) / 1e6
        return nw.from_native(lf.to_native().with_columns(expr.alias(name)))
    from pyspark.sql import functions as F

    return _spark_with(lf, {name: F.unix_micros(F.col(column).cast("timestamp")) / 1e6})


def local_timestamp(
    lf: nw.LazyFrame,
    column: str,
    tz_column: str,
    name: str,
    *,
    zones: Iterable[str] | None = None,
) -> nw.LazyFrame:
    """Add ``name``: the UTC timestamp ``column`` as wall-clock time in each row's zone.

    ``tz_column`` holds IANA zone names (``Asia/Tokyo``), or integer positions
    in ``zones`` (then ``zones`` is required: an integer compares faster than a
    name on every row). The result is a naive timestamp: 2024-01-31 23:30 UTC
    in ``Asia/Tokyo`` gives 2024-02-01 08:30. ``zones``, when the caller knows
    them, are all the zones ``tz_column`` holds; it saves a pass over the rows
    to find them (DuckDB, Polars).
    """
    kind = _kind(lf)
    coded = lf.collect_schema()[tz_column].is_integer()
    if coded and zones is None:
        raise InputDataError(
            f"local_timestamp: column {tz_column!r} holds integer zone positions, but no "
            "zones were given; pass zones=[...] (the zone names, in position order)."
        )
    zones = list(zones) if zones is not None else None
    if kind == "duckdb":
        sql = _duck_local(lf.to_native(), column, tz_column, zones, coded)
        return _duck_with(lf, {name: sql})
    if kind == "polars":
        import polars as pl

        native = lf.to_native()
        if zones is None:
            found = native.select(pl.col(tz_column).unique()).collect().to_series()
            zones = found.drop_nulls().to_list()
        expr: Any = pl.lit(None, dtype=pl.Datetime("us"))
        # by position when coded, else by name (each zone once)
        targets = enumerate(zones) if coded else ((z, z) for z in sorted(set(zones)))
        for key, zone in targets:
            local = (
                pl.col(column)
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone(zone)
                .dt.replace_time_zone(None)
                .dt.cast_time_unit("us")
            )
            expr = pl.when(pl.col(tz_column) == key).then(local).otherwise(expr)
        return nw.from_native(native.with_columns(expr.alias(name)))
    from pyspark.sql import functions as F

    zone_col = F.col(tz_column)
    if coded:
        assert zones is not None
        zone_col = F.element_at(F.array(*map(F.lit, zones)), zone_col.cast("int") + 1)
    return _spark_with(lf, {name: F.from_utc_timestamp(F.col(column), zone_col)})


def days_per_group(
    lf: nw.LazyFrame, keys: Sequence[str], column: str, name: str
) -> nw.LazyFrame:
    """Group ``lf`` by ``keys``: ``name``, the number of distinct days of ``column``.

    ``column`` is a timestamp; nulls are not counted (a group of nulls gives 0).
    The days of one group must fall in one calendar month (``keys`` hold the
    month): days are told apart by day of month. Result: ``keys`` and ``name``
    (Float64). A dedicated aggregate because the generic ones are slow here:
    on DuckDB ``unique`` is a window function and ``n_unique`` several joins,
    where a bitmask of days (``bit_or``) needs one group-by.
    """
    kind = _kind(lf)
    if kind == "duckdb":
        group = ", ".join(map(_q, keys))
        days = f"coalesce(bit_count(bit_or(1::BIGINT << day({_q(column)}))), 0)::DOUBLE"
        agg = f"{group}, {days} AS {_q(name)}" if keys else f"{days} AS {_q(name)}"
        return nw.from_native(lf.to_native().aggregate(agg, group))
    if kind == "polars":
        import polars as pl

        days = pl.col(column).dt.day().drop_nulls().n_unique().cast(pl.Float64).alias(name)
        native = lf.to_native()
        out = native.group_by(*keys).agg(days) if keys else native.select(days)
        return nw.from_native(out)
    from pyspark.sql import functions as F

    days = F.count_distinct(F.dayofmonth(F.col(column))).cast("double").alias(name)
    native = lf.to_native()
    out = native.groupBy(*keys).agg(days) if keys else native.agg(days)
    return nw.from_native(out)


def materialize(lf: nw.LazyFrame) -> nw.LazyFrame:
    """Compute ``lf`` once and return a frame over the result, for reuse.

    Engines re-run a lazy frame's whole plan each time it is used; a frame
    that several results read should go through here first. (Use
    :meth:`cxlab.engine.Engine.materialize` where the engine is at hand.)
    """
    kind = _kind(lf)
    native = lf.to_native()
    if kind == "duckdb":
        if hasattr(native, "materialize"):  # DuckDB >= 2.0: rows held by the client
            return nw.from_native(native.materialize())
        name = f"cxlab_{uuid.uuid4().hex}"
        native.create(name)
        return nw.from_native(native.query("_cxlab_unused", f"SELECT * FROM {_q(name)}"))
    if kind == "polars":
        return nw.from_native(native.collect().lazy())
    native = native.cache()
    native.count()
    return nw.from_native(native)


def materialize_with_ids(lf: nw.LazyFrame, key: str, name: str) -> nw.LazyFrame:
    """:func:`materialize` ``lf``, adding ``name``: a compact stand-in for column ``key``.

    ``key`` identifies the rows (a customer id); ``name`` is what joins and
    group-bys downstream use instead: on DuckDB and Polars a distinct integer
    per row of the held result (hashing and comparing an integer is about
    twice as fast as a string key over millions of rows); on Spark ``key``
    itself, as a row number there would need a global sort (and a cached
    frame that is evicted is computed again, where ids must not change).
    """
    kind = _kind(lf)
    native = lf.to_native()
    if kind == "duckdb":
        ids = native.project(f"*, (row_number() OVER ())::BIGINT AS {_q(name)}")
        return materialize(nw.from_native(ids))
    if kind == "polars":
        import polars as pl

        out = native.collect().with_row_index(name).with_columns(pl.col(name).cast(pl.Int64))
        return nw.from_native(out.lazy())
    return materialize(lf.with_columns(nw.col(key).alias(name)))


def coerce(
    lf: nw.LazyFrame,
    column: str,
    target: TargetType,
    *,
    timestamp_format: str | None = None,
    timezone: str | None = None,
) -> nw.LazyFrame:
    """Convert ``column`` in place to ``target``; values that do not parse become null.

    Whole floats become integer-looking strings (``12346.0`` -> ``"12346"``), as
    ids exported through pandas often are floats. Timestamps end as naive UTC. A string timestamp with an offset is converted
    to UTC; one without is read in ``timezone`` (default UTC). A zone-aware
    timestamp column is converted to UTC. Booleans accept true/false, t/f,
    yes/no, y/n, 1/0 (any case). Callers compare nulls before and after to find
    the rows that did not parse.
    """
    dtype = lf.collect_schema()[column]
    handler = _COERCE[_kind(lf)]
    return handler(lf, column, target, dtype, timestamp_format, timezone)


def _is_string(dtype: Any) -> bool:
    return dtype == nw.String


def _coerce_duckdb(lf, column, target, dtype, fmt, tz):  # noqa: ANN001, ANN202
    c = _q(column)
    if target == "string" and isinstance(dtype, (nw.Float64, nw.Float32)):
        expr = (
            f"CASE WHEN {c} = floor({c}) AND abs({c}) < 1e15 "
            f"THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END"
        )
    elif target == "string" and _is_string(dtype):  # '12346.0' from a CSV is the id 12346 too
        expr = f"CASE WHEN contains({c}, '.') THEN regexp_replace({c}, '{_WHOLE_FLOAT}', '\\1') ELSE {c} END"
    elif target == "string":
        expr = f"CAST({c} AS VARCHAR)"
    elif target in ("float", "int"):
        sql_type = "DOUBLE" if target == "float" else "BIGINT"
        src = f"trim(CAST({c} AS VARCHAR))" if _is_string(dtype) else c
        expr = f"TRY_CAST({src} AS {sql_type})"
    elif target == "bool":
        if _is_string(dtype):
            low = f"lower(trim({c}))"
            trues = ", ".join(map(_lit, _TRUE))
            falses = ", ".join(map(_lit, _FALSE))
            expr = (
                f"CASE WHEN {low} IN ({trues}) THEN TRUE "
                f"WHEN {low} IN ({falses}) THEN FALSE ELSE NULL END"
            )
        else:
            expr = f"TRY_CAST({c} AS BOOLEAN)"
    else:  # timestamp
        zone = _lit(tz or "UTC")
        if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
            expr = f"timezone('UTC', {c})"
        elif isinstance(dtype, (nw.Datetime, nw.Date)):
            expr = f"timezone('UTC', timezone({zone}, CAST({c} AS TIMESTAMP)))"
        elif _is_string(dtype) and fmt:
            parsed = f"try_strptime(trim({c}), {_lit(fmt)})"
            if "%z" in fmt:
                expr = f"timezone('UTC', CAST({parsed} AS TIMESTAMPTZ))"
            else:
                expr = f"timezone('UTC', timezone({zone}, CAST({parsed} AS TIMESTAMP)))"
        elif _is_string(dtype):
            s = f"trim({c})"
            offset = f"regexp_matches({s}, '([+-][0-9]{{2}}:?[0-9]{{2}}|Z|UTC)$')"
            expr = (
                f"CASE WHEN {offset} THEN timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) "
                f"ELSE timezone('UTC', timezone({zone}, TRY_CAST({s} AS TIMESTAMP))) END"
            )
        else:  # numbers are not timestamps
            expr = "CAST(NULL AS TIMESTAMP)"
        expr = f"CAST({expr} AS TIMESTAMP)"
    return _duck_with(lf, {column: expr})


def _coerce_polars(lf, column, target, dtype, fmt, tz):  # noqa: ANN001, ANN202
    import polars as pl

    col = pl.col(column)
    if target == "string" and isinstance(dtype, (nw.Float64, nw.Float32)):
        integral = (col == col.floor()) & (col.abs() < 1e15)
        expr = (
            pl.when(integral).then(col.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(col.cast(pl.String))
        )
    elif target == "string" and _is_string(dtype):
        expr = col.str.replace(_WHOLE_FLOAT, "${1}")
    elif target == "string":
        expr = col.cast(pl.String)
    elif target in ("float", "int"):
        out = pl.Float64 if target == "float" else pl.Int64
        src = col.str.strip_chars() if _is_string(dtype) else col
        expr = src.cast(out, strict=False)
    elif target == "bool":
        if _is_string(dtype):
            low = col.str.strip_chars().str.to_lowercase()
            expr = (
                pl.when(low.is_in(_TRUE)).then(True)
                .when(low.is_in(_FALSE)).then(False)
                .otherwise(None)
            )
        else:
            expr = col.cast(pl.Boolean, strict=False)
    else:
        zone = tz or "UTC"

        def from_local(e: pl.Expr) -> pl.Expr:
            return (
                e.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC")
                .dt.replace_time_zone(None)
            )

        if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
            expr = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        elif isinstance(dtype, (nw.Datetime, nw.Date)):
            expr = from_local(col.cast(pl.Datetime("us")))
        elif _is_string(dtype):
            s = col.str.strip_chars()
            if fmt:
                parsed = s.str.to_datetime(fmt, strict=False, time_unit="us")
                expr = (
                    parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                    if "%z" in fmt
                    else from_local(parsed)
                )
            else:
                offset = r"([+-]\d{2}:?\d{2}|Z|UTC)$"
                has_offset = s.str.contains(offset)
                # Polars infers one format per column; try the ISO shapes one by one.
                iso = s.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
                bare = iso.str.replace(offset, "")
                naive = from_local(
                    pl.coalesce(
                        [bare.str.to_datetime(f, strict=False, time_unit="us") for f in _ISO_FORMATS]
                    )
                )
                zoned = iso.str.replace(r"(Z|UTC)$", "+00:00")
                aware = pl.coalesce(
                    [
                        zoned.str.to_datetime(f + "%z", strict=False, time_unit="us")
                        .dt.convert_time_zone("UTC")
                        .dt.replace_time_zone(None)
                        for f in _ISO_FORMATS[:-1]
                    ]
                )
                expr = pl.when(has_offset).then(aware).otherwise(naive)
        else:
            expr = pl.lit(None, dtype=pl.Datetime("us"))
        expr = expr.cast(pl.Datetime("us"))
    return nw.from_native(lf.to_native().with_columns(expr.alias(column)))


def _coerce_spark(lf, column, target, dtype, fmt, tz):  # noqa: ANN001, ANN202
    from pyspark.sql import functions as F

    col = F.col(column)
    if target == "string" and isinstance(dtype, (nw.Float64, nw.Float32)):
        integral = (col == F.floor(col)) & (F.abs(col) < 1e15)
        expr = F.when(integral, col.cast("bigint").cast("string")).otherwise(col.cast("string"))
    elif target == "string" and _is_string(dtype):
        expr = F.regexp_replace(col, _WHOLE_FLOAT, "$1")
    elif target == "string":
        expr = col.cast("string")
    elif target in ("float", "int"):
        src = F.trim(col.cast("string")) if _is_string(dtype) else col
        expr = src.try_cast("double" if target == "float" else "bigint")
    elif target == "bool":
        if _is_string(dtype):
            low = F.lower(F.trim(col))
            expr = (
                F.when(low.isin(*_TRUE), F.lit(True))
                .when(low.isin(*_FALSE), F.lit(False))
                .otherwise(F.lit(None).cast("boolean"))
            )
        else:
            expr = col.try_cast("boolean")
    else:
        zone = tz or "UTC"
        if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
            expr = col.cast("timestamp")
        elif isinstance(dtype, (nw.Datetime, nw.Date)):
            expr = F.to_utc_timestamp(col.cast("timestamp"), zone)
        elif _is_string(dtype):
            s = F.trim(col)
            if fmt:
                parsed = F.try_to_timestamp(s, F.lit(strftime_to_java(fmt)))
                expr = parsed if "%z" in fmt else F.to_utc_timestamp(parsed, zone)
            else:
                has_offset = s.rlike(r"([+-]\d{2}:?\d{2}|Z|UTC)$")
                expr = F.when(has_offset, s.try_cast("timestamp")).otherwise(
                    F.to_utc_timestamp(s.try_cast("timestamp_ntz").cast("timestamp"), zone)
                )
        else:
            expr = F.lit(None).cast("timestamp")
        expr = expr.cast("timestamp")
    return _spark_with(lf, {column: expr})


_COERCE: dict[str, Callable[..., nw.LazyFrame]] = {
    "duckdb": _coerce_duckdb,
    "polars": _coerce_polars,
    "spark": _coerce_spark,
}

