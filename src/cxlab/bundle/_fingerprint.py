"""A training-data fingerprint: a few engine aggregates and their hash.

Recorded in a bundle's ``model.json`` so that one can tell later which data a
model was fitted on (and whether two models saw the same data) without keeping
the data: row count, column names and types, the sum of every numeric column
and the range of every date/time column, computed on the engine (only one row
of aggregates leaves it), plus the SHA-256 of those figures.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import narwhals as nw


def _number(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return None if not math.isfinite(f) else round(f, 6)
    return str(value)


def fingerprint(frame: Any) -> dict[str, Any]:
    """``{"rows", "columns", "stats", "sha256"}`` of a frame (any Narwhals-readable frame)."""
    lf = nw.from_native(frame) if not isinstance(frame, (nw.LazyFrame, nw.DataFrame)) else frame
    schema = lf.collect_schema()
    exprs = [nw.len().alias("__rows")]
    for name, dtype in schema.items():
        if dtype.is_numeric():
            exprs.append(nw.col(name).cast(nw.Float64).sum().alias(f"sum:{name}"))
        elif dtype in (nw.Datetime, nw.Date) or isinstance(dtype, (nw.Datetime, nw.Date)):
            exprs += [nw.col(name).min().alias(f"min:{name}"), nw.col(name).max().alias(f"max:{name}")]
    row = lf.select(exprs)
    row = row.collect() if isinstance(row, nw.LazyFrame) else row
    values = row.rows(named=True)[0]
    result: dict[str, Any] = {
        "rows": int(values.pop("__rows")),
        "columns": {name: str(dtype) for name, dtype in schema.items()},
        "stats": {k: _number(v) for k, v in values.items()},
    }
    result["sha256"] = hashlib.sha256(json.dumps(result, sort_keys=True).encode("utf-8")).hexdigest()
    return result
