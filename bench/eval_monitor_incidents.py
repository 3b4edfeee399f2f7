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

``ideal`` is the yardstick for the start errors: the same charts and
``change_start`` on simulated residuals that are exactly what the model
assumes (independent standard normal, known variance, a perfect baseline), with
a step of ``--delta`` sd after as many in-control points as the test's layout
has (training period, then the monitored days before the incident)::

    python bench/eval_monitor_incidents.py ideal --delta 1.8,2 --runs 6000
    python bench/eval_monitor_incidents.py ideal --delta 1.8,2 --rate 0.111 --answers 21
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

from cxlab.monitor.api import parse_baseline  # noqa: E402
from cxlab.monitor.arl import limits_for  # noqa: E402
from cxlab.monitor.charts import binomial_sampler, change_start, gaussian_sampler, run_chart  # noqa: E402
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


def ideal(deltas: list[float], runs: int, rate: float | None = None, answers: int | None = None,
          random_state: int = 1) -> pd.DataFrame:
    """Start errors of the first alarm after a step of ``delta`` sd at the
    incident's place in the test's layout, on ideal residuals (see the module
    docstring): the share within 3 days this estimator reaches with a perfect
    baseline. With ``rate`` and ``answers``: a proportion from that many answers
    (binomial, standardized by ``p(1-p)/n``) instead of normal residuals."""
    start, end = parse_baseline(tg.BASELINE)
    train = int((end - start).astype(int)) + 1
    pre = int((np.datetime64(tg.INCIDENT_START) - tg.MONITOR_FROM).astype(int))
    post = tg.INCIDENT_DAYS
    sampler = gaussian_sampler if rate is None else binomial_sampler(rate, answers)
    rng = np.random.default_rng(random_state)
    rows = []
    for delta in deltas:
        x = np.concatenate([sampler(rng, runs * (train + pre), 0.0).reshape(runs, -1),
                            sampler(rng, runs * post, delta).reshape(runs, -1)], axis=1)
        weight = np.ones(x.shape[1])
        for method in tg.METHODS:
            run = run_chart(limits_for(method, 370.0), x, train)
            errors, delays = [], []
            for r in range(runs):
                hits = np.flatnonzero(run.alarm[r, train + pre :] & (run.direction[r, train + pre :] > 0))
                if not hits.size:
                    continue
                t = train + pre + int(hits[0])
                before = np.flatnonzero(run.alarm[r, :t])
                begin = int(before[-1]) + 1 if before.size else 0  # as monitor_series: the data's start
                errors.append(change_start(x[r], weight, t, begin, 1) - (train + pre))
                delays.append(t - (train + pre))
            err = np.array(errors)
            rows.append({"delta_sd": delta, "method": method, "runs": runs, "detected": len(errors) / runs,
                         "median_delay": float(np.median(delays)), "err_median": float(np.median(np.abs(err))),
                         "within_3": float(np.mean(np.abs(err) <= 3)), "early": float(np.mean(err < -3)),
                         "late": float(np.mean(err > 3))})
    return pd.DataFrame(rows).set_index(["delta_sd", "method"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["generate", "score", "ideal"])
    ap.add_argument("--seeds", help="e.g. 0-9,16-39 (generate, score)")
    ap.add_argument("--cache", type=Path, help="generate, score")
    ap.add_argument("--delta", default="1.8,2", help="ideal: step sizes in sd, comma separated")
    ap.add_argument("--runs", type=int, default=6000, help="ideal: simulated series per size")
    ap.add_argument("--rate", type=float, help="ideal: a proportion p (with --answers) instead of normal residuals")
    ap.add_argument("--answers", type=int, help="ideal: answers per day behind the proportion")
    ap.add_argument("--csv", type=Path, help="score: also write every incident's score here")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    if args.action == "ideal":
        if not 100 <= args.runs <= 100_000:
            ap.error("--runs: expected 100 to 100,000")
        if (args.rate is None) != (args.answers is None):
            ap.error("--rate and --answers go together")
        if args.rate is not None and not (0 < args.rate < 1 and 1 <= args.answers <= 1_000_000):
            ap.error("--rate: expected 0 < p < 1; --answers: 1 to 1,000,000")
        out = ideal([float(d) for d in args.delta.split(",")], args.runs, args.rate, args.answers)
        print(out.round(3).to_string())
        return 0
    if args.seeds is None or args.cache is None:
        ap.error("generate and score need --seeds and --cache")
    seeds = _seeds(args.seeds)
    if args.action == "generate":
        generate(seeds, args.cache)
        return 0
    out = score(seeds, args.cache)
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
