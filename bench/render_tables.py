"""Print the results in bench/results/*.json as the Markdown tables of docs/benchmarks.md.

Rows are ordered best peer first after cxlab; ``x cxlab`` is the contender's
best time divided by cxlab's best time in the same case (above 1: cxlab is
faster). Usage: ``python bench/render_tables.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _f(v: Any, fmt: str) -> str:
    return "" if v is None else fmt.format(v)


def harness_table(rows: list[dict[str, Any]], ours: str, quality: str, quality_key: Any) -> str:
    ok = [r for r in rows if "error" not in r]
    ok.sort(key=lambda r: (r["contender"] != ours, r.get("compute_best_s") or r["end_to_end_best_s"]))
    lines = [
        f"| contender | configuration | runs | end to end best / median (spread) s | compute best / median s "
        f"| peak MB (median) | x cxlab end to end | x cxlab compute | {quality} |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ok:
        lines.append(
            f"| {r['contender']} | {r.get('configuration', '')} | {r['runs']} "
            f"| {r['end_to_end_best_s']:.2f} / {r['end_to_end_median_s']:.2f} ({r['end_to_end_spread_s']:.2f}) "
            f"| {_f(r.get('compute_best_s'), '{:.3f}')} / {_f(r.get('compute_median_s'), '{:.3f}')} "
            f"| {_f(r.get('peak_mb_median', r.get('peak_mb')), '{:,.0f}')} "
            f"| {_f(r.get('ratio_end_to_end'), '{:.2f}')} | {_f(r.get('ratio_compute'), '{:.1f}')} "
            f"| {quality_key(r)} |"
        )
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['contender']} | {r.get('configuration', '')} | | {r['error']} | | | | | |")
    return "\n".join(lines)


def main() -> None:
    for clv in sorted(RESULTS.glob("clv*.json")):
        payload = json.loads(clv.read_text())
        print(f"machine: {payload['machine']}\n")
        for res in payload["results"].values():
            size = f"{res['customers']:,} customers" if "customers" in res else f"{res['orders']:,} orders"
            print(f"### {res['case']}, {size}\n")
            ours = res["rows"][0]["contender"]  # cxlab, cxlab on DuckDB, cxlab BG/NBD: the first row
            if any("max_rel_diff" in r for r in res["rows"]):
                print(harness_table(res["rows"], ours, "max rel diff from the period sum",
                                    lambda r: f"{r['max_rel_diff']:.1e}" if "max_rel_diff" in r else ""))
            else:
                print(harness_table(
                    res["rows"], ours, "log-likelihood - best",
                    lambda r: f"{r['ll_minus_best']:+.4f}" if "ll_minus_best" in r else "",
                ))
            print()
    metrics = RESULTS / "metrics.json"
    if metrics.exists():
        payload = json.loads(metrics.read_text())
        print(f"### Metrics, {payload['customers']:,} customers ({payload.get('rows_per_table')})\n")
        print(harness_table(
            payload["table"], "cxlab-duckdb", "max relative difference to cxlab",
            lambda r: _f(r.get("max_rel_diff_vs_cxlab"), "{:.1e}"),
        ))
        print()
    sat = RESULTS / "satisfaction.json"
    if sat.exists():
        payload = json.loads(sat.read_text())
        peers = payload.get("peers")
        if peers:
            print(f"### Satisfaction, {peers['invitations']:,} invitations, {peers['draws']} response draws "
                  f"(truth {peers['truth']:.4f})\n")
            print("| method | draws | abs error mean | sd | max | seconds per fit median / best |")
            print("|---|---|---|---|---|---|")
            for r in peers["rows"]:
                if r["mean_abs_error"] is None:
                    continue
                print(f"| {r['method']} | {r['draws']} | {r['mean_abs_error']:.4f} | {r['sd_abs_error'] or 0:.4f} "
                      f"| {r['max_abs_error']:.4f} | {r['median_seconds']:.2f} / {r['best_seconds']:.2f} |")


if __name__ == "__main__":
    main()
