"""``cxlab generate`` and ``cxlab validate``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import (
    ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, handle_errors, load, out_console, say,
)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("validate")(validate)


@handle_errors
def generate(
    customers: Annotated[int, typer.Option("--customers", "-n", min=1, max=100_000_000, help="Number of customers (1 to 100 million).")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, max=2**32 - 1, help="Random seed; the same seed gives identical files.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Output dataset folder.")] = Path("data"),
    start: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day of the history.")] = None,
    end: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of the history.")] = None,
    marketplaces: Annotated[
        str | None, typer.Option(help="Comma-separated marketplace codes, e.g. DE,FR,UK,US,JP,BR,IN.")
    ] = None,
    incident: Annotated[
        list[str] | None, typer.Option(help="Inject KIND:MARKETPLACE:START:DAYS:SIZE (late_delivery, orders_drop, returns_rise); repeatable.")
    ] = None,
) -> None:
    """Generate a synthetic worldwide marketplace with ground truth in OUT/truth/."""
    from rich.progress import Progress

    from cxlab import synth

    kwargs: dict = {"customers": customers, "random_state": seed, "out": out}
    if start:
        kwargs["start"] = start.date()
    if end:
        kwargs["end"] = end.date()
    if marketplaces:
        kwargs["marketplaces"] = tuple(m.strip().upper() for m in marketplaces.split(",") if m.strip())
    if incident:
        kwargs["incidents"] = tuple(synth.parse_incident(text) for text in incident)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("generating", total=customers)
        kwargs["progress"] = lambda done, total: progress.update(task, completed=done, total=total)
        synth.generate(**kwargs)
    out_console.print(str(out))


@handle_errors
def validate(
    data: DataArg = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", file_okay=False, help="Folder for validation.json and rejects/ (replaced whole)."),
    ] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Check a dataset: fatal problems exit 2; bad rows go to OUT/rejects/ with a reason.

    Tables the dataset does not have are listed as absent (only customers and
    orders are required). When every row of a table is set aside, the report is
    still written and the command exits 2.
    """
    from rich.table import Table

    from cxlab.schema import TABLE_ORDER

    target = out or Path("validation")
    ds = load(data, engine, config, rejects_dir=target, currency=currency, require_usable=False)
    table = Table(title=f"validation of {data or config} (reporting currency {ds.reporting_currency})")
    for column in ("table", "rows in", "clean", "rejected", "reasons"):
        table.add_column(column)
    for name in TABLE_ORDER:
        t = ds.report.tables.get(name)
        if t is None:
            table.add_row(name, "absent", "", "", "")
            continue
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(t.reasons.items()))
        table.add_row(name, f"{t.rows_in:,}", f"{t.rows_clean:,}", f"{t.rows_rejected:,}", reasons)
    err_console.print(table)
    absent = [name for name in TABLE_ORDER if name not in ds.report.tables]
    if absent:
        say(f"absent (optional): {', '.join(absent)}")
    ds.report.check_usable()
    out_console.print(str(target / "validation.json"))
