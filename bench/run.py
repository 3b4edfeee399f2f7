"""Run every benchmark (bench/bench_*.py) and print one table of the results.

Each script is run in its own process and writes ``bench/results/NAME.json``;
the contenders inside are timed by ``bench/_harness.py`` (fresh process per
run, end to end and compute, process-tree peak memory, best and median of 3).
Pass names to run only some: ``python bench/run.py clv metrics``; ``--table``
only prints the table of the results already written. Set
``CXLAB_BENCH_QUICK=1`` for smaller sizes (a smoke run; the issues' targets are
judged on full sizes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

COLUMNS = (
    ("bench", "{}"), ("case", "{}"), ("contender", "{}"),
    ("e2e best s", "{:.2f}"), ("e2e median s", "{:.2f}"), ("e2e spread s", "{:.2f}"),
    ("compute best s", "{:.3f}"), ("compute median s", "{:.3f}"), ("peak MB", "{:,.0f}"),
    ("x cxlab e2e", "{:.2f}"), ("x cxlab compute", "{:.2f}"), ("quality", "{}"),
)


def _harness_row(bench: str, case: str, r: dict[str, Any], quality: str) -> dict[str, Any]:
    if "error" in r:
        return {"bench": bench, "case": case, "contender": r["contender"], "quality": f"FAILED: {r['error']}"}
    return {
        "bench": bench, "case": case, "contender": r["contender"],
        "e2e best s": r["end_to_end_best_s"], "e2e median s": r["end_to_end_median_s"],
        "e2e spread s": r["end_to_end_spread_s"], "compute best s": r.get("compute_best_s"),
        "compute median s": r.get("compute_median_s"), "peak MB": r["peak_mb"],
        "x cxlab e2e": r.get("ratio_end_to_end"), "x cxlab compute": r.get("ratio_compute"),
        "quality": quality,
    }


def rows_of(name: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one results file in the common table's columns."""
    out: list[dict[str, Any]] = []
    if name.startswith("clv"):
        for res in payload.get("results", {}).values():
            size = f"{res['customers']:,} customers" if "customers" in res else f"{res['orders']:,} orders"
            for r in res["rows"]:
                q = f"LL - best {r['ll_minus_best']:+.4f}" if "ll_minus_best" in r else (
                    f"max rel diff {r['max_rel_diff']:.1e}" if "max_rel_diff" in r else "")
                out.append(_harness_row("clv", f"{res['case']}, {size}", r, q))
    elif name == "metrics":
        case = f"catalog by month x marketplace, {payload.get('customers', 0):,} customers"
        for r in payload.get("table", []):
            d = r.get("max_rel_diff_vs_cxlab")
            out.append(_harness_row("metrics", case, r, "" if d is None else f"max rel diff {d:.1e}"))
    elif name == "experiments":
        case = (f"{payload.get('customers', 0):,} customers x {payload.get('metrics')} metrics x "
                f"{payload.get('arms')} arms")
        quality = "results agree (1e-6)" if payload.get("results_agree") else "RESULTS DIFFER"
        for r in payload.get("table", []):
            floor = r.get("contender") == "duckdb-sql-floor"
            out.append(_harness_row("experiments", case, r, "statistics only, not compared" if floor else quality))
    elif name == "satisfaction":
        peers = payload.get("peers")
        if peers:
            case = f"CSAT of the invited, {peers['invitations']:,} rows, {peers['draws']} response draws"
            for r in peers["rows"]:
                q = (f"abs error {r['mean_abs_error']:.4f} +- {r['sd_abs_error'] or 0:.4f} (mean +- sd)"
                     if r["mean_abs_error"] is not None else "FAILED")
                out.append({"bench": "satisfaction", "case": case, "contender": r["method"],
                            "compute best s": r["best_seconds"], "compute median s": r["median_seconds"],
                            "quality": q + (f", {r['draws']} draws" if r["draws"] != peers["draws"] else "")})
        speed = payload.get("speed")
        if speed:
            for method, r in speed["cxlab"].items():
                out.append({"bench": "satisfaction", "case": f"{speed['invitations']:,} invitations",
                            "contender": f"cxlab {method}", "compute best s": r["seconds"],
                            "quality": f"abs error {r['error']:.4f}"})
    elif name == "serve":
        for r in payload.get("table", []):
            if "p99_ms" in r:
                q = (f"{r['achieved_rate_per_s']:.1f} req/s achieved, p50 {r['p50_ms']:.2f} ms, "
                     f"p99 {r['p99_ms']:.2f} ms, {r['errors']} errors, "
                     f"server CPU {r['server_cpu_ms_per_request']:.2f} ms/request")
            else:
                q = f"{r['rows_per_s']:,} rows/s, {r['errors']} errors"
            out.append({"bench": "serve", "case": r["test"], "contender": "cxlab serve", "quality": q})
    elif name == "monitor":
        case = f"{payload.get('series', 0):,} series x {payload.get('days')} days, charts + calibration"
        agree = payload.get("agreement", {})
        for r in payload.get("rows", []):
            last = r.get("last", {})
            q = (f"charts {last.get('charts_s', 0):.2f} s + calibration {last.get('calibration_s', 0):.2f} s "
                 f"(last run); alarms {agree.get('alarms_shared', 0):,} shared, "
                 f"{agree.get('alarms_cxlab_only', 0)} cxlab only, {agree.get('alarms_peer_only', 0)} peer only")
            out.append(_harness_row("monitor", case, r, q))
    elif name == "uplift":
        for r in payload.get("rows", []):
            out.append({"bench": "uplift", "case": f"{r['learner']}-learner, {r['rows']:,} rows",
                        "contender": r["library"], "compute best s": r["seconds"], "peak MB": r["peak_gb"] * 1024,
                        "quality": f"mean Qini {r['qini_mean']:.2f}"
                        + (f", {r['cpu_seconds']:.1f} CPU s" if "cpu_seconds" in r else "")})
    elif name.startswith("optimize"):
        for r in payload.get("rows", []):
            out.append({"bench": "optimize", "case": f"{r['customers']:,} customers, limit {payload['time_limit_s']:.0f} s",
                        "contender": r["solver"], "compute best s": r["seconds"],
                        "peak MB": None if r["peak_gb"] is None else r["peak_gb"] * 1024,
                        "quality": f"gap {r['gap']:.4%}, {r['status']}"
                        + (f", 0.1% after {r['seconds_to_0.1pct']:.0f} s" if r.get("seconds_to_0.1pct") else "")})
    elif name == "generate":
        for r in payload.get("results", payload.get("rows", [])) if isinstance(payload, dict) else []:
            if isinstance(r, dict):
                out.append({"bench": "generate", "case": f"{r.get('customers', 0):,} customers",
                            "contender": "cxlab.synth.generate", "e2e best s": r.get("seconds"),
                            "peak MB": r.get("peak_rss_mb"), "quality": ""})
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    cells = []
    for r in rows:
        row = []
        for key, fmt in COLUMNS:
            v = r.get(key)
            row.append("" if v is None else (v if isinstance(v, str) else fmt.format(v)))
        cells.append(row)
    heads = [c[0] for c in COLUMNS]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(heads)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def main(args: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    table_only = "--table" in args
    names = [a for a in args if not a.startswith("--")]
    failed = []
    if not table_only:
        scripts = sorted(HERE.glob("bench_*.py"))
        if names:
            scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
        for script in scripts:
            print(f"running {script.name} ...", flush=True)
            start = time.perf_counter()
            done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
            print(f"{script.name}: exit {done.returncode} after {time.perf_counter() - start:.0f} s", flush=True)
            if done.returncode:
                failed.append(script.name)
    rows: list[dict[str, Any]] = []
    machine = None
    for path in sorted(RESULTS.glob("*.json")):
        payload = json.loads(path.read_text())
        machine = machine or (payload.get("machine") if isinstance(payload, dict) else None)
        rows += rows_of(path.stem, payload)
    if machine:
        print(f"\nmachine: {machine}")
    print("\n'x cxlab': the contender's best time / cxlab's best time in the same case (above 1: cxlab is faster)\n")
    print_table(rows)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
