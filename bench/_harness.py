"""One timing harness for every benchmark in bench/.

Each contender runs as ``python <script> --child NAME ...`` in a fresh
process, ``runs`` times. For every run the parent records

- ``end_to_end_s``: wall time of the whole process, from its start to its exit
  (interpreter and library start-up, reading the input files, computing,
  writing the output; a Spark session's start and stop included);
- ``compute_s``: what the child itself reports for its compute step (the
  child prints one JSON line as the last line of its stdout, see :func:`emit`);
- ``peak_mb``: the peak of the summed resident memory of the process and all
  its descendants (a Spark JVM included), sampled every 20 ms with psutil, and
  never below the largest single process's ``ru_maxrss``.

The summary of a contender gives the best and the median of the runs for both
timings, and the spread (max - min) of the end-to-end time.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
_POLL_S = 0.02


def machine() -> dict[str, Any]:
    """Cores, memory and software of the machine running the benchmark."""
    vm = psutil.virtual_memory()
    return {
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(vm.total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def emit(compute_s: float, **extra: Any) -> None:
    """Child side: print the compute time (and anything else) as the last stdout line."""
    print(json.dumps({"compute_s": compute_s, **extra}, default=str), flush=True)


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_once(cmd: Sequence[str], *, timeout: float | None = None) -> dict[str, Any]:
    """Run ``cmd`` once; end-to-end time, peak tree memory and the child's JSON line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT
    )
    ps = psutil.Process(proc.pid)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(ps))
            done.wait(_POLL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in [*ps.children(recursive=True), ps]:
            try:
                p.kill()
            except psutil.Error:
                pass
        out, err = proc.communicate()
        done.set()
        return {"error": f"timed out after {timeout} s", "stderr": err[-2000:]}
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    single_max = after / 1024 if after > before else 0.0
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "stderr": err[-3000:]}
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    payload = json.loads(lines[-1]) if lines else {}
    return {
        "end_to_end_s": wall,
        "peak_mb": max(peak[0] / 2**20, single_max),
        **payload,
    }


def run_contender(name: str, cmd: Sequence[str], *, runs: int = 3, timeout: float | None = None) -> dict[str, Any]:
    """Run a contender ``runs`` times in fresh processes and summarise.

    Returns ``{"contender", "runs", "end_to_end_best_s", "end_to_end_median_s",
    "end_to_end_spread_s", "compute_best_s", "compute_median_s", "peak_mb", "last"}``
    (``last``: the JSON payload of the last run), or ``{"contender", "error"}``.
    """
    results = []
    for i in range(runs):
        r = run_once(cmd, timeout=timeout)
        print(f"  {name} run {i + 1}/{runs}: " + (
            f"{r['end_to_end_s']:.2f} s end to end, {r.get('compute_s', float('nan')):.2f} s compute, "
            f"{r['peak_mb']:,.0f} MB" if "error" not in r else f"FAILED {r['error']}: {r.get('stderr', '')[-800:]}"
        ), file=sys.stderr, flush=True)
        if "error" in r:
            return {"contender": name, "error": r["error"], "stderr": r.get("stderr", "")[-1500:]}
        results.append(r)
    e2e = [r["end_to_end_s"] for r in results]
    comp = [r["compute_s"] for r in results if "compute_s" in r]
    return {
        "contender": name,
        "runs": len(results),
        "end_to_end_best_s": min(e2e),
        "end_to_end_median_s": statistics.median(e2e),
        "end_to_end_spread_s": max(e2e) - min(e2e),
        "compute_best_s": min(comp) if comp else None,
        "compute_median_s": statistics.median(comp) if comp else None,
        "compute_spread_s": (max(comp) - min(comp)) if comp else None,
        "peak_mb": max(r["peak_mb"] for r in results),
        "peak_mb_median": statistics.median(r["peak_mb"] for r in results),
        "last": {k: v for k, v in results[-1].items() if k not in ("end_to_end_s", "peak_mb")},
    }


def add_ratios(rows: list[dict[str, Any]], ours: str) -> None:
    """Add ``x_<ours>_end_to_end`` and ``x_<ours>_compute``: each contender's
    best time divided by ``ours``' best time (above 1: ours is faster)."""
    base = next((r for r in rows if r["contender"] == ours and "error" not in r), None)
    if base is None:
        return
    for r in rows:
        if "error" in r:
            continue
        r["ratio_end_to_end"] = r["end_to_end_best_s"] / base["end_to_end_best_s"]
        if r.get("compute_best_s") and base.get("compute_best_s"):
            r["ratio_compute"] = r["compute_best_s"] / base["compute_best_s"]


def table(rows: list[dict[str, Any]], extra: Sequence[str] = ()) -> str:
    """The rows as a plain text table (times in seconds, memory in MB)."""
    cols = [
        ("contender", "contender", "{}"),
        ("end_to_end_best_s", "e2e best", "{:.2f}"),
        ("end_to_end_median_s", "e2e median", "{:.2f}"),
        ("end_to_end_spread_s", "e2e spread", "{:.2f}"),
        ("compute_best_s", "compute best", "{:.3f}"),
        ("compute_median_s", "compute median", "{:.3f}"),
        ("peak_mb", "peak MB", "{:,.0f}"),
        ("ratio_end_to_end", "x ours e2e", "{:.2f}"),
        ("ratio_compute", "x ours compute", "{:.2f}"),
    ] + [(e, e, "{}") for e in extra]
    cells = []
    for r in rows:
        if "error" in r:
            cells.append([r["contender"], "FAILED: " + str(r["error"])] + [""] * (len(cols) - 2))
            continue
        row = []
        for key, _, fmt in cols:
            v = r.get(key, r.get("last", {}).get(key))
            row.append("" if v is None else (fmt.format(v) if not isinstance(v, str) else v))
        cells.append(row)
    heads = [c[1] for c in cols]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) for c in cells]
    return "\n".join(lines)


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with the machine description added."""
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"bench": name, "machine": machine(), **payload}
    out.write_text(json.dumps(payload, indent=2, default=str))
    return out
