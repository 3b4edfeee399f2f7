"""The sampling view of a total: its interval covers the process mean at the nominal rate."""

from __future__ import annotations

import numpy as np

from cxlab.metrics.stats import total_interval


def test_total_interval_covers_the_expected_total() -> None:
    rng = np.random.default_rng(7)
    n, reps = 300, 2000
    # skewed per-customer revenue: lognormal with known mean
    mu, sigma = 3.0, 1.0
    y = rng.lognormal(mu, sigma, size=(reps, n))
    expected_total = n * np.exp(mu + sigma**2 / 2)
    _, low, high = total_interval(y.sum(axis=1), (y * y).sum(axis=1), np.full(reps, n))
    coverage = np.mean((low <= expected_total) & (expected_total <= high))
    assert 0.92 <= coverage <= 0.97


def test_total_interval_needs_two_customers() -> None:
    value, low, high = total_interval(np.array([5.0]), np.array([25.0]), np.array([1]))
    assert value[0] == 5.0 and np.isnan(low[0]) and np.isnan(high[0])
