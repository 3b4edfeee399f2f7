"""Benchmark: an A/B test of 10,000,000 assigned customers x 5 metrics x 4 arms.

Data (written once with numpy and pyarrow, canonical schema): ``treatments``
(one row per customer: ``control`` or one of three actions, assigned over 14
days), ``customers``, ``orders`` (about 0.7 per customer, from 120 days before
to 60 days after assignment) and ``events`` (about 0.6 per customer, 70%
visits).

Work, the same for both contenders: per customer, the sums of orders, revenue
and visits in the 30 days after assignment and in the 90 days before; the
metrics ``conversion``, ``orders``, ``revenue``, ``aov`` (revenue per order, a
ratio metric, delta method) and ``visits``; for each of the 3 arms against
control and each metric: means, absolute and relative lift, Welch intervals and
p-values, CUPED on the pre-period value, and the SRM check. Each contender
writes its results table (JSON) to a file.

Contenders, each run in fresh processes by ``bench/_harness.py`` (end-to-end
time of the process: start-up, reading the Parquet files, computing, writing
the results; compute time: from the first read to the results in memory;
peak memory of the process tree; best and median of the runs):

- ``cxlab-duckdb``: :func:`cxlab.experiments.analyze` on DuckDB, tables read
  with ``engine.read_parquet`` (no validation pass, as the peer has none);
- ``pandas-scipy``: pyarrow reads only the needed columns (strings stay
  Arrow-backed); a customer's row in ``treatments`` is its integer key
  (``Index.get_indexer``, one hash table for both sources); the rows in each
  window are summed per key with a vectorized ``groupby``; per arm, one pass
  gives the counts, sums and cross-products of the per-customer values
  (``groupby`` indices + a Gram matrix), from which numpy computes means, Welch
  variances, CUPED (pooled theta) and the delta method, and scipy the t and
  chi-square p-values. The peer assumes each customer is assigned once (cxlab
  also checks for units in several arms).
- ``duckdb-sql-floor``: ``floor_experiments.py``, cxlab's plan as hand-written
  DuckDB SQL up to the per-arm sufficient statistics (no test statistics, no
  validation, no pandas): how fast DuckDB does this work at all on the machine.
  Its output is not compared.

The results of cxlab and pandas are compared (means, lifts and p-values to 1e-6 relative).

Usage: ``python bench/bench_experiments.py [--customers N] [--runs 3] [--data DIR]``;
``CXLAB_BENCH_QUICK=1`` uses 200,000 customers. Writes
``bench/results/experiments.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(HERE)]
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


def _cxlab(data: Path) -> tuple[list[dict], float]:
    from cxlab.engine import get_engine
    from cxlab.experiments import analyze

    start = time.perf_counter()
    engine = get_engine("duckdb")
    tables = {p.stem: engine.read_parquet(p) for p in sorted(data.glob("*.parquet"))}
    res = analyze(tables, metrics=list(METRICS), window_days=WINDOW, pre_days=PRE, reporting_currency="EUR",
                  engine=engine)
    seconds = time.perf_counter() - start
    cols = ["metric", "arm", "n", "mean", "control_mean", "lift", "rel_lift", "p_value", "variance_reduction"]
    return res.table[cols].to_dict(orient="records") + [{"srm_p_value": float(res.srm["p_value"])}], seconds


#: The pandas peer's per-customer variables (columns of its matrix), and per metric
#: the variables of its value (``y`` or ``y, d``) and of its pre-period value.
VARS = ("post_n", "post_amt", "post_visits", "post_conv", "pre_n", "pre_amt", "pre_visits", "pre_conv")
PEER_METRICS = {
    "conversion": (("post_conv",), ("pre_conv",)),
    "orders": (("post_n",), ("pre_n",)),
    "revenue": (("post_amt",), ("pre_amt",)),
    "aov": (("post_amt", "post_n"), ("pre_amt", "pre_n")),
    "visits": (("post_visits",), ("pre_visits",)),
}


def _pandas(data: Path) -> tuple[list[dict], float]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from scipy import stats

    start = time.perf_counter()
    arrow_strings = {pa.string(): pd.ArrowDtype(pa.string())}.get  # no Python str objects: 10x faster to read

    def read(name: str, cols: list[str]) -> pd.DataFrame:
        return pq.read_table(data / f"{name}.parquet", columns=cols).to_pandas(types_mapper=arrow_strings)

    tr = read("treatments", ["customer_id", "action", "assigned_ts"])
    n = len(tr)
    units = pd.Index(tr["customer_id"])  # a customer's integer key is its row; the hash table is built once
    assigned = tr["assigned_ts"].to_numpy()
    window, pre_period = np.timedelta64(WINDOW, "D"), np.timedelta64(PRE, "D")

    def per_customer(name: str, ts: str, cols: list[str], values: dict) -> pd.DataFrame:
        rows = read(name, ["customer_id", ts, *cols])
        key = units.get_indexer(rows["customer_id"])
        known = key >= 0
        rows, key = rows[known], key[known]
        delta = rows[ts].to_numpy() - assigned[key]
        post = (delta >= np.timedelta64(0)) & (delta < window)
        pre = (delta < np.timedelta64(0)) & (delta >= -pre_period)
        frame = pd.DataFrame({
            f"{when}_{k}": np.where(mask, fn(rows), 0.0)
            for k, fn in values.items() for when, mask in (("post", post), ("pre", pre))
        })
        inside = post | pre
        return frame[inside].groupby(key[inside]).sum().reindex(pd.RangeIndex(n), fill_value=0.0)

    o = per_customer("orders", "order_ts", ["amount"], {
        "n": lambda r: 1.0, "amt": lambda r: r["amount"].to_numpy(float)})
    e = per_customer("events", "event_ts", ["event_type"], {
        "visits": lambda r: (r["event_type"] == "visit").to_numpy(float)})
    u = pd.concat([o, e], axis=1)
    for p in ("post", "pre"):
        u[f"{p}_conv"] = (u[f"{p}_n"] > 0).astype(float)
    matrix = u[list(VARS)].to_numpy()
    # one pass per arm: units, sums and the Gram matrix of every per-customer variable
    groups = tr.groupby("action").indices
    suff = {}
    for arm in ARMS:
        x = matrix[groups[arm]]
        suff[arm] = (len(x), x.sum(axis=0), x.T @ x)
    col = {v: i for i, v in enumerate(VARS)}

    def cov(parts: list[tuple], idx: list[int]) -> tuple[float, np.ndarray, np.ndarray]:
        """Units, means and the sample covariance of the variables ``idx`` over ``parts``."""
        m = sum(p[0] for p in parts)
        s = sum(p[1] for p in parts)[idx]
        g = sum(p[2] for p in parts)[np.ix_(idx, idx)]
        return m, s / m, (g - np.outer(s, s) / m) / (m - 1)

    def linear(main: tuple, mean: np.ndarray, k: int) -> tuple[float, np.ndarray]:
        """Metric value and the map of (main..., pre...) to (linearized value, pre...)."""
        a = np.eye(k)
        if len(main) == 1:
            return mean[0], a
        r = mean[0] / mean[1]  # delta method: (y - r d) / mean(d)
        a = np.delete(a, 1, axis=0)
        a[0, :2] = [1.0 / mean[1], -r / mean[1]]
        return r, a

    rows = []
    for metric in METRICS:
        main, prev = PEER_METRICS[metric]
        idx = [col[v] for v in main + prev]
        k = len(idx)
        for arm in ARMS[1:]:
            pair = (suff["control"], suff[arm])
            nj, mj, cj = cov(list(pair), idx)
            _, a = linear(main, mj, k)
            cx = a @ cj @ a.T
            if metric == "conversion":  # binomial variances, as gbstats' proportions
                cx[0, 0] *= (nj - 1) / nj
                cx[1, 1] *= (nj - 1) / nj
            theta = np.linalg.solve(np.atleast_2d(cx[1:, 1:]), cx[1:, 0])
            out = []
            for part in pair:
                na, ma, ca = cov([part], idx)
                value, a = linear(main, ma, k)
                c = a @ ca @ a.T
                if metric == "conversion":
                    c[0, 0] *= (na - 1) / na
                    c[1, 1] *= (na - 1) / na
                v = c[0, 0] - 2 * theta @ c[1:, 0] + theta @ c[1:, 1:] @ theta
                out.append((value, value - theta @ ma[len(main):], v, na))
            (ma_, aa, va, na), (mb, ab, vb, nb) = out
            lift, var = ab - aa, va / na + vb / nb
            dof = var**2 / ((vb / nb) ** 2 / (nb - 1) + (va / na) ** 2 / (na - 1))
            p = 2 * stats.t.sf(abs(lift / np.sqrt(var)), dof)
            rows.append({"metric": metric, "arm": arm, "mean": mb, "control_mean": ma_, "lift": lift, "p_value": p})
    counts = np.array([suff[a][0] for a in ARMS], dtype=float)
    rows.append({"srm_p_value": float(stats.chisquare(counts).pvalue)})
    return rows, time.perf_counter() - start


def _floor(data: Path) -> tuple[list[dict], float]:
    """The bare-DuckDB floor (``floor_experiments.py``): the same plan as hand-written SQL, up to the
    per-arm sufficient statistics (no test statistics, no validation); its output is not compared."""
    import floor_experiments

    r = floor_experiments.run(data, None)
    return [], r["compute_s"]


CONTENDERS = {"cxlab-duckdb": _cxlab, "pandas-scipy": _pandas, "duckdb-sql-floor": _floor}


def child(which: str, data: Path, out: Path) -> None:
    """Run one contender, write its results table, print its compute time."""
    import _harness

    rows, seconds = CONTENDERS[which](data)
    out.write_text(json.dumps(rows, default=float))
    _harness.emit(seconds)


def main(argv: list[str] | None = None) -> int:
    import _harness

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser.add_argument("--customers", type=int, default=200_000 if quick else 10_000_000)
    parser.add_argument("--data", type=Path, default=None, help="Reuse (or keep) the generated data here.")
    parser.add_argument("--runs", type=int, default=3, help="Fresh-process runs per contender.")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.out)
        return 0
    if not 1 <= args.runs <= 20 or not 1_000 <= args.customers <= 200_000_000:
        parser.error("--runs must be 1..20 and --customers 1,000..200,000,000")
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
        rows, results = [], {}
        with tempfile.TemporaryDirectory() as out_dir:
            for which in CONTENDERS:
                out = Path(out_dir) / f"{which}.json"
                cmd = [sys.executable, __file__, "--child", which, "--data", str(data), "--out", str(out)]
                row = _harness.run_contender(which, cmd, runs=args.runs, timeout=3600)
                rows.append(row)
                if "error" not in row:
                    results[which] = json.loads(out.read_text())
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    agree = {"cxlab-duckdb", "pandas-scipy"} <= results.keys() and _compare(results["cxlab-duckdb"], results["pandas-scipy"])
    _harness.add_ratios(rows, "cxlab-duckdb")
    path = _harness.write_results("experiments", {
        "benchmark": "experiments: 5 metrics x 4 arms, CUPED, SRM",
        "customers": args.customers, "metrics": len(METRICS), "arms": len(ARMS),
        "results_agree": agree, "table": rows,
    })
    print(f"experiments benchmark, {args.customers:,} customers x {len(METRICS)} metrics x {len(ARMS)} arms")
    print(_harness.table(rows))
    print(f"results agree: {agree}\nwrote {path}")
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
    sys.exit(main())
