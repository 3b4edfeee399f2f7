"""``cxlab metrics`` and ``cxlab cohorts``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import (
    ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, FormatOpt, OutOpt, echo_frame, handle_errors,
    fail, load, require_rows,
)


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
    app.command("cohorts")(cohorts)


@handle_errors
def metrics(
    data: Annotated[Path | None, typer.Argument(help="Dataset folder (not needed with --list).")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help="Metric name; repeat for several. Default: all that the data allows.")] = None,
    grain: Annotated[str, typer.Option("--grain", "-g", help="day, week (ISO, Monday), month, quarter, year or all.")] = "month",
    by: Annotated[list[str] | None, typer.Option("--by", "-b", help="Segment column: marketplace or any customer attribute or column of the metric's table; repeat for several.")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First local day (inclusive).")] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last local day (inclusive).")] = None,
    currency: CurrencyOpt = None,
    spec: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="YAML file of user-defined metrics.")] = None,
    sampling_view: Annotated[bool, typer.Option("--sampling-view", help="Also give counts and sums an interval, treating the customers as a sample.")] = False,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="List the metrics and their definitions, then exit.")] = False,
) -> None:
    """CX metrics by period and segment, with 95% confidence intervals, in local time."""
    from cxlab.metrics import METRICS, compute_metrics, load_spec

    parsed_spec = load_spec(spec) if spec else None  # a bad spec fails before any data is read
    if list_:
        import pandas as pd

        rows = [{"metric": m.name, "kind": m.kind, "definition": m.description} for m in METRICS.values()]
        rows += [{"metric": s.name, "kind": s.type, "definition": s.description or "user-defined"} for s in parsed_spec or []]
        echo_frame(pd.DataFrame(rows), fmt, out)
        return
    if since and until and since > until:
        fail(f"--since {since.date()} is after --until {until.date()}; give a window whose start comes first.", 2)
    ds = load(data, engine, config, currency=currency)
    result = compute_metrics(
        ds.tables,
        metrics=metric or None,
        grain=grain,
        by=tuple(by or ()),
        since=since.date() if since else None,
        until=until.date() if until else None,
        reporting_currency=ds.reporting_currency,
        fx_currency=ds.reporting_currency,
        marketplaces=ds.marketplaces,
        spec=parsed_spec,
        sampling_view=sampling_view,
    )
    window = f" between {since.date() if since else 'the start'} and {until.date() if until else 'the end'}"
    require_rows(result, f"no rows of the metrics' tables fall{window}; widen --since/--until.")
    echo_frame(result, fmt, out)


class CohortGrain(str, Enum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class Activity(str, Enum):
    orders = "orders"
    events = "events"
    any = "any"


@handle_errors
def cohorts(
    data: DataArg = None,
    grain: Annotated[CohortGrain, typer.Option("--grain", "-g", help="week (ISO) or month (also quarter, year).")] = CohortGrain.month,
    by: Annotated[list[str] | None, typer.Option("--by", "-b", help="Customer-level segment column; repeat for several.")] = None,
    activity: Annotated[Activity, typer.Option(help="What counts as active: orders, events or any.")] = Activity.orders,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Retention of first-order cohorts: cohort_start, period_index, cohort_size, retained, retention_rate."""
    from cxlab.metrics import compute_cohorts

    needs = {"events": f"--activity {activity.value} counts app and web events as activity"}
    ds = load(
        data, engine, config, currency=currency, command="cohorts",
        needs=needs if activity is not Activity.orders else None,
    )
    result = compute_cohorts(
        ds.tables, grain=grain.value, by=tuple(by or ()), activity=activity.value, marketplaces=ds.marketplaces
    )
    require_rows(result, "no customer has a clean order, so there is no cohort.")
    echo_frame(result, fmt, out)
