"""``cxlab monitor``: control charts and alarms on metric series."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from cxlab.cli._common import (
    ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, fail, handle_errors, load, out_console,
)

#: Exit status when --fail-on-alarm finds a recent alarm.
EXIT_ALARM = 3


class MethodChoice(str, Enum):
    ewma = "ewma"
    cusum = "cusum"
    shewhart = "shewhart"


class GrainChoice(str, Enum):
    day = "day"
    week = "week"


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)


@handle_errors
def monitor(
    data: DataArg = None,
    metric: Annotated[list[str], typer.Option("--metric", "-m", help="Catalog metric to watch; repeat for several.")] = ...,  # type: ignore[assignment]
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Output folder: alarms.parquet, charts.parquet, charts.html.")] = ...,  # type: ignore[assignment]
    grain: Annotated[GrainChoice, typer.Option("--grain", "-g", help="day or week (ISO, Monday).")] = GrainChoice.day,
    by: Annotated[list[str] | None, typer.Option("--by", "-b", help="Segment column, e.g. marketplace; repeat for several.")] = None,
    baseline: Annotated[str | None, typer.Option(help="Training period START:END (inclusive dates); default the first half of the history.")] = None,
    method: Annotated[list[MethodChoice] | None, typer.Option("--method", help="ewma (default), cusum or shewhart (Western Electric rules); repeat for several.")] = None,
    arl0: Annotated[float | None, typer.Option("--arl0", min=20, max=1e7, help="In-control average run length per series, in points (default 370).")] = None,
    false_alarms_per_year: Annotated[float | None, typer.Option("--false-alarms-per-year", min=1e-4, max=1e4, help="Expected false alarms a year over all series together (instead of --arl0).")] = None,
    retrospective: Annotated[bool, typer.Option("--retrospective", help="Also find change points in the whole history (PELT): changepoints.parquet.")] = False,
    refit_days: Annotated[int | None, typer.Option("--refit-days", min=0, max=3660, help="Refit the baseline every N monitored points on the trailing window as long as --baseline (default 28 days or 4 weeks; 0 fits once).")] = None,
    fail_on_alarm: Annotated[bool, typer.Option("--fail-on-alarm", help="Exit 3 when an alarm falls in the last --recent-days.")] = False,
    recent_days: Annotated[int, typer.Option("--recent-days", min=1, max=3660, help="Window of --fail-on-alarm, in days.")] = 7,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First local day read.")] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last local day read.")] = None,
    currency: CurrencyOpt = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Watch metric series with control charts at a false-alarm rate you set; print the alarms."""
    from cxlab import monitor as mon
    from cxlab.monitor.output import recent_alarms, write_monitor

    if arl0 is not None and false_alarms_per_year is not None:
        fail("give either --arl0 or --false-alarms-per-year, not both.", 2)
    mon.parse_baseline(baseline)  # a bad period fails before any data is read
    ds = load(data, engine, config, currency=currency, command="monitor")
    result = mon.monitor(
        ds.tables,
        metrics=metric,
        grain=grain.value,
        by=tuple(by or ()),
        methods=[m.value for m in (method or [MethodChoice.ewma])],
        baseline=baseline,
        arl0=arl0,
        false_alarms_per_year=false_alarms_per_year,
        retrospective=retrospective,
        refit_days=refit_days,
        since=since.date() if since else None,
        until=until.date() if until else None,
        reporting_currency=ds.reporting_currency,
        fx_currency=ds.reporting_currency,
        marketplaces=ds.marketplaces,
    )
    for row in result.skipped.itertuples():
        err_console.print(Text(f"not charted: {row.metric} / {row.segment}: {row.reason}."))
    write_monitor(result, out)
    err_console.print(Text(
        f"{len(result.series):,} series charted at an in-control ARL of {result.arl0:,.0f} points each; "
        f"{len(result.alarms):,} alarm(s); wrote {out}"
    ))
    if not result.alarms.empty:
        cols = ["metric", "segment", "alarm_date", "change_start", "direction", "size", "method"]
        out_console.print(result.alarms[cols].to_string(index=False), markup=False, highlight=False)
    if fail_on_alarm:
        recent = recent_alarms(result, recent_days)
        if not recent.empty:
            err_console.print(Text(f"{len(recent):,} alarm(s) in the last {recent_days:,} days."))
            raise typer.Exit(EXIT_ALARM)
