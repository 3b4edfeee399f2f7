"""On generated data with true effects: the plan from estimated effects vs the oracle plan.

The generator writes each customer's true effect of every action on 30-day
revenue (EUR) in ``truth/customers.parquet``. cxlab fits an uplift model on the
randomized campaign, scores every customer as of the assignment, and plans
within a budget; the plan's *true* value must reach 90% of the value of the
plan made with the true effects (same budget, same solver).
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
