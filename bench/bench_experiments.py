"""Benchmark: an A/B test of 10,000,000 assigned customers x 5 metrics x 4 arms.

Data (written once to a temporary folder with numpy and pyarrow, canonical
schema): ``treatments`` (one row per customer: ``control`` or one of three
actions, assigned over 14 days), ``customers``, ``orders`` (about 0.7 per
customer, from 120 days before to 60 days after assignment) and ``events``
(about 0.6 per customer, 70% visits).

Work, the same for both contenders: per customer, the sums of orders, revenue
and visits in the 30 days after assignment and in the 90 days before; the
metrics ``conversion``, ``orders``, ``revenue``, ``aov`` (revenue per order, a
ratio metric) and ``visits``; for each of the 3 arms against control and each
metric: means, absolute and relative lift, Welch intervals and p-values, CUPED
on the pre-period value, and the SRM check.

Contenders, each in its own subprocess (peak memory is its ``ru_maxrss``):

- ``cxlab-duckdb``: :func:`cxlab.experiments.analyze` on DuckDB, tables read
  with ``engine.read_parquet`` (no validation pass, as the reference has none);
- ``pandas-scipy``: pandas reads the Parquet files (pandas 3: Arrow-backed strings), merges
  orders and events with the assignment, filters the windows, groups by
  customer, then by arm, and runs scipy's Welch test and numpy CUPED.

Both results are compared (means, lifts and p-values to 1e-6 relative).

Usage: ``python bench/bench_experiments.py [--customers N]``;
``CXLAB_BENCH_QUICK=1`` uses 200,000 customers. Writes
``bench/results/experiments.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
ARMS = ("control", "email", "coupon", "call")
METRICS = ("conversion", "orders", "revenue", "aov", "visits")
DAY_US = 86_400_000_000
T0_US = 1_735_689_600_000_000  # 2025-01-01
WINDOW, PRE = 30, 90


def _write(data: Path, n: int, seed: int = 0) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    chunk = 2_000_000
    writers: dict[str, pq.ParquetWriter] = {}

    def put(name: str, table: pa.Table) -> None:
        if name not in writers:
            writers[name] = pq.ParquetWriter(data / f"{name}.parquet", table.schema)
        writers[name].write_table(table)

    ts = lambda us: pa.array(us, type=pa.timestamp("us"))  # noqa: E731
    ids = lambda prefix, idx: pa.array(np.char.add(prefix, idx.astype(str)))  # noqa: E731
    next_order = 0
    for lo in range(0, n, chunk):
        k = min(chunk, n - lo)
        idx = np.arange(lo, lo + k)
        cid = ids("c", idx)
        arm = rng.integers(0, len(ARMS), k)
        at = T0_US + 150 * DAY_US + rng.integers(0, 14 * DAY_US, k)
        put("customers", pa.table({"customer_id": cid, "marketplace": pa.array(np.full(k, "DE")),
                                   "signup_ts": ts(np.full(k, T0_US))}))
        put("treatments", pa.table({"customer_id": cid, "action": pa.array(np.array(ARMS)[arm]),
                                    "assigned_ts": ts(at)}))
        rate = rng.gamma(0.6, 2.0, k)  # heterogeneous buyers
        m = rng.poisson(rate * 0.6)
        owner = np.repeat(np.arange(k), m)
        offset = rng.uniform(-120, 60, owner.size)
        lift = np.where(arm[owner] > 0, 1.0 + 0.03 * arm[owner], 1.0)
        keep = (offset < 0) | (rng.random(owner.size) < 1.0 / lift)  # treatment adds orders after assignment
        extra = (offset >= 0) & (rng.random(owner.size) < (lift - 1.0))
        owner = np.concatenate([owner[keep], owner[extra]])
        offset = np.concatenate([offset[keep], offset[extra]])
        amount = np.round(rng.lognormal(3.5, 0.8, owner.size), 2)
        oid = ids("o", np.arange(next_order, next_order + owner.size))
        next_order += owner.size
        put("orders", pa.table({"order_id": oid, "customer_id": cid.take(pa.array(owner)),
                                "order_ts": ts(at[owner] + (offset * DAY_US).astype(np.int64)),
                                "amount": amount, "currency": pa.array(np.full(owner.size, "EUR"))}))
        e = rng.poisson(rate * 0.5)
        eo = np.repeat(np.arange(k), e)
        eoff = rng.uniform(-120, 60, eo.size)
        etype = np.where(rng.random(eo.size) < 0.7, "visit", "search")
        put("events", pa.table({"customer_id": cid.take(pa.array(eo)),
                                "event_ts": ts(at[eo] + (eoff * DAY_US).astype(np.int64)),
                                "event_type": pa.array(etype)}))
    for w in writers.values():
        w.close()


# -- contenders (child process) ---------------------------------------------------


def _cxlab(data: Path) -> list[dict]:
    from cxlab.engine import get_engine
    from cxlab.experiments import analyze

    engine = get_engine("duckdb")
    tables = {p.stem: engine.read_parquet(p) for p in data.glob("*.parquet")}
    res = analyze(tables, metrics=list(METRICS), window_days=WINDOW, pre_days=PRE, reporting_currency="EUR", engine=engine)
    cols = ["metric", "arm", "n", "mean", "control_mean", "lift", "rel_lift", "p_value", "variance_reduction"]
    return res.table[cols].to_dict(orient="records") + [{"srm_p_value": float(res.srm["p_value"])}]


def _pandas(data: Path) -> list[dict]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from scipy import stats

    def read(name: str, cols: list[str]) -> pd.DataFrame:
        table = pq.read_table(data / f"{name}.parquet", columns=cols)  # strings stay Arrow-backed
        return table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)

    tr = read("treatments", ["customer_id", "action", "assigned_ts"])
    units = tr.set_index("customer_id")

    def windows(name: str, ts: str, values: dict[str, pd.Series | None]) -> pd.DataFrame:
        cols = ["customer_id", ts] + [c for c in ("amount", "event_type") if c in values.get("_cols", [])]
        rows = read(name, cols).merge(tr[["customer_id", "assigned_ts"]], on="customer_id")
        delta = rows[ts] - rows["assigned_ts"]
        post = (delta >= pd.Timedelta(0)) & (delta < pd.Timedelta(days=WINDOW))
        pre = (delta < pd.Timedelta(0)) & (delta >= -pd.Timedelta(days=PRE))
        out = {}
        for key, fn in values.items():
            if key == "_cols":
                continue
            v = fn(rows)
            out[f"post_{key}"] = v.where(post, 0.0)
            out[f"pre_{key}"] = v.where(pre, 0.0)
        frame = pd.DataFrame(out)
        frame["customer_id"] = rows["customer_id"]
        return frame[post | pre].groupby("customer_id").sum()

    o = windows("orders", "order_ts", {"_cols": ["amount"], "n": lambda r: pd.Series(1.0, index=r.index),
                                       "amt": lambda r: r["amount"].astype(float)})
    e = windows("events", "event_ts", {"_cols": ["event_type"],
                                       "visits": lambda r: (r["event_type"] == "visit").astype(float)})
    u = units.join(o).join(e).fillna(0.0)
    for p in ("post_", "pre_"):
        u[p + "conversion"] = (u[p + "n"] > 0).astype(float)
    rows = []
    groups = {a: g for a, g in u.groupby("action")}
    ctrl = groups["control"]
    cols = {"conversion": ("conversion",), "orders": ("n",), "revenue": ("amt",), "visits": ("visits",),
            "aov": ("amt", "n")}
    for metric in METRICS:
        main = cols[metric]
        for arm in ARMS[1:]:
            t = groups[arm]
            arms_ = (ctrl, t)
            ys = [g[["post_" + c for c in main]].to_numpy() for g in arms_]
            xs = [g[["pre_" + c for c in main]].to_numpy() for g in arms_]

            def linear(y: np.ndarray, ref: np.ndarray) -> tuple[float, np.ndarray]:
                """Metric value and per-unit linearized values (delta method for the ratio)."""
                if y.shape[1] == 1:
                    return y[:, 0].mean(), y[:, 0]
                r = ref[:, 0].sum() / ref[:, 1].sum()
                return y[:, 0].sum() / y[:, 1].sum(), (y[:, 0] - r * y[:, 1]) / ref[:, 1].mean()

            joint_y, joint_x = np.concatenate(ys), np.concatenate(xs)
            _, lj = linear(joint_y, joint_y)
            cx = np.cov(np.column_stack([lj, joint_x]), rowvar=False)
            if metric == "conversion":  # binomial variances, as gbstats' proportions
                nj = lj.size
                cx[0, 0] *= (nj - 1) / nj
                cx[1, 1] *= (nj - 1) / nj
            theta = np.linalg.solve(np.atleast_2d(cx[1:, 1:]), cx[1:, 0])
            out = []
            for y, x in zip(ys, xs, strict=True):
                m, lin = linear(y, y)
                c = np.cov(np.column_stack([lin, x]), rowvar=False)
                if metric == "conversion":
                    f = (len(y) - 1) / len(y)
                    c[0, 0] *= f
                    c[1, 1] *= f
                v = c[0, 0] - 2 * theta @ c[1:, 0] + theta @ c[1:, 1:] @ theta
                out.append((m, m - theta @ x.mean(axis=0), v, len(y)))
            (ma, aa, va, na), (mb, ab, vb, nb) = out
            lift, var = ab - aa, va / na + vb / nb
            dof = var**2 / ((vb / nb) ** 2 / (nb - 1) + (va / na) ** 2 / (na - 1))
            p = 2 * stats.t.sf(abs(lift / np.sqrt(var)), dof)
            rows.append({"metric": metric, "arm": arm, "mean": mb, "control_mean": ma, "lift": lift, "p_value": p})
    counts = u["action"].value_counts().reindex(list(ARMS)).to_numpy()
    rows.append({"srm_p_value": float(stats.chisquare(counts).pvalue)})
    return rows


def _child(which: str, data: Path) -> None:
    start = time.perf_counter()
    rows = _cxlab(data) if which == "cxlab-duckdb" else _pandas(data)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    json.dump({"seconds": seconds, "peak_gib": peak, "rows": rows}, sys.stdout, default=float)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser.add_argument("--customers", type=int, default=200_000 if quick else 10_000_000)
    parser.add_argument("--data", type=Path, default=None, help="Reuse (or keep) the generated data here.")
    args = parser.parse_args()
    tmp = None
    data = args.data
    if data is None:
        tmp = Path(tempfile.mkdtemp(prefix="cxlab-bench-exp-"))
        data = tmp
    try:
        if not (data / "treatments.parquet").exists():
            data.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            _write(data, args.customers)
            print(f"wrote {args.customers:,} customers in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        runs = {}
        for which in ("cxlab-duckdb", "pandas-scipy"):
            wall = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--child", which, str(data)],
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            runs[which] = json.loads(done.stdout) | {"wall_seconds": time.perf_counter() - wall}
        agree = _compare(runs["cxlab-duckdb"]["rows"], runs["pandas-scipy"]["rows"])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    base = runs["cxlab-duckdb"]["seconds"]
    table = [
        {"contender": k, "customers": args.customers, "metrics": len(METRICS), "arms": len(ARMS),
         "seconds": round(v["seconds"], 2), "peak_memory_gib": round(v["peak_gib"], 2),
         "x_slower_than_cxlab": round(v["seconds"] / base, 1)}
        for k, v in runs.items()
    ]
    payload = {"benchmark": "experiments", "machine": platform.platform(), "cpus": os.cpu_count(),
               "results_agree": agree, "table": table}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "experiments.json").write_text(json.dumps(payload, indent=1) + "\n")
    for row in table:
        print(row)
    print(f"results agree: {agree}")
    return 0 if agree else 1


def _compare(ours: list[dict], ref: list[dict]) -> bool:
    import math

    key = {(r["metric"], r["arm"]): r for r in ours if "metric" in r}
    ok = True
    for r in ref:
        if "metric" not in r:
            ok &= math.isclose(r["srm_p_value"], ours[-1]["srm_p_value"], rel_tol=1e-6, abs_tol=1e-12)
            continue
        mine = key[(r["metric"], r["arm"])]
        for field in ("mean", "control_mean", "p_value"):
            ok &= math.isclose(mine[field], r[field], rel_tol=1e-6, abs_tol=1e-9)
        ok &= math.isclose(mine["lift"], r["lift"], rel_tol=1e-6, abs_tol=1e-9)
        if not ok:
            print(f"disagree on {r['metric']} {r['arm']}: {mine} vs {r}", file=sys.stderr)
            return False
    return ok


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], Path(sys.argv[3]))
    else:
        sys.exit(main())
