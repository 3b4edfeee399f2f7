"""Benchmark: the full metric catalog, month grain, by marketplace.

Contenders, each in fresh processes (``bench/_harness.py``) on the same
generated dataset (``cxlab.synth.generate``):

- ``cxlab-duckdb``: :func:`cxlab.metrics.compute_metrics` on DuckDB;
- ``duckdb-sql``: the catalog hand-written in DuckDB SQL, as fast as we could
  make it (``bench/metrics_peers.py``: local time from an offset table, active
  days as a bitmask, one unit table per source, no ``UNION ALL``, intervals);
- ``polars-native``: the same catalog in idiomatic Polars lazy code (what a
  user would write instead of calling cxlab), intervals included;
- ``pandas-reference``: the independent pandas implementation of the tests
  (``tests/metrics/reference.py``), a correctness check, not a speed peer (one
  run);
- ``cxlab-spark``: ``compute_metrics`` on Spark local mode (session start
  included end to end; one run).

End to end is the fresh process from start-up to the result written as
Parquet; compute is reading the files to the finished tidy table, measured
inside it. Peak memory is of the whole process tree (the Spark JVM included).
Every contender's numbers are checked against ``cxlab-duckdb`` (value,
interval, numerator, denominator, n).

Usage: ``python bench/bench_metrics.py [--customers N] [--skip-spark]
[--runs 3]``; ``CXLAB_BENCH_QUICK=1`` uses 50,000 customers. Writes
``bench/results/metrics.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(HERE)]  # run from a source tree without install
TABLES = ("customers", "orders", "surveys", "events", "contacts", "fx")
CONTENDERS = ("cxlab-duckdb", "duckdb-sql", "polars-native", "pandas-reference", "cxlab-spark")
CONFIG = {
    "cxlab-duckdb": "compute_metrics(tables, grain='month', by=['marketplace']) on DuckDB",
    "duckdb-sql": "hand-written SQL: offset-table local time, bitmask active days, unit tables, no UNION ALL",
    "polars-native": "hand-written Polars lazy plan, same tricks, one collect_all",
    "pandas-reference": "tests/metrics/reference.py (correctness oracle, loops over groups)",
    "cxlab-spark": "compute_metrics on Spark local[2], session start included",
}


def _paths(data: Path) -> dict[str, Path]:
    out = {}
    for name in TABLES:
        for p in (data / name, data / f"{name}.parquet"):
            if p.exists():
                out[name] = p
    return out


# -- contenders (run in the child process) ------------------------------------


def _cxlab(engine_name: str, data: Path):
    from cxlab.engine import get_engine
    from cxlab.metrics import compute_metrics

    engine = get_engine(engine_name)
    t0 = time.perf_counter()
    tables = {k: engine.read_parquet(p) for k, p in _paths(data).items()}
    result = compute_metrics(tables, grain="month", by=["marketplace"])
    return result, time.perf_counter() - t0


def _pandas(data: Path):
    import pandas as pd

    from tests.metrics.reference import reference

    t0 = time.perf_counter()
    tables = {k: pd.read_parquet(p) for k, p in _paths(data).items()}
    result = reference(tables, grain="month", by=["marketplace"])
    return result, time.perf_counter() - t0


def _sql(data: Path):
    import duckdb

    import metrics_peers

    con = duckdb.connect()
    t0 = time.perf_counter()
    result = metrics_peers.duckdb_sql(metrics_peers.table_files(data), con)
    return result, time.perf_counter() - t0


def _polars(data: Path):
    import metrics_peers

    t0 = time.perf_counter()
    result = metrics_peers.polars_native(metrics_peers.table_files(data))
    return result, time.perf_counter() - t0


def child(contender: str, data: Path, out: Path) -> None:
    """Run one contender; write its result and a JSON line with its compute time."""
    import _harness

    run = {"cxlab-duckdb": lambda: _cxlab("duckdb", data), "cxlab-spark": lambda: _cxlab("spark", data),
           "pandas-reference": lambda: _pandas(data), "duckdb-sql": lambda: _sql(data),
           "polars-native": lambda: _polars(data)}[contender]
    result, seconds = run()
    result.to_parquet(out)
    _harness.emit(seconds)


# -- parent -------------------------------------------------------------------


def _compare(got, ref) -> float:
    """Largest relative difference of value, numerator, denominator, n."""
    import numpy as np

    keys = ["metric", "period_start", "marketplace"]
    m = ref.merge(got, on=keys, how="outer", suffixes=("", "_x"), indicator=True)
    if (m["_merge"] != "both").any():
        return float("inf")
    worst = 0.0
    for c in ("value", "ci_low", "ci_high", "numerator", "denominator", "n"):
        a, b = m[c].to_numpy(float), m[c + "_x"].to_numpy(float)
        both = ~(np.isnan(a) & np.isnan(b))
        rel = np.abs(a - b)[both] / np.maximum(np.abs(a[both]), 1e-12)
        worst = max(worst, float(np.nanmax(rel, initial=0.0)))
        if (np.isnan(a) != np.isnan(b)).any():
            return float("inf")
    return worst


def main(argv: list[str] | None = None) -> int:
    import _harness

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser.add_argument("--customers", type=int, default=50_000 if quick else 1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = args.data or Path(tempfile.gettempdir()) / f"cxlab-bench-metrics-{args.customers}"
    if args.child:
        child(args.child, data, args.out)
        return 0

    import pandas as pd

    from cxlab.synth import generate

    if not (data / "truth" / "summary.json").exists():
        t0 = time.perf_counter()
        generate(customers=args.customers, random_state=args.seed, out=data, overwrite=True)
        print(f"generated {args.customers:,} customers in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    contenders = [c for c in CONTENDERS
                  if not (args.skip_spark and c == "cxlab-spark")
                  and not (args.skip_pandas and c == "pandas-reference")]
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in contenders:
            out = Path(tmp) / f"{name}.parquet"
            cmd = [sys.executable, __file__, "--child", name, "--data", str(data), "--out", str(out),
                   "--customers", str(args.customers)]
            runs = 1 if name in ("pandas-reference", "cxlab-spark") else args.runs
            row = _harness.run_contender(name, cmd, runs=runs, timeout=1800)
            row["configuration"] = CONFIG[name]
            rows.append(row)
            if "error" not in row:
                results[name] = pd.read_parquet(out)
    for r in rows:
        if r["contender"] in results and "cxlab-duckdb" in results:
            r["max_rel_diff_vs_cxlab"] = _compare(results[r["contender"]], results["cxlab-duckdb"])
    _harness.add_ratios(rows, "cxlab-duckdb")
    out = _harness.write_results("metrics", {
        "benchmark": "metrics: full catalog, month grain, by marketplace",
        "customers": args.customers,
        "rows_per_table": {k: int(v) for k, v in _row_counts(data).items()},
        "table": rows,
    })
    print(f"metrics benchmark, {args.customers:,} customers, month grain by marketplace")
    print(_harness.table(rows, extra=("max_rel_diff_vs_cxlab",)))
    print(f"wrote {out}")
    return 0


def _row_counts(data: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    counts = {}
    for name, p in _paths(data).items():
        files = sorted(p.rglob("*.parquet")) if p.is_dir() else [p]
        counts[name] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
