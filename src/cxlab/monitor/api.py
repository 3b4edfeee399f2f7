"""``monitor``: control charts on metric series, alarms and change points."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab.exceptions import InputDataError
from cxlab.metrics import METRICS, compute_metrics
from cxlab.monitor.arl import METHODS, Limits, arl0_for_rate, limits_for
from cxlab.monitor.baseline import Baseline, fit_baseline, long_run_factor, pool_sparse
from cxlab.monitor.charts import WE_RULES, change_start, run_chart
from cxlab.monitor._pelt import pelt
from cxlab.monitor.series import POINTS_PER_YEAR, SeriesSet, series_from_metrics
from cxlab.schema import DEFAULT_REPORTING_CURRENCY, MARKETPLACES, Marketplace

logger = logging.getLogger(__name__)

#: Fewest valid training points a series needs: four weeks of days (day of
#: week and trend take 8 coefficients) or eight weeks.
MIN_TRAIN = {"day": 28, "week": 8}
#: A count of zero where the baseline expects at least this many is a closed
#: day (P(0) < 0.1% under Poisson): it is left out of the fit and the chart.
CLOSED_EXPECTED = 7.0
#: A count of zero where the baseline expects less than this is the weekday's
#: usual closure: fitted as a zero in its day-of-week pattern, not charted.
PATTERN_EXPECTED = 0.5

#: Default refit interval per grain (points): a baseline extrapolated months
#: ahead drifts away from a growing series (generated orders: 2.6x the
#: requested false-alarm rate with one fit, 1.2-1.4x refitted every 28 days;
#: see :func:`_fit_rolling` for what a refit keeps and leaves out).
REFIT_POINTS = {"day": 28, "week": 4}

ALARM_COLUMNS = (
    "metric", "segment", "alarm_date", "change_start", "direction", "size", "method",
    "rule", "value", "expected",
)
CHART_COLUMNS = (
    "metric", "segment", "method", "date", "phase", "value", "n", "expected", "sd", "z",
    "statistic", "stat_limit", "lower", "upper", "alarm", "closed",
)


class NoSeriesError(InputDataError):
    """No series could be charted (each too short, empty or constant); ``skipped`` says why per series."""

    def __init__(self, message: str, skipped: pd.DataFrame) -> None:
        super().__init__(message)
        self.skipped = skipped


@dataclass(frozen=True)
class MonitorResult:
    """What :func:`monitor_series` found.

    Attributes
    ----------
    alarms
        One row per alarm: ``metric, segment, alarm_date, change_start,
        direction`` (``up``/``down``), ``size`` (mean shift since
        ``change_start``, metric units), ``method``, ``rule`` (Shewhart's
        Western Electric rule), ``value``, ``expected``.
    charts
        One row per series, method and date: the value, baseline, point sd,
        standardized residual, chart statistic and its limit, the Shewhart
        band ``lower``/``upper`` in metric units, alarm flag, phase
        (``baseline`` or ``monitor``) and closed-day flag.
    skipped
        Series that could not be charted, with the reason.
    limits
        The limits of each method.
    changepoints
        With ``retrospective``: PELT change points of every charted series
        (``metric, segment, change_date, mean_before, mean_after, size``).
    arl0
        The in-control ARL per series the limits were solved for.
    """

    alarms: pd.DataFrame
    charts: pd.DataFrame
    skipped: pd.DataFrame
    limits: dict[str, Limits]
    changepoints: pd.DataFrame | None = None
    arl0: float = 370.0
    series: list[tuple[str, str]] = field(default_factory=list)


def _as_date(value: object, name: str) -> np.datetime64:
    try:
        return np.datetime64(pd.Timestamp(value).date(), "D")
    except (ValueError, TypeError) as err:
        raise InputDataError(f"{name}: expected a date YYYY-MM-DD; got {value!r}.") from err


def parse_baseline(text: str | None) -> tuple[np.datetime64, np.datetime64] | None:
    """``START:END`` (inclusive ISO dates) -> a pair of dates."""
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 2:
        raise InputDataError(
            f"baseline: expected START:END as two ISO dates, e.g. 2024-01-01:2024-12-31; got {text!r}."
        )
    start, end = (_as_date(p, "baseline") for p in parts)
    if end < start:
        raise InputDataError(f"baseline: END {end} is before START {start}.")
    return start, end


def _train_mask(series: SeriesSet, baseline: tuple[np.datetime64, np.datetime64] | None) -> np.ndarray:
    d = series.dates
    if baseline is None:
        cut = d[0] + (d[-1] - d[0]) // 2
        return d <= cut
    start, end = baseline
    mask = (d >= start) & (d <= end)
    if not mask.any():
        raise InputDataError(
            f"baseline: the period {start}..{end} holds no date of the series, which run from "
            f"{d[0]} to {d[-1]}; choose a training period inside the data."
        )
    return mask


def _screen(series: SeriesSet, train: np.ndarray, usable: np.ndarray) -> list[str | None]:
    """Why each series cannot be charted (or None)."""
    need = MIN_TRAIN[series.grain]
    reasons: list[str | None] = []
    for i, (metric, segment) in enumerate(series.keys):
        vals = np.where(usable[i], series.value[i], np.nan)
        tv = vals[train]
        ok = ~np.isnan(tv)
        if not series.has_row[i].any():
            reasons.append(f"metric '{metric}' has no data in segment '{segment}'")
        elif ok.sum() < need:
            reasons.append(
                f"the training period has {int(ok.sum())} {series.grain}s with data; the baseline needs "
                f"at least {need}. Give a longer --baseline or a coarser --grain"
            )
        elif np.nanmax(tv) - np.nanmin(tv) <= 1e-12 * max(1.0, abs(float(np.nanmax(tv)))):
            reasons.append(
                f"the series is constant ({float(np.nanmax(tv)):g}) in the training period, so it has "
                "no variation to set limits from"
            )
        elif not (~np.isnan(vals[~train])).any():
            reasons.append("no point after the training period to monitor")
        else:
            reasons.append(None)
    return reasons


_FLOAT_COLUMNS = ("value", "n", "expected", "sd", "z", "statistic", "stat_limit", "lower", "upper")


def _stack(parts: list[dict]) -> pd.DataFrame:
    """One chart frame from the columns of each method (numpy concatenation)."""
    if not parts or not len(parts[0]["date"]):
        return pd.DataFrame(columns=list(CHART_COLUMNS))
    floats = [c for c in CHART_COLUMNS if c in _FLOAT_COLUMNS]
    block = np.empty((len(floats), sum(p["date"].shape[0] for p in parts)))
    at = 0
    for p in parts:  # one float block, one contiguous row per column: no copy into pandas
        rows = p["date"].shape[0]
        for k, name in enumerate(floats):
            block[k, at : at + rows] = p[name]
        at += rows
    frame = pd.DataFrame(block.T, columns=floats, copy=False)
    out = {}
    for name in CHART_COLUMNS:
        if name in _FLOAT_COLUMNS:
            continue
        cols = [p[name] for p in parts]
        if isinstance(cols[0], pd.Categorical):
            out[name] = pd.Categorical.from_codes(np.concatenate([c.codes for c in cols]), categories=cols[0].categories)
        elif name == "method":
            out[name] = pd.Categorical.from_codes(np.concatenate(cols), categories=list(METHODS))
        else:
            out[name] = np.concatenate(cols)
    for position, name in enumerate(CHART_COLUMNS):
        if name in out:
            frame.insert(position, name, out[name])
    return frame


def _put(full: np.ndarray, part: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = full.copy()
    out[rows] = part
    return out


def _fit(series: SeriesSet, train: np.ndarray, leave_out: np.ndarray | None = None,
         trend_test: bool = True) -> tuple[np.ndarray, ...]:
    """Baselines per kind: expected, sd, z (NaN where not charted; sparse
    series pooled) and the closed mask. ``leave_out`` (series x time) marks
    training points the fit must not use; ``trend_test`` as in
    :func:`~cxlab.monitor.baseline.fit_baseline`."""
    S, T = series.value.shape
    values = series.value if leave_out is None else np.where(leave_out, np.nan, series.value)
    expected = np.full((S, T), np.nan)
    sd = np.full((S, T), np.nan)
    z = np.full((S, T), np.nan)
    closed = np.zeros((S, T), dtype=bool)
    kinds = np.array(series.kinds)
    for kind in dict.fromkeys(series.kinds):
        idx = np.flatnonzero(kinds == kind)
        y = values[idx].copy()
        args = {"kind": kind, "train": train, "weekday": series.weekday,
                "se": series.se[idx], "n": series.n[idx], "trend_test": trend_test or kind != "count"}
        if kind == "count":
            first = fit_baseline(y, **args)
            zero = ~series.has_row[idx]
            holiday = zero & (first.expected >= CLOSED_EXPECTED)
            pattern = zero & (first.expected < PATTERN_EXPECTED)
            fit = first
            redo = np.flatnonzero(holiday.any(axis=1))
            if redo.size:  # refit the series with closed days, without them
                again = fit_baseline(np.where(holiday, np.nan, y)[redo], **{
                    **args, "se": args["se"][redo], "n": args["n"][redo]})
                fit = Baseline(*(_put(a, b, redo) for a, b in zip(
                    (first.expected, first.sd, first.z, first.tau, first.coef),
                    (again.expected, again.sd, again.z, again.tau, again.coef))))
            hide = holiday | (zero & (fit.expected < PATTERN_EXPECTED)) | pattern
            closed[idx] = hide
            zz = np.where(hide, np.nan, fit.z)
        else:
            fit = fit_baseline(y, **args)
            zz = fit.z
        expected[idx], sd[idx], z[idx] = fit.expected, fit.sd, zz
    weight = np.where(kinds[:, None] == "proportion", series.n, 1.0)
    p = np.clip(expected, 0.0, 1.0)
    info = np.where(kinds[:, None] == "proportion", series.n * np.minimum(p, 1.0 - p),
                    np.where(kinds[:, None] == "count", expected, np.inf))
    boundary = int(np.flatnonzero(train).max()) + 1
    z = pool_sparse(z, sd, weight, info, boundary)
    factor = long_run_factor(z, train)
    z = z / np.sqrt(factor)[:, None]
    sd = sd * np.sqrt(factor)[:, None]
    return expected, sd, z, closed


def _fit_rolling(series: SeriesSet, train: np.ndarray, refit_days: int) -> tuple[np.ndarray, ...]:
    """:func:`_fit` on the training period; with ``refit_days`` > 0, refitted
    every ``refit_days`` monitored points on the trailing window as long as the
    training period, each fit charting only its own block of points.

    A refit leaves out the points of a possible shift that no chart has
    signalled yet: the open excursion of a reference two-sided CUSUM
    (:class:`ReferenceCusum`) run on the charted residuals. Without it a
    refit on the trailing window takes in the first weeks of an ongoing
    shift and bends the baseline toward it before the charts have seen it.
    """
    if not refit_days:
        return _fit(series, train)
    # Refitted counts keep their trend (see fit_baseline's trend_test): a growing
    # customer base. Rates keep the |t| test: with the trend always kept, a noise
    # trend doubled the late-delivery rate's false alarms (seeds 0-9, 16-39).
    out = _fit(series, train, trend_test=False)
    expected, sd, z, closed = (a.copy() for a in out)
    length = int(train.sum())
    T = train.size
    first = int(np.flatnonzero(train).max()) + 1
    watch = ReferenceCusum(z.shape[0])
    watch.run(z, first, min(first + refit_days, T))
    for b in range(first + refit_days, T, refit_days):
        window = np.zeros(T, dtype=bool)
        window[max(0, b - length) : b] = True
        pending = np.arange(T)[None, :] >= watch.open_since()[:, None]
        part = _fit(series, window, pending & window[None, :], trend_test=False)
        cols = slice(b, min(b + refit_days, T))
        for full, new in zip((expected, sd, z, closed), part):
            full[:, cols] = new[:, cols]
        watch.run(z, b, min(b + refit_days, T))
    return expected, sd, z, closed


class ReferenceCusum:
    """Two-sided CUSUM (k = 0.5, h for ARL0 370, restart after a signal) that
    tells a refit which recent points belong to a shift not yet signalled.

    Phase-I practice re-estimates a baseline only from points judged in
    control (trial limits revised without the out-of-control points:
    Montgomery, *Introduction to Statistical Quality Control*; Jones-Farmer
    et al. 2014, J. Quality Technology). The points of an open excursion of
    the CUSUM (since its last zero, Page's estimate of the start of a shift,
    or its last restart) are the evidence of a possible shift still being
    weighed; a refit leaves them out, as surveillance baselines keep the
    latest days out (EARS C2/C3, a 2-day lag, Hutwagner et al. 2003; Farrington
    et al. 1996, past years' weeks only). Once the excursion
    closes (back to zero: no shift) or the CUSUM signals and restarts (the
    shift has been reported), the points count again. k = 0.5 and ARL0 370
    (the 3-sigma convention) are the textbook design for a one-sd shift;
    the exclusion does not depend on the charts or the ARL0 the user asked for.
    """

    def __init__(self, n_series: int) -> None:
        design = limits_for("cusum", 370.0)
        self.h, self.k = design.limit, design.param
        self.up = np.zeros(n_series)
        self.down = np.zeros(n_series)
        self.up_from = np.zeros(n_series, dtype=np.int64)  # first point of the open excursion
        self.down_from = np.zeros(n_series, dtype=np.int64)

    def run(self, z: np.ndarray, start: int, stop: int) -> None:
        """Advance over the columns ``start:stop`` of ``z`` (NaN: no point)."""
        for t in range(start, stop):
            x = z[:, t]
            valid = ~np.isnan(x)
            xv = np.where(valid, x, 0.0)
            up = np.where(valid, np.maximum(0.0, self.up + xv - self.k), self.up)
            down = np.where(valid, np.maximum(0.0, self.down - xv - self.k), self.down)
            signal = valid & ((up > self.h) | (down > self.h))
            # an excursion opens at the first point that lifts the CUSUM off zero
            self.up_from = np.where(valid & (self.up == 0.0), t, self.up_from)
            self.down_from = np.where(valid & (self.down == 0.0), t, self.down_from)
            self.up = np.where(signal, 0.0, up)
            self.down = np.where(signal, 0.0, down)

    def open_since(self) -> np.ndarray:
        """Per series, the first point of its open excursion (a large number when none)."""
        big = np.iinfo(np.int64).max
        return np.minimum(np.where(self.up > 0.0, self.up_from, big), np.where(self.down > 0.0, self.down_from, big))


def monitor_series(
    series: SeriesSet,
    *,
    methods: Sequence[str] = ("ewma",),
    baseline: str | tuple[np.datetime64, np.datetime64] | None = None,
    arl0: float | None = None,
    false_alarms_per_year: float | None = None,
    retrospective: bool = False,
    penalty: float | None = None,
    refit_days: int | None = None,
) -> MonitorResult:
    """Chart every series of ``series`` and collect the alarms.

    Parameters
    ----------
    series
        From :func:`~cxlab.monitor.series.series_from_metrics`.
    methods
        Any of ``ewma`` (lambda 0.2), ``cusum`` (k 0.5) and ``shewhart`` (with
        Western Electric rules).
    baseline
        Training period ``START:END`` (inclusive); default the first half of
        the history. Points after it are monitored.
    arl0
        In-control average run length per series and method, in points
        (default 370).
    false_alarms_per_year
        Instead of ``arl0``: the expected false alarms per year over all
        charted series and methods together; the ARL0 per chart follows
        (:func:`~cxlab.monitor.arl.arl0_for_rate`).
    retrospective
        Also find change points over the whole history with PELT.
    penalty
        PELT penalty per change point (default ``2 log n``).
    refit_days
        Refit the baseline every this many monitored points on the trailing
        window as long as the training period (a growing business drifts away
        from a straight line extrapolated far ahead). Refitted counts keep
        their trend, and a refit leaves out the points of a shift no chart has
        signalled yet (:class:`ReferenceCusum`). Default
        :data:`REFIT_POINTS` of the grain (28 days, 4 weeks); 0 fits once.
    """
    methods = list(dict.fromkeys(methods))
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise InputDataError(f"method: expected one or more of {', '.join(METHODS)}; got {', '.join(bad) or 'none'}.")
    if arl0 is not None and false_alarms_per_year is not None:
        raise InputDataError("give either arl0 or false_alarms_per_year, not both.")
    span = parse_baseline(baseline) if isinstance(baseline, str) else baseline
    train = _train_mask(series, span)
    if refit_days is None:
        refit_days = REFIT_POINTS[series.grain]
    if isinstance(refit_days, bool) or not (isinstance(refit_days, int) and 0 <= refit_days <= 3660):
        raise InputDataError(
            f"refit_days: expected a whole number of points from 0 (fit once) to 3,660; got {refit_days!r}."
        )
    with warnings.catch_warnings():  # series with no data give all-NaN slices; screened below
        warnings.simplefilter("ignore", RuntimeWarning)
        expected, sd, z, closed = _fit_rolling(series, train, refit_days)
        reasons = _screen(series, train, ~closed)
    skipped = pd.DataFrame(
        [{"metric": m, "segment": s, "reason": r} for (m, s), r in zip(series.keys, reasons) if r],
        columns=["metric", "segment", "reason"],
    )
    live = np.array([r is None for r in reasons])
    live &= np.nan_to_num(sd, nan=0.0).max(axis=1) > 0
    charted = [k for k, ok in zip(series.keys, live) if ok]
    if arl0 is None and false_alarms_per_year is not None:
        arl0 = arl0_for_rate(
            false_alarms_per_year, max(len(charted), 1) * len(methods), POINTS_PER_YEAR[series.grain]
        )
    arl0 = 370.0 if arl0 is None else arl0
    limits = {m: limits_for(m, arl0) for m in methods}  # type: ignore[arg-type]
    first = int(np.flatnonzero(train).max()) + 1
    alarms: list[dict] = []
    charts: list[pd.DataFrame] = []
    rows = np.flatnonzero(live)
    zl = z[rows]
    for method, lim in limits.items():
        run = run_chart(lim, zl, first)
        for j, t in zip(*np.nonzero(run.alarm)):
            alarms.append(_alarm(series, rows[j], j, t, run, zl, expected, sd, closed, method))
        charts.append(_chart_frame(series, rows, run, lim, expected, sd, z, closed, method, train))
    alarm_df = pd.DataFrame(alarms, columns=list(ALARM_COLUMNS))
    chart_df = _stack(charts)
    cps = _changepoints(series, rows, z, expected) if retrospective else None
    if not charted:
        logger.warning("no series could be charted")
    return MonitorResult(alarm_df, chart_df, skipped, limits, cps, float(arl0), charted)


def _alarm(series: SeriesSet, i: int, j: int, t: int, run, zl, expected, sd, closed,  # noqa: ANN001
           method: str) -> dict:
    direction = int(run.direction[j, t])
    alarms_before = np.flatnonzero(run.alarm[j, :t])
    # The change began after the previous alarm (the chart restarted in
    # control there), or anywhere in the data before the first one. Daily
    # residuals, each with its own variance, date it to the day even where
    # sparse points were pooled for the chart.
    begin = int(alarms_before[-1]) + 1 if alarms_before.size else 0
    resid = np.where(closed[i], np.nan, series.value[i] - expected[i])
    with np.errstate(divide="ignore"):
        weight = np.where(sd[i] > 0, 1.0 / sd[i] ** 2, 0.0)
    start = change_start(resid, weight, t, begin, direction)
    ok = ~np.isnan(resid[start : t + 1])
    size = float(np.mean(resid[start : t + 1][ok])) if ok.any() else float("nan")
    metric, segment = series.keys[i]
    return {
        "metric": metric,
        "segment": segment,
        "alarm_date": series.dates[t].astype("datetime64[D]").astype(object),
        "change_start": series.dates[start].astype("datetime64[D]").astype(object),
        "direction": "up" if direction > 0 else "down",
        "size": size,
        "method": method,
        "rule": WE_RULES[int(run.rule[j, t])] if method == "shewhart" else "",
        "value": float(series.value[i, t]),
        "expected": float(expected[i, t]),
    }


def _chart_frame(series, rows, run, lim, expected, sd, z, closed, method, train) -> dict:  # noqa: ANN001
    """Columns of one method's charts: every charted series x date."""
    from cxlab.monitor.charts import make_chart

    S, T = len(rows), series.dates.size
    band = lim.limit if method == "shewhart" else 3.0
    kinds = np.array(series.kinds)[rows]
    value = series.value[rows]
    shown = series.has_row[rows] | np.isin(kinds, ["count", "level"])[:, None]
    e, s = expected[rows], sd[rows]
    def codes(labels: list[str]) -> pd.Categorical:
        cats = list(dict.fromkeys(labels))
        pos = {c: k for k, c in enumerate(cats)}
        return pd.Categorical.from_codes(np.repeat([pos[v] for v in labels], T), categories=cats)

    return {
        "metric": codes([series.keys[i][0] for i in rows]),
        "segment": codes([series.keys[i][1] for i in rows]),
        "method": np.full(S * T, METHODS.index(method), dtype=np.int8),
        "date": np.tile(series.dates.astype("datetime64[ns]"), S),
        "phase": pd.Categorical.from_codes(np.tile(np.where(train, 0, 1), S).astype(np.int8),
                                           categories=["baseline", "monitor"]),
        "value": np.where(shown, value, np.nan).ravel(),
        "n": series.n[rows].ravel(),
        "expected": e.ravel(),
        "sd": s.ravel(),
        "z": z[rows].ravel(),
        "statistic": run.stat.ravel(),
        "stat_limit": make_chart(lim).bound,
        "lower": (e - band * s).ravel(),
        "upper": (e + band * s).ravel(),
        "alarm": run.alarm.ravel(),
        "closed": closed[rows].ravel(),
    }


def _changepoints(series: SeriesSet, rows: np.ndarray, z: np.ndarray, expected: np.ndarray) -> pd.DataFrame:
    out = []
    min_size = 7 if series.grain == "day" else 2
    for i in rows:
        metric, segment = series.keys[i]
        cps = pelt(z[i], min_size=min_size)
        bounds = [0, *cps, z.shape[1]]
        resid = series.value[i] - expected[i]
        ok = ~np.isnan(z[i])
        for a, b, c in zip(bounds[:-2], bounds[1:-1], bounds[2:]):
            before = series.value[i, a:b][ok[a:b]]
            after = series.value[i, b:c][ok[b:c]]
            out.append({
                "metric": metric,
                "segment": segment,
                "change_date": series.dates[b].astype("datetime64[D]").astype(object),
                "mean_before": float(before.mean()) if before.size else float("nan"),
                "mean_after": float(after.mean()) if after.size else float("nan"),
                "size": float(np.nanmean(resid[b:c][ok[b:c]]) - np.nanmean(resid[a:b][ok[a:b]])),
            })
    return pd.DataFrame(out, columns=["metric", "segment", "change_date", "mean_before", "mean_after", "size"])


def monitor(
    tables: Mapping[str, nw.LazyFrame],
    *,
    metrics: Sequence[str],
    grain: str = "day",
    by: Sequence[str] = (),
    methods: Sequence[str] = ("ewma",),
    baseline: str | None = None,
    arl0: float | None = None,
    false_alarms_per_year: float | None = None,
    retrospective: bool = False,
    refit_days: int | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
    fx_currency: str | None = None,
    marketplaces: Mapping[str, Marketplace] = MARKETPLACES,
) -> MonitorResult:
    """Compute ``metrics`` per ``grain`` and segment with the metric catalog,
    then chart every series (:func:`monitor_series`).

    Raises
    ------
    InputDataError
        Unknown metric, grain or segment column; a bad baseline; no series that
        can be charted (the message gives each series' reason).
    """
    if not metrics:
        raise InputDataError("monitor: give at least one metric, e.g. --metric csat.")
    if grain not in POINTS_PER_YEAR:
        raise InputDataError(f"grain: monitoring works at grain day or week; got {grain!r}.")
    frame = compute_metrics(
        tables, metrics=metrics, grain=grain, by=by, since=since, until=until,  # type: ignore[arg-type]
        reporting_currency=reporting_currency, fx_currency=fx_currency, marketplaces=marketplaces,
    )
    series = series_from_metrics(frame, by=tuple(by), grain=grain, catalog=METRICS, metrics=list(dict.fromkeys(metrics)))
    result = monitor_series(
        series, methods=methods, baseline=baseline, arl0=arl0,
        false_alarms_per_year=false_alarms_per_year, retrospective=retrospective, refit_days=refit_days,
    )
    if not result.series:
        detail = "; ".join(f"{r.metric} / {r.segment}: {r.reason.rstrip('.')}" for r in result.skipped.head(5).itertuples())
        raise NoSeriesError(f"monitor: no series can be charted. {detail}.", result.skipped)
    return result
