"""Scoring of ``cxlab.monitor`` on many generated seeds (not a timing benchmark).

The acceptance test ``tests/monitor/test_generated.py`` runs five seeds; this
script runs the same set-up (its own functions: reference scale, incident
layout, metrics, default ``monitor_series`` settings) on as many seeds as asked
and prints the distributions the test only summarizes:

- false alarms per series-year on the seeds' series without an incident (the
  test also counts its clean reference seed), per metric and method, as a
  multiple of the requested rate;
- per incident size (1 and 2 sd) and series (late-delivery rate, orders):
  share detected, delay, and the distribution of ``|estimated - true|`` start.

Usage::

    python bench/eval_monitor_incidents.py generate --seeds 0-29 --cache /tmp/monitor-seeds
    python bench/eval_monitor_incidents.py score --seeds 0-29 --cache /tmp/monitor-seeds

``generate`` writes each seed's daily series (``seedN.npz``) and truth
(``seedN.json``) to the cache (about 15 s a seed); ``score`` charts them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests" / "monitor")]

import test_generated as tg  # noqa: E402  (the acceptance test's own set-up)

from cxlab.monitor.evaluate import score_incidents  # noqa: E402
from cxlab.monitor.series import SeriesSet  # noqa: E402


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def _save(series: SeriesSet, path: Path) -> None:
    np.savez_compressed(path, keys=np.array(series.keys), kinds=np.array(series.kinds), dates=series.dates,
                        value=series.value, n=series.n, se=series.se, has_row=series.has_row,
                        grain=np.array(series.grain))


def _load(path: Path) -> SeriesSet:
    a = np.load(path, allow_pickle=False)
    return SeriesSet([tuple(k) for k in a["keys"].tolist()], a["kinds"].tolist(), a["dates"], a["value"], a["n"],
                     a["se"], a["has_row"], str(a["grain"]))


def generate(seeds: list[int], cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ref = cache / f"seed{tg.REFERENCE_SEED}-reference.npz"
        tg.synth.generate(customers=tg.CUSTOMERS, random_state=tg.REFERENCE_SEED, out=root / "reference")
        sd, mean = tg.reference_scale(root / "reference")
        if not ref.exists():
            _save(tg._series(root / "reference"), ref)
        for seed in seeds:
            if (cache / f"seed{seed}.npz").exists():
                continue
            truth = tg.generate_with_incidents(root / f"seed{seed}", seed, sd, mean)
            _save(tg._series(root / f"seed{seed}"), cache / f"seed{seed}.npz")
            (cache / f"seed{seed}.json").write_text(json.dumps(truth))
            shutil.rmtree(root / f"seed{seed}")
            print(f"seed {seed} done", file=sys.stderr, flush=True)


def score(seeds: list[int], cache: Path) -> dict[str, pd.DataFrame]:
    days = (np.datetime64(tg.UNTIL) - tg.MONITOR_FROM).astype(int) + 1
    requested = 365.25 / 370.0
    clean, scores = [], []
    for seed in seeds:
        series = _load(cache / f"seed{seed}.npz")
        truth = json.loads((cache / f"seed{seed}.json").read_text())
        result = tg._run(series)
        counts = result.alarms.groupby(["metric", "segment", "method"]).size()
        for key in result.series:
            if key in tg.AFFECTED:
                continue
            for method in tg.METHODS:
                clean.append({"seed": seed, "metric": key[0], "method": method,
                              "alarms": int(counts.get((*key, method), 0)), "series_years": days / 365.25})
        s = score_incidents(result.alarms, truth).assign(sd=[t["sd"] for t in truth for _ in tg.METHODS], seed=seed)
        scores.append(s)
    fa = pd.DataFrame(clean).groupby(["metric", "method"])[["alarms", "series_years"]].sum()
    fa["ratio"] = fa["alarms"] / fa["series_years"] / requested
    sc = pd.concat(scores, ignore_index=True)
    sc["abs_err"] = sc["start_error_days"].abs()

    def q(p: float):
        return lambda s: float(np.nanquantile(s.dropna(), p)) if s.notna().any() else float("nan")

    summary = sc.groupby(["sd", "metric", "method"]).agg(
        incidents=("detected", "size"), detected=("detected", "mean"),
        median_delay=("delay_days", "median"),
        err_median=("abs_err", "median"), err_p90=("abs_err", q(0.9)), err_max=("abs_err", "max"),
        within_3=("abs_err", lambda s: float((s.dropna() <= 3).mean())),
        early=("start_error_days", lambda s: float((s.dropna() < -3).mean())),
        late=("start_error_days", lambda s: float((s.dropna() > 3).mean())),
    )
    by_size = sc.groupby(["sd", "method"]).agg(
        incidents=("detected", "size"), detected=("detected", "mean"), median_delay=("delay_days", "median"),
        err_median=("abs_err", "median"), within_3=("abs_err", lambda s: float((s.dropna() <= 3).mean())),
    )
    return {"false_alarms": fa, "by_series": summary, "by_size": by_size, "scores": sc}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["generate", "score"])
    ap.add_argument("--seeds", required=True, help="e.g. 0-9,16-39")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--csv", type=Path, help="score: also write every incident's score here")
    args = ap.parse_args(argv)
    seeds = _seeds(args.seeds)
    if args.action == "generate":
        generate(seeds, args.cache)
        return 0
    out = score(seeds, args.cache)
    pd.set_option("display.width", 200)
    print(f"seeds {args.seeds} ({len(seeds)})")
    print("false alarms (series without an incident), x requested rate:")
    print(out["false_alarms"].round(2).to_string())
    print("incidents by size, series and method (start errors in days):")
    print(out["by_series"].round(2).to_string())
    print(out["by_size"].round(2).to_string())
    if args.csv:
        out["scores"].to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
