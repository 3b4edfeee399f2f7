"""Pieces every command shares: error handling, logging, options."""

from __future__ import annotations

import errno
import functools
import logging
import math
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer._click.exceptions import ClickException
from rich.console import Console
from rich.text import Text

from cxlab._fs import atomic_write_bytes
from cxlab.exceptions import CxlabError, InputDataError

# markup=False: messages hold user values (paths, column names); "[x]" must print as it is.
err_console = Console(stderr=True, markup=False, highlight=False)
out_console = Console(markup=False, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

STATE = {"debug": False, "reported": False}


class Format(str, Enum):
    """How a result frame is written: a table for reading, or csv/json/parquet."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


FormatOpt = Annotated[
    Format | None,
    typer.Option("--format", "-f", help="table, csv, json or parquet (parquet needs --out). Default: from --out's suffix (.csv, .json, .parquet), else table."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write the result to FILE (format from its suffix unless --format is given).")]

_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


def frame_format(fmt: Format | str | None, out: Path | None, default: str = "table") -> str:
    """The format to write: the one asked for, else the one ``out``'s suffix names, else ``default``.

    So ``--out metrics.parquet`` writes Parquet, not a text table under a Parquet name.
    """
    if fmt is not None:
        return fmt.value if isinstance(fmt, Format) else str(fmt)
    if out is not None:
        return _SUFFIX_FORMATS.get(out.suffix.lower(), default)
    return default


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
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency",
        help="Reporting currency (ISO code, e.g. GBP): used to validate, convert and report amounts. "
        "Default: the project file's, else the one currency of the orders.",
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
    import warnings

    from rich.logging import RichHandler

    root = logging.getLogger("cxlab")
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(RichHandler(console=err_console, show_path=False, show_time=False, markup=False))
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if getattr(warnings.showwarning, "__name__", "") != _show_warning.__name__:
        _show_warning.original = warnings.showwarning  # type: ignore[attr-defined]
        warnings.showwarning = _show_warning


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """cxlab's own warnings (a doubtful fit, ...) as one ``warning: ...`` line, not a source
    location and a code line; others, and everything under --debug, as Python shows them."""
    from cxlab.exceptions import CxlabWarning

    if issubclass(category, CxlabWarning) and not debug_enabled():
        err_console.print(Text("warning: ", style="yellow") + Text(" ".join(str(message).split())), soft_wrap=True)
        return
    _show_warning.original(message, category, filename, lineno, file, line)  # type: ignore[attr-defined]


def say(message: str) -> None:
    """One plain-text line on stderr (never read as markup)."""
    err_console.print(Text(message), soft_wrap=True)


def say_error(message: str) -> None:
    """``error: MESSAGE`` as one plain line on stderr."""
    line = " ".join(str(message).split()) or "unknown error"
    STATE["reported"] = True
    err_console.print(Text("error: ", style="bold red") + Text(line), soft_wrap=True)


def fail(message: str, code: int) -> NoReturn:
    """One plain line ``error: MESSAGE`` on stderr, then exit ``code``."""
    say_error(message)
    raise typer.Exit(code)


def debug_enabled() -> bool:
    return bool(STATE["debug"]) or os.environ.get("CXLAB_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def describe_error(err: BaseException) -> tuple[str, int]:
    """The one line and the exit status for an error reaching the command line."""
    if isinstance(err, InputDataError):
        return str(err), 2
    if isinstance(err, CxlabError):
        return str(err), 1
    if isinstance(err, OSError):
        path = err.filename if err.filename is not None else None
        what = err.strerror or str(err) or type(err).__name__
        hint = {
            errno.ENOSPC: "free some space or write elsewhere",
            errno.EACCES: "check the permissions or write elsewhere",
            errno.EROFS: "the file system is read-only: write elsewhere",
            errno.ENOTDIR: "a parent of the path is a file: choose another path",
            errno.EISDIR: "give a file name, not a folder",
            errno.EEXIST: "remove it or choose another path",
        }.get(err.errno or -1, "check the path")
        where = f"{path}: " if path is not None else ""
        return f"{where}{what} ({hint}).", 1
    if isinstance(err, MemoryError):
        return "out of memory; use a smaller dataset or --engine spark.", 1
    if isinstance(err, RecursionError):
        return "the input is nested too deeply to process.", 1
    module = type(err).__module__.split(".")[0]
    if module in ("duckdb", "pyarrow", "polars", "pyspark", "py4j"):
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return f"the {module} engine failed: {type(err).__name__}: {first} (run with --debug for details).", 1
    return (
        f"unexpected {type(err).__name__}: {str(err).strip() or 'no message'} "
        "(this is a bug in cxlab; run with --debug and report the traceback).",
        1,
    )


def _is_interrupt(err: BaseException) -> bool:
    """A Ctrl-C that DuckDB turned into an error of its own: it cancels the
    running query and raises ``InterruptException`` or a plain
    ``RuntimeError('Query interrupted')`` instead of ``KeyboardInterrupt``."""
    if type(err).__name__ == "InterruptException" and type(err).__module__.split(".")[0] == "duckdb":
        return True
    return type(err) is RuntimeError and str(err).strip() == "Query interrupted"


def handle_errors(func: F) -> F:
    """Map every error to one plain line on stderr: exit 2 (bad input) or 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            fail("interrupted; nothing was written.", 130)
        except Exception as err:  # noqa: BLE001 - the edge of the program
            if debug_enabled():
                raise
            if _is_interrupt(err):
                fail("interrupted; nothing was written.", 130)
            message, code = describe_error(err)
            fail(message, code)

    return wrapper  # type: ignore[return-value]


def check_range(name: str, value: float | None, low: float, high: float, unit: str = "") -> None:
    """Refuse an option outside ``[low, high]`` with one clear line (exit 2)."""
    if value is None:
        return
    if not math.isfinite(float(value)) or not low <= value <= high:
        unit = f" {unit}" if unit else ""
        raise InputDataError(f"{name} must be between {low:,g} and {high:,g}{unit}; got {value!r}.")


def need_tables(ds: Any, command: str, needs: dict[str, str]) -> None:
    """Exit 2 when ``command`` needs a table the dataset does not have."""
    for table, purpose in needs.items():
        if table not in ds.tables:
            have = ", ".join(sorted(ds.tables)) or "no tables"
            raise InputDataError(
                f"{command} needs the '{table}' table ({purpose}), which the dataset does not have "
                f"(it has {have}). Add {table}.parquet or {table}.csv to the dataset folder, or give "
                f"its path in data.tables.{table}.path of the project file."
            )


def load(
    data: Path | None,
    engine: EngineChoice,
    config: Path | None,
    rejects_dir: Path | None = None,
    *,
    currency: str | None = None,
    command: str | None = None,
    needs: dict[str, str] | None = None,
    require_usable: bool = True,
):  # noqa: ANN201
    """Validate a dataset and say on stderr what was set aside (every data command).

    Rejected rows are written only where asked (``cxlab validate --out``); other
    commands say how many rows were set aside and how to see them. The
    reporting currency is resolved once here: ``currency`` (``--currency``),
    else the project file, else the data (said on stderr).
    """
    from cxlab.io import load_config, load_dataset

    cfg = load_config(config) if config else None
    if data is None and (cfg is None or (cfg.path is None and not cfg.tables)):
        fail("missing argument DATA: give a dataset folder, or --config with a data section that names the tables.", 2)
    with err_console.status(Text(f"reading and validating {data or config} on {engine.value}")):
        ds = load_dataset(
            data, engine=engine.value, config=cfg, rejects_dir=rejects_dir,
            reporting_currency=currency, require_usable=False,
        )
    if ds.currency_note:
        say(ds.currency_note)
    for warning in ds.report.warnings():
        say(f"warning: {warning}")
    rejected = ds.report.rows_rejected
    if rejected:
        per_table = ", ".join(
            f"{name} {t.rows_rejected:,}" for name, t in ds.report.tables.items() if t.rows_rejected
        )
        where = (
            f"they are in {rejects_dir / 'rejects'} with a reject_reason"
            if rejects_dir is not None
            else "run 'cxlab validate DATA --out DIR' to get them with a reject_reason"
        )
        say(f"set aside {rejected:,} invalid rows ({per_table}); {where}.")
        orders = ds.report.tables.get("orders")
        if orders is not None and orders.reasons.get("duplicate_key:order_id", 0) > orders.rows_in // 10:
            say(
                "hint: many orders share an order_id; if your rows are order lines, set "
                "'combine_lines: true' under data.tables.orders in the project file."
            )
    if require_usable:
        ds.report.check_usable()
    if needs:
        need_tables(ds, command or "this command", needs)
    return ds


def require_rows(df: Any, reason: str) -> None:
    """A command whose result is empty exits 1 with the reason (no empty file)."""
    if len(df) == 0:
        raise CxlabError(f"the result is empty: {reason}")


def echo_frame(df: Any, fmt: Format | str | None, out: Path | None, *, default: str = "table") -> None:
    """Write a result frame as table, csv, json or parquet to stdout or a file.

    ``fmt`` None takes the format from ``out``'s suffix, else ``default`` (see :func:`frame_format`).
    An empty frame, or one holding an infinite number, is an error (exit 1):
    neither is written.
    """
    fmt = frame_format(fmt, out, default)
    require_rows(df, "no rows to write.")
    _refuse_infinite(df)
    if fmt == "parquet":
        if out is None:
            fail("--format parquet needs --out FILE.", 2)
        import pyarrow as pa

        atomic_write_bytes(out, _parquet_bytes(pa.Table.from_pandas(df, preserve_index=False)))
        say(f"wrote {out}")
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
        atomic_write_bytes(out, text.encode("utf-8"))
        say(f"wrote {out}")


def _refuse_infinite(df: Any) -> None:
    import numpy as np

    numeric = df.select_dtypes(include="number")
    bad = {c: int(np.isinf(numeric[c].to_numpy(dtype=float)).sum()) for c in numeric.columns}
    bad = {c: n for c, n in bad.items() if n}
    if bad:
        where = ", ".join(f"{c} ({n:,} rows)" for c, n in bad.items())
        raise CxlabError(
            f"the result holds infinite values in {where}, so nothing was written; this comes from a "
            "degenerate model fit or amounts too large to add up. Try a coarser time unit, a longer "
            "history, or check the amounts."
        )


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
