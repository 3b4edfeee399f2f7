"""Apply a pandas function to a frame batch by batch and write the result as Parquet.

Scoring every customer or order must not collect the whole table: DuckDB
streams Arrow record batches from the query, Polars collects with its streaming
engine and slices, and Spark runs the function on its executors through
``mapInPandas`` so scoring scales out with the cluster. The output is a Parquet
folder (one part per writer; Spark writes one per partition) staged and swapped
into place whole (:func:`cxlab._fs.staged_dir`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import narwhals as nw

from cxlab._fs import staged_dir

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

BatchFn = Callable[["pd.DataFrame"], "pd.DataFrame"]


def arrow_schema(lf: nw.LazyFrame) -> pa.Schema:
    """The Arrow schema of ``lf`` (from an empty result; nothing is computed)."""
    return lf.head(0).collect().to_arrow().schema


def _local_batches(lf: nw.LazyFrame, batch_rows: int) -> Iterator[pa.RecordBatch]:
    native = lf.to_native()
    kind = lf.implementation.name.lower()
    if kind == "duckdb":
        reader = native.to_arrow_reader(batch_rows) if hasattr(native, "to_arrow_reader") else native.fetch_arrow_reader(batch_rows)
        yield from reader
        return
    table = native.collect(engine="streaming").to_arrow() if kind == "polars" else lf.collect().to_arrow()
    yield from table.to_batches(max_chunksize=batch_rows)


def map_batches_to_parquet(
    lf: nw.LazyFrame, fn: BatchFn, schema: pa.Schema, out: Path, *, batch_rows: int = 50_000
) -> Path:
    """Write ``fn(batch)`` for every batch of ``lf`` to the Parquet folder ``out``.

    ``fn`` takes and returns a pandas frame; its result must have the columns
    of ``schema`` (it is cast to it). On Spark ``fn`` is shipped to the
    executors (``mapInPandas``) with batches of at most ``batch_rows`` rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    if lf.implementation.name.lower() == "spark":
        from pyspark.sql.pandas.types import from_arrow_schema

        native = lf.to_native()
        spark = native.sparkSession
        names = schema.names

        def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                yield fn(batch)[names]

        previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch", None)
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
        try:
            with staged_dir(out) as staging:
                native.mapInPandas(run, schema=from_arrow_schema(schema)).write.mode("overwrite").parquet(str(staging))
        finally:
            if previous is not None:
                spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
        return out
    with staged_dir(out) as staging, pq.ParquetWriter(staging / "part-00000.parquet", schema) as writer:
        for batch in _local_batches(lf, batch_rows):
            result = fn(batch.to_pandas())
            writer.write_table(pa.Table.from_pandas(result[schema.names], schema=schema, preserve_index=False))
    return out
