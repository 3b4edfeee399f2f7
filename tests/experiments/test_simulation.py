"""A/A simulations on generated revenue: fixed-horizon and always-valid error rates.

The simulations run on sufficient statistics in numpy: a random split is a 0/1
matrix, and the sums of every split come from one matrix product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.experiments.stats import ArmStats, compare

from .conftest import Generated

SPLITS = 2000
DAYS = 30


@pytest.fixture(scope="module")
def revenue(campaign: Generated) -> np.ndarray:
    """30-day revenue of the campaign's control customers: a real, heavy-tailed, effect-free metric."""
    control = campaign.truth[campaign.truth["campaign_arm"] == "control"]
    return control["revenue_30d_eur"].to_numpy(np.float64)


def _arms(z: np.ndarray, y: np.ndarray) -> tuple[ArmStats, ArmStats]:
    """Sufficient statistics of arm B (z = 1) and arm A (z = 0) for every split (rows of z)."""
    one = np.ones_like(y)
    m = np.stack([one, y, y * y], axis=1)
    b = z @ m
    a = m.sum(axis=0) - b
    mk = lambda s: ArmStats(s[:, 0], s[:, 1:2], s[:, 2:3, None])  # noqa: E731
    return mk(a), mk(b)


def test_fixed_horizon_false_positive_rate(revenue: np.ndarray) -> None:
    rng = np.random.default_rng(11)
    z = (rng.random((SPLITS, revenue.size)) < 0.5).astype(np.float64)
    a, b = _arms(z, revenue)
    res = compare(a, b)
    rate = float(np.mean(res.p_value < 0.05))
    print(f"A/A, {SPLITS} splits, one look: false-positive rate {rate:.4f}")
    assert 0.036 <= rate <= 0.064, rate
    # the interval and the p-value agree: 0 is outside exactly when p < 0.05
    outside = (res.lift_ci_low > 0) | (res.lift_ci_high < 0)
    assert np.array_equal(outside, res.p_value < 0.05)


def test_daily_looks_inflate_naive_but_not_always_valid(revenue: np.ndarray) -> None:
    """Units enter on a random day of 30; after each day the test looks at all units so far."""
    rng = np.random.default_rng(12)
    n = revenue.size
    day = rng.integers(0, DAYS, n)
    entered = (day[:, None] <= np.arange(DAYS)[None, :]).astype(np.float64)  # (n, DAYS)
    one = np.ones(n)
    z = (rng.random((SPLITS // 2, n)) < 0.5).astype(np.float64)
    tot = {k: v[:, None] * entered for k, v in (("n", one), ("s", revenue), ("q", revenue * revenue))}
    b = {k: z @ v for k, v in tot.items()}  # (splits, DAYS) cumulative per look
    a = {k: v.sum(axis=0)[None, :] - b[k] for k, v in tot.items()}
    mk = lambda d: ArmStats(d["n"].ravel(), d["s"].reshape(-1, 1), d["q"].reshape(-1, 1, 1))  # noqa: E731
    naive = compare(mk(a), mk(b))
    always = compare(mk(a), mk(b), sequential=True)
    shape = (SPLITS // 2, DAYS)
    naive_any = np.any(naive.p_value.reshape(shape) < 0.05, axis=1).mean()
    always_any = np.any(
        (always.lift_ci_low.reshape(shape) > 0) | (always.lift_ci_high.reshape(shape) < 0), axis=1
    ).mean()
    last_look = np.mean(naive.p_value.reshape(shape)[:, -1] < 0.05)
    print(f"A/A, {DAYS} daily looks: naive {naive_any:.3f}, always-valid {always_any:.3f}, one look {last_look:.3f}")
    assert naive_any > 0.10  # looking every day with fixed-horizon tests inflates false positives
    assert always_any <= 0.05  # confidence sequences do not
    # the always-valid p-value and interval agree
    p_any = np.any(always.p_value.reshape(shape) < 0.05, axis=1).mean()
    assert p_any == pytest.approx(always_any, abs=0.01)
