"""Benchmark: the full metric catalog, month grain, by marketplace.

Contenders, each in its own subprocess on the same generated dataset
(``cxlab.synth.generate``):

- ``cxlab-duckdb``: :func:`cxlab.metrics.compute_metrics` on DuckDB;
- ``pandas-reference``: the independent pandas implementation of the tests
  (``tests/metrics/reference.py``), reading the Parquet files with pandas;
- ``duckdb-sql``: one hand-written DuckDB SQL query computing the same values,
  numerators, denominators and unit counts (the practical limit);
- ``cxlab-spark``: ``compute_metrics`` on Spark local mode (start-up included
  in the wall time, excluded from ``seconds``).

``seconds`` is the time from reading the files to the finished tidy table,
measured inside the subprocess. Peak memory is the subprocess's
``ru_maxrss`` (for Spark, the Python driver; the JVM is bounded by
``spark.driver.memory``). Every contender's numbers are checked against
``cxlab-duckdb`` (value, numerator, denominator, n to 1e-9).

Usage: ``python bench/bench_metrics.py [--customers N] [--skip-spark]``;
``CXLAB_BENCH_QUICK=1`` uses 50,000 customers. Writes
``bench/results/metrics.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # run from a source tree without install
TABLES = ("customers", "orders", "surveys", "events", "contacts", "fx")
CONTENDERS = ("cxlab-duckdb", "duckdb-sql", "pandas-reference", "cxlab-spark")


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

    sys.path.insert(0, str(ROOT))
    from tests.metrics.reference import reference

    t0 = time.perf_counter()
    tables = {k: pd.read_parquet(p) for k, p in _paths(data).items()}
    result = reference(tables, grain="month", by=["marketplace"])
    return result, time.perf_counter() - t0


def _sql(data: Path):
    import duckdb
    import pandas as pd

    from cxlab.schema import MARKETPLACES

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    t0 = time.perf_counter()
    for name, p in _paths(data).items():
        files = [str(f) for f in sorted(p.rglob("*.parquet"))] if p.is_dir() else [str(p)]
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
    zones = ", ".join(
        f"('{m.code}', '{m.timezone}', '{m.currency}')" for m in MARKETPLACES.values()
    )
    query = f"""
    WITH mk(marketplace, tz, mcur) AS (VALUES {zones}),
    c AS (SELECT customer_id, marketplace, tz, mcur, signup_ts FROM customers JOIN mk USING (marketplace)),
    rate AS (SELECT currency, rate FROM fx UNION ALL SELECT 'EUR', 1.0 WHERE NOT EXISTS (SELECT 1 FROM fx WHERE currency = 'EUR')),
    o AS (
      SELECT o.customer_id, c.marketplace,
             date_trunc('month', timezone(c.tz, o.order_ts AT TIME ZONE 'UTC')) AS p,
             o.amount * r.rate AS amt,
             CASE WHEN o.returned THEN 1.0 ELSE 0.0 END AS ret,
             CASE WHEN o.delivered_ts IS NOT NULL AND o.promised_ts IS NOT NULL THEN 1.0 ELSE 0.0 END AS dl,
             CASE WHEN o.delivered_ts > o.promised_ts THEN 1.0 ELSE 0.0 END AS late
      FROM orders o JOIN c USING (customer_id)
      LEFT JOIN rate r ON r.currency = coalesce(o.currency, c.mcur)),
    u AS (
      SELECT customer_id, marketplace, p, count(*)::DOUBLE AS o_n, sum(amt) AS o_amt, sum(ret) AS o_ret,
             sum(dl) AS o_dl, sum(late) AS o_late, 0.0 AS k_n, 0.0 AS s_inv, 0.0 AS s_resp,
             0.0 AS r_c, 0.0 AS r_cg, 0.0 AS r_cs, 0.0 AS r_n, 0.0 AS r_nn, 0.0 AS e_days,
             0.0 AS e_share, 0.0 AS e_months, 0.0 AS c_new
      FROM o GROUP BY ALL
      UNION ALL
      SELECT k.customer_id, c.marketplace, date_trunc('month', timezone(c.tz, k.contact_ts AT TIME ZONE 'UTC')),
             0, 0, 0, 0, 0, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
      FROM contacts k JOIN c USING (customer_id) GROUP BY ALL
      UNION ALL
      SELECT s.customer_id, c.marketplace, date_trunc('month', timezone(c.tz, s.sent_ts AT TIME ZONE 'UTC')),
             0, 0, 0, 0, 0, 0, count(*), count(s.responded_ts), 0, 0, 0, 0, 0, 0, 0, 0, 0
      FROM surveys s JOIN c USING (customer_id) GROUP BY ALL
      UNION ALL
      SELECT s.customer_id, c.marketplace, date_trunc('month', timezone(c.tz, s.responded_ts AT TIME ZONE 'UTC')),
             0, 0, 0, 0, 0, 0, 0, 0,
             count(*) FILTER (scale = 'csat5' AND score IS NOT NULL),
             count(*) FILTER (scale = 'csat5' AND score >= 4),
             coalesce(sum(score) FILTER (scale = 'csat5'), 0),
             count(*) FILTER (scale = 'nps11' AND score IS NOT NULL),
             count(*) FILTER (scale = 'nps11' AND score >= 9) - count(*) FILTER (scale = 'nps11' AND score <= 6),
             0, 0, 0, 0
      FROM surveys s JOIN c USING (customer_id) WHERE s.responded_ts IS NOT NULL GROUP BY ALL
      UNION ALL
      SELECT customer_id, marketplace, date_trunc('month', d), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
             count(*), count(*) / day(last_day(date_trunc('month', d))), 1, 0
      FROM (SELECT DISTINCT e.customer_id, c.marketplace,
                   date_trunc('day', timezone(c.tz, e.event_ts AT TIME ZONE 'UTC')) AS d
            FROM events e JOIN c USING (customer_id))
      GROUP BY customer_id, marketplace, date_trunc('month', d)
      UNION ALL
      SELECT customer_id, marketplace, date_trunc('month', timezone(tz, signup_ts AT TIME ZONE 'UTC')),
             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
      FROM c),
    cu AS (SELECT customer_id, marketplace, p, sum(COLUMNS(* EXCLUDE (customer_id, marketplace, p)))
           FROM u GROUP BY ALL)
    SELECT marketplace, strftime(p, '%Y-%m-%d') AS period_start,
      sum(r_cg) AS csat_num, sum(r_c) AS csat_den, count(*) FILTER (r_c > 0 OR r_cg <> 0) AS csat_n,
      sum(r_cs) AS mean_score_num, sum(r_c) AS mean_score_den, count(*) FILTER (r_c > 0) AS mean_score_n,
      sum(r_nn) AS nps_num, sum(r_n) AS nps_den, count(*) FILTER (r_n > 0) AS nps_n,
      sum(s_resp) AS response_rate_num, sum(s_inv) AS response_rate_den, count(*) FILTER (s_inv > 0) AS response_rate_n,
      sum(o_late) AS late_delivery_rate_num, sum(o_dl) AS late_delivery_rate_den, count(*) FILTER (o_dl > 0) AS late_delivery_rate_n,
      sum(o_ret) AS return_rate_num, sum(o_n) AS return_rate_den, count(*) FILTER (o_n > 0) AS return_rate_n,
      sum(k_n) AS contact_rate_num, sum(o_n) AS contact_rate_den, count(*) FILTER (k_n > 0 OR o_n > 0) AS contact_rate_n,
      sum(o_n) AS orders_num, NULL AS orders_den, count(*) FILTER (o_n > 0) AS orders_n,
      sum(o_amt) AS revenue_num, NULL AS revenue_den, count(*) FILTER (o_amt <> 0) AS revenue_n,
      sum(o_amt) AS aov_num, sum(o_n) AS aov_den, count(*) FILTER (o_n > 0) AS aov_n,
      count(*) FILTER (o_n > 0 OR e_days > 0) AS active_customers_num, NULL AS active_customers_den,
      count(*) FILTER (o_n > 0 OR e_days > 0) AS active_customers_n,
      sum(c_new) AS new_customers_num, NULL AS new_customers_den, count(*) FILTER (c_new > 0) AS new_customers_n,
      sum(o_n) AS orders_per_active_customer_num, count(*) FILTER (o_n > 0 OR e_days > 0) AS orders_per_active_customer_den,
      count(*) FILTER (o_n > 0 OR e_days > 0) AS orders_per_active_customer_n,
      count(*) FILTER (o_n >= 2) AS repeat_purchase_rate_num, count(*) FILTER (o_n >= 1) AS repeat_purchase_rate_den,
      count(*) FILTER (o_n >= 1) AS repeat_purchase_rate_n,
      sum(e_share) AS stickiness_num, sum(e_months) AS stickiness_den, count(*) FILTER (e_months > 0) AS stickiness_n
    FROM cu GROUP BY ALL
    """
    wide = con.execute(query).df()
    rows = []
    for metric in (c.removesuffix("_num") for c in wide.columns if c.endswith("_num")):
        part = wide[["marketplace", "period_start"]].copy()
        part["metric"] = metric
        part["numerator"] = wide[f"{metric}_num"].astype(float)
        part["denominator"] = wide[f"{metric}_den"].astype(float)
        part["n"] = wide[f"{metric}_n"].astype("int64")
        part["value"] = part["numerator"] / part["denominator"].where(part["denominator"].notna(), 1.0)
        if metric == "nps":
            part["value"] *= 100.0
        rows.append(part[part["n"] > 0])
    result = pd.concat(rows, ignore_index=True)
    return result, time.perf_counter() - t0


def child(contender: str, data: Path, out: Path) -> None:
    """Run one contender; write its result and a JSON line with its timings."""
    t_start = time.perf_counter()
    if contender == "cxlab-duckdb":
        result, seconds = _cxlab("duckdb", data)
    elif contender == "cxlab-spark":
        result, seconds = _cxlab("spark", data)
    elif contender == "pandas-reference":
        result, seconds = _pandas(data)
    else:
        result, seconds = _sql(data)
    result.to_parquet(out)
    wall = time.perf_counter() - t_start
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"seconds": seconds, "wall_seconds": wall, "peak_mb": peak / 1024}))


# -- parent -------------------------------------------------------------------


def _compare(got, ref) -> float:
    """Largest relative difference of value, numerator, denominator, n."""
    import numpy as np

    keys = ["metric", "period_start", "marketplace"]
    m = ref.merge(got, on=keys, how="outer", suffixes=("", "_x"), indicator=True)
    if (m["_merge"] != "both").any():
        return float("inf")
    worst = 0.0
    for c in ("value", "numerator", "denominator", "n"):
        a, b = m[c].to_numpy(float), m[c + "_x"].to_numpy(float)
        both = ~(np.isnan(a) & np.isnan(b))
        rel = np.abs(a - b)[both] / np.maximum(np.abs(a[both]), 1e-12)
        worst = max(worst, float(np.nanmax(rel, initial=0.0)))
        if (np.isnan(a) != np.isnan(b)).any():
            return float("inf")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser.add_argument("--customers", type=int, default=50_000 if quick else 1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None)
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
        print(f"generated {args.customers:,} customers in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    contenders = [c for c in CONTENDERS
                  if not (args.skip_spark and c == "cxlab-spark")
                  and not (args.skip_pandas and c == "pandas-reference")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in contenders:
            out = Path(tmp) / f"{name}.parquet"
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, "--data", str(data), "--out", str(out),
                 "--customers", str(args.customers)],
                capture_output=True, text=True, env=env, check=False,
            )
            if done.returncode != 0:
                print(f"{name} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
                rows.append({"contender": name, "error": done.stderr.strip().splitlines()[-1:]})
                continue
            stats = json.loads(done.stdout.strip().splitlines()[-1])
            stats["process_seconds"] = time.perf_counter() - t0
            results[name] = pd.read_parquet(out)
            rows.append({"contender": name, **stats})
    base = next((r for r in rows if r["contender"] == "cxlab-duckdb" and "seconds" in r), None)
    for r in rows:
        if base and "seconds" in r:
            r["seconds_vs_cxlab_duckdb"] = r["seconds"] / base["seconds"]
            r["max_rel_diff_vs_cxlab_duckdb"] = _compare(results[r["contender"]], results["cxlab-duckdb"])
    payload = {
        "benchmark": "metrics: full catalog, month grain, by marketplace",
        "customers": args.customers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "table": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(payload, indent=2, default=str))
    print(f"metrics benchmark, {args.customers:,} customers, month grain by marketplace")
    print(f"{'contender':<18} {'seconds':>9} {'x cxlab':>8} {'peak MB':>9} {'max rel diff':>13}")
    for r in rows:
        if "seconds" not in r:
            print(f"{r['contender']:<18} failed: {r.get('error')}")
            continue
        print(f"{r['contender']:<18} {r['seconds']:>9.2f} {r.get('seconds_vs_cxlab_duckdb', float('nan')):>8.2f}"
              f" {r['peak_mb']:>9.0f} {r.get('max_rel_diff_vs_cxlab_duckdb', float('nan')):>13.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
