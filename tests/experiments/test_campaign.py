"""Coverage of the true campaign effects (truth/) on the generator's randomized campaign."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.engine import get_engine
from cxlab.experiments import Assignment, analyze
from cxlab.synth.campaign import ACTIONS

from .conftest import Generated, read_tables

REPLICATES = 100


@pytest.fixture(scope="module")
def replicated(campaign: Generated) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The campaign cut into 100 disjoint random sets of customers: 100 independent experiments.

    Customers are independent and each one's arm was drawn independently, so
    each set is a randomized experiment of its own; its true average effect of
    an action is the mean of the customers' true effects (truth/) in the set.
    """
    engine = get_engine("duckdb")
    tables = read_tables(campaign.path, engine)
    treatments = engine.to_pandas(tables["treatments"])
    rng = np.random.default_rng(2026)
    treatments["replicate"] = rng.integers(0, REPLICATES, len(treatments)).astype(str)
    assignment = Assignment(table=engine.from_pandas(treatments).to_native())
    kw = dict(metrics=["revenue"], assignment=assignment, by="replicate", window_days=30)
    cuped = analyze(tables, pre_days=90, **kw).table
    plain = analyze(tables, pre_days=0, **kw).table
    truth = treatments[["customer_id", "replicate"]].merge(campaign.truth, on="customer_id")
    effects = truth.groupby("replicate")[[f"effect_{a}" for a in ACTIONS]].mean()
    return cuped, plain, effects


def _covered(table: pd.DataFrame, effects: pd.DataFrame) -> np.ndarray:
    true = np.array([effects.loc[s, f"effect_{a}"] for s, a in zip(table["segment"], table["arm"], strict=True)])
    return ((table["lift_ci_low"] <= true) & (true <= table["lift_ci_high"])).to_numpy()


def test_intervals_cover_true_revenue_effects(replicated, campaign: Generated) -> None:
    cuped, plain, effects = replicated
    assert cuped["segment"].nunique() == REPLICATES and len(cuped) == REPLICATES * len(ACTIONS)
    for table in (cuped, plain):
        coverage = _covered(table, effects).mean()
        assert coverage >= 0.93, coverage
    # the revenue of the whole campaign is the generator's own observed figure
    summary = campaign.summary["campaign"]["arms"]
    engine = get_engine("duckdb")
    whole = analyze(read_tables(campaign.path, engine), metrics=["revenue"], pre_days=0).table
    for row in whole.itertuples():
        assert row.mean == pytest.approx(summary[row.arm]["observed_mean_revenue_30d_eur"], rel=1e-9)
        assert row.control_mean == pytest.approx(summary["control"]["observed_mean_revenue_30d_eur"], rel=1e-9)


def test_cuped_narrows_the_intervals(replicated) -> None:
    cuped, plain, _ = replicated
    width = lambda t: (t["lift_ci_high"] - t["lift_ci_low"]).to_numpy()  # noqa: E731
    ratio = width(cuped) / width(plain)
    reduction = cuped["variance_reduction"].to_numpy()
    # the pre-period explains about a quarter of the variance of 30-day revenue
    assert 0.1 < np.median(reduction) < 0.6
    assert np.median(ratio) < 0.95
    # the width shrinks as the reported reduction says: sqrt(1 - reduction), up to the t quantile
    np.testing.assert_allclose(np.median(ratio), np.median(np.sqrt(1 - reduction)), atol=0.03)
    assert plain["variance_reduction"].isna().all() and not plain["cuped"].any()
