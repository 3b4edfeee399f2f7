"""Benchmark of ``cxlab.synth.generate``: wall time and peak memory.

Each size runs in a fresh subprocess; its peak resident memory is read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it exits (the largest
child so far, so sizes run from small to large). Results go to
``bench/results/generate.json`` and a table is printed.

Usage::

    python bench/bench_generate.py [--sizes 100000 1000000] [--seed 7] [--chunk-size 100000]
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "generate.json"
TARGETS_S = {100_000: 60.0, 1_000_000: 600.0}
TARGET_RSS_MB = 4096.0

_CHILD = """
import sys
from pathlib import Path
from cxlab.synth import generate
s = generate(customers=int(sys.argv[1]), random_state=int(sys.argv[2]), out=Path(sys.argv[3]),
             chunk_size=int(sys.argv[4]))
print(sum(s.rows.values()))
"""


def _folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def run_one(customers: int, seed: int, chunk_size: int, workdir: Path) -> dict[str, object]:
    """Generate ``customers`` in a subprocess; return time, peak RSS and sizes."""
    out = workdir / f"gen-{customers}"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(customers), str(seed), str(out), str(chunk_size)],
        env=env, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"generation of {customers} customers failed:\n{done.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads((out / "truth" / "summary.json").read_text(encoding="utf-8"))
    result = {
        "customers": customers,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024.0, 1),
        "peak_rss_may_be_from_an_earlier_size": peak_kb <= before,
        "rows": summary["rows"],
        "total_rows": int(done.stdout.strip().splitlines()[-1]),
        "disk_mb": round(_folder_mb(out), 1),
        "target_seconds": TARGETS_S.get(customers),
        "target_peak_rss_mb": TARGET_RSS_MB,
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``bench/results/generate.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000] if quick else [100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-gen-") as tmp:
        results = [run_one(n, args.seed, args.chunk_size, Path(tmp)) for n in sorted(args.sizes)]
    payload = {
        "benchmark": "cxlab.synth.generate",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "seed": args.seed,
        "chunk_size": args.chunk_size,
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    header = f"{'customers':>10} {'seconds':>8} {'target s':>8} {'peak MB':>8} {'rows':>12} {'disk MB':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        target = r["target_seconds"]
        lines.append(
            f"{r['customers']:>10,} {r['seconds']:>8.1f} {target if target else '-':>8} "
            f"{r['peak_rss_mb']:>8.0f} {r['total_rows']:>12,} {r['disk_mb']:>8.0f}"
        )
    sys.stdout.write("\n".join(lines) + f"\nwrote {RESULTS}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
