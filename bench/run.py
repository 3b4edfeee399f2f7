"""Run every benchmark (bench/bench_*.py) and print their result tables.

Each script is run in its own process (so peak-memory figures are its own),
writes ``bench/results/NAME.json``, and is summarised here. Pass names to run
only some: ``python bench/run.py generate clv``. Set ``CXLAB_BENCH_QUICK=1`` for
smaller sizes (a smoke run; the issues' targets are judged on full sizes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _rows(payload: object) -> list[dict]:
    if isinstance(payload, dict):
        for key in ("table", "results", "rows"):
            if isinstance(payload.get(key), list) and all(isinstance(r, dict) for r in payload[key]):
                return payload[key]
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)]
    flat: list[dict] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            flat.append({"key": prefix, "value": value})

    walk("", payload)
    return flat


def _print_table(title: str, rows: list[dict]) -> None:
    print(f"\n== {title}")
    if not rows:
        print("(no rows)")
        return
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def main(names: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    failed = []
    for script in scripts:
        print(f"running {script.name} ...", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"{script.name}: exit {done.returncode} after {time.perf_counter() - start:.0f} s", flush=True)
        if done.returncode:
            failed.append(script.name)
    for path in sorted(RESULTS.glob("*.json")):
        _print_table(path.stem, _rows(json.loads(path.read_text())))
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
