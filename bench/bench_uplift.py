"""Benchmark of cxlab.uplift learners vs causalml's meta-learners, in the same run.

Run: ``python bench/bench_uplift.py [--rows N] [--learners t,x,dr] [--trees K]``.
Writes ``bench/results/uplift.json`` and prints a table.

Data: N rows (default 1,000,000) of a randomized campaign shaped like the
generator's (``cxlab.synth.campaign``): control and four actions assigned
with equal probability; customer attributes (segment, age band, device,
membership, marketplace) and history (frequency, recency, spend, tenure,
events); 30-day revenue = Poisson orders x lognormal amounts, and every
action adds orders at a rate = baseline rate x a lift that depends on the
attributes. 80% of rows fit, 20% are held out.

Both libraries get the same LightGBM settings (``--trees`` rounds, learning
rate 0.05, 31 leaves, 50 rows per leaf, LightGBM's default 255 bins, the same
thread count) and the same rows and features. causalml gets the categoricals
as integer codes (its learners take numeric arrays); cxlab passes them as
LightGBM categoricals. Both timers start from the same pandas DataFrame:
``seconds`` is fit + predict (cxlab's includes turning the DataFrame into its
float32 matrix; causalml's starts from ready numeric arrays) and
``seconds_from_frame`` adds, for causalml, building those arrays from the
DataFrame (for cxlab both are the same). ``cpu_seconds`` is the process CPU
time of the run (all threads): on a busy machine it is the steadier measure.
The data is simulated in memory, so no timer includes building features or
outcomes from a dataset (``cxlab uplift fit`` does that, and also evaluates on
a held-out split; ``bench_generate.py`` times building the dataset).
Reported per learner: peak memory, held-out Qini coefficient per action
(observed outcomes) and the correlation of the estimated with the true
effect. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import _harness  # noqa: E402

from cxlab.uplift import DRLearner, TLearner, XLearner, qini_coefficient  # noqa: E402

ARMS = ("control", "email", "coupon_10", "free_shipping", "call")


def simulate(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    segment = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    age = rng.choice(6, n)
    device = rng.choice(3, n, p=[0.55, 0.35, 0.1])
    prime = rng.random(n) < 0.3
    market = rng.choice(7, n)
    lam = rng.gamma(0.8, 0.4, n)  # orders per week
    alive = rng.random(n) < 0.65
    spend = rng.gamma(4.0, 12.0, n) * (1 + 0.5 * (segment == 2))
    tenure = rng.uniform(30, 700, n)
    frequency = rng.poisson(lam * tenure / 7 * np.where(alive, 1, 0.5))
    recency = np.where(alive, rng.exponential(1 / np.maximum(lam, 0.02) * 7), rng.uniform(60, 400, n))
    events = rng.poisson(np.where(alive, 4 * lam + 0.5, 0.2))
    boosts = np.column_stack([
        0.10 + 0.60 * (age <= 1) + 0.30 * (device == 0),
        0.30 + 1.50 * (segment == 0) + 0.40 * (~prime),
        0.10 + 1.20 * (~prime),
        0.20 + 1.60 * (age >= 4) + 0.80 * (segment == 2),
    ])
    weeks = 30 / 7
    base_rate = np.where(alive, lam, 0.0)
    effect = base_rate[:, None] * boosts * weeks * spend[:, None]
    arm = rng.integers(0, len(ARMS), n)
    rate = base_rate * (1 + np.where(arm > 0, boosts[np.arange(n), np.maximum(arm - 1, 0)], 0.0))
    orders = rng.poisson(rate * weeks)
    # vectorized: sum of k gamma(4, s/4) amounts = gamma(4k, s/4)
    y = np.where(orders > 0, rng.gamma(np.maximum(4.0 * orders, 1e-9), spend / 4.0), 0.0)
    X = pd.DataFrame({
        "segment": pd.Categorical(np.array(["value", "standard", "premium"])[segment]),
        "age_band": pd.Categorical(np.array(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"])[age]),
        "device": pd.Categorical(np.array(["mobile", "desktop", "tablet"])[device]),
        "prime": prime, "marketplace": pd.Categorical(np.array(["DE", "FR", "UK", "US", "JP", "IN", "BR"])[market]),
        "frequency": frequency.astype(float), "recency_days": recency, "spend": frequency * spend,
        "tenure_days": tenure, "events_30d": events.astype(float),
    })
    return X, np.array(ARMS)[arm], y, effect


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def qinis(pred: np.ndarray, actions: list[str], t: np.ndarray, y: np.ndarray, truth: np.ndarray) -> dict:
    out = {}
    for j, a in enumerate(actions):
        keep = (t == "control") | (t == a)
        k = ARMS.index(a) - 1
        out[a] = {
            "qini": qini_coefficient(pred[keep, j], t[keep] == a, y[keep]),
            "corr_true": float(np.corrcoef(pred[:, j], truth[:, k])[0, 1]),
        }
    return out


def run_cxlab(kind: str, X, t, y, Xt, trees: int, threads: int) -> tuple[np.ndarray, list[str], float, float]:
    cls = {"t": TLearner, "x": XLearner, "dr": DRLearner}[kind]
    start = time.perf_counter()
    model = cls(n_estimators=trees, learning_rate=0.05, num_leaves=31, min_child_samples=50, n_jobs=threads)
    model.fit(X, t, y)
    pred = model.predict(Xt)
    secs = time.perf_counter() - start
    return pred, model.actions_, secs, secs


def run_causalml(kind: str, X, t, y, Xt, trees: int, threads: int) -> tuple[np.ndarray, list[str], float, float]:
    from causalml.inference.meta import BaseDRRegressor, BaseTRegressor, BaseXRegressor
    from lightgbm import LGBMRegressor

    def lgbm() -> LGBMRegressor:
        return LGBMRegressor(n_estimators=trees, learning_rate=0.05, num_leaves=31, min_child_samples=50,
                             n_jobs=threads, verbose=-1)

    codes = lambda df: np.column_stack([  # noqa: E731
        df[c].cat.codes.to_numpy() if isinstance(df[c].dtype, pd.CategoricalDtype) else df[c].to_numpy(float)
        for c in df.columns
    ]).astype(float)
    start0 = time.perf_counter()
    A, At = codes(X), codes(Xt)
    start = time.perf_counter()
    if kind == "t":
        model = BaseTRegressor(learner=lgbm(), control_name="control")
    elif kind == "x":
        model = BaseXRegressor(learner=lgbm(), control_name="control")
    else:
        model = BaseDRRegressor(learner=lgbm(), control_name="control")
    shares = {a: float(np.mean(t == a)) for a in ARMS[1:]}
    p = {a: np.full(len(t), shares[a] / (shares[a] + float(np.mean(t == "control")))) for a in ARMS[1:]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "t":
            model.fit(A, t, y)
            pred = model.predict(At)
        else:
            model.fit(A, t, y, p=p)
            pt = {a: np.full(len(At), v[0]) for a, v in p.items()}
            pred = model.predict(At, p=pt)
    actions = list(model.t_groups)
    end = time.perf_counter()
    return np.asarray(pred), [str(a) for a in actions], end - start, end - start0


def main() -> None:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000 if quick else 1_000_000)
    ap.add_argument("--learners", default="t,x,dr")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    import causalml.inference.meta  # noqa: F401  (imported here, so no timer includes the import: ~3 s of CPU)

    X, t, y, effect = simulate(args.rows)
    test = np.random.default_rng(1).random(args.rows) < 0.2
    Xtr, Xte = X.loc[~test].reset_index(drop=True), X.loc[test].reset_index(drop=True)
    rows = []
    for kind in args.learners.split(","):
        for lib, runner in (("cxlab", run_cxlab), ("causalml", run_causalml)):
            cpu = time.process_time()
            pred, actions, secs, from_frame = runner(kind, Xtr, t[~test], y[~test], Xte, args.trees, args.threads)
            cpu = time.process_time() - cpu
            q = qinis(pred, actions, t[test], y[test], effect[test])
            row = {"learner": kind, "library": lib, "rows": args.rows, "threads": args.threads,
                   "seconds": round(secs, 1), "seconds_from_frame": round(from_frame, 1),
                   "cpu_seconds": round(cpu, 1),
                   "peak_gb": round(peak_gb(), 2), "qini_mean": float(np.mean([v["qini"] for v in q.values()])),
                   **{f"qini_{a}": round(v["qini"], 3) for a, v in q.items()},
                   **{f"corr_{a}": round(v["corr_true"], 3) for a, v in q.items()}}
            rows.append(row)
            print(json.dumps(row), flush=True)
    oracle = qinis(effect[test], list(ARMS[1:]), t[test], y[test], effect[test])
    best = max((r for r in rows if r["library"] == "cxlab"), key=lambda r: r["qini_mean"])
    payload = {"rows": rows, "oracle_qini": {a: v["qini"] for a, v in oracle.items()},
               "best_cxlab_learner": best["learner"],
               "best_cxlab_qini": {a: best[f"qini_{a}"] for a in ARMS[1:]}}
    _harness.write_results("uplift", payload)
    print(f"{'learner':7s} {'library':9s} {'seconds':>8s} {'from frame':>10s} {'CPU s':>8s} {'qini mean':>10s} "
          f"{'peak GB':>8s}  Qini per action")
    for r in rows:
        per = " / ".join(f"{r[f'qini_{a}']:.2f}" for a in ARMS[1:])
        print(f"{r['learner']:7s} {r['library']:9s} {r['seconds']:8.1f} {r['seconds_from_frame']:10.1f} "
              f"{r['cpu_seconds']:8.1f} {r['qini_mean']:10.3f} {r['peak_gb']:8.2f}  {per}")
    print("Qini per action in the order", ", ".join(ARMS[1:]))
    print("oracle Qini:", {a: round(v, 3) for a, v in payload["oracle_qini"].items()})


if __name__ == "__main__":
    main()
