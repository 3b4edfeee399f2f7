"""Benchmark: control charts on 1,000 series x 730 days, and their calibration.

Both contenders do the same computation on the same simulated series (half
daily proportions from a few hundred answers, half daily counts with a
weekday pattern and a trend; a training year, then a monitored year), and
their alarms are compared one by one:

- ``cxlab``: :func:`cxlab.monitor.monitor_series` with EWMA, CUSUM and
  Shewhart (Western Electric rules) at ARL0 370 (series x time arrays, every
  series at once), plus the calibration: the limits solved from ARL0
  (:func:`cxlab.monitor.limits_for`) and checked by simulating 2,000
  in-control run lengths per chart (:func:`cxlab.monitor.simulate_run_lengths`).
- ``pandas-statsmodels``: the same steps written series by series the way a
  pandas + statsmodels user writes them: per series and training window, the
  robust baseline (level, trend, day of week) by iteratively reweighted
  ``statsmodels`` WLS with Huber weights and the point variances, the trend
  kept when its fixed-scale t statistic exceeds 3, the between-day spread by
  bisection on the pandas median, closed days, pooling of sparse points and
  the long-run variance factor from ``rolling`` block means; the three charts
  point by point, the change start of every alarm by the same two-segment
  likelihood (cumulative sums), its size. The calibration: the limits from
  the same ARL equations (the integral equations and the Markov chain of
  :mod:`cxlab.monitor.arl`: pandas and statsmodels have none) solved with
  ``scipy.optimize.brentq``, then 2,000 in-control run lengths per chart
  simulated run by run with the same chart functions.

Same training window (the first year), same refits (``--refit-days``, default
0: one fit per series), same chart parameters. The parent checks that both
raise the same alarms (metric, segment, method, date, direction) with the same
estimated starts, and prints the agreement.

Each contender runs in a fresh process ``--runs`` times (``bench/_harness.py``):
end to end is the whole process (start-up, reading the series from a ``.npz``
file, computing, writing the alarms); compute is the charts plus the
calibration.

Usage: ``python bench/bench_monitor.py [--series N] [--days D] [--runs 3]
[--refit-days 0]``; ``CXLAB_BENCH_QUICK=1`` uses 100 series. Writes
``bench/results/monitor.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import _harness  # noqa: E402

ARL0 = 370.0
RUNS = 2000
METHODS = ("ewma", "cusum", "shewhart")
ALARM_KEY = ["metric", "segment", "method", "alarm_date", "direction"]


def make_series(n_series: int, days: int, seed: int = 0):
    from cxlab.monitor.series import SeriesSet

    rng = np.random.default_rng(seed)
    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + days).astype("datetime64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7
    t = np.arange(days) / 365.0
    half = n_series // 2
    p = np.broadcast_to(rng.uniform(0.6, 0.9, half)[:, None], (half, days))
    n = rng.poisson(rng.uniform(150, 400, half)[:, None], (half, days)).astype(float)
    value_p = rng.binomial(n.astype(int), np.clip(p, 0, 1)) / np.maximum(n, 1)
    k = n_series - half
    base = rng.uniform(20, 200, k)[:, None]
    level = base * (1 + 0.2 * t[None, :]) - 0.3 * base * (weekday[None, :] >= 5)
    value_c = rng.poisson(level + rng.normal(0, 0.1, (k, days)) * base).astype(float)
    value = np.vstack([value_p, value_c])
    nn = np.vstack([n, value_c])
    keys = [("csat", f"s{i:04d}") for i in range(half)] + [("orders", f"s{i:04d}") for i in range(half, n_series)]
    kinds = ["proportion"] * half + ["count"] * k
    return SeriesSet(keys, kinds, dates, value, nn, np.full(value.shape, np.nan), np.ones(value.shape, bool), "day")


def _save(series, path: Path) -> None:
    np.savez(path, keys=np.array(series.keys), kinds=np.array(series.kinds), dates=series.dates,
             value=series.value, n=series.n, se=series.se, has_row=series.has_row)


# -- cxlab ---------------------------------------------------------------------------


def run_cxlab(path: Path, baseline: str, refit_days: int):
    import pandas as pd

    from cxlab.monitor import SeriesSet, limits_for, monitor_series, simulate_run_lengths
    from cxlab.monitor.arl import _limits

    a = np.load(path)
    series = SeriesSet([tuple(k) for k in a["keys"].tolist()], a["kinds"].tolist(), a["dates"], a["value"],
                       a["n"], a["se"], a["has_row"], "day")
    _limits.cache_clear()
    t0 = time.perf_counter()
    limits = {m: limits_for(m, ARL0) for m in METHODS}
    solve = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = monitor_series(series, methods=METHODS, baseline=baseline, arl0=ARL0, refit_days=refit_days)
    charts = time.perf_counter() - t1
    t2 = time.perf_counter()
    check = {m: float(simulate_run_lengths(limits[m], runs=RUNS, random_state=1).mean()) for m in METHODS}
    calibration = solve + time.perf_counter() - t2
    alarms = result.alarms[[*ALARM_KEY, "change_start", "size"]].copy()
    alarms["alarm_date"] = pd.to_datetime(alarms["alarm_date"])
    alarms["change_start"] = pd.to_datetime(alarms["change_start"])
    return alarms, charts, calibration, check, {m: lim.limit for m, lim in limits.items()}


# -- the pandas + statsmodels loop ----------------------------------------------------

HUBER_C, TREND_T, MAD_NORMAL = 1.345, 3.0, 0.6744897501960817
CLOSED_EXPECTED, PATTERN_EXPECTED, MIN_INFO, BLOCKS = 7.0, 0.5, 5.0, (14, 28)


def _point_var(kind: str, fit, n):
    """Sampling variance of each point: Poisson for a count, p(1-p)/n for a proportion."""
    if kind == "count":
        return fit.clip(lower=0.0)
    p = fit.clip(0.0, 1.0)
    return (p * (1.0 - p) / n.where(n > 0)).astype(float)


def _between_day_sd(resid, var) -> float:
    """tau with median |r| / sqrt(var + tau^2) = 0.6745 (bisection on the median)."""
    r = resid.abs()

    def med(tau: float) -> float:
        return float((r / np.sqrt(var + tau**2 + 1e-300)).median())

    if not med(0.0) > MAD_NORMAL:
        return 0.0
    lo, hi = 0.0, float(r.max()) * 4.0 + 1e-12
    hi = hi if math.isfinite(hi) else 1.0
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if med(mid) > MAD_NORMAL else (lo, mid)
    return 0.5 * (lo + hi)


def _robust_baseline(y, n, kind: str, X, ok, trend_test: bool = True):
    """IRLS with Huber weights over statsmodels WLS: expected value and point sd."""
    import statsmodels.api as sm

    yk, Xk = y[ok], X[ok]
    coef = sm.WLS(yk, Xk).fit().params
    tau = 0.0
    for it in range(6):
        fit = X @ coef
        var = _point_var(kind, fit, n)
        resid = y - fit
        if it == 0:
            tau = _between_day_sd(resid[ok], var[ok])
        sd = np.sqrt(var + tau**2)
        u = resid.abs() / sd.where(sd > 0, np.inf)
        w = (HUBER_C / u.clip(lower=1e-12)).clip(upper=1.0) / (sd**2).clip(lower=1e-12)
        res = sm.WLS(yk, Xk, weights=w[ok]).fit(cov_type="fixed scale")
        coef = res.params
    if trend_test and abs(res.tvalues["trend"]) <= TREND_T:  # no trend the data show: drop it
        coef = sm.WLS(yk, Xk.drop(columns="trend"), weights=w[ok]).fit().params.reindex(X.columns, fill_value=0.0)
    expected = (X @ coef).clip(lower=0.0)
    if kind == "proportion":
        expected = expected.clip(upper=1.0)
    var = _point_var(kind, expected, n)
    sd = np.sqrt(var + _between_day_sd((y - expected)[ok], var[ok]) ** 2)
    return expected, sd


def _pool(z, sd, weight, info, boundary: int):
    """Pool consecutive sparse points until they carry MIN_INFO (never across the boundary)."""
    if not info[z.notna()].median() < MIN_INFO:
        return z
    out = z.copy()
    acc_r = acc_v = acc_i = 0.0
    open_ = False
    for t in range(len(z)):
        if t == boundary and open_:
            acc_r = acc_v = acc_i = 0.0
            open_ = False
        if np.isnan(z.iat[t]):
            continue
        open_ = True
        acc_r += weight.iat[t] * sd.iat[t] * z.iat[t]
        acc_v += (weight.iat[t] * sd.iat[t]) ** 2
        acc_i += info.iat[t]
        out.iat[t] = np.nan
        if acc_i >= MIN_INFO:
            out.iat[t] = acc_r / np.sqrt(acc_v) if acc_v > 0 else np.nan
            acc_r = acc_v = acc_i = 0.0
            open_ = False
    return out


def _long_run_factor(z_train) -> float:
    """max(1, b var(overlapping block means)) over the block lengths."""
    v = z_train.dropna()
    n, factor = len(v), 1.0
    for b in BLOCKS:
        if n >= 4 * b:
            means = (v - v.mean()).rolling(b).mean().dropna()
            factor = max(factor, b * float((means**2).sum()) / (n - b + 1) * n / (n - b))
    return factor


def _fit_window(y, n, has_row, kind: str, X, window, leave_out=None, trend_test: bool = True):
    """One series, one training window (less the points of ``leave_out``):
    expected, sd, z, closed (as pandas Series)."""
    if leave_out is not None:
        y = y.mask(leave_out)
    ok = y.notna() & window
    expected, sd = _robust_baseline(y, n, kind, X, ok, trend_test)
    closed = has_row & False
    if kind == "count":
        zero = ~has_row
        holiday = zero & (expected >= CLOSED_EXPECTED)
        pattern = zero & (expected < PATTERN_EXPECTED)
        if holiday.any():
            expected, sd = _robust_baseline(y.mask(holiday), n, kind, X, ok & ~holiday, trend_test)
        closed = holiday | (zero & (expected < PATTERN_EXPECTED)) | pattern
    z = ((y - expected) / sd).where(y.notna() & (sd > 0) & ~closed)
    if kind == "proportion":
        weight, p = n, expected.clip(0.0, 1.0)
        info = n * np.minimum(p, 1.0 - p)
    else:
        weight, info = n * 0.0 + 1.0, expected
    z = _pool(z, sd, weight, info, int(np.flatnonzero(window.to_numpy()).max()) + 1)
    factor = _long_run_factor(z[window])
    return expected, sd * math.sqrt(factor), z / math.sqrt(factor), closed


def _open_since(z, start: int, stop: int, state: list, h: float) -> int:
    """Advance the reference CUSUM (k 0.5, h for ARL0 370, restart after a
    signal) over z[start:stop]; the first point of its open excursion."""
    up, down, up_from, down_from = state
    for t in range(start, stop):
        x = z.iat[t]
        if x != x:
            continue
        up_from = t if up == 0.0 else up_from
        down_from = t if down == 0.0 else down_from
        up, down = max(0.0, up + x - 0.5), max(0.0, down - x - 0.5)
        if up > h or down > h:
            up = down = 0.0
    state[:] = [up, down, up_from, down_from]
    return min(up_from if up > 0 else len(z), down_from if down > 0 else len(z))


def _ewma(z, lam: float, bound: float, first_only: bool = False):
    s, out = 0.0, []
    for i, x in enumerate(z):
        if x != x:
            continue
        s = lam * x + (1 - lam) * s
        if abs(s) > bound:
            out.append((i, 1 if s > 0 else -1))
            if first_only:
                break
            s = 0.0
    return out


def _cusum(z, k: float, h: float, first_only: bool = False):
    up = down = 0.0
    out = []
    for i, x in enumerate(z):
        if x != x:
            continue
        up, down = max(0.0, up + x - k), max(0.0, down - x - k)
        if up > h or down > h:
            out.append((i, 1 if up >= down else -1))
            if first_only:
                break
            up = down = 0.0
    return out


def _western_electric(z, c: float, m: int, first_only: bool = False):
    hist: list[float] = []
    run, side_prev, out = 0, 0, []
    for i, x in enumerate(z):
        if x != x:
            continue
        side = 1 if x >= 0 else -1
        run = run + 1 if side == side_prev else 1
        side_prev = side
        hist = (hist + [x])[-5:]
        two = [sum(1 for v in hist[-3:] if s * v > 2 * c) >= 2 for s in (1, -1)]
        four = [sum(1 for v in hist if s * v > c) >= 4 for s in (1, -1)]
        if abs(x) > 3 * c or any(two) or any(four) or run >= m:
            direction = side if abs(x) > 3 * c else 1 if two[0] else -1 if two[1] else 1 if four[0] else \
                -1 if four[1] else side
            out.append((i, direction))
            if first_only:
                break
            hist, run, side_prev = [], 0, 0
    return out


def _change_start(resid, weight, end: int, begin: int, direction: int) -> int:
    """Two-segment maximum likelihood start of a mean change (weights 1/variance)."""
    r, w = resid.iloc[begin : end + 1], weight.iloc[begin : end + 1]
    keep = r.notna() & (w > 0)
    pos = np.flatnonzero(keep.to_numpy())
    if len(pos) < 2:
        return end if len(pos) == 0 else begin + int(pos[0])
    r, w = r[keep], w[keep]
    w_before, s_before = w.cumsum().iloc[:-1], (w * r).cumsum().iloc[:-1]
    w_after = w.sum() - w_before
    diff = ((w * r).sum() - s_before) / w_after - s_before / w_before
    score = (w_before * w_after / (w_before + w_after) * diff**2).where(direction * diff > 0, -1.0).to_numpy()
    j = int(np.argmax(score))
    return begin + int(pos[j + 1]) if score[j] >= 0 else end


def run_peer(path: Path, train_days: int, refit_days: int):
    import pandas as pd
    from scipy.optimize import brentq

    from cxlab.monitor.arl import cusum_arl, ewma_arl, run_rule_length, shewhart_arl

    a = np.load(path)
    dates = pd.DatetimeIndex(a["dates"].astype("datetime64[ns]"))
    t0 = time.perf_counter()
    # Calibration, part 1: limits from the ARL equations.
    m_run = run_rule_length(ARL0)
    lim = {
        "ewma": brentq(lambda v: math.log(ewma_arl(v, 0.2) / ARL0), 1.0, 5.0, xtol=1e-9),
        "cusum": brentq(lambda v: math.log(cusum_arl(v, 0.5) / ARL0), 0.05, 30.0, xtol=1e-9),
        "shewhart": 3.0 * brentq(lambda v: math.log(shewhart_arl(v, 0.0, m_run) / ARL0), 0.5, 2.2, xtol=1e-9),
    }
    # the reference CUSUM of the refits (ARL0 370, whatever the charts' ARL0)
    h_reference = brentq(lambda v: math.log(cusum_arl(v, 0.5) / 370.0), 0.05, 30.0, xtol=1e-9)
    solve = time.perf_counter() - t0
    paths = {
        "ewma": lambda z, first=False: _ewma(z, 0.2, lim["ewma"] * math.sqrt(0.2 / 1.8), first),
        "cusum": lambda z, first=False: _cusum(z, 0.5, lim["cusum"], first),
        "shewhart": lambda z, first=False: _western_electric(z, lim["shewhart"] / 3.0, m_run, first),
    }
    t1 = time.perf_counter()
    t = pd.Series(np.arange(len(dates), dtype=float), index=dates)
    train = pd.Series(np.arange(len(dates)) < train_days, index=dates)
    centre, span = t[train].mean(), max(float(t[train].max() - t[train].min()), 1.0)
    X = pd.DataFrame({"const": 1.0, "trend": (t - centre) / span}, index=dates)
    for d in range(1, 7):
        X[f"dow{d}"] = (dates.dayofweek == d).astype(float)
    first = train_days
    blocks = [(train, first, len(dates))]
    if refit_days:
        blocks = [(train, first, first + refit_days)]
        for b in range(first + refit_days, len(dates), refit_days):
            window = pd.Series((np.arange(len(dates)) >= max(0, b - train_days)) & (np.arange(len(dates)) < b),
                               index=dates)
            blocks.append((window, b, min(b + refit_days, len(dates))))
    rows = []
    for i, ((metric, segment), kind) in enumerate(zip(a["keys"].tolist(), a["kinds"].tolist())):
        y = pd.Series(a["value"][i], index=dates)
        n = pd.Series(a["n"][i], index=dates)
        has_row = pd.Series(a["has_row"][i], index=dates)
        if refit_days:  # refits keep the trend and leave out the reference CUSUM's open excursion
            parts, state = [], [0.0, 0.0, 0, 0]
            for window, b, e in blocks:
                since = _open_since(parts[-1][2], parts[-1][4], b, state, h_reference) if parts else len(dates)
                pending = window & (pd.Series(np.arange(len(dates)), index=dates) >= since)
                parts.append((*_fit_window(y, n, has_row, kind, X, window, pending, trend_test=kind != "count"), b))
            parts = [p[:4] for p in parts]
        else:
            parts = [_fit_window(y, n, has_row, kind, X, window) for window, _, _ in blocks]
        expected, sd, z, closed = (pd.concat([p[k].iloc[b:e] if j else p[k].iloc[:e]
                                              for j, (p, (_, b, e)) in enumerate(zip(parts, blocks))])
                                   for k in range(4))
        resid = (y - expected).where(~closed)
        weight = (1.0 / sd**2).where(sd > 0, 0.0)
        monitored = z.iloc[first:].to_numpy()
        for method in METHODS:
            previous = -1
            for at, direction in paths[method](monitored):
                end = first + at
                start = _change_start(resid, weight, end, previous + 1, direction)
                previous = end
                rows.append((metric, segment, method, dates[end], "up" if direction > 0 else "down",
                             dates[start], float(resid.iloc[start : end + 1].mean())))
    alarms = pd.DataFrame(rows, columns=[*ALARM_KEY, "change_start", "size"])
    charts = time.perf_counter() - t1
    # Calibration, part 2: 2,000 simulated in-control run lengths per chart, run by run.
    t2 = time.perf_counter()
    rng = np.random.default_rng(1)
    check = {}
    for method in METHODS:
        lengths = []
        for _ in range(RUNS):
            total = 0
            while True:  # draw in blocks until the first alarm
                hit = paths[method](rng.standard_normal(1000), True)
                if hit:
                    lengths.append(total + hit[0][0] + 1)
                    break
                total += 1000
        check[method] = float(np.mean(lengths))
    calibration = solve + time.perf_counter() - t2
    return alarms, charts, calibration, check, lim


# -- harness --------------------------------------------------------------------------


def child(contender: str, path: Path, out: Path, train_days: int, refit_days: int) -> None:
    cpu0 = time.process_time()
    if contender == "cxlab":
        dates = np.load(path)["dates"]
        baseline = f"{dates[0]}:{dates[train_days - 1]}"
        alarms, charts, calibration, check, limits = run_cxlab(path, baseline, refit_days)
    else:
        alarms, charts, calibration, check, limits = run_peer(path, train_days, refit_days)
    cpu = time.process_time() - cpu0
    alarms.to_csv(out, index=False)
    _harness.emit(charts + calibration, charts_s=charts, calibration_s=calibration, process_cpu_s=cpu,
                  alarms=alarms.groupby("method").size().to_dict(), simulated_arl0=check, limits=limits)


def agreement(cxlab_csv: Path, peer_csv: Path) -> dict[str, Any]:
    """Alarms raised by both, by one only, and equal change starts among the shared ones."""
    import pandas as pd

    a, b = pd.read_csv(cxlab_csv), pd.read_csv(peer_csv)
    both = a.merge(b, on=ALARM_KEY, how="outer", suffixes=("_cxlab", "_peer"), indicator=True)
    shared = both[both["_merge"] == "both"]
    per_series = both.groupby(["metric", "segment"])["_merge"].apply(lambda s: bool((s == "both").all()))
    return {
        "alarms_cxlab": len(a), "alarms_peer": len(b), "alarms_shared": len(shared),
        "alarms_cxlab_only": int((both["_merge"] == "left_only").sum()),
        "alarms_peer_only": int((both["_merge"] == "right_only").sum()),
        "same_change_start": int((shared["change_start_cxlab"] == shared["change_start_peer"]).sum()),
        "size_max_abs_diff": float((shared["size_cxlab"] - shared["size_peer"]).abs().max()) if len(shared) else 0.0,
        "series_with_alarms_all_equal": f"{int(per_series.sum())} of {len(per_series)}",
    }


def main(argv: list[str] | None = None) -> int:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=100 if quick else 1000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--refit-days", type=int, default=0)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    train_days = args.days // 2
    if args.child:
        child(args.child, args.input, args.out, train_days, args.refit_days)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.npz"
        _save(make_series(args.series, args.days), path)
        rows = []
        for name in ("cxlab", "pandas-statsmodels"):
            out = Path(tmp) / f"{name}.csv"
            cmd = [sys.executable, __file__, "--child", name, "--input", str(path), "--out", str(out),
                   "--days", str(args.days), "--refit-days", str(args.refit_days)]
            rows.append(_harness.run_contender(name, cmd, runs=args.runs))
        _harness.add_ratios(rows, "cxlab")
        agree = agreement(Path(tmp) / "cxlab.csv", Path(tmp) / "pandas-statsmodels.csv") \
            if all("error" not in r for r in rows) else {}
    payload = {"series": args.series, "days": args.days, "training_days": train_days, "refit_days": args.refit_days,
               "arl0": ARL0, "simulated_runs": RUNS, "rows": rows, "agreement": agree}
    out = _harness.write_results("monitor", payload)
    print(_harness.table(rows, extra=("charts_s", "calibration_s", "process_cpu_s")))
    print(json.dumps(agree, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
