"""On generated data with true effects: the plan from estimated effects vs the oracle plan.

The generator writes each customer's true effect of every action on 30-day
revenue (EUR) in ``truth/customers.parquet``. cxlab fits an uplift model on the
randomized campaign, scores every customer as of the assignment, and plans
within a budget; the plan's *true* value must reach 90% of the value of the
plan made with the true effects (same budget, same solver). At smaller budgets
the plan is held against what the features allow (see the test's comment and
docs/uplift.md, "Acceptance figures").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab import uplift
from cxlab.io import load_dataset
from cxlab.optimize import allocate
from cxlab.synth import generate
from cxlab.synth.params import ACTION_COSTS

N_CUSTOMERS = 40_000
BUDGET_PER_CUSTOMER = 2.0  # EUR; actions cost 0.10 (email) to 12 (call)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("uplift-gen") / "data"
    generate(customers=N_CUSTOMERS, random_state=5, out=out)
    return out


@pytest.mark.slow
def test_plan_reaches_90_percent_of_the_oracle(generated: Path, tmp_path: Path) -> None:
    ds = load_dataset(generated)
    evaluation = uplift.fit(ds.tables, tmp_path / "model", outcome="revenue", learner="t",
                            reporting_currency=ds.reporting_currency)
    assert ds.reporting_currency == "EUR"
    # every action ranks held-out customers better than random
    assert all(e["qini"] > 0 for e in evaluation["actions"].values()), evaluation["actions"]
    assert evaluation["policy"]["dr_gain"]["ci_low"] > 0

    truth = pd.read_parquet(generated / "truth" / "customers.parquet").set_index("customer_id")
    assigned = pd.read_parquet(generated / "treatments")["assigned_ts"].iloc[0]
    scores = uplift.score(tmp_path / "model", ds.tables, asof=str(assigned))
    assert len(scores) == N_CUSTOMERS * 4
    rows = truth.index.get_indexer(scores["customer_id"])
    cols = {a: truth.columns.get_loc(f"effect_{a}") for a in scores["action"].unique()}
    scores["true_effect"] = truth.to_numpy()[rows, scores["action"].map(cols).to_numpy()].astype(float)
    scores["cost"] = scores["action"].map(ACTION_COSTS)
    budget = BUDGET_PER_CUSTOMER * N_CUSTOMERS

    ours = allocate(scores.rename(columns={"effect": "value"})[["customer_id", "action", "value", "cost"]],
                    budget=budget)
    oracle = allocate(scores.rename(columns={"true_effect": "value"})[["customer_id", "action", "value", "cost"]],
                      budget=budget)
    true_of = scores.set_index(["customer_id", "action"])["true_effect"]
    ours_true = float(true_of.loc[list(zip(ours.plan["customer_id"], ours.plan["action"], strict=True))].sum())
    assert float(ours.plan["cost"].sum()) <= budget + 1e-6
    assert ours_true >= 0.90 * oracle.objective, (ours_true, oracle.objective)
    assert ours_true <= oracle.bound + 1e-6  # no plan beats the oracle's bound
    # a random plan of the same size is far below (the test can fail)
    rng = np.random.default_rng(0)
    random_pick = scores.groupby("customer_id").sample(1, random_state=0)
    random_pick = random_pick.iloc[rng.permutation(len(random_pick))]
    affordable = random_pick[random_pick["cost"].cumsum() <= budget]
    assert affordable["true_effect"].sum() < 0.8 * oracle.objective

    # At 0.5 and 1 EUR per customer 90% of the oracle is out of reach of any
    # learner on these features: the true effect depends on latent rates,
    # spend and survival that the features reveal only in part. A reference no
    # campaign can train, a LightGBM regression of the *true* effects on the
    # features (2 folds, each half predicted by the other), reached 0.894 and
    # 0.908 of the oracle here; cxlab's plan, learnt from the campaign alone,
    # must reach 95% of that reference's true value (measured: 97.6%, 97.1%).
    import lightgbm as lgb

    from cxlab.uplift._data import scoring_frame
    from cxlab.uplift.learners import _encode

    model, _ = uplift.load_model(tmp_path / "model")
    ids = scores["customer_id"].to_numpy()[:: len(model.actions_)]
    true = truth.loc[ids, [f"effect_{a}" for a in model.actions_]].to_numpy(dtype=np.float64)
    frame = scoring_frame(ds.tables, asof_s=pd.Timestamp(assigned).value / 1e9, reporting_currency="EUR")
    assert (frame["customer_id"].astype(str).to_numpy() == ids).all()
    Z = _encode(frame[model.features_], model.features_, model.categories_)
    cats = [i for i, f in enumerate(model.features_) if f in model.categories_]
    fold = np.random.default_rng(0).integers(0, 2, len(ids))
    reference = np.empty_like(true)
    for j in range(true.shape[1]):
        for f in range(2):
            booster = lgb.train({"objective": "regression", "learning_rate": 0.05, "verbosity": -1, "seed": 0,
                                 "num_threads": 1},
                                lgb.Dataset(Z[fold != f], true[fold != f, j], categorical_feature=cats), 300)
            reference[fold == f, j] = booster.predict(Z[fold == f])

    n, k = true.shape
    candidates = pd.DataFrame({"customer_id": np.repeat(ids, k), "action": np.tile(model.actions_, n)})
    candidates["cost"] = candidates["action"].map(ACTION_COSTS)

    def true_value(effect: np.ndarray, budget: float) -> float:
        plan = allocate(candidates.assign(value=effect.ravel()), budget=budget).plan
        row = pd.Index(ids).get_indexer(plan["customer_id"])
        col = pd.Index(model.actions_).get_indexer(plan["action"])
        assert (row >= 0).all() and (col >= 0).all()
        return float(true[row, col].sum())

    for per_customer in (0.5, 1.0):
        budget = per_customer * N_CUSTOMERS
        ours_small, ref = true_value(scores["effect"].to_numpy(), budget), true_value(reference, budget)
        assert ours_small >= 0.95 * ref, (per_customer, ours_small, ref)
        # neither beats the bound of the oracle's plan
        assert max(ours_small, ref) <= allocate(candidates.assign(value=true.ravel()), budget=budget).bound + 1e-6
