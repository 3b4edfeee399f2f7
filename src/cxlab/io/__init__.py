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

from cxlab._fs import atomic_write_json, atomic_write_text, staged_dir
from cxlab.engine import Engine, get_engine
from cxlab.exceptions import InputDataError
from cxlab.io.config import DataConfig, TableConfig, load_config
from cxlab.io.currency import CurrencyChoice, resolve_reporting_currency
from cxlab.io.validate import REASONS, TableReport, ValidationReport, validate_tables
from cxlab.schema import Marketplace, check_currency_code

__all__ = [
    "REASONS",
    "CurrencyChoice",
    "DataConfig",
    "Dataset",
    "TableConfig",
    "TableReport",
    "ValidationReport",
    "load_config",
    "load_dataset",
    "resolve_reporting_currency",
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
    #: How the reporting currency was chosen when nobody named it ("" otherwise).
    currency_note: str = ""

    def table(self, name: str, *, needed_for: str = "this") -> nw.LazyFrame:
        """The clean table ``name``; an :class:`InputDataError` naming it when absent."""
        if name not in self.tables:
            raise InputDataError(
                f"{needed_for} needs the '{name}' table, which the dataset does not have; "
                f"it has {', '.join(sorted(self.tables))}. Add {name}.parquet or {name}.csv, "
                f"or give its path in data.tables.{name}.path of the project file."
            )
        return self.tables[name]


#: Kept names of the atomic writers (their one home is :mod:`cxlab._fs`).
write_text_atomic = atomic_write_text
write_json_atomic = atomic_write_json

#: The file that marks a folder as a validation report cxlab may replace.
VALIDATION_FILE = "validation.json"


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that holds something other than a validation report."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / VALIDATION_FILE).exists():
        raise InputDataError(
            f"{out_dir}: the folder exists and is not a cxlab validation report (no {VALIDATION_FILE}); "
            "the report replaces its folder whole, so give a new or empty folder."
        )


def load_dataset(
    path: str | Path | None,
    *,
    engine: str | Engine = "duckdb",
    config: DataConfig | None = None,
    rejects_dir: str | Path | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    reporting_currency: str | None = None,
    require_usable: bool = False,
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
        written there. The folder is written whole (staged, then renamed into
        place): no stale rejects file of an earlier run survives.
    reporting_currency
        The reporting currency; default: the project file's, else resolved from
        the data (see :mod:`cxlab.io.currency`).
    require_usable
        Raise :class:`InputDataError` when every row of a table was set aside
        (the command line does); the report is written first.
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
    if reporting_currency is not None:
        try:
            reporting_currency = check_currency_code(reporting_currency)
        except ValueError as err:
            raise InputDataError(f"--currency: {err}.") from err
    out_dir = Path(rejects_dir) if rejects_dir is not None else None
    if out_dir is not None:
        _check_replaceable(out_dir)
    eng = get_engine(engine) if isinstance(engine, str) else engine
    validated, currency = validate_tables(
        root, eng, config, now=now, progress=progress, reporting_currency=reporting_currency
    )
    report = ValidationReport({name: v.report for name, v in validated.items()})
    if out_dir is not None:
        with staged_dir(out_dir) as stage:
            for name, v in validated.items():
                if v.report.rows_rejected:
                    eng.write_parquet(v.rejected, stage / "rejects" / f"{name}.parquet")
            atomic_write_json(
                stage / VALIDATION_FILE, {**report.to_dict(), "reporting_currency": currency.code}
            )
    if require_usable:
        report.check_usable()
    return Dataset(
        tables={name: v.clean for name, v in validated.items()},
        engine=eng,
        marketplaces=config.resolved_marketplaces(),
        reporting_currency=currency.code,
        report=report,
        rejects_dir=out_dir,
        currency_note=currency.note,
    )
