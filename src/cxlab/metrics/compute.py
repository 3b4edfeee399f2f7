"""``compute_metrics``: the public entry point of the metric catalog."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab._frames import as_tables, to_native_like
from cxlab.engine import materialize
from cxlab.exceptions import InputDataError
from cxlab.metrics.catalog import METRICS, Metric, UnitColumn, required_columns
from cxlab.metrics.frames import (
    CUSTOMER,
    Context,
    distinct_counts,
    group_sums,
    make_context,
    source_units,
    unit_frame,
)
from cxlab.metrics.periods import MONTH_OR_COARSER, PERIOD, Grain, as_date, check_grain
from cxlab.metrics.spec import MetricSpec, check_specs, load_spec
from cxlab.metrics.stats import ratio_interval, total_interval, wilson_interval
from cxlab.schema import DEFAULT_REPORTING_CURRENCY, MARKETPLACES, TABLE_PURPOSE, Marketplace

logger = logging.getLogger(__name__)

#: Columns of the result, before and after the ``by`` columns.
HEAD = ("metric", "period_start")
TAIL = ("value", "ci_low", "ci_high", "n", "numerator", "denominator")

SpecInput = str | Path | Sequence[MetricSpec] | None


def _catalog(spec: SpecInput) -> dict[str, Metric]:
    catalog = dict(METRICS)
    if spec is None:
        return catalog
    specs = load_spec(spec) if isinstance(spec, (str, Path)) else list(spec)
    for s in specs:
        catalog[s.name] = s.to_metric()
    return catalog


def _unavailable(
    metric: Metric, columns: Mapping[str, tuple[str, ...]], by: tuple[str, ...], grain: str
) -> str | None:
    """Why ``metric`` cannot be computed on these tables, or ``None``."""
    if metric.month_or_coarser and grain not in MONTH_OR_COARSER:
        return f"it is defined at grains {', '.join(MONTH_OR_COARSER)} only"
    needed = required_columns(metric)
    if metric.distinct_column:
        needed.setdefault(metric.columns[0].source.table, set()).add(metric.distinct_column)
    for table, cols in needed.items():
        if table not in columns:
            return f"it needs table '{table}' ({TABLE_PURPOSE[table]}), which the dataset does not have"
        missing = sorted(set(cols) - set(columns[table]))
        if missing:
            return f"it needs column(s) {', '.join(missing)} of table '{table}'"
    for table in {u.source.table for u in metric.columns if u.name not in metric.optional}:
        for b in by:
            if b != "marketplace" and b not in columns["customers"] and b not in columns[table]:
                return f"it reads table '{table}', which has no column '{b}' to split by"
    return None


def _select(
    names: Sequence[str] | None,
    catalog: Mapping[str, Metric],
    columns: Mapping[str, tuple[str, ...]],
    by: tuple[str, ...],
    grain: str,
) -> list[Metric]:
    if names is not None:
        names = list(dict.fromkeys(names))
        unknown = [n for n in names if n not in catalog]
        if unknown:
            raise InputDataError(
                f"metric {', '.join(map(repr, unknown))} is not known; valid metrics: "
                f"{', '.join(catalog)}."
            )
    chosen: list[Metric] = []
    skipped: list[str] = []
    for name in names if names is not None else list(catalog):
        why = _unavailable(catalog[name], columns, by, grain)
        if why is None:
            chosen.append(catalog[name])
        elif names is not None:
            raise InputDataError(f"metric '{name}' cannot be computed: {why}.")
        else:
            skipped.append(f"{name} ({why})")
    if skipped:
        logger.info("metrics skipped: %s", "; ".join(skipped))
    if not chosen:
        raise InputDataError(
            "no metric can be computed with these tables and options: " + "; ".join(skipped)
        )
    return chosen


def _check_by(by: Sequence[str], columns: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    if isinstance(by, str):
        by = (by,)
    by = tuple(dict.fromkeys(by))
    valid = {"marketplace"} | {
        c for cols in columns.values() for c in cols if not c.endswith("_ts")
    }
    valid -= {CUSTOMER, "fx"}
    bad = [b for b in by if b not in valid or b.startswith("_")]
    if bad:
        raise InputDataError(
            f"by: {', '.join(map(repr, bad))} is not a column to split by; valid choices: "
            f"{', '.join(sorted(valid))} (marketplace, customer attributes, or a column "
            "of the metric's table)."
        )
    return by


def compute_metrics(
    tables: Mapping[str, Any],
    *,
    metrics: Sequence[str] | None = None,
    grain: Grain = "month",
    by: Sequence[str] = (),
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
    fx_currency: str | None = None,
    marketplaces: Mapping[str, Marketplace] = MARKETPLACES,
    spec: SpecInput = None,
    sampling_view: bool = False,
) -> Any:
    """Compute metrics by period and segment, with 95% confidence intervals.

    Parameters
    ----------
    tables
        Canonical tables on one engine, as any frames (pandas, Polars, PyArrow,
        DuckDB, Spark, Narwhals; see :mod:`cxlab._frames`); ``customers`` is
        required, the others as the chosen metrics need them.
    metrics
        Metric names (built-in or from ``spec``). ``None``: every metric the
        tables allow (built-ins and spec metrics); others are skipped.
    grain
        ``day``, ``week`` (ISO, Monday), ``month``, ``quarter``, ``year`` or
        ``all``. Periods are in each customer's marketplace local time.
    by
        Segment columns: ``marketplace``, customer attributes, or columns of
        the metric's table.
    since, until
        Inclusive local-date window (``date`` or ``YYYY-MM-DD``).
    reporting_currency
        Reporting currency of ``revenue`` and ``aov``.
    fx_currency
        Currency the ``fx`` rates are quoted in (units of it per 1 unit of each
        currency); defaults to ``reporting_currency``. Its own rate may be absent (1.0).
    marketplaces
        Marketplace code -> time zone and currency.
    spec
        User-defined metrics: a YAML path or parsed :class:`MetricSpec` list.
    sampling_view
        Give counts and sums (``orders``, ``revenue``, ...) an interval too,
        treating the period's customers as a draw from the process that makes
        them (:func:`~cxlab.metrics.stats.total_interval`). Off by default: a
        total of the whole population has no sampling error. Distinct counts
        never get one.

    Returns
    -------
    dataframe
        In the kind of the ``customers`` table (pandas for pandas, Narwhals,
        DuckDB and Spark tables; Polars for Polars; PyArrow for PyArrow).
        Tidy: ``metric, period_start, <by...>, value, ci_low, ci_high, n,
        numerator, denominator``. ``period_start`` is an ISO date string (None
        for ``grain="all"``); ``n`` is the number of customers behind the value;
        intervals are NaN for totals. One row per metric, period and segment
        with at least one unit.

    Raises
    ------
    InputDataError
        Unknown metric, grain or ``by`` column (the message lists the valid
        choices), a bad spec, an unknown marketplace, or a currency without rate.
    """
    given = tables
    tables = as_tables(tables, who="compute_metrics")
    grain = check_grain(grain)
    catalog = _catalog(spec)
    if "customers" not in tables:
        raise InputDataError(
            "compute_metrics: table 'customers' is required (it gives each customer's marketplace, "
            "time zone and segments); add it to tables."
        )
    columns = {t: tuple(lf.collect_schema().names()) for t, lf in tables.items()}
    by = _check_by(by, columns)
    chosen = _select(metrics, catalog, columns, by, grain)
    if spec is not None:
        specs = load_spec(spec) if isinstance(spec, (str, Path)) else list(spec)
        check_specs([s for s in specs if s.name in {m.name for m in chosen}], tables)
    ctx = make_context(
        tables, columns, by=by, grain=grain,
        since=as_date(since, "since"), until=as_date(until, "until"),
        currency=reporting_currency, fx_currency=fx_currency or reporting_currency,
        marketplaces=marketplaces,
        keep=[u.source.timestamp for m in chosen for u in m.columns if u.source.table == "customers"],
    )
    frames = []
    regular = [m for m in chosen if m.kind != "distinct_count"]
    if regular:
        frames.append(_regular(ctx, regular, sampling_view))
    for m in chosen:
        if m.kind == "distinct_count":
            frames.append(_distinct(ctx, m))
    out = pd.concat(frames, ignore_index=True)
    order = {m.name: i for i, m in enumerate(chosen)}
    out = out.sort_values(
        ["metric", "period_start", *by],
        key=lambda s: s.map(order) if s.name == "metric" else s,
        na_position="first",
    )
    result = out[[*HEAD, *by, *TAIL]].reset_index(drop=True)
    return to_native_like(result, given.get("customers") if isinstance(given, Mapping) else None)


def _regular(ctx: Context, chosen: list[Metric], sampling_view: bool = False) -> pd.DataFrame:
    """Metrics summed over units; each set of metrics reading the same sources
    is summed over the units of only those sources (one union of every source
    would make every unit carry every column through one large aggregation).
    """
    units = {u.name: u for m in chosen for u in m.columns}
    present = {n: u for n, u in units.items() if u.source.table in ctx.tables}
    by_source: dict[str, list[UnitColumn]] = {}
    for u in present.values():
        by_source.setdefault(u.source.key, []).append(u)
    groups: dict[tuple[str, ...], list[Metric]] = {}
    for m in chosen:
        key = tuple(sorted({u.source.key for u in m.columns if u.name in present}))
        groups.setdefault(key, []).append(m)
    uses = Counter(k for key in groups for k in key)
    frames = {}
    for k, own in by_source.items():
        lf = source_units(ctx, own)
        frames[k] = materialize(lf) if uses[k] > 1 else lf  # read by several groups
    out = []
    for key, metrics in groups.items():
        names = list(dict.fromkeys(u.name for m in metrics for u in m.columns))
        parts = [(frames[k], [u.name for u in by_source[k]]) for k in key]
        uf = unit_frame(ctx, parts, names)
        exprs = {m.name: (m.y(), m.x() if m.x is not None else None) for m in metrics}
        sums = _collect(group_sums(ctx, uf, exprs), ctx)
        out += [_finish(m, sums, ctx, sampling_view) for m in metrics]
    return pd.concat(out, ignore_index=True)


def _collect(lf: nw.LazyFrame, ctx: Context) -> pd.DataFrame:
    df = lf.collect().to_pandas()
    if ctx.grain == "all":
        df[PERIOD] = None
    else:
        period = pd.to_datetime(df[PERIOD])
        if period.dt.tz is not None:
            period = period.dt.tz_localize(None)
        df[PERIOD] = period.dt.strftime("%Y-%m-%d")
    return df


def _finish(metric: Metric, sums: pd.DataFrame, ctx: Context, sampling_view: bool = False) -> pd.DataFrame:
    m = metric.name
    n = sums[f"{m}|n"].to_numpy(dtype=float)
    sy = sums[f"{m}|sy"].to_numpy(dtype=float)
    nan = np.full_like(sy, np.nan)
    if metric.kind == "total" and sampling_view:
        value, low, high = total_interval(sy, sums[f"{m}|syy"].to_numpy(dtype=float), n)
        low = np.maximum(low, 0.0)
        num, den = sy, nan
    elif metric.kind == "total":
        value, low, high, num, den = sy, nan, nan, sy, nan
    else:
        sx = sums[f"{m}|sx"].to_numpy(dtype=float)
        num, den = sy, sx
        if metric.kind == "customer_share":
            value, low, high = wilson_interval(sy, sx)
        else:
            value, low, high = ratio_interval(
                sy, sx, sums[f"{m}|syy"], sums[f"{m}|sxx"], sums[f"{m}|sxy"], n
            )
        if metric.kind == "proportion":
            low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        elif metric.kind == "nps":
            low, high = np.clip(low, -1.0, 1.0), np.clip(high, -1.0, 1.0)
    s = metric.scale
    out = pd.DataFrame(
        {
            "metric": m,
            "period_start": sums[PERIOD].to_numpy(),
            **{b: sums[b].to_numpy() for b in ctx.by},
            "value": value * s,
            "ci_low": low * s,
            "ci_high": high * s,
            "n": n.astype(np.int64),
            "numerator": num,
            "denominator": den,
        }
    )
    return out[n > 0]


def _distinct(ctx: Context, metric: Metric) -> pd.DataFrame:
    assert metric.distinct_column is not None and metric.row_filter is not None
    unit = metric.columns[0]
    lf = distinct_counts(
        ctx, unit.source, metric.distinct_column, metric.row_filter(), unit.columns
    )
    df = _collect(lf, ctx)
    value = df["value"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "metric": metric.name,
            "period_start": df[PERIOD].to_numpy(),
            **{b: df[b].to_numpy() for b in ctx.by},
            "value": value,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": value.astype(np.int64),
            "numerator": value,
            "denominator": np.nan,
        }
    )
    return out[value > 0]
