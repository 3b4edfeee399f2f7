"""``cxlab run project.yaml``: every stage the project asks for, into one run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cxlab.cli._common import EngineChoice, err_console, handle_errors


def register(app: typer.Typer) -> None:
    app.command("run")(run)


class RichProgress:
    """A Rich progress display on stderr: one line per stage, with its time or why it was skipped."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                            TimeElapsedColumn(), console=err_console, transient=False)
        self.tasks: dict[str, Any] = {}

    def start(self, name: str, title: str) -> None:
        self.tasks[name] = self.bar.add_task(f"{name}: {title}", total=1)

    def done(self, name: str, record: dict[str, Any]) -> None:
        from rich.text import Text

        if name in self.tasks:
            status = record["status"]
            self.bar.update(self.tasks[name], completed=1 if status == "done" else 0,
                            description=f"{name}: {record.get('title', '')} ({status})")
            self.bar.stop_task(self.tasks[name])
        else:
            self.bar.console.print(Text(f"  {name}: skipped, {record['reason']}", style="dim"))

    def say(self, message: str) -> None:
        from rich.text import Text

        self.bar.console.print(Text(f"  {message}", style="dim"))


def run_with_progress(call: Any) -> Any:
    """Call ``call(progress)`` with a live Rich progress display on stderr."""
    from cxlab.pipeline import Progress

    rich = RichProgress()
    with rich.bar:
        return call(Progress(start=rich.start, done=rich.done, say=rich.say))


@handle_errors
def run(
    project_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                                 help="Project file (YAML); see 'cxlab init'.")],
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Run folder to write.")] = Path("run"),
    engine: Annotated[EngineChoice | None, typer.Option("--engine", "-e", help="Override the project's engine: "
                                                        "duckdb, polars or spark.")] = None,
) -> None:
    """Run a project: validate, metrics, models, reports. Prints the run folder."""
    from cxlab.pipeline import run_project
    from cxlab.project import load_project

    project = load_project(project_file)  # bad project file: exit 2 before any work
    manifest = run_with_progress(lambda progress: run_project(
        project, out, engine=engine.value if engine else None, project_file=project_file, progress=progress))
    skipped = [s for s in manifest["stages"] if s["status"] == "skipped"]
    from rich.text import Text

    for s in skipped:
        err_console.print(Text(f"skipped {s['name']}: {s['reason']} (to enable: {s['enable']})"))
    typer.echo(str(out))
