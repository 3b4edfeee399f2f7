"""Pieces every command shares: error handling, logging, options."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from cxlab.exceptions import CxlabError, InputDataError

err_console = Console(stderr=True)
out_console = Console()

F = TypeVar("F", bound=Callable[..., Any])

STATE = {"debug": False}


class Format(str, Enum):
    """How a result frame is written: a table for reading, or csv/json/parquet."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv, json or parquet (parquet needs --out).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write the result to FILE.")]


class EngineChoice(str, Enum):
    duckdb = "duckdb"
    polars = "polars"
    spark = "spark"


EngineOpt = Annotated[
    EngineChoice,
    typer.Option("--engine", "-e", help="Engine for row-level work: duckdb (default), polars or spark."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", exists=True, dir_okay=False, readable=True,
        help="Project file (YAML) whose 'data:' section maps your columns, formats and zones.",
    ),
]
DataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Dataset folder: NAME.parquet, NAME/ (Parquet parts) or NAME.csv per table. "
        "May be left out when --config gives data.path or every table's path."
    ),
]


def setup_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    root = logging.getLogger("cxlab")
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(RichHandler(console=err_console, show_path=False, show_time=False))
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Map cxlab errors to one line on stderr and exit 2 (bad input) or 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except InputDataError as err:
            if STATE["debug"]:
                raise
            fail(str(err), 2)
        except CxlabError as err:
            if STATE["debug"]:
                raise
            fail(str(err), 1)

    return wrapper  # type: ignore[return-value]


def load(data: Path | None, engine: EngineChoice, config: Path | None, rejects_dir: Path | None = None):  # noqa: ANN201
    """Validate a dataset and say on stderr what was set aside (every data command)."""
    import tempfile

    from cxlab.io import load_config, load_dataset

    cfg = load_config(config) if config else None
    if data is None and cfg is None:
        fail("missing argument DATA: give a dataset folder, or --config with a data section that names the tables.", 2)
    target = rejects_dir or Path(tempfile.mkdtemp(prefix="cxlab-rejects-"))
    with err_console.status(f"reading and validating {data or config} on {engine.value}"):
        ds = load_dataset(data, engine=engine.value, config=cfg, rejects_dir=target)
    rejected = ds.report.rows_rejected
    if rejected:
        per_table = ", ".join(
            f"{name} {t.rows_rejected:,}" for name, t in ds.report.tables.items() if t.rows_rejected
        )
        err_console.print(
            f"[yellow]set aside {rejected:,} invalid rows[/] ({per_table}); "
            f"they are in {target / 'rejects'} with a reject_reason, summary in {target / 'validation.json'}",
            highlight=False,
        )
        orders = ds.report.tables.get("orders")
        if orders is not None and orders.reasons.get("duplicate_key:order_id", 0) > orders.rows_in // 10:
            err_console.print(
                "[yellow]hint:[/] many orders share an order_id; if your rows are order lines, set "
                "'combine_lines: true' under data.tables.orders in the project file.",
                highlight=False,
            )
    return ds


def echo_frame(df: Any, fmt: str, out: Path | None) -> None:
    """Write a result frame as table, csv, json or parquet to stdout or a file."""
    if fmt == "parquet":
        if out is None:
            fail("--format parquet needs --out FILE.", 2)
        import pyarrow as pa

        _write_atomic_bytes(out, _parquet_bytes(pa.Table.from_pandas(df, preserve_index=False)))
        err_console.print(f"wrote {out}")
        return
    if fmt == "csv":
        text = df.to_csv(index=False)
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=1)
    else:
        if out is None and sys.stdout.isatty():
            from rich.table import Table

            table = Table(show_lines=False)
            for column in df.columns:
                table.add_column(str(column))
            for row in df.itertuples(index=False):
                table.add_row(*(_cell(v) for v in row))
            out_console.print(table)
            return
        text = df.to_string(index=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        _write_atomic_bytes(out, text.encode("utf-8"))
        err_console.print(f"wrote {out}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:,.4g}"
    return "" if value is None else str(value)


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    from cxlab._fs import atomic_write_bytes

    atomic_write_bytes(path, data)
