"""estimate_population: estimators, segments, scales and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.exceptions import InputDataError
from cxlab.satisfaction import estimate_population
from cxlab.satisfaction._weighting import kish, rake

FAST = {"learner": "lightgbm", "n_jobs": 1, "folds": 3}


def _invitations(n: int = 6000, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """Late deliveries lower satisfaction and raise response (angry customers answer)."""
    rng = np.random.default_rng(seed)
    market = rng.choice(["DE", "FR", "US"], size=n)
    delay = rng.exponential(2.0, size=n) - 1.0
    p_sat = 1 / (1 + np.exp(-(1.5 - 1.2 * np.maximum(delay, 0) + 0.5 * (market == "US"))))
    satisfied = rng.random(n) < p_sat
    score = np.where(satisfied, rng.choice([4.0, 5.0], n), rng.choice([1.0, 2.0, 3.0], n))
    p_resp = 1 / (1 + np.exp(-(-1.5 + 0.6 * np.maximum(delay, 0))))
    responded = rng.random(n) < p_resp
    frame = pd.DataFrame({
        "marketplace": market, "delay_days": delay, "scale": "csat5",
        "score": np.where(responded, score, np.nan),
    })
    return frame, float(satisfied.mean())


@pytest.fixture(scope="module")
def invitations() -> tuple[pd.DataFrame, float]:
    return _invitations()


def test_columns_and_ranges(invitations: tuple[pd.DataFrame, float]) -> None:
    frame, _ = invitations
    out = estimate_population(frame, method="aipw", by=["marketplace"], **FAST)
    assert list(out.columns[:4]) == ["marketplace", "scale", "method", "target"]
    assert {"estimate", "ci_low", "ci_high", "n_invited", "n_responded", "effective_n"} <= set(out)
    assert out.marketplace.tolist() == ["DE", "FR", "US"]
    assert (out.n_invited.sum(), out.reason.isna().all()) == (len(frame), True)
    assert ((out.ci_low <= out.estimate) & (out.estimate <= out.ci_high)).all()
    assert (out.effective_n <= out.n_responded + 1e-9).all()


@pytest.mark.parametrize("method", ["ipw", "aipw", "poststrat"])
def test_corrections_beat_naive(invitations: tuple[pd.DataFrame, float], method: str) -> None:
    frame, truth = invitations
    naive = estimate_population(frame, method="naive").estimate[0]
    fixed = estimate_population(frame, method=method, bins=10, **FAST).estimate[0]
    assert abs(naive - truth) > 0.05
    assert abs(fixed - truth) < 0.4 * abs(naive - truth)


def test_logistic_learner(invitations: tuple[pd.DataFrame, float]) -> None:
    frame, truth = invitations
    out = estimate_population(frame, method="aipw", learner="logistic", folds=2)
    assert out.ci_low[0] < out.estimate[0] < out.ci_high[0]


def test_balance_improves(invitations: tuple[pd.DataFrame, float]) -> None:
    frame, _ = invitations
    _, bal = estimate_population(frame, method="ipw", return_balance=True, **FAST)
    delay = bal.set_index("covariate").loc["delay_days"]
    assert abs(delay.smd_before) > 0.2
    assert abs(delay.smd_after) < 0.5 * abs(delay.smd_before)
    assert set(bal.columns) == {"scale", "covariate", "smd_before", "smd_after"}


def test_one_categorical_poststrat_is_exact() -> None:
    rng = np.random.default_rng(1)
    happy = rng.random(5000) < 0.4
    answered = rng.random(5000) < np.where(happy, 0.7, 0.1)
    frame = pd.DataFrame({
        "group": np.where(happy, "a", "b"), "scale": "csat5",
        "score": np.where(answered, np.where(happy, 5.0, 1.0), np.nan),
    })
    out = estimate_population(frame, method="poststrat", covariates=["group"])
    assert out.estimate[0] == pytest.approx(happy.mean())


def test_rake_matches_margins() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 3, 2000), rng.integers(0, 4, 2000)
    responded = rng.random(2000) < 0.1 + 0.2 * a / 2 + 0.1 * (b == 1)
    w = rake([a, b], responded)
    for codes in (a, b):
        pop = np.bincount(codes) / len(codes)
        got = np.bincount(codes[responded], weights=w) / w.sum()
        np.testing.assert_allclose(got, pop, atol=1e-6)
    assert kish(np.ones(10)) == 10


def test_nps_scale_and_mixed_scales() -> None:
    frame = pd.DataFrame({
        "marketplace": ["DE"] * 4 + ["US"] * 4,
        "scale": ["csat5"] * 4 + ["nps11"] * 4,
        "score": [5, 4, 1, np.nan, 10, 9, 3, 7],
    })
    out = estimate_population(frame, method="naive")
    csat = out.set_index("scale").loc["csat5"]
    nps = out.set_index("scale").loc["nps11"]
    assert csat.estimate == pytest.approx(2 / 3)
    assert nps.estimate == pytest.approx(100 * (2 - 1) / 4)
    assert -100 <= nps.ci_low <= nps.ci_high <= 100


def test_no_respondents_in_a_segment() -> None:
    frame, _ = _invitations(3000, seed=3)
    frame.loc[frame.marketplace == "FR", "score"] = np.nan
    out = estimate_population(frame, method="aipw", by=["marketplace"], **FAST).set_index("marketplace")
    assert np.isnan(out.loc["FR", "estimate"]) and np.isnan(out.loc["FR", "ci_low"])
    assert "no respondents" in out.loc["FR", "reason"]
    assert out.loc["FR", "n_responded"] == 0 and out.loc["FR", "n_invited"] > 0
    assert out.drop(index="FR").estimate.notna().all()


def test_no_respondents_at_all() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "scale": "csat5", "score": np.nan})
    out = estimate_population(frame, method="aipw")
    assert np.isnan(out.estimate[0]) and "no respondents" in out.reason[0]


@pytest.mark.parametrize("method", ["naive", "poststrat", "ipw", "aipw"])
def test_everyone_responded(method: str) -> None:
    frame, _ = _invitations(2000, seed=4)
    frame["score"] = frame["score"].fillna(5.0)
    naive = estimate_population(frame, method="naive").estimate[0]
    out = estimate_population(frame, method=method, **FAST)
    assert out.estimate[0] == pytest.approx(naive)
    assert out.reason[0].startswith("everyone responded")


def test_segment_where_everyone_responded() -> None:
    frame, _ = _invitations(3000, seed=5)
    fr = frame.marketplace == "FR"
    frame.loc[fr, "score"] = frame.loc[fr, "score"].fillna(4.0)
    out = estimate_population(frame, method="aipw", by=["marketplace"], **FAST).set_index("marketplace")
    assert out.loc["FR", "n_responded"] == out.loc["FR", "n_invited"]
    assert out.loc["FR", "reason"].startswith("everyone responded")
    assert np.isfinite(out.loc["FR", "estimate"])


@pytest.mark.parametrize("method", ["naive", "poststrat", "ipw", "aipw"])
def test_all_scores_equal(method: str) -> None:
    frame, _ = _invitations(2000, seed=6)
    frame.loc[frame.score.notna(), "score"] = 5.0
    out = estimate_population(frame, method=method, **FAST)
    assert out.estimate[0] == pytest.approx(1.0)
    assert out.ci_low[0] == pytest.approx(1.0) and out.ci_high[0] == pytest.approx(1.0)
    assert "same answer" in out.reason[0]


def test_target_orders() -> None:
    frame, _ = _invitations(4000, seed=7)
    invited = np.random.default_rng(0).random(len(frame)) < 0.5
    frame = frame.assign(invited=invited, score=frame.score.where(invited))
    frame.loc[~invited, "scale"] = None
    out = estimate_population(frame, method="ipw", target="orders", **FAST)
    assert out.n_target[0] == len(frame) and out.n_invited[0] == invited.sum()
    inv = estimate_population(frame, method="ipw", target="invited", **FAST)
    assert inv.n_target[0] == invited.sum()


def test_score_off_scale() -> None:
    frame = pd.DataFrame({"scale": ["csat5", "csat5"], "score": [5.0, 9.0]})
    with pytest.raises(InputDataError, match="whole numbers from 1 to 5; 1 of 2"):
        estimate_population(frame, method="naive")


def test_unknown_scale_method_target_and_columns() -> None:
    frame = pd.DataFrame({"scale": ["stars"], "score": [5.0]})
    with pytest.raises(InputDataError, match="'stars'"):
        estimate_population(frame, method="naive")
    frame = pd.DataFrame({"scale": ["csat5"], "score": [5.0]})
    with pytest.raises(InputDataError, match="method must be one of"):
        estimate_population(frame, method="mean")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="target must be one of"):
        estimate_population(frame, target="all")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="frame must have column"):
        estimate_population(frame, by=["marketplace"])
    with pytest.raises(InputDataError, match="learner must be one of"):
        estimate_population(frame, learner="xgboost")  # type: ignore[arg-type]


def test_responded_without_score() -> None:
    frame = pd.DataFrame({"scale": ["csat5"] * 2, "score": [5.0, np.nan], "responded": [True, True]})
    with pytest.raises(InputDataError, match="responded=True but no score"):
        estimate_population(frame, method="naive")
