"""``cxlab demo``: generate data, write a project file, run it, print the executive report's path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import EngineChoice, EngineOpt, handle_errors


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@handle_errors
def demo(
    customers: Annotated[int, typer.Option("--customers", "-n", min=100, max=100_000_000,
                                           help="Customers to generate (100 to 100 million).")] = 100_000,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Output folder.")] = Path("demo-out"),
    engine: EngineOpt = EngineChoice.duckdb,
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Random seed of the data and models.")] = 7,
) -> None:
    """Generate customers, write OUT/project.yaml, run it into OUT/run; print the exec report's path."""
    from cxlab.cli.run import run_with_progress
    from cxlab.pipeline import run_demo

    report = run_with_progress(lambda progress: run_demo(
        customers=customers, out=out, engine=engine.value, seed=seed, progress=progress))
    typer.echo(str(report))
