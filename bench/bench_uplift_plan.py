"""Plan quality on generated data: the plan from estimated effects vs the oracle plan, and why.

Run: ``python bench/bench_uplift_plan.py [--customers 40000] [--seed 5] [--learners t,x,dr]``.
Writes ``bench/results/uplift_plan.json`` and prints a table.

The generator (``cxlab.synth``) writes each customer's true effect of every
action on 30-day revenue (EUR). For each learner, fit on the whole campaign
(features as of the assignment), score every customer, and plan at 0.5, 1 and
2 EUR per customer (``cxlab.optimize.allocate``, action costs from
``cxlab.synth.params.ACTION_COSTS``). Reported per learner and budget: the
true value of the plan / the true value of the oracle plan (the plan made
from the true effects, same budget, same solver), and per action the mean
estimated vs mean true effect and their correlation.

Two references separate the learner's error from what the features allow:

- ``oracle level``: the learner's effects rescaled per action so their mean is
  the true mean (is the effect *level* what costs value?);
- ``from true effects``: a LightGBM regression trained on the *true* effects
  of half the customers and applied to the other half (2 folds): no campaign
  can train it, and it shows how much of the oracle the features can reach.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cxlab.io import load_dataset  # noqa: E402
from cxlab.optimize import allocate  # noqa: E402
from cxlab.synth import generate  # noqa: E402
from cxlab.synth.params import ACTION_COSTS  # noqa: E402
from cxlab.uplift import learners as L  # noqa: E402
from cxlab.uplift._data import campaign_frame, scoring_frame  # noqa: E402
from cxlab.uplift.api import _asof_seconds, _features  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "uplift_plan.json"
BUDGETS = (0.5, 1.0, 2.0)


def plan_ratios(cids: np.ndarray, actions: list[str], effect: np.ndarray, true: np.ndarray) -> list[float]:
    """True value of the plan made from ``effect`` / true value of the oracle plan, per budget."""
    n, k = effect.shape
    cand = pd.DataFrame({"customer_id": np.repeat(cids, k), "action": np.tile(actions, n),
                         "value": effect.ravel(), "true": true.ravel()})
    cand["cost"] = cand["action"].map(ACTION_COSTS)
    true_of = cand.set_index(["customer_id", "action"])["true"]
    out = []
    for per_customer in BUDGETS:
        budget = per_customer * n
        ours = allocate(cand[["customer_id", "action", "value", "cost"]], budget=budget)
        oracle = allocate(cand[["customer_id", "action", "true", "cost"]].rename(columns={"true": "value"}),
                          budget=budget)
        picked = true_of.loc[list(zip(ours.plan["customer_id"], ours.plan["action"], strict=True))]
        out.append(round(float(picked.sum()) / oracle.objective, 4))
    return out


def from_true_effects(Z: np.ndarray, categorical: list[int], true: np.ndarray, seed: int) -> np.ndarray:
    """Cross-fitted (2 folds) LightGBM regressions of the true effects on the features."""
    import lightgbm as lgb

    fold = np.random.default_rng(seed).integers(0, 2, Z.shape[0])
    est = np.empty_like(true)
    for j in range(true.shape[1]):
        for f in range(2):
            data = lgb.Dataset(Z[fold != f], true[fold != f, j], categorical_feature=categorical or "auto")
            model = lgb.train({"objective": "regression", "learning_rate": 0.05, "num_leaves": 31,
                               "verbosity": -1, "seed": seed}, data, 300)
            est[fold == f, j] = model.predict(Z[fold == f])
    return est


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--learners", default="t,x,dr")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "data"
        generate(customers=args.customers, random_state=args.seed, out=out)
        ds = load_dataset(out)
        frame = campaign_frame(ds.tables, outcome="revenue", window_days=30, reporting_currency="EUR")
        truth = pd.read_parquet(out / "truth" / "customers.parquet").set_index("customer_id")
        assigned = pd.read_parquet(out / "treatments")["assigned_ts"].iloc[0]
        now = scoring_frame(ds.tables, asof_s=_asof_seconds(str(assigned)), reporting_currency="EUR")
    feats = _features(frame)
    cids = now["customer_id"].astype(str).to_numpy()
    rows: list[dict] = []
    model = None
    for kind in args.learners.split(","):
        model = L.LEARNERS[kind]().fit(frame[feats], frame["action"].astype(str).to_numpy(),
                                       frame["y"].to_numpy(dtype=np.float64))
        effect = model.predict(now[feats])
        true = truth.loc[cids, [f"effect_{a}" for a in model.actions_]].to_numpy(dtype=np.float64)
        level = true.mean(axis=0) / effect.mean(axis=0)
        per_action = {a: {"mean_estimated": round(float(effect[:, j].mean()), 3),
                          "mean_true": round(float(true[:, j].mean()), 3),
                          "corr": round(float(np.corrcoef(effect[:, j], true[:, j])[0, 1]), 3)}
                      for j, a in enumerate(model.actions_)}
        rows.append({"plan_from": kind, "ratios": plan_ratios(cids, model.actions_, effect, true),
                     "actions": per_action})
        rows.append({"plan_from": f"{kind}, oracle level", "ratios": plan_ratios(cids, model.actions_, effect * level, true)})
    assert model is not None
    Z = L._encode(now[model.features_], model.features_, model.categories_)
    cats = [i for i, f in enumerate(model.features_) if f in model.categories_]
    true = truth.loc[cids, [f"effect_{a}" for a in model.actions_]].to_numpy(dtype=np.float64)
    reference = from_true_effects(Z, cats, true, args.seed)
    rows.append({"plan_from": "from true effects (reference, 2 folds)",
                 "ratios": plan_ratios(cids, model.actions_, reference, true),
                 "actions": {a: {"corr": round(float(np.corrcoef(reference[:, j], true[:, j])[0, 1]), 3)}
                             for j, a in enumerate(model.actions_)}})
    payload = {"customers": args.customers, "seed": args.seed, "campaign_rows": len(frame),
               "budgets_per_customer": BUDGETS, "rows": rows}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2))
    print(f"{args.customers:,} customers, seed {args.seed}, {len(frame):,} in the campaign")
    print(f"{'plan from':42s} " + " ".join(f"{b:>7.1f} EUR" for b in BUDGETS) + "   correlation with the true effect ("
          + " / ".join(model.actions_) + ")")
    for r in rows:
        corr = " / ".join(f"{v['corr']:.2f}" for v in r.get("actions", {}).values())
        print(f"{r['plan_from']:42s} " + " ".join(f"{v:11.3f}" for v in r["ratios"]) + f"   {corr}")


if __name__ == "__main__":
    main()
