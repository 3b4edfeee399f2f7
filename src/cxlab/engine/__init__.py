"""Engine selection and the few row-level primitives Narwhals cannot express.

Everything that touches rows is written once against the Narwhals lazy API and
runs on DuckDB (default), Polars or PySpark. This package is the only place that
imports an engine, and it does so lazily. The primitives here (local time,
epoch seconds, parsing strings into types) are implemented per engine and
tested for equality across engines; see ``NOTES-engines.md``.

Examples
--------
>>> import pyarrow as pa
>>> engine = get_engine("polars")
>>> lf = engine.from_arrow(pa.table({"x": [1, 2, 3]}))
>>> engine.to_pandas(lf)["x"].sum()
np.int64(6)
"""

from __future__ import annotations

from cxlab.engine._base import ENGINES, Engine, EngineName, get_engine
from cxlab.engine.batches import arrow_schema, map_batches_to_parquet
from cxlab.engine.primitives import (
    coerce,
    days_per_group,
    epoch_seconds,
    local_timestamp,
    materialize,
    materialize_with_ids,
)

__all__ = [
    "ENGINES",
    "Engine",
    "EngineName",
    "arrow_schema",
    "coerce",
    "days_per_group",
    "epoch_seconds",
    "get_engine",
    "local_timestamp",
    "map_batches_to_parquet",
    "materialize",
    "materialize_with_ids",
]
