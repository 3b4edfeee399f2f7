"""Row-level primitives implemented per engine.

Narwhals does not convert time zones on DuckDB or Spark, has no portable epoch,
and its casts either fail or differ between engines when a string cannot be
parsed. These few operations are therefore written natively for each engine,
behind one signature, and tested for equality across engines
(``tests/engine/test_primitives.py``). Everything else stays in Narwhals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import narwhals as nw

TargetType = Literal["string", "timestamp", "float", "int", "bool"]

_ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
)
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


# -- Spark -------------------------------------------------------------------


def _spark_with(lf: nw.LazyFrame, exprs: dict[str, Any]) -> nw.LazyFrame:
    return nw.from_native(lf.to_native().withColumns(exprs))


def strftime_to_java(fmt: str) -> str:
    """Translate a strftime format (``%Y-%m-%d %H:%M``) into a Java pattern."""
    table = {
        "%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh",
        "%M": "mm", "%S": "ss", "%f": "SSSSSS", "%z": "XX", "%Z": "z", "%p": "a",
        "%b": "MMM", "%B": "MMMM", "%j": "DDD", "%%": "%", "%e": "d",
    }
    out, i = [], 0
    while i < len(fmt):
        token = fmt[i : i + 2]
        if token in table:
            out.append(table[token])
            i += 2
        elif fmt[i].isalpha():
            out.append(f"'{fmt[i]}'")
            i += 1
        else:
            out.append(fmt[i])
            i += 1
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
    lf: nw.LazyFrame, column: str, tz_column: str, name: str
) -> nw.LazyFrame:
    """Add ``name``: the UTC timestamp ``column`` as wall-clock time in each row's zone.

    ``tz_column`` holds IANA zone names (``Asia/Tokyo``). The result is a naive
    timestamp: 2024-01-31 23:30 UTC in ``Asia/Tokyo`` gives 2024-02-01 08:30.
    """
    kind = _kind(lf)
    if kind == "duckdb":
        return _duck_with(
            lf, {name: f"timezone({_q(tz_column)}, {_q(column)} AT TIME ZONE 'UTC')"}
        )
    if kind == "polars":
        import polars as pl

        native = lf.to_native()
        zones = native.select(pl.col(tz_column).unique()).collect().to_series().drop_nulls()
        expr: Any = pl.lit(None, dtype=pl.Datetime("us"))
        for zone in sorted(zones.to_list()):
            local = (
                pl.col(column)
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone(zone)
                .dt.replace_time_zone(None)
                .dt.cast_time_unit("us")
            )
            expr = pl.when(pl.col(tz_column) == zone).then(local).otherwise(expr)
        return nw.from_native(native.with_columns(expr.alias(name)))
    from pyspark.sql import functions as F

    return _spark_with(
        lf, {name: F.from_utc_timestamp(F.col(column), F.col(tz_column))}
    )


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

