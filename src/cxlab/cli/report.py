"""``cxlab report RUN_DIR``: one report of a run folder, for an audience and a format."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import handle_errors


class Audience(str, Enum):
    exec = "exec"
    science = "science"


class ReportFormat(str, Enum):
    html = "html"
    pptx = "pptx"


def register(app: typer.Typer) -> None:
    app.command("report")(report)


@handle_errors
def report(
    run_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Run folder written by 'cxlab run'.")],
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="exec or science.")] = Audience.exec,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html, or pptx (exec only).")] = ReportFormat.html,
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False,
                                             help="File to write (default: RUN_DIR/report/<name>).")] = None,
) -> None:
    """Render a report from a run folder; prints its path."""
    from cxlab.report import write_report

    name = "deck.pptx" if fmt is ReportFormat.pptx else f"{audience.value}.html"
    target = out or run_dir / "report" / name
    write_report(run_dir, target, audience=audience.value, fmt=fmt.value)  # type: ignore[arg-type]
    typer.echo(str(target))
