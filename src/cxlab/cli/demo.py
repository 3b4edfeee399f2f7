"""``cxlab demo``: generate data, validate it, run the analyses, write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import EngineChoice, EngineOpt, handle_errors, out_console, say


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@handle_errors
def demo(
    customers: Annotated[int, typer.Option("--customers", "-n", min=100, max=100_000_000, help="Customers to generate (100 to 100 million).")] = 20_000,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Output folder.")] = Path("demo-out"),
    engine: EngineOpt = EngineChoice.duckdb,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed of the generated data.")] = 7,
) -> None:
    """Generate a dataset, validate it and write a report; print the report's path."""
    from cxlab.pipeline import run_demo

    def step(message: str) -> None:
        say(f"- {message}")

    report = run_demo(customers=customers, out=out, engine=engine.value, random_state=seed, progress=step)
    out_console.print(str(report))
