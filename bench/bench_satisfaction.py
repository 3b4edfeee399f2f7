"""Satisfaction benchmark and acceptance checks (issue 5), run once by hand or by `make bench`.

Parts (each printed as a table and written to bench/results/satisfaction.json):

1. ``mae``: over 20 seeds of ``cxlab.synth``, mean absolute error of ``naive`` and
   ``aipw`` overall CSAT of the invited and per marketplace, against
   ``truth/summary.json``; ratio aipw / naive (target <= 0.25 overall, <= 0.40
   per marketplace).
2. ``coverage``: on one generated dataset (20,000 customers), responses redrawn 100 times from the
   generator's true response probabilities (features and would-be scores fixed);
   share of AIPW 95% intervals that cover the true CSAT of the invited (target 90-98%).
3. ``model``: SatisfactionModel fit on the respondents of 70% of customers; AUC
   and ECE on all invitations of the other 30% with their would-be scores, next
   to the AUC of the true probabilities; top-3 drivers vs the generator's causes.
4. ``peers``: cxlab naive, IPW and AIPW against Meta's ``balance`` (raking; IPW
   with a plain logistic regression; IPW with its default cross-validated
   penalty, on 3 draws) on the same 100,000 invitations, responses redrawn 20
   times: mean and spread of the absolute error, time per fit.
5. ``speed``: 1,000,000 invitations resampled from a generated dataset,
   responses redrawn; time of naive, ipw and aipw (5-fold).

Usage: ``python bench/bench_satisfaction.py [--quick]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.engine import get_engine
from cxlab.features import invitation_features
from cxlab.satisfaction import SatisfactionModel, estimate_population, expected_calibration_error
from cxlab.satisfaction._drivers import top_features
from cxlab.satisfaction._design import feature_columns
from cxlab.synth import generate

RESULTS = Path(__file__).parent / "results" / "satisfaction.json"
TABLES = ("customers", "orders", "surveys", "contacts", "events")


def features_of(folder: Path) -> pd.DataFrame:
    engine = get_engine("duckdb")
    tables = {t: engine.read_parquet(folder / t) for t in TABLES}
    tables["fx"] = engine.read_parquet(folder / "fx.parquet")
    frame = engine.to_pandas(invitation_features(tables))
    truth = pd.read_parquet(folder / "truth" / "surveys.parquet")[
        ["survey_id", "score", "p_satisfied", "response_probability"]
    ].rename(columns={"score": "true_score"})
    return frame.merge(truth, on="survey_id")


def part_mae(seeds: int, customers: int, tmp: Path) -> dict:
    rows = []
    for seed in range(seeds):
        folder = tmp / f"mae-{seed}"
        generate(customers=customers, random_state=seed, out=folder, overwrite=True)
        truth = json.loads((folder / "truth" / "summary.json").read_text())["satisfaction"]["csat5"]
        frame = features_of(folder)
        frame = frame.drop(columns=["true_score", "p_satisfied", "response_probability"])
        for method in ("naive", "aipw"):
            overall = estimate_population(frame, method=method, n_jobs=1, random_state=seed)
            by = estimate_population(frame, method=method, by=["marketplace"], n_jobs=1, random_state=seed)
            by = by[by.scale == "csat5"]
            rows.append({"seed": seed, "method": method, "segment": "overall",
                         "error": abs(overall.set_index("scale").loc["csat5", "estimate"] - truth["overall"]["true"])})
            for _, r in by.iterrows():
                rows.append({"seed": seed, "method": method, "segment": r.marketplace,
                             "error": abs(r.estimate - truth["by_marketplace"][r.marketplace]["true"])})
    errors = pd.DataFrame(rows)
    overall = errors[errors.segment == "overall"].groupby("method").error.mean()
    market = errors[errors.segment != "overall"].groupby("method").error.mean()
    return {
        "seeds": seeds, "customers": customers,
        "overall_mae": overall.to_dict(), "overall_ratio": float(overall["aipw"] / overall["naive"]),
        "marketplace_mae": market.to_dict(), "marketplace_ratio": float(market["aipw"] / market["naive"]),
    }


def redraw(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    answered = rng.random(len(frame)) < frame["response_probability"].to_numpy()
    return frame.assign(score=np.where(answered, frame["true_score"], np.nan), responded=answered)


def part_coverage(frame: pd.DataFrame, reps: int) -> dict:
    csat = frame[frame.scale == "csat5"].drop(columns=["p_satisfied"]).reset_index(drop=True)
    truth = float((csat.true_score >= 4).mean())
    rng = np.random.default_rng(12345)
    covered, est = [], []
    features = [c for c in feature_columns(csat) if c not in ("true_score", "response_probability")]
    for rep in range(reps):
        out = estimate_population(redraw(csat, rng), method="aipw", covariates=features,
                                  n_jobs=1, random_state=rep)
        covered.append(bool(out.ci_low[0] <= truth <= out.ci_high[0]))
        est.append(float(out.estimate[0]))
    return {"replications": reps, "invitations": len(csat), "truth": truth,
            "coverage": float(np.mean(covered)), "mean_estimate": float(np.mean(est)),
            "sd_estimate": float(np.std(est, ddof=1))}


def part_model(frame: pd.DataFrame, summary: dict) -> dict:
    from sklearn.metrics import roc_auc_score

    features = [c for c in feature_columns(frame) if c not in ("true_score", "p_satisfied", "response_probability")]
    csat = frame[frame.scale == "csat5"]
    customers = csat.customer_id.unique()
    test_ids = set(customers[np.random.default_rng(0).random(len(customers)) < 0.3])
    test = csat.customer_id.isin(test_ids)
    train = csat[~test & csat.responded]
    model = SatisfactionModel(features=features, n_jobs=1).fit(train, train.score)
    held = csat[test]
    y = (held.true_score >= 4).to_numpy(float)
    p = model.predict_satisfied(held)
    top = list(top_features(model, held, 3))
    causes = summary["driver_causes"][:3]
    allowed = {f: c["cause"] for c in causes for f in c["features"]}
    return {"n_train": len(train), "n_test": len(held), "auc": float(roc_auc_score(y, p)),
            "auc_true_p": float(roc_auc_score(y, held.p_satisfied)),
            "ece": expected_calibration_error(y, p), "top3": top,
            "top3_causes": [allowed.get(f) for f in top],
            "top3_in_true_causes": all(f in allowed for f in top)}


def _balance_estimate(sub: pd.DataFrame, covariates: list[str], method: str, **kwargs: object) -> float:
    """balance's adjusted mean of ``score >= 4`` of the respondents towards all invited."""
    import logging

    from balance import Sample

    logging.getLogger("balance").setLevel(logging.ERROR)
    data = sub[covariates].copy()
    for c in ("late", "returned", "prime"):
        data[c] = data[c].astype(float)
    data["id"] = np.arange(len(sub)).astype(str)
    data["y"] = (sub.score >= 4).astype(float)
    resp = data[sub.score.notna().to_numpy()]
    target = Sample.from_frame(data.drop(columns="y"), id_column="id")
    sample = Sample.from_frame(resp, id_column="id", outcome_columns=["y"])
    adjusted = sample.set_target(target).adjust(method=method, **kwargs)
    return float(adjusted.outcomes().mean().iloc[0, -1])


PEER_COVARIATES = ["marketplace", "delay_days", "days_late", "late", "returned", "contacts",
                   "amount_reporting", "segment", "prime", "device", "age_band"]


def part_peers(
    frame: pd.DataFrame, n: int, draws: int, default_ipw_draws: int, on_draw: Callable[[dict], None] | None = None
) -> dict:
    """cxlab IPW and AIPW against balance on the same ``n`` invitations.

    The invitations (features and would-be scores) are fixed; who responds is
    redrawn ``draws`` times from the generator's response probabilities. Every
    method runs on every draw (balance's default IPW, which cross-validates 250
    penalties, on the first ``default_ipw_draws`` only, none by default); the error is against the
    true CSAT of the ``n`` invited. Times are compute only, in this process.
    """
    from sklearn.linear_model import LogisticRegression

    csat = frame[frame.scale == "csat5"].reset_index(drop=True)
    rng = np.random.default_rng(11)
    fixed = csat.iloc[rng.integers(0, len(csat), n)].reset_index(drop=True)
    truth = float((fixed.true_score >= 4).mean())
    methods = {
        "cxlab naive": lambda d: estimate_population(d, method="naive", covariates=PEER_COVARIATES, n_jobs=1),
        "cxlab ipw": lambda d: estimate_population(d, method="ipw", covariates=PEER_COVARIATES, n_jobs=1),
        "cxlab aipw": lambda d: estimate_population(d, method="aipw", covariates=PEER_COVARIATES, n_jobs=1),
        "balance rake": lambda d: _balance_estimate(d, PEER_COVARIATES, "rake"),
        "balance ipw (LogisticRegression)": lambda d: _balance_estimate(
            d, PEER_COVARIATES, "ipw", model=LogisticRegression(max_iter=1000)),
        "balance ipw (default: CV over 250 penalties)": lambda d: _balance_estimate(d, PEER_COVARIATES, "ipw"),
    }
    records: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    for draw in range(draws):
        d = redraw(fixed, rng)
        for name, fn in methods.items():
            if name.startswith("balance ipw (default") and draw >= default_ipw_draws:
                continue
            t0 = time.perf_counter()
            try:
                out = fn(d)
            except Exception as err:  # noqa: BLE001 - report the peer's failure, keep going
                records[name].append((float("nan"), float("nan")))
                print(f"{name} failed on draw {draw}: {type(err).__name__}: {err}"[:300], file=sys.stderr)
                continue
            secs = time.perf_counter() - t0
            value = out if isinstance(out, float) else float(out.estimate[0])
            records[name].append((abs(value - truth), secs))
        print(f"draw {draw + 1}/{draws} done", file=sys.stderr, flush=True)
        if on_draw is not None:  # keep what is done if the run is cut short
            on_draw(_peer_summary(records, n, draw + 1, truth))
    return _peer_summary(records, n, draws, truth)


def _peer_summary(records: dict[str, list[tuple[float, float]]], n: int, draws: int, truth: float) -> dict:
    rows = []
    for name, rec in records.items():
        err = np.array([e for e, _ in rec])
        secs = np.array([s for _, s in rec])
        ok = np.isfinite(err)
        rows.append({
            "method": name, "draws": int(ok.sum()), "failed": int((~ok).sum()),
            "mean_abs_error": float(err[ok].mean()) if ok.any() else None,
            "sd_abs_error": float(err[ok].std(ddof=1)) if ok.sum() > 1 else None,
            "max_abs_error": float(err[ok].max()) if ok.any() else None,
            "median_seconds": float(np.median(secs[ok])) if ok.any() else None,
            "best_seconds": float(secs[ok].min()) if ok.any() else None,
        })
    return {"invitations": n, "draws": draws, "truth": truth, "rows": rows}


def part_speed(frame: pd.DataFrame, n: int) -> dict:
    csat = frame[frame.scale == "csat5"].reset_index(drop=True)
    rng = np.random.default_rng(7)
    big = redraw(csat.iloc[rng.integers(0, len(csat), n)].reset_index(drop=True), rng)
    truth = float((big.true_score >= 4).mean())
    covariates = ["marketplace", "delay_days", "days_late", "late", "returned", "contacts",
                  "amount_reporting", "segment", "prime", "device", "age_band"]
    out: dict = {"invitations": n, "truth": truth, "cxlab": {}}
    for method in ("naive", "ipw", "aipw"):
        t0 = time.perf_counter()
        est = estimate_population(big, method=method, covariates=covariates, n_jobs=1)
        out["cxlab"][method] = {"seconds": time.perf_counter() - t0,
                                "error": abs(float(est.estimate[0]) - truth)}
    return out


def table(results: dict) -> str:
    """The headline figures as a plain-text table."""
    lines = [f"{'check':44s} {'value':>12s}"]
    def add(name: str, value: object) -> None:
        lines.append(f"{name:44s} {value:>12}")
    if "mae" in results:
        m = results["mae"]
        add("MAE ratio aipw/naive overall (<= 0.25)", f"{m['overall_ratio']:.3f}")
        add("MAE ratio aipw/naive per marketplace (<= 0.40)", f"{m['marketplace_ratio']:.3f}")
    if "coverage" in results:
        add("AIPW 95% CI coverage (0.90-0.98)", f"{results['coverage']['coverage']:.3f}")
    if "model" in results:
        m = results["model"]
        add("AUC model / AUC true p", f"{m['auc']:.3f}/{m['auc_true_p']:.3f}")
        add("ECE (<= 0.02)", f"{m['ece']:.4f}")
        add("top-3 drivers in true causes", str(m["top3_in_true_causes"]))
    if "peers" in results:
        for r in results["peers"]["rows"]:
            if r["mean_abs_error"] is not None:
                add(f"{r['method'][:30]} err mean/sd, s", f"{r['mean_abs_error']:.4f}/{r['sd_abs_error'] or 0:.4f}, "
                    f"{r['median_seconds']:.1f}")
    if "speed" in results:
        s = results["speed"]
        for method, r in s["cxlab"].items():
            add(f"cxlab {method} seconds / abs error", f"{r['seconds']:.1f}/{r['error']:.4f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("CXLAB_BENCH_QUICK") == "1",
                        help="few seeds and replications (also CXLAB_BENCH_QUICK=1)")
    parser.add_argument("--parts", default="mae,coverage,model,peers,speed")
    parser.add_argument("--draws", type=int, default=20, help="response draws of the peers part")
    parser.add_argument(
        "--balance-default-draws", type=int, default=0,
        help="draws on which to also run balance's default IPW (cross-validates 250 penalties; "
             "about a minute per 100,000-row fit on an idle 2-core machine, far more on a busy one)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-sat-") as tmp_name:
        tmp = Path(tmp_name)
        if "mae" in parts:
            results["mae"] = part_mae(3 if args.quick else 20, 20_000, tmp)
            print("mae", json.dumps(results["mae"], indent=1), flush=True)
        big = tmp / "big"
        generate(customers=100_000, random_state=2, out=big, overwrite=True)
        frame = features_of(big)
        summary = json.loads((big / "truth" / "summary.json").read_text())
        if "coverage" in parts:
            small = tmp / "coverage"
            generate(customers=20_000, random_state=99, out=small, overwrite=True)
            results["coverage"] = part_coverage(features_of(small), 10 if args.quick else 100)
            print("coverage", json.dumps(results["coverage"], indent=1), flush=True)
        if "model" in parts:
            results["model"] = part_model(frame, summary)
            print("model", json.dumps(results["model"], indent=1), flush=True)
        if "peers" in parts:
            def partial(peers: dict) -> None:
                RESULTS.parent.mkdir(parents=True, exist_ok=True)
                RESULTS.write_text(json.dumps({**results, "peers": peers}, indent=2, default=float))

            results["peers"] = part_peers(frame, 20_000 if args.quick else 100_000,
                                          3 if args.quick else args.draws, args.balance_default_draws, partial)
            print("peers", json.dumps(results["peers"], indent=1), flush=True)
        if "speed" in parts:
            n = 100_000 if args.quick else 1_000_000
            results["speed"] = part_speed(frame, n)
            print("speed", json.dumps(results["speed"], indent=1), flush=True)
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
