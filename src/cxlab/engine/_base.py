"""Engine sessions: how frames get in and out of DuckDB, Polars and Spark."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import narwhals as nw

from cxlab._fs import atomic_path
from cxlab.exceptions import EngineNotAvailableError, InputDataError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

EngineName = Literal["duckdb", "polars", "spark"]
ENGINES: tuple[str, ...] = get_args(EngineName)

_INSTALL = {
    "duckdb": "pip install duckdb",
    "polars": "pip install polars",
    "spark": "pip install 'cxlab[spark]'  (and a Java 17 runtime)",
}


def _require(module: str, engine: str) -> Any:
    try:
        return __import__(module)
    except ImportError as err:
        raise EngineNotAvailableError(
            f"engine '{engine}' needs the Python package '{module}', which is not "
            f"installed. Install it with: {_INSTALL[engine]}"
        ) from err


def parquet_parts(path: Path) -> list[Path]:
    """The Parquet files of a table: the file itself or the parts of a folder."""
    if path.is_dir():
        parts = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith((".", "_")))
        if not parts:
            raise InputDataError(
                f"{path}: folder has no .parquet files; a table folder must hold Parquet parts."
            )
        return parts
    return [path]


class Engine:
    """A handle on one engine: reading, writing and collecting frames.

    Use :func:`get_engine` to make one. Frames are Narwhals ``LazyFrame`` objects
    backed by the engine's native lazy frame.
    """

    name: EngineName

    def from_arrow(self, table: pa.Table) -> nw.LazyFrame:
        raise NotImplementedError

    def from_pandas(self, df: pd.DataFrame) -> nw.LazyFrame:
        import pyarrow as pa

        return self.from_arrow(pa.Table.from_pandas(df, preserve_index=False))

    def read_parquet(self, path: Path) -> nw.LazyFrame:
        raise NotImplementedError

    def lazy(self, frame: Any) -> nw.LazyFrame:
        """Bring any frame (pandas, pyarrow, polars, native lazy) onto this engine."""
        if isinstance(frame, nw.LazyFrame):
            if self.owns(frame):
                return frame
            return self.from_arrow(frame.collect().to_arrow())
        if isinstance(frame, nw.DataFrame):
            return self.from_arrow(frame.to_arrow())
        native = nw.from_native(frame)
        return self.lazy(native)

    def owns(self, lf: nw.LazyFrame) -> bool:
        return lf.implementation.name.lower() == self.name

    def to_arrow(self, lf: nw.LazyFrame) -> pa.Table:
        return lf.collect().to_arrow()

    def to_pandas(self, lf: nw.LazyFrame) -> pd.DataFrame:
        return self.to_arrow(lf).to_pandas()

    def write_parquet(self, lf: nw.LazyFrame, path: Path) -> Path:
        """Write ``lf`` to one Parquet file atomically (temp file + rename)."""
        import pyarrow.parquet as pq

        with atomic_path(path) as tmp:
            pq.write_table(self.to_arrow(lf), tmp)
        return path

    def materialize(self, lf: nw.LazyFrame, *, ordered: bool = True) -> nw.LazyFrame:
        """Compute ``lf`` once and keep the result in the engine for reuse.

        ``ordered=False`` tells the engine that the caller never relies on the
        order of the rows (DuckDB then writes the table without keeping the
        insertion order, which is faster and uses less memory).
        """
        return self.from_arrow(self.to_arrow(lf))

    def close(self) -> None:
        """Release the engine's resources (a no-op where there are none)."""


class DuckDBEngine(Engine):
    name: EngineName = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        duckdb = _require("duckdb", "duckdb")
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone='UTC'")
        # DuckDB draws its own progress bar on stderr in long queries; the CLI has one voice
        self.con.execute("SET enable_progress_bar=false")
        if threads:
            self.con.execute(f"SET threads={int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit=?", [memory_limit])

    def from_arrow(self, table: pa.Table) -> nw.LazyFrame:
        return nw.from_native(self.con.from_arrow(table))

    def read_parquet(self, path: Path) -> nw.LazyFrame:
        files = [str(p) for p in parquet_parts(path)]
        return nw.from_native(self.con.read_parquet(files, union_by_name=True))

    def to_arrow(self, lf: nw.LazyFrame) -> pa.Table:
        rel = lf.to_native()
        table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        return table if hasattr(table, "schema") else table.read_all()

    def materialize(self, lf: nw.LazyFrame, *, ordered: bool = True) -> nw.LazyFrame:
        name = f"cxlab_{uuid.uuid4().hex}"
        if ordered:
            lf.to_native().create(name)
        else:
            before = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
            self.con.execute("SET preserve_insertion_order = false")
            try:
                lf.to_native().create(name)
            finally:
                self.con.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")
        return nw.from_native(self.con.table(name))

    def close(self) -> None:
        self.con.close()


class PolarsEngine(Engine):
    name: EngineName = "polars"

    def __init__(self) -> None:
        self.pl = _require("polars", "polars")

    def from_arrow(self, table: pa.Table) -> nw.LazyFrame:
        return nw.from_native(self.pl.from_arrow(table).lazy())

    def read_parquet(self, path: Path) -> nw.LazyFrame:
        files = [str(p) for p in parquet_parts(path)]
        return nw.from_native(self.pl.scan_parquet(files, missing_columns="insert"))

    def materialize(self, lf: nw.LazyFrame, *, ordered: bool = True) -> nw.LazyFrame:
        return nw.from_native(lf.to_native().collect().lazy())


class SparkEngine(Engine):
    name: EngineName = "spark"

    def __init__(self, *, master: str | None = None, remote: str | None = None) -> None:
        _require("pyspark", "spark")
        from pyspark.sql import SparkSession

        master = master or os.environ.get("CXLAB_SPARK_MASTER") or "local[2]"
        if master.startswith("local"):
            # Python workers (mapInPandas in 'cxlab score') run this interpreter, which has cxlab.
            import sys

            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        remote = remote or os.environ.get("CXLAB_SPARK_REMOTE")
        builder = SparkSession.builder.appName("cxlab")
        builder = builder.remote(remote) if remote else builder.master(master)
        for key, value in {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "8",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            # pandas writes nanosecond timestamps, which Spark refuses; read them as
            # longs and convert them in read_parquet.
            "spark.sql.legacy.parquet.nanosAsLong": "true",
            "spark.driver.memory": os.environ.get("CXLAB_SPARK_DRIVER_MEMORY", "4g"),
        }.items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()
        if not remote:
            self.spark.sparkContext.setLogLevel("ERROR")

    def from_arrow(self, table: pa.Table) -> nw.LazyFrame:
        import pyarrow as pa

        # Spark keeps naive timestamps as instants in the session zone (UTC).
        fields = [
            pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        ]
        table = table.cast(pa.schema(fields))
        if table.num_rows == 0:
            schema = self.spark.createDataFrame(table.slice(0, 0).to_pandas()).schema
            return nw.from_native(self.spark.createDataFrame([], schema))
        return nw.from_native(self.spark.createDataFrame(table.to_pandas()))

    def read_parquet(self, path: Path) -> nw.LazyFrame:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql import functions as F

        parts = parquet_parts(path)
        nanos = [
            f.name
            for f in pq.read_schema(parts[0])
            if pa.types.is_timestamp(f.type) and f.type.unit == "ns"
        ]
        df = self.spark.read.option("mergeSchema", "true").parquet(*map(str, parts))
        if nanos:
            df = df.withColumns(
                {c: F.timestamp_micros(F.floor(F.col(c) / 1000).cast("bigint")) for c in nanos}
            )
        return nw.from_native(df)

    def materialize(self, lf: nw.LazyFrame, *, ordered: bool = True) -> nw.LazyFrame:
        df = lf.to_native().cache()
        df.count()
        return nw.from_native(df)

    def to_arrow(self, lf: nw.LazyFrame) -> pa.Table:
        import pyarrow as pa

        table = lf.collect().to_arrow()
        # Spark hands back timestamps tagged with the session zone; keep them naive UTC.
        fields = [
            pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        ]
        return table.cast(pa.schema(fields))


def get_engine(name: str = "duckdb", **config: Any) -> Engine:
    """Return an engine session by name.

    Parameters
    ----------
    name
        ``"duckdb"`` (default, embedded), ``"polars"`` or ``"spark"``.
    **config
        Engine options: DuckDB ``threads``, ``memory_limit``; Spark ``master``
        (default ``local[2]`` or ``$CXLAB_SPARK_MASTER``) and ``remote`` (a Spark
        Connect URL, or ``$CXLAB_SPARK_REMOTE``).
    """
    engines = {"duckdb": DuckDBEngine, "polars": PolarsEngine, "spark": SparkEngine}
    if name not in engines:
        raise InputDataError(
            f"engine must be one of {', '.join(ENGINES)}; got {name!r}."
        )
    return engines[name](**config)
