"""Benchmark: control charts on 1,000 series x 730 days, and their calibration.

Contenders, on the same simulated series (half daily proportions from a few
hundred answers, half daily counts with a weekday pattern and a trend; a
training year, then a monitored year):

- ``cxlab``: :func:`cxlab.monitor.monitor_series` with EWMA, CUSUM and
  Shewhart (Western Electric rules) at ARL0 370, plus the calibration: the
  limits solved from ARL0 (integral equations, Markov chain) and checked by
  simulating 2,000 in-control run lengths per chart.
- ``pandas-statsmodels``: the plain loop an analyst writes: per series a
  statsmodels RLM (Huber) fit of level, trend and weekday on the training
  year, residuals standardized by the point's sampling error and the robust
  between-day spread, the three charts point by point in Python with the same
  limits, alarms collected in a list. The calibration: without ARL integral
  equations, the limit of each chart is searched by bisection on simulated
  ARLs (8 steps of 300 runs each, one run at a time), then checked with the
  same 2,000 run lengths as cxlab. The charts themselves use cxlab's limits,
  so that both find the same alarms.

Both produce alarms; the alarm counts are printed side by side (they differ
a little: cxlab adds pooling of sparse points and the long-run variance factor,
which these dense, independent series do not trigger much).

Usage: ``python bench/bench_monitor.py [--series N] [--days D]``;
``CXLAB_BENCH_QUICK=1`` uses 100 series. Writes ``bench/results/monitor.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path[:0] = [str(HERE.parent / "src")]

ARL0 = 370.0
RUNS = 2000


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


def run_cxlab(series, baseline: str) -> dict:
    from cxlab.monitor import limits_for, monitor_series, simulate_run_lengths
    from cxlab.monitor.arl import _limits

    _limits.cache_clear()
    start = time.perf_counter()
    for m in ("ewma", "cusum", "shewhart"):
        limits_for(m, ARL0)
    solve = time.perf_counter() - start
    start = time.perf_counter()
    # refit_days=0: one baseline fit per series, the work the plain loop does
    result = monitor_series(series, methods=["ewma", "cusum", "shewhart"], baseline=baseline, arl0=ARL0,
                            refit_days=0)
    charts = time.perf_counter() - start
    start = time.perf_counter() - solve
    check = {m: float(simulate_run_lengths(limits_for(m, ARL0), runs=RUNS, random_state=1).mean())
             for m in ("ewma", "cusum", "shewhart")}
    calibration = time.perf_counter() - start
    alarms = result.alarms.groupby("method").size().to_dict()
    return {"charts_s": charts, "calibration_s": calibration, "alarms": alarms, "simulated_arl0": check,
            "limits": {m: lim.limit for m, lim in result.limits.items()}}


# -- the plain pandas + statsmodels loop --------------------------------------------


def _ewma_path(z, lam, bound):
    s, out = 0.0, []
    for i, x in enumerate(z):
        if x != x:
            continue
        s = lam * x + (1 - lam) * s
        if abs(s) > bound:
            out.append(i)
            s = 0.0
    return out


def _cusum_path(z, k, h):
    up = down = 0.0
    out = []
    for i, x in enumerate(z):
        if x != x:
            continue
        up, down = max(0.0, up + x - k), max(0.0, down - x - k)
        if up > h or down > h:
            out.append(i)
            up = down = 0.0
    return out


def _we_path(z, c, m):
    hist: list[float] = []
    run, side_prev, out = 0, 0, []
    for i, x in enumerate(z):
        if x != x:
            continue
        side = 1 if x >= 0 else -1
        run = run + 1 if side == side_prev else 1
        side_prev = side
        hist = (hist + [x])[-5:]
        two = any(sum(1 for v in hist[-3:] if s * v > 2 * c) >= 2 for s in (1, -1))
        four = any(sum(1 for v in hist if s * v > c) >= 4 for s in (1, -1))
        if abs(x) > 3 * c or two or four or run >= m:
            out.append(i)
            hist, run, side_prev = [], 0, 0
    return out


def run_peer(series, train_days: int) -> dict:
    import pandas as pd
    import statsmodels.api as sm

    from cxlab.monitor import limits_for

    lim = {m: limits_for(m, ARL0) for m in ("ewma", "cusum", "shewhart")}
    bound = lim["ewma"].limit * np.sqrt(0.2 / 1.8)
    start = time.perf_counter()
    dates = pd.to_datetime(series.dates)
    X = pd.DataFrame({"const": 1.0, "trend": np.arange(len(dates)) / 365.0})
    for d in range(1, 7):
        X[f"dow{d}"] = (dates.weekday == d).astype(float)
    alarms = {"ewma": 0, "cusum": 0, "shewhart": 0}
    for i in range(len(series)):
        y = pd.Series(series.value[i])
        fit = sm.RLM(y[:train_days], X[:train_days], M=sm.robust.norms.HuberT()).fit()
        expected = fit.predict(X)
        if series.kinds[i] == "proportion":
            p = expected.clip(0, 1)
            se2 = p * (1 - p) / series.n[i]
        else:
            se2 = expected.clip(lower=0)
        resid = y - expected
        spread = (1.4826 * (resid[:train_days] - resid[:train_days].median()).abs().median()) ** 2
        tau2 = max(0.0, spread - float(se2[:train_days].median()))
        z = (resid / np.sqrt(se2 + tau2)).to_numpy()[train_days:]
        alarms["ewma"] += len(_ewma_path(z, 0.2, bound))
        alarms["cusum"] += len(_cusum_path(z, 0.5, lim["cusum"].limit))
        alarms["shewhart"] += len(_we_path(z, lim["shewhart"].limit / 3, int(lim["shewhart"].param)))
    charts = time.perf_counter() - start
    start = time.perf_counter()
    rng = np.random.default_rng(1)

    def mean_run(path, runs: int) -> float:
        lengths = []
        for _ in range(runs):
            total = 0
            while True:  # draw in blocks until the first alarm
                hits = path(rng.standard_normal(1000))
                if hits:
                    lengths.append(total + hits[0] + 1)
                    break
                total += 1000
        return float(np.mean(lengths))

    searched = {}
    makers = {
        "ewma": (lambda v: lambda z: _ewma_path(z, 0.2, v * np.sqrt(0.2 / 1.8)), 2.0, 4.0),
        "cusum": (lambda v: lambda z: _cusum_path(z, 0.5, v), 3.0, 7.0),
        "shewhart": (lambda v: lambda z: _we_path(z, v / 3, int(lim["shewhart"].param)), 3.0, 4.5),
    }
    for m, (make, lo, hi) in makers.items():
        for _ in range(8):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if mean_run(make(mid), 300) < ARL0 else (lo, mid)
        searched[m] = 0.5 * (lo + hi)
    check = {}
    for m, path in (("ewma", lambda z: _ewma_path(z, 0.2, bound)),
                    ("cusum", lambda z: _cusum_path(z, 0.5, lim["cusum"].limit)),
                    ("shewhart", lambda z: _we_path(z, lim["shewhart"].limit / 3, int(lim["shewhart"].param)))):
        check[m] = mean_run(path, RUNS)
    calibration = time.perf_counter() - start
    return {"charts_s": charts, "calibration_s": calibration, "alarms": alarms, "simulated_arl0": check,
            "searched_limits": searched}


def main() -> int:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100 if quick else 1000)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    series = make_series(args.series, args.days)
    train = args.days // 2
    baseline = f"{series.dates[0]}:{series.dates[train - 1]}"
    rows = []
    for name, fn in (("cxlab", lambda: run_cxlab(series, baseline)), ("pandas-statsmodels", lambda: run_peer(series, train))):
        res = fn()
        rows.append({"contender": name, "series": args.series, "days": args.days,
                     "charts_s": round(res["charts_s"], 2), "calibration_s": round(res["calibration_s"], 2),
                     "total_s": round(res["charts_s"] + res["calibration_s"], 2),
                     **{f"alarms_{k}": v for k, v in sorted(res["alarms"].items())},
                     **{f"arl0_sim_{k}": round(v, 1) for k, v in sorted(res["simulated_arl0"].items())},
                     **{f"limit_{k}": round(v, 3) for k, v in sorted(res.get("limits", res.get("searched_limits", {})).items())}})
        print(rows[-1], flush=True)
    rows[1]["speedup_vs_cxlab"] = round(rows[1]["total_s"] / rows[0]["total_s"], 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "monitor.json").write_text(json.dumps({"table": rows, "machine": platform.platform(),
                                                      "cpus": os.cpu_count()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
