"""Kang & Schafer (2007) simulation, both models on the true covariates.

y = 210 + 27.4 z1 + 13.7 (z2 + z3 + z4) + e, e ~ N(0, 1); response
P(R = 1 | z) = expit(-z1 + 0.5 z2 - 0.25 z3 - 0.1 z4). The true mean is 210.
Respondents have lower z1, so their mean is about 200 (bias about -10).

Tolerance: with n = 1000 the standard deviation of the estimates across
replications is about 1.1 for AIPW and 1.7 for IPW (measured over 200
replications while writing this test). With R = 200 replications the standard
error of their mean is at most 0.12, so a bias bound of 0.5 is more than four
standard errors (a false failure has probability below 1e-4), yet an estimator
biased by a twentieth of the naive bias (about -10) is caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.satisfaction import estimate_population

REPS = 200
N = 1000


def _sample(rng: np.random.Generator) -> pd.DataFrame:
    z = rng.normal(size=(N, 4))
    y = 210 + 27.4 * z[:, 0] + 13.7 * z[:, 1:].sum(axis=1) + rng.normal(size=N)
    logit = -z[:, 0] + 0.5 * z[:, 1] - 0.25 * z[:, 2] - 0.1 * z[:, 3]
    responded = rng.random(N) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(z, columns=["z1", "z2", "z3", "z4"])
    return frame.assign(y=np.where(responded, y, np.nan))


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    rng = np.random.default_rng(20070101)
    rows = []
    for rep in range(REPS):
        frame = _sample(rng)
        for method in ("naive", "ipw", "aipw"):
            out = estimate_population(
                frame, method=method, outcome="y", learner="logistic", folds=5,
                random_state=rep,
            )
            rows.append({"method": method, **out.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def test_naive_is_biased(estimates: pd.DataFrame) -> None:
    naive = estimates.loc[estimates.method == "naive", "estimate"]
    assert naive.mean() < 205  # Kang & Schafer: about 200


@pytest.mark.parametrize("method", ["ipw", "aipw"])
def test_weighted_estimators_nearly_unbiased(estimates: pd.DataFrame, method: str) -> None:
    est = estimates.loc[estimates.method == method, "estimate"]
    assert abs(est.mean() - 210) < 0.5
    assert est.std() < 3.0


def test_aipw_interval_covers(estimates: pd.DataFrame) -> None:
    aipw = estimates.loc[estimates.method == "aipw"]
    covered = ((aipw.ci_low <= 210) & (210 <= aipw.ci_high)).mean()
    # 200 Bernoulli(0.95) draws: mean 190, sd 3.1; 180 is more than 3 sd below.
    assert 0.90 <= covered <= 0.99
