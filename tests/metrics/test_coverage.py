"""Coverage of the 95% intervals when outcomes are correlated within customer.

Each replication draws 200 customers with 1 + Poisson(4) rows each and a
customer-level success probability from Beta(1.4, 0.6) (mean 0.7, intra-class
correlation 1/3: strongly correlated). The statistics the engine would collect
(per-group sums of customer totals) are built directly in numpy for all
replications at once and passed to the same interval functions
``compute_metrics`` uses.
"""

from __future__ import annotations

import numpy as np

from cxlab.metrics.stats import naive_interval, ratio_interval, wilson_interval

REPS, CUSTOMERS = 2000, 200


def _sums(y: np.ndarray, x: np.ndarray):
    return (y.sum(1), x.sum(1), (y * y).sum(1), (x * x).sum(1), (x * y).sum(1),
            np.full(len(y), y.shape[1]))


def _covers(lo, hi, truth) -> float:
    return float(np.mean((lo <= truth) & (truth <= hi)))


def test_cluster_robust_ratio_covers_and_naive_does_not() -> None:
    rng = np.random.default_rng(20261101)
    m = 1 + rng.poisson(4.0, (REPS, CUSTOMERS))
    p = rng.beta(1.4, 0.6, (REPS, CUSTOMERS))
    y = rng.binomial(m, p).astype(float)
    _, lo, hi = ratio_interval(*_sums(y, m.astype(float)))
    assert 0.93 <= _covers(lo, hi, 0.7) <= 0.97
    # Treating the rows as independent: binary rows, so Σy² = Σy.
    _, nlo, nhi = naive_interval(y.sum(1), y.sum(1), m.sum(1))
    assert _covers(nlo, nhi, 0.7) < 0.88


def test_nps_interval_covers_with_correlated_customers() -> None:
    rng = np.random.default_rng(7)
    m = 1 + rng.poisson(3.0, (REPS, CUSTOMERS))
    # Customer-level shares of (promoter, passive, detractor): Dirichlet, mean (.5, .3, .2).
    shares = rng.dirichlet([1.0, 0.6, 0.4], (REPS, CUSTOMERS))
    counts = np.stack(
        [rng.multinomial(k, s) for k, s in zip(m.ravel(), shares.reshape(-1, 3), strict=True)]
    ).reshape(REPS, CUSTOMERS, 3)
    net = (counts[..., 0] - counts[..., 2]).astype(float)
    _, lo, hi = ratio_interval(*_sums(net, m.astype(float)))
    assert 0.93 <= _covers(lo, hi, 0.5 - 0.2) <= 0.97


def test_wilson_covers_proportions_over_customers() -> None:
    rng = np.random.default_rng(11)
    k = rng.binomial(CUSTOMERS, 0.12, REPS)
    _, lo, hi = wilson_interval(k, np.full(REPS, CUSTOMERS))
    assert 0.93 <= _covers(lo, hi, 0.12) <= 0.97
