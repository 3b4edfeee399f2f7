"""The ``cxlab`` command line: thin Typer commands over the library.

Results go to stdout, progress and errors to stderr. Exit status: 0 success,
1 a cxlab error, 2 bad usage or invalid input data.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cxlab.cli import _common, clv, data, demo, init, metrics, report, run, satisfaction, score, serve

app = typer.Typer(
    name="cxlab",
    help="Customer satisfaction and engagement: metrics, models and action plans on DuckDB, Polars or Spark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from cxlab import __version__

        typer.echo(f"cxlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    _common.STATE["debug"] = debug
    _common.setup_logging(verbose or debug)


for _group in (data, init, run, report, demo, metrics, clv, satisfaction, score, serve):
    _group.register(app)


def main() -> None:
    """Console entry point."""
    app()
