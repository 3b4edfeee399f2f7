"""Qini, AUUC, uplift@k and policy values: hand-computed values, random vs oracle, interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from cxlab.uplift import auuc, policy_value, qini_coefficient, qini_curve, uplift_at


def test_qini_curve_by_hand() -> None:
    score = np.array([4.0, 3.0, 2.0, 1.0])
    treated = np.array([True, False, True, False])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    x, q = qini_curve(score, treated, y, points=5)
    # after k rows: k=1 yt=1 (no control yet) -> 1/2; k=2 yt=1,yc=0 -> 1/2; k=3 yt=2,nt=2,nc=1 -> 2/2;
    # k=4 yt=2, yc=1, nt=2, nc=2 -> (2-1)/2
    assert x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert q.tolist() == pytest.approx([0.0, 0.5, 0.5, 1.0, 0.5])
    assert uplift_at(score, treated, y, 0.5) == pytest.approx(1.0)
    assert np.isnan(uplift_at(score, treated, y, 0.25))  # no control in the top row


def _campaign(n: int, seed: int):
    rng = np.random.default_rng(seed)
    tau = rng.uniform(-0.1, 0.4, n)
    treated = rng.random(n) < 0.5
    y = (rng.random(n) < 0.2 + np.where(treated, tau, 0.0)).astype(float)
    return tau, treated, y, rng


def test_oracle_ranking_beats_random_and_reversed() -> None:
    tau, treated, y, rng = _campaign(200_000, 1)
    oracle = qini_coefficient(tau, treated, y)
    rand = qini_coefficient(rng.random(tau.size), treated, y)
    assert oracle > 0.02
    assert abs(rand) < 0.1 * oracle
    assert qini_coefficient(-tau, treated, y) < -0.5 * oracle
    assert auuc(tau, treated, y) > auuc(-tau, treated, y)
    assert uplift_at(tau, treated, y, 0.1) == pytest.approx(np.mean(np.sort(tau)[-tau.size // 10:]), abs=0.02)


def test_policy_values_cover_the_truth() -> None:
    n = 400_000
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    arm = rng.integers(0, 3, size=n)
    base = 1.0 + 0.5 * x
    effect = np.column_stack([np.zeros(n), np.where(x > 0, 1.0, -0.5), np.full(n, 0.2)])
    y = base + effect[np.arange(n), arm] + rng.normal(0, 1, n)
    e = np.full((n, 3), 1 / 3)
    policy = np.where(x > 0, 1, 2)
    truth = float(np.mean(base + effect[np.arange(n), policy]))
    mu = base[:, None] + effect
    out = policy_value(policy, arm, y, e, mu)
    for key in ("ipw", "dr"):
        assert out[key]["ci_low"] < truth < out[key]["ci_high"]
    assert out["dr"]["se"] < out["ipw"]["se"]  # good outcome models shrink the interval
    gain = truth - float(np.mean(base))
    assert out["dr_gain"]["ci_low"] < gain < out["dr_gain"]["ci_high"]
    assert out["share_treated"] == 1.0
