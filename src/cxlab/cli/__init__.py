"""The ``cxlab`` command line: thin Typer commands over the library.

Results go to stdout, progress and errors to stderr. Exit status: 0 success,
1 a cxlab error, 2 bad usage or invalid input data.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from cxlab.cli import _common, clv, data, demo, init, metrics, report, run, satisfaction, score, serve, experiment, monitor, optimize, uplift


class _Root(TyperGroup):
    """The root command: ``--debug`` anywhere on the line, usage errors as one plain line."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        cut = args.index("--") if "--" in args else len(args)
        _common.STATE["debug"] = "--debug" in args[:cut]
        _common.STATE["reported"] = False
        args = [a for a in args[:cut] if a != "--debug"] + args[cut:]
        try:
            rv = super().main(
                args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra
            )
        except ClickException as err:
            if not standalone_mode:
                raise
            if type(err).__name__ == "NoArgsIsHelpError":
                err.show()
            else:
                command = err.ctx.command_path if getattr(err, "ctx", None) is not None else "cxlab"
                _common.say_error(f"{err.format_message()} (see '{command} --help').")
            sys.exit(err.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            _common.say_error("aborted.")
            sys.exit(1)
        if not standalone_mode:
            return rv
        if rv == 130 and not _common.STATE["reported"]:  # Ctrl-C while parsing: Typer exits 130 silently
            _common.say_error("interrupted; nothing was written.")
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    name="cxlab",
    cls=_Root,
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
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show tracebacks of errors (also after any subcommand, or CXLAB_DEBUG=1)."),
    ] = False,
) -> None:
    _common.STATE["debug"] = _common.STATE["debug"] or debug
    _common.setup_logging(verbose or _common.debug_enabled())


for _group in (data, init, run, report, demo, metrics, clv, satisfaction, score, serve, monitor, experiment, uplift, optimize):
    _group.register(app)


def main() -> None:
    """Console entry point (a Ctrl-C before a command starts is one line too)."""
    try:
        app()
    except KeyboardInterrupt:
        if _common.debug_enabled() or "--debug" in sys.argv[1:]:
            raise
        _common.say_error("interrupted; nothing was written.")
        sys.exit(130)
