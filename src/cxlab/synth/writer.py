"""Arrow schemas of the generated tables and deterministic Parquet writing.

Layout rule: every canonical table except ``fx`` is a folder of Parquet parts,
one part per chunk of customers (``orders/part-00000.parquet``, ...), even when
there is a single chunk; ``fx`` is the single file ``fx.parquet``. Truth tables
are single files written one row group per chunk (``truth/customers.parquet``,
``truth/surveys.parquet``). Files carry no creation time, and the writer's
options are fixed, so the same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxlab.schema import TABLES

_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}

#: Extra (non-canonical) columns the generator adds, by table.
EXTRA_COLUMNS: Mapping[str, tuple[tuple[str, pa.DataType], ...]] = {
    "customers": (
        ("segment", pa.string()),
        ("prime", pa.bool_()),
        ("device", pa.string()),
        ("age_band", pa.string()),
    ),
    "orders": (("carrier", pa.string()),),
}

#: Canonical columns the generator leaves out.
OMITTED_COLUMNS: Mapping[str, frozenset[str]] = {"events": frozenset({"session_id"})}

_WRITE_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}


def table_schema(name: str) -> pa.Schema:
    """The Arrow schema of generated table ``name``: canonical columns, then extras."""
    omitted = OMITTED_COLUMNS.get(name, frozenset())
    fields = [
        pa.field(c.name, _ARROW_TYPES[c.type], nullable=not c.key)
        for c in TABLES[name].columns
        if c.name not in omitted
    ]
    fields += [pa.field(n, t) for n, t in EXTRA_COLUMNS.get(name, ())]
    return pa.schema(fields)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids ``prefix`` + zero-padded ``numbers`` (so that text order is numeric order)."""
    digits = pc.utf8_lpad(pa.array(numbers, type=pa.int64()).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, pa.scalar(""))


def timestamps(us: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Naive ``timestamp[us]`` array from int64 microseconds; ``mask`` marks nulls."""
    return pa.array(us, type=pa.timestamp("us"), mask=mask)


def labels(index: np.ndarray, names: tuple[str, ...]) -> pa.Array:
    """Plain string array of ``names[index]``."""
    return pa.array(np.asarray(names, dtype=object)[index], type=pa.string())


def build_table(name: str, columns: Mapping[str, pa.Array]) -> pa.Table:
    """A table of ``name`` with its exact schema from ``columns``."""
    schema = table_schema(name)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def write_part(out: Path, name: str, chunk: int, table: pa.Table) -> None:
    """Write ``table`` as part ``chunk`` of table ``name`` under ``out``."""
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{chunk:05d}.parquet", **_WRITE_OPTIONS)


def write_file(path: Path, table: pa.Table) -> None:
    """Write ``table`` as one Parquet file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **_WRITE_OPTIONS)


class StreamingFile:
    """One Parquet file written one row group per chunk."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, schema, **_WRITE_OPTIONS)
        self.schema = schema

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (which must have the file's schema) as a row group."""
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def close(self) -> None:
        """Finish the file."""
        self._writer.close()
