"""Reading datasets: the data contract, column mapping, validation and rejects.

Typical use::

    from cxlab.io import load_dataset

    ds = load_dataset("data/", engine="duckdb", rejects_dir="validation/")
    ds.tables["orders"]          # clean rows in canonical types (a Narwhals LazyFrame)
    ds.report.rows_rejected      # what was set aside, with reasons in validation/
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import narwhals as nw

from cxlab._fs import atomic_write_json, atomic_write_text
from cxlab.engine import Engine, get_engine
from cxlab.io.config import DataConfig, TableConfig, load_config
from cxlab.io.validate import REASONS, TableReport, ValidationReport, validate_tables
from cxlab.schema import Marketplace

__all__ = [
    "REASONS",
    "DataConfig",
    "Dataset",
    "TableConfig",
    "TableReport",
    "ValidationReport",
    "load_config",
    "load_dataset",
    "write_json_atomic",
    "write_text_atomic",
]


@dataclass
class Dataset:
    """A validated dataset: clean tables on one engine, and what was set aside."""

    tables: dict[str, nw.LazyFrame]
    engine: Engine
    marketplaces: dict[str, Marketplace]
    reporting_currency: str
    report: ValidationReport
    rejects_dir: Path | None = None

    def table(self, name: str) -> nw.LazyFrame:
        if name not in self.tables:
            from cxlab.exceptions import InputDataError

            raise InputDataError(
                f"this needs the '{name}' table, which the dataset does not have; "
                f"it has {', '.join(sorted(self.tables))}."
            )
        return self.tables[name]


#: Kept for callers of the old names; both are :mod:`cxlab._fs` functions.
write_text_atomic = atomic_write_text
write_json_atomic = atomic_write_json


def load_dataset(
    path: str | Path | None,
    *,
    engine: str | Engine = "duckdb",
    config: DataConfig | None = None,
    rejects_dir: str | Path | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Read and validate a dataset; return its clean rows.

    Parameters
    ----------
    path
        Dataset folder (``customers.parquet``, ``orders/``, ``surveys.csv``, ...).
        May be ``None`` when ``config`` gives every table's path.
    engine
        ``"duckdb"`` (default), ``"polars"``, ``"spark"``, or an :class:`Engine`.
    config
        The project file's ``data:`` section: column mapping, formats, zones.
    rejects_dir
        When given, ``rejects/TABLE.parquet`` files and ``validation.json`` are
        written there (atomically).
    now
        The moment against which "in the future" is judged (default: now, UTC).

    Raises
    ------
    InputDataError
        For fatal problems: a required table or column is missing, or a column
        cannot be read as its type at all.
    """
    config = config or DataConfig()
    root = Path(path) if path is not None else config.path
    eng = get_engine(engine) if isinstance(engine, str) else engine
    validated = validate_tables(root, eng, config, now=now, progress=progress)
    report = ValidationReport({name: v.report for name, v in validated.items()})
    out_dir = Path(rejects_dir) if rejects_dir is not None else None
    if out_dir is not None:
        for name, v in validated.items():
            target = out_dir / "rejects" / f"{name}.parquet"
            if v.report.rows_rejected:
                eng.write_parquet(v.rejected, target)
            else:
                target.unlink(missing_ok=True)
        write_json_atomic(out_dir / "validation.json", report.to_dict())
    return Dataset(
        tables={name: v.clean for name, v in validated.items()},
        engine=eng,
        marketplaces=config.resolved_marketplaces(),
        reporting_currency=config.reporting_currency.upper(),
        report=report,
        rejects_dir=out_dir,
    )
