"""``cxlab experiment analyze|plan``."""

from __future__ import annotations

import datetime as dt
import math
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cxlab.cli._common import ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, handle_errors, load, out_console

exp_app = typer.Typer(
    help="A/B experiments on catalog metrics: lifts with intervals, CUPED, SRM check, sequential intervals, power.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(exp_app, name="experiment")


class Correction(str, Enum):
    holm = "holm"
    bh = "bh"
    none = "none"


MetricOpt = Annotated[
    list[str],
    typer.Option("--metric", "-m", help="Metric: conversion, orders, revenue, visits, csat, nps, aov, ... or one from --spec; repeat for several."),
]
SpecOpt = Annotated[Path | None, typer.Option("--spec", exists=True, dir_okay=False, help="YAML file of user-defined metrics.")]
WindowOpt = Annotated[float, typer.Option("--window-days", min=1, max=3660, help="Days after each unit's assignment over which its metric is measured.")]
PreOpt = Annotated[float, typer.Option("--pre-days", min=0, max=3660, help="Days before assignment for CUPED's pre-period value; 0 turns CUPED off.")]


@exp_app.command("analyze")
@handle_errors
def analyze(
    data: DataArg = None,
    metric: MetricOpt = ...,  # type: ignore[assignment]
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=True, help="Output folder: results.parquet and results.json.")] = ...,  # type: ignore[assignment]
    window_days: WindowOpt = 30,
    pre_days: PreOpt = 90,
    control: Annotated[str | None, typer.Option(help="Control arm (default: 'control').")] = None,
    covariate: Annotated[list[str] | None, typer.Option("--covariate", help="Numeric customer attribute for the regression adjustment; repeat for several.")] = None,
    by: Annotated[str | None, typer.Option("--by", "-b", help="Segment column: a customer attribute or a column of the assignment table.")] = None,
    sequential: Annotated[bool, typer.Option("--sequential", help="Always-valid intervals and p-values (confidence sequences): safe to look every day.")] = False,
    as_of: Annotated[dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="Analyse the data up to this UTC date (exclusive).")] = None,
    winsorize: Annotated[float | None, typer.Option("--winsorize", min=0.5, max=1.0, help="Cap per-unit values at this quantile, e.g. 0.99.")] = None,
    correction: Annotated[Correction, typer.Option(help="Multiple-comparison adjustment: holm, bh (Benjamini-Hochberg) or none.")] = Correction.holm,
    alpha: Annotated[float, typer.Option(min=1e-6, max=0.5, help="1 - confidence level.")] = 0.05,
    assignment: Annotated[Path | None, typer.Option("--assignment", exists=True, help="Your own assignment table (Parquet or CSV) instead of the treatments table.")] = None,
    unit_col: Annotated[str, typer.Option(help="Unit (customer id) column of the assignment table.")] = "customer_id",
    arm_col: Annotated[str, typer.Option(help="Arm column of the assignment table.")] = "action",
    assigned_col: Annotated[str | None, typer.Option(help="Assignment-time column of the assignment table ('' when it has none: give --start).")] = "assigned_ts",
    start: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Assignment date of every unit when the table has no time column.")] = None,
    spec: SpecOpt = None,
    currency: CurrencyOpt = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Every arm against control for each metric (and segment): lifts, 95% intervals, p-values, SRM check."""
    from cxlab import experiments
    from cxlab._fs import atomic_write_json, staged_dir
    from cxlab.metrics import load_spec

    parsed_spec = load_spec(spec) if spec else None
    ds = load(data, engine, config, currency=currency)
    spec_ = experiments.Assignment()
    if assignment is not None:
        spec_ = experiments.Assignment(
            table=_read_assignment(assignment, ds.engine, assigned_col or None),
            unit=unit_col, arm=arm_col, assigned=assigned_col or None, start=start,
        )
    with err_console.status("analysing the experiment"):
        result = experiments.analyze(
            ds, metrics=metric, assignment=spec_, control=control, window_days=window_days,
            pre_days=pre_days, covariates=tuple(covariate or ()), by=by,
            winsorize_quantile=winsorize, sequential=sequential, as_of=as_of, alpha=alpha,
            correction=correction.value, spec=parsed_spec, reporting_currency=ds.reporting_currency,
        )
    with staged_dir(out) as tmp:
        result.table.to_parquet(tmp / "results.parquet", index=False)
        atomic_write_json(tmp / "results.json", result.to_dict())
    _render(result)
    err_console.print(Text(f"wrote {out / 'results.parquet'} and {out / 'results.json'}"))


def _read_assignment(path: Path, engine: Any, assigned: str | None) -> Any:
    from cxlab.engine import coerce
    from cxlab.io import TableConfig
    from cxlab.io.read import read_table

    lf = read_table(path, engine, TableConfig())
    if assigned and assigned in lf.collect_schema().names() and str(lf.collect_schema()[assigned]) == "String":
        lf = coerce(lf, assigned, "timestamp")
    return lf.to_native()


def _console() -> Any:
    """The terminal's console; when output is piped or captured, one wide enough not to cut cells."""
    if out_console.is_terminal:
        return out_console
    from rich.console import Console

    return Console(width=200)


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "pct":
        return f"{value:+.1%}"
    if kind == "p":
        return "<0.0001" if value < 1e-4 else f"{value:.4f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "share":
        return f"{value:.0%}"
    mag = abs(value)
    digits = 2 if mag >= 100 else 3 if mag >= 1 else 4
    return f"{value:,.{digits}f}"


def _render(result: Any) -> None:
    t = result.table
    s = result.settings
    seq = " (always-valid)" if s["sequential"] else ""
    title = f"Experiment: {s['units']:,} units, control '{s['control']}', {s['window_days']:g}-day window"
    table = Table(title=Text(title), show_lines=False)
    cols = ["metric", "arm"] + (["segment"] if s["by"] else []) + [
        "n", "mean", "control", "lift", f"95% interval{seq}", "rel. lift", "rel. interval",
        "p (adj.)", "var. red.",
    ]
    for c in cols:
        table.add_column(Text(c), justify="left" if c in ("metric", "arm", "segment") else "right")
    for r in t.itertuples(index=False):
        cells = [r.metric, r.arm] + ([str(r.segment)] if s["by"] else []) + [
            _fmt(r.n, "int"), _fmt(r.mean), _fmt(r.control_mean), _fmt(r.lift),
            f"{_fmt(r.lift_ci_low)} to {_fmt(r.lift_ci_high)}", _fmt(r.rel_lift, "pct"),
            f"{_fmt(r.rel_lift_ci_low, 'pct')} to {_fmt(r.rel_lift_ci_high, 'pct')}",
            _fmt(r.p_value_adjusted, "p") + (" *" if r.significant else ""),
            _fmt(r.variance_reduction, "share"),
        ]
        table.add_row(*(Text(c) for c in cells))
    console = _console()
    console.print(table)
    console.print(Text(s["correction_statement"] + " * significant at alpha " + f"{s['alpha']:g}."))
    srm = result.srm
    style = "bold red" if srm["failed"] else "green"
    console.print(Text(srm["message"], style=style))
    for w in result.warnings:
        if w != srm["message"]:
            err_console.print(Text(f"warning: {w}", style="yellow"))


@exp_app.command("plan")
@handle_errors
def plan(
    data: DataArg = None,
    metric: MetricOpt = ...,  # type: ignore[assignment]
    mde: Annotated[float, typer.Option("--mde", min=1e-9, max=1e12, help="Smallest lift to detect: relative (0.01 = 1%) unless --absolute.")] = ...,  # type: ignore[assignment]
    arms: Annotated[int, typer.Option("--arms", min=2, max=100, help="Arms including control.")] = 2,
    alpha: Annotated[float, typer.Option(min=1e-6, max=0.5, help="Two-sided level of the test.")] = 0.05,
    power: Annotated[float, typer.Option(min=0.5, max=0.999, help="Probability to detect a true lift of --mde.")] = 0.8,
    absolute: Annotated[bool, typer.Option("--absolute", help="--mde is in the metric's units, not relative.")] = False,
    window_days: WindowOpt = 30,
    pre_days: PreOpt = 90,
    units_per_day: Annotated[float | None, typer.Option(min=1e-6, max=1e12, help="New units entering the experiment per day (default: existing customers, all at once).")] = None,
    as_of: Annotated[dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="End of the past data used (default: the last order).")] = None,
    spec: SpecOpt = None,
    currency: CurrencyOpt = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Sample size and duration to detect a lift of --mde, from past data (with and without CUPED)."""
    from cxlab import experiments
    from cxlab.metrics import load_spec

    parsed_spec = load_spec(spec) if spec else None
    ds = load(data, engine, config, currency=currency)
    with err_console.status("estimating variances from past data"):
        frame = experiments.plan(
            ds, metrics=metric, mde=mde, arms=arms, alpha=alpha, power=power, window_days=window_days,
            pre_days=pre_days, as_of=as_of, units_per_day=units_per_day, relative=not absolute,
            spec=parsed_spec, reporting_currency=ds.reporting_currency,
        )
    table = Table(title=Text(f"Sample size for a {'lift of ' + format(mde, 'g') if absolute else format(mde, '.2%') + ' relative lift'}, {arms} arms, power {power:.0%}, alpha {alpha:g}"))
    for c in ("metric", "mean", "sd per unit", "n per arm", "CUPED var. red.", "n per arm (CUPED)", "n total", "population", "duration", "MDE with population"):
        table.add_column(Text(c), justify="left" if c == "metric" else "right")
    for r in frame.itertuples(index=False):
        duration = f"{r.duration_days:,.0f} days" if r.duration_days == r.duration_days and r.duration_days is not None else "population too small"
        table.add_row(*(Text(x) for x in (
            r.metric, _fmt(r.mean), _fmt(r.sd_per_unit), _fmt(r.n_per_arm, "int"), _fmt(r.variance_reduction, "share"),
            _fmt(r.n_per_arm_cuped, "int"), _fmt(r.n_total, "int"), _fmt(r.population, "int"), duration,
            _fmt(r.mde_with_population, "pct"),
        )))
    _console().print(table)
