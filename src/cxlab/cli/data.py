"""``cxlab generate`` and ``cxlab validate``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import ConfigOpt, DataArg, EngineOpt, EngineChoice, err_console, handle_errors, load, out_console


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("validate")(validate)


@handle_errors
def generate(
    customers: Annotated[int, typer.Option("--customers", "-n", min=1, help="Number of customers.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed; the same seed gives identical files.")] = 0,
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

    kwargs: dict = {"customers": customers, "seed": seed, "out": out}
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
        Path | None, typer.Option("--out", "-o", file_okay=False, help="Folder for validation.json and rejects/.")
    ] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Check a dataset: fatal problems exit 2; bad rows go to OUT/rejects/ with a reason."""
    from rich.table import Table

    target = out or Path("validation")
    ds = load(data, engine, config, rejects_dir=target)
    table = Table(title=f"validation of {data}")
    for column in ("table", "rows in", "clean", "rejected", "reasons"):
        table.add_column(column)
    for name, t in ds.report.tables.items():
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(t.reasons.items()))
        table.add_row(name, f"{t.rows_in:,}", f"{t.rows_clean:,}", f"{t.rows_rejected:,}", reasons)
    err_console.print(table)
    out_console.print(str(target / "validation.json"))
