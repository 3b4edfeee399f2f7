"""The bare-DuckDB floor of ``bench_experiments.py``: the same work as hand-written SQL.

Same data (``--data DIR``, as written by ``bench_experiments.py``) and the same
plan as ``cxlab.experiments.analyze`` after its restructuring: one group-by of
the assignment rows by customer (arm as a small integer, several-arms check and
first assignment time in the same pass, kept as a temporary table), rows outside
every customer's windows dropped in the scans, one join of the stacked orders
and events to the customers, one group-by per customer, and one aggregate of the
counts, sums and cross-products of the per-customer values per arm (the
sufficient statistics of the five metrics with CUPED). No statistics after that
(they take milliseconds), no validation, no Python beyond the DuckDB client.

It answers "how fast can DuckDB do this work at all on this machine": the
difference to ``cxlab-duckdb`` in ``bench_experiments.py`` is what cxlab's own
code costs (start-up, Narwhals, the statistics).

Usage: ``python bench/floor_experiments.py --data DIR [--threads N]``; prints
seconds (import of duckdb, compute), CPU seconds and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

WINDOW_S, PRE_S = 30 * 86400, 90 * 86400


def run(data: Path, threads: int | None) -> dict[str, float]:
    start = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    cpu = time.process_time()
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    src = {name: f"read_parquet('{data / name}.parquet')" for name in ("treatments", "orders", "events")}
    arms = [r[0] for r in con.execute(f"SELECT action FROM {src['treatments']} GROUP BY 1 ORDER BY 1").fetchall()]
    code = "CASE " + " ".join(f"WHEN action = ${i + 1} THEN {i}" for i in range(len(arms))) + " END::INT"
    con.execute(
        f"""CREATE TEMP TABLE a AS SELECT customer_id AS u,
              CASE WHEN min(k) = max(k) THEN min(k) ELSE -1 END::INT AS arm, min(ta) AS ta
            FROM (SELECT customer_id, epoch(assigned_ts) AS ta, {code} AS k FROM {src['treatments']})
            GROUP BY 1""",
        arms,
    )
    lo, hi = con.execute(f"SELECT min(ta) - {PRE_S}, max(ta) + {WINDOW_S} FROM a").fetchone()
    post = f"t >= ta AND t < ta + {WINDOW_S}"
    pre = f"t < ta AND t >= ta - {PRE_S}"
    sums = ", ".join(
        f"sum(CASE WHEN {cond} THEN {v} ELSE 0 END) AS {when}{v}"
        for when, cond in (("p", post), ("q", pre)) for v in ("v0", "v1", "v2")
    )
    per_unit = ["pv0", "pv1", "pv2", "qv0", "qv1", "qv2", "pc", "qc"]
    products = ", ".join(f"sum({a} * {b})" for i, a in enumerate(per_unit) for b in per_unit[i:])
    stats = con.execute(
        f"""WITH r AS (
              SELECT customer_id AS c, epoch(order_ts) AS t, 1.0::DOUBLE AS v0, amount AS v1, 0.0::DOUBLE AS v2
              FROM {src['orders']} WHERE epoch(order_ts) >= {lo} AND epoch(order_ts) < {hi}
              UNION ALL
              SELECT customer_id, epoch(event_ts), 0.0, 0.0, CASE WHEN event_type = 'visit' THEN 1.0 ELSE 0.0 END
              FROM {src['events']} WHERE epoch(event_ts) >= {lo} AND epoch(event_ts) < {hi}),
            j AS (SELECT arm, {sums} FROM r JOIN a ON r.c = a.u WHERE ({post}) OR ({pre}) GROUP BY a.u, arm),
            k AS (SELECT *, (pv0 > 0)::DOUBLE AS pc, (qv0 > 0)::DOUBLE AS qc FROM j)
            SELECT arm, count(*), {', '.join(f'sum({v})' for v in per_unit)}, {products} FROM k GROUP BY arm"""
    ).fetchall()
    counts = con.execute("SELECT arm, count(*) FROM a GROUP BY arm").fetchall()
    done = time.perf_counter()
    assert len(stats) == len(arms) and sum(n for _, n in counts) > 0
    return {
        "import_s": imported - start, "compute_s": done - imported, "cpu_s": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="Data written by bench_experiments.py --data DIR.")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores).")
    args = parser.parse_args(argv)
    if not (args.data / "treatments.parquet").exists():
        parser.error(f"{args.data} has no treatments.parquet; run bench_experiments.py --data {args.data} first")
    if args.threads is not None and not 1 <= args.threads <= 256:
        parser.error("--threads must be 1..256")
    r = run(args.data, args.threads)
    print(f"bare DuckDB floor: import {r['import_s']:.2f} s, compute {r['compute_s']:.2f} s "
          f"(CPU {r['cpu_s']:.2f} s), peak {r['peak_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
