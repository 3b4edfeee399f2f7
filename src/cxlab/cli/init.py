"""``cxlab init DIR``: write a commented project file next to the data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import err_console, fail, handle_errors


def register(app: typer.Typer) -> None:
    app.command("init")(init)


@handle_errors
def init(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder holding the data tables.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False,
                                             help="Project file to write (default: DIR/project.yaml).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing project file.")] = False,
) -> None:
    """Write a commented example project file for the tables in DIR; prints its path."""
    import os

    from rich.text import Text

    from cxlab._fs import atomic_write_text
    from cxlab.project import detect_dataset, project_template

    target = out or folder / "project.yaml"
    if target.exists() and not force:
        fail(f"{target} exists; give --force to replace it or --out for another file.", 2)
    tables, currency = detect_dataset(folder)
    if not tables:
        err_console.print(Text(f"no table found in {folder} (customers.csv, orders.parquet, ...); the project file "
                               "lists the tables to map under data.tables."))
    data = os.path.relpath(folder.resolve(), target.resolve().parent)
    atomic_write_text(target, project_template(data, currency=currency))
    if tables:
        err_console.print(Text(f"found tables: {', '.join(tables)}" +
                               (f"; reporting currency {currency}" if currency else "")))
    typer.echo(str(target))
