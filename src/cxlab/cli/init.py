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
    """Write a commented project file for the exports in DIR, proposing how their columns map; prints its path."""
    import os

    from rich.text import Text

    from cxlab._fs import atomic_write_text
    from cxlab.project import detect_dataset, project_template

    target = out or folder / "project.yaml"
    if target.exists() and not force:
        fail(f"{target} exists; give --force to replace it or --out for another file.", 2)
    from cxlab.io.guess import guess_data, render_data_section, summary

    tables, currency = detect_dataset(folder)
    data = os.path.relpath(folder.resolve(), target.resolve().parent)
    section = None
    if not {"customers", "orders"} <= set(tables) or not _canonical(folder):
        guess = guess_data(folder)
        if guess.tables:  # a mapping to propose
            section = render_data_section(guess, target.resolve().parent)
        for line in summary(guess):
            err_console.print(Text(line))
        tables = [] if section is None else tables
    if not tables and section is None:
        err_console.print(Text(f"no table found in {folder} (customers.csv, orders.parquet, ...); the project file "
                               "lists the tables to map under data.tables."))
    atomic_write_text(target, project_template(data, currency=currency, data_section=section))
    if tables and section is None:
        err_console.print(Text(f"found tables: {', '.join(tables)}" +
                               (f"; reporting currency {currency}" if currency else "")))
    elif section is not None:
        err_console.print(Text("proposed a mapping: read the project file, above all the lines marked 'check'"))
    typer.echo(str(target))


def _canonical(folder: Path) -> bool:
    """Whether the customers and orders files found by name have their required columns
    (read from their headers only)."""
    from cxlab.io.config import TableConfig
    from cxlab.io.read import find_table, table_columns
    from cxlab.schema import TABLES

    for name in ("customers", "orders"):
        path = find_table(folder, name, TableConfig())
        try:
            names = table_columns(path, TableConfig()) if path else []
        except Exception:  # noqa: BLE001  (unreadable: the loader will say why)
            return True
        if not set(TABLES[name].required_columns) <= set(names):
            return False
    return True
