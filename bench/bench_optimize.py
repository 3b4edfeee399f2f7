"""Benchmark of cxlab.optimize: the scalable solver vs HiGHS on the full MIP, same time limit.

Run: ``python bench/bench_optimize.py [--customers N] [--ladder N1,N2,...] [--time-limit S]``.
Writes ``bench/results/optimize.json`` and prints a table.

Problem (issue 10): N customers (default 1,000,000) x 4 actions, a total
budget, 7 budgets per marketplace and a capacity on the most expensive
action. Values are incremental revenue shaped like the generator's effects
(lognormal baseline x action lift); costs are the generator's action costs
with +-20% noise. The same problem is also solved at the smaller sizes of
``--ladder`` (default 10,000, 20,000, 40,000 and 100,000 customers), where
HiGHS can answer, so its time and gap can be read against the size.

Each solver runs in its own fresh process per size (its peak memory is that
process's maximum resident size), timed from the candidate table to the plan:
``scalable`` with the time limit and a 0.01% target gap; HiGHS on the whole
MIP (one binary per candidate, mip_rel_gap 0.01%) with the same time limit.
HiGHS reports its incumbent and dual bound through its callbacks; the script
records the first time its gap is at most 0.1% and its gap at the time limit.
Its process is killed ``--highs-grace`` seconds after the limit: HiGHS does
not check its limit in the set-up of branch and cut (the clique partition of
the objective, ``HighsObjectiveFunction::setupCliquePartition``, whose time
grows about as the square of the number of binaries: 1.5 s at 40,000 binaries,
35 s at 160,000); a killed run reports the last incumbent and bound it had
reported, or none. Timings are wall-clock on whatever machine runs this;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import _harness  # noqa: E402

from cxlab.exceptions import ConvergenceError  # noqa: E402
from cxlab.optimize import allocate  # noqa: E402
from cxlab.optimize.exact import solve_exact  # noqa: E402
from cxlab.optimize.problem import build_problem  # noqa: E402

ACTIONS = {"email": 0.1, "free_shipping": 3.0, "coupon_10": 5.0, "call": 12.0}
MARKETS = ("DE", "FR", "UK", "US", "JP", "IN", "BR")


def instance(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    m = len(ACTIONS)
    baseline = rng.lognormal(1.5, 1.0, n) * (rng.random(n) < 0.7)
    lift = rng.gamma(2.0, 0.25, (n, m)) * np.array([0.4, 1.0, 1.3, 2.2])
    market = rng.choice(len(MARKETS), n, p=[0.2, 0.12, 0.15, 0.25, 0.1, 0.1, 0.08])
    cost = np.array(list(ACTIONS.values()))[None, :] * rng.uniform(0.8, 1.2, (n, m))
    cands = pd.DataFrame({
        "customer_id": np.repeat(np.char.add("C", np.arange(n).astype(str)), m),
        "action": np.tile(np.array(list(ACTIONS)), n),
        "value": (baseline[:, None] * lift).reshape(-1),
        "cost": cost.reshape(-1),
        "marketplace": np.repeat(np.array(MARKETS)[market], m),
    })
    budget = 1.5 * n
    shares = np.bincount(market, minlength=len(MARKETS)) / n
    group = {mk: float(budget * s * f) for mk, s, f in zip(MARKETS, shares, (0.9, 1.1, 0.8, 1.0, 1.2, 0.7, 1.0), strict=True)}
    return cands, {"budget": budget, "group_budgets": {"marketplace": group}, "capacities": {"call": n // 50}}


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return max(bound - objective, 0.0) / max(abs(bound), 1e-12)


def _child(solver: str, customers: int, time_limit: float, out: Path) -> None:
    """One solver on one size, in this (fresh) process; results to ``out``, HiGHS's progress to ``out.progress``."""
    cands, kw = instance(customers)
    t0 = time.perf_counter()
    if solver == "scalable":
        res = allocate(cands, solver="scalable", time_limit=time_limit, **kw)
        result = {"objective": res.objective, "bound": res.bound, "status": res.status, "dual_steps": res.iterations}
    else:
        columns = {c: cands[c].to_numpy() for c in cands.columns}
        problem = build_problem(columns, budget=kw["budget"], group_budgets=kw["group_budgets"],
                                capacities=kw["capacities"], min_coverage={})
        del cands, columns
        log = out.with_suffix(".progress")
        last = [0.0]

        def progress(objective: float, bound: float) -> None:
            now = time.perf_counter() - t0
            if now - last[0] >= 0.5 or _gap(objective, bound) <= 1e-3:  # a line every half second at most
                last[0] = now
                with log.open("a") as f:
                    f.write(json.dumps([now, objective if np.isfinite(objective) else None,
                                        bound if np.isfinite(bound) else None]) + "\n")

        try:
            sol = solve_exact(problem, time_limit=time_limit, mip_gap=1e-4, progress=progress)
            result = {"objective": sol.objective, "bound": sol.bound, "status": sol.status}
        except ConvergenceError:  # no feasible plan within the time limit
            result = {"objective": float("nan"), "bound": float("nan"), "status": "no plan within the time limit"}
    out.write_text(json.dumps({**result, "seconds": time.perf_counter() - t0,
                               "peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)}))


def _progress(path: Path, time_limit: float) -> dict:
    """From HiGHS's progress lines: when branch and cut began, when the gap first reached 0.1%, the gap at the limit."""
    lines = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    nan = float("nan")
    points = [(t, nan if o is None else o, nan if b is None else b) for t, o, b in lines]
    within = [t for t, o, b in points if _gap(o, b) <= 1e-3]
    at_limit = [(o, b) for t, o, b in points if t <= time_limit]
    return {
        "branch_and_cut_started_s": round(points[0][0], 1) if points else None,
        "seconds_to_0.1pct": round(within[0], 1) if within else None,
        "gap_at_limit": _gap(*at_limit[-1]) if at_limit else float("inf"),
        "last_report": points[-1] if points else None,
    }


def run(solver: str, customers: int, time_limit: float, grace: float) -> dict:
    """One solver on one size in a fresh process killed ``grace`` seconds past the limit."""
    name = {"scalable": "cxlab scalable", "highs": "HiGHS MIP (full problem)"}[solver]
    cap = time_limit + grace
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--child", solver, str(out), "--customers", str(customers),
               "--time-limit", str(time_limit)]
        t0 = time.perf_counter()
        try:
            subprocess.run(cmd, check=True, timeout=cap)
            sol = json.loads(out.read_text())
        except subprocess.TimeoutExpired:
            sol = {"objective": float("nan"), "bound": float("nan"), "peak_gb": None,
                   "seconds": time.perf_counter() - t0,
                   "status": f"no answer: killed after {cap:.0f} s (its {time_limit:.0f} s limit + {grace:.0f} s grace)"}
        extra = _progress(out.with_suffix(".progress"), time_limit) if solver == "highs" else {}
    if solver == "highs" and not np.isfinite(sol["objective"]) and extra.get("last_report"):
        _, objective, bound = extra["last_report"]  # killed: its last reported incumbent and bound
        sol["objective"], sol["bound"] = objective, bound
    row = {"solver": name, "customers": customers, "seconds": round(sol["seconds"], 2),
           "objective": sol["objective"], "bound": sol["bound"], "gap": _gap(sol["objective"], sol["bound"]),
           "status": sol["status"], "dual_steps": sol.get("dual_steps"), "peak_gb": sol["peak_gb"], **extra}
    row.pop("last_report", None)
    if solver == "scalable":
        row["gap_at_limit"] = row["gap"]
    print(f"{name:26s} {customers:>9,} customers: {row['seconds']:7.1f} s, gap {row['gap']:.5%}, {row['status']}",
          flush=True)
    return row


def main() -> None:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50_000 if quick else 1_000_000)
    ap.add_argument("--ladder", default="2000,10000" if quick else "10000,20000,40000,100000",
                    help="smaller sizes solved by both (comma-separated customer counts; '' for none)")
    ap.add_argument("--time-limit", type=float, default=20.0 if quick else 120.0)
    ap.add_argument("--skip-highs", action="store_true", help="Only the scalable solver (results to optimize-scalable.json).")
    ap.add_argument("--highs-grace", type=float, default=60.0 if quick else 120.0,
                    help="seconds past --time-limit after which a solver's process is killed")
    ap.add_argument("--child", nargs=2, metavar=("SOLVER", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.customers, args.time_limit, Path(args.child[1]))
        return
    sizes = sorted({*(int(x) for x in args.ladder.split(",") if x.strip()), args.customers})
    rows = []
    for n in sizes:
        for solver in ("scalable",) if args.skip_highs else ("scalable", "highs"):
            rows.append(run(solver, n, args.time_limit, args.highs_grace))
    _harness.write_results("optimize-scalable" if args.skip_highs else "optimize",
                           {"time_limit_s": args.time_limit, "rows": rows})
    print(f"{'solver':26s} {'customers':>10s} {'seconds':>8s} {'gap':>9s} {'gap at limit':>12s} {'to 0.1%':>8s} "
          f"{'B&B from':>8s} {'peak GB':>7s}  status")
    for r in rows:
        to01 = r.get("seconds_to_0.1pct")
        bb = r.get("branch_and_cut_started_s")
        print(f"{r['solver']:26s} {r['customers']:>10,} {r['seconds']:8.1f} {r['gap']:9.4%} {r['gap_at_limit']:12.4%} "
              f"{'-' if to01 is None else f'{to01:.1f}':>8s} {'-' if bb is None else f'{bb:.1f}':>8s} "
              f"{r['peak_gb'] if r['peak_gb'] is not None else float('nan'):7.2f}  {r['status']}")


if __name__ == "__main__":
    main()
