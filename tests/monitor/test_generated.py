"""Acceptance on generated data: false alarms without incidents, detection of
incidents of 1 and 2 standard deviations of the daily series, start estimates.

Five seeds, seven marketplaces, two years, daily CSAT, orders and late-delivery
rate, on the default settings of ``monitor_series`` (baseline refitted every 28
days). Both the late-delivery rate and orders are dated by the order date, as
the generator's incidents are (they change the orders placed from START), so
the true start needs no lag. Incident sizes come from a clean reference
dataset: the median daily standard deviation (sampling error and between-day
variation) of each series in the monitored months.

Seeds: 11-15 (reference 10) were fixed when this test was first written. The
change-start estimator (two-segment likelihood since the last in-control
restart, no window or other tuned constant) was chosen on seeds 0-9 and checked
on seeds 16-39 and 45-69 with ``bench/eval_monitor_incidents.py``; these five
seeds played no part in that choice. The bounds on the start error were set
from those other seeds before this test ran (docs/monitor.md quotes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab import synth
from cxlab.io import load_dataset
from cxlab.metrics import METRICS, compute_metrics
from cxlab.monitor import monitor_series, series_from_metrics
from cxlab.monitor.api import _train_mask, parse_baseline
from cxlab.monitor.baseline import fit_baseline
from cxlab.monitor.evaluate import score_incidents

pytestmark = pytest.mark.slow

SEEDS = (11, 12, 13, 14, 15)
REFERENCE_SEED = 10
CUSTOMERS = 30_000
WATCHED = ["csat", "orders", "late_delivery_rate"]
BASELINE = "2024-07-01:2025-03-31"
MONITOR_FROM, UNTIL = np.datetime64("2025-04-01"), "2025-10-31"  # before the retention campaign
INCIDENT_START, INCIDENT_DAYS = "2025-06-01", 60
METHODS = ("ewma", "cusum", "shewhart")
#: (kind, size in sd) -> marketplace. CSAT in DE and FR follows their late deliveries.
LAYOUT = {("late_delivery", 1): "DE", ("late_delivery", 2): "FR", ("orders_drop", 1): "UK", ("orders_drop", 2): "US"}
AFFECTED = {("late_delivery_rate", "DE"), ("csat", "DE"), ("late_delivery_rate", "FR"), ("csat", "FR"),
            ("orders", "UK"), ("orders", "US")}


def _series(path: Path):
    ds = load_dataset(path)
    frame = compute_metrics(ds.tables, metrics=WATCHED, grain="day", by=["marketplace"],
                            marketplaces=ds.marketplaces, until=UNTIL)
    return series_from_metrics(frame, by=["marketplace"], grain="day", catalog=METRICS, metrics=WATCHED)


def _run(series):
    return monitor_series(series, methods=METHODS, baseline=BASELINE)


def reference_scale(path: Path) -> tuple[dict, dict]:
    """Median daily sd and mean level of each series of a clean dataset over
    the monitored months (what the incident sizes are expressed in)."""
    ref = _series(path)
    train = _train_mask(ref, parse_baseline(BASELINE))
    watch = ref.dates >= MONITOR_FROM
    sd, mean = {}, {}
    for kind in ("count", "proportion"):
        rows = [i for i, k in enumerate(ref.kinds) if k == kind]
        fit = fit_baseline(ref.value[rows], kind=kind, train=train, weekday=ref.weekday, n=ref.n[rows])
        for j, i in enumerate(rows):
            sd[ref.keys[i]] = float(np.nanmedian(fit.sd[j, watch]))
            mean[ref.keys[i]] = float(np.nanmean(fit.expected[j, watch]))
    return sd, mean


def generate_with_incidents(out: Path, seed: int, sd: dict, mean: dict) -> list[dict]:
    """Generate seed ``seed`` into ``out`` with the incidents of :data:`LAYOUT`;
    the truth, each incident with its size in sd (``sd`` key)."""
    incidents = []
    for (kind, k), market in LAYOUT.items():
        metric = "late_delivery_rate" if kind == "late_delivery" else "orders"
        size = k * sd[(metric, market)]
        if kind == "orders_drop":
            size /= mean[(metric, market)]
        incidents.append(f"{kind}:{market}:{INCIDENT_START}:{INCIDENT_DAYS}:{size:.6f}")
    synth.generate(customers=CUSTOMERS, random_state=seed, out=out,
                   incidents=[synth.parse_incident(t) for t in incidents])
    truth = json.loads((out / "truth" / "incidents.json").read_text())["incidents"]
    for inc, ((_, k), _) in zip(truth, LAYOUT.items()):
        inc["sd"] = k
    return truth


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("monitor-generated")
    synth.generate(customers=CUSTOMERS, random_state=REFERENCE_SEED, out=root / "reference")
    sd, mean = reference_scale(root / "reference")
    runs = [(_run(_series(root / "reference")), [])]
    for seed in SEEDS:
        truth = generate_with_incidents(root / f"seed{seed}", seed, sd, mean)
        runs.append((_run(_series(root / f"seed{seed}")), truth))
    return {"runs": runs, "sd": sd}


def test_false_alarm_rate_without_incidents(evaluation: dict) -> None:
    """At most 1.5x the requested rate per method and per metric family, on
    the default settings (baseline refitted every 28 days)."""
    days = (np.datetime64(UNTIL) - MONITOR_FROM).astype(int) + 1
    requested = 365.25 / 370.0
    rows = []
    for result, truth in evaluation["runs"]:
        counts = result.alarms.groupby(["metric", "segment", "method"]).size()
        for key in result.series:
            if truth and key in AFFECTED:
                continue
            for method in METHODS:
                rows.append({"metric": key[0], "method": method, "alarms": int(counts.get((*key, method), 0)),
                             "series_years": days / 365.25})
    clean = pd.DataFrame(rows)
    for by in (["method"], ["metric", "method"]):
        table = clean.groupby(by)[["alarms", "series_years"]].sum()
        table["ratio"] = table["alarms"] / table["series_years"] / requested
        print(table.to_string())
        assert (table["ratio"] <= 1.5).all()
    assert clean.groupby("method")["series_years"].sum().min() > 50
    # orders, the hard family (a growing count), is charted and counted
    assert clean[clean["metric"] == "orders"]["series_years"].sum() > 15


def test_incidents_detected_with_start(evaluation: dict) -> None:
    scores = pd.concat(
        [score_incidents(result.alarms, truth).assign(sd=[t["sd"] for t in truth for _ in METHODS])
         for result, truth in evaluation["runs"] if truth], ignore_index=True,
    )
    summary = scores.groupby(["sd", "method"]).agg(
        incidents=("detected", "size"), detected=("detected", "mean"),
        median_delay_days=("delay_days", "median"),
        median_abs_start_error=("start_error_days", lambda s: float(np.median(np.abs(s.dropna())))),
        start_within_3_days=("start_error_days", lambda s: float(np.mean(np.abs(s.dropna()) <= 3))),
    )
    print(summary.to_string())
    assert (summary["incidents"] == 2 * len(SEEDS)).all()
    assert (summary["detected"] >= 0.95).all()
    # 2-sd incidents: all detected; the estimated start within 3 days of the true
    # start for at least 80% of them (49 other seeds: 88-96% per method, median
    # error 0-1 day; the misses follow weeks of drift just before the incident,
    # see docs/monitor.md), and a median error of at most one day.
    two = scores[scores["sd"] == 2]
    assert two["detected"].all()
    err = two["start_error_days"].abs()
    assert (err <= 3).mean() >= 0.8, two[err > 3].to_string()
    assert err.median() <= 1
