"""The change-start estimate of an alarm, the long-run variance factor and the
refit interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.exceptions import InputDataError
from cxlab.metrics import METRICS
from cxlab.monitor import monitor_series, series_from_metrics
from cxlab.monitor.baseline import long_run_factor
from cxlab.monitor.charts import change_start


def _brute_force(x: np.ndarray, w: np.ndarray, direction: int) -> int:
    """argmax over splits of the two-segment Gaussian log-likelihood (variance
    1 / w per point, both means free), among splits whose means differ in
    ``direction``: each segment's mean is its weighted mean."""
    best, at = -np.inf, -1
    for tau in range(1, x.size):
        a, b, wa, wb = x[:tau], x[tau:], w[:tau], w[tau:]
        ma, mb = np.average(a, weights=wa), np.average(b, weights=wb)
        if direction * (mb - ma) <= 0:
            continue
        loglik = -0.5 * ((wa * (a - ma) ** 2).sum() + (wb * (b - mb) ** 2).sum())
        if loglik > best:
            best, at = loglik, tau
    return at


@pytest.mark.parametrize("seed", range(6))
def test_change_start_is_the_likelihood_maximizer(seed) -> None:
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.5, 3.0, 50)  # each point its own known sd
    x = rng.standard_normal(50) * sd
    x[35:] += 1.5 * sd[35:]
    w = 1.0 / sd**2
    x[rng.choice(50, 6, replace=False)] = np.nan  # closed days are skipped
    w[rng.choice(50, 3, replace=False)] = 0.0  # so are points of no weight
    for direction in (1, -1):
        ok = np.flatnonzero(~np.isnan(x) & (w > 0))
        expect = _brute_force(x[ok], w[ok], direction)
        got = change_start(x, w, 49, 0, direction)
        assert got == (ok[expect] if expect >= 0 else 49)
    assert change_start(x, w, 49, 10, 1) >= 10  # never before the last in-control restart


def test_equal_weights_do_not_matter() -> None:
    """With one variance for all points the estimate does not depend on it."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(80)
    x[60:] -= 1.0
    one = change_start(x, np.ones(80), 79, 0, -1)
    assert change_start(3.0 * x, np.full(80, 1 / 9), 79, 0, -1) == one
    assert 50 <= one <= 70


def test_baseline_bias_before_the_change_does_not_pull_the_start_back() -> None:
    """A baseline 0.7 sd off for seven weeks, then a 2 sd step caught after three
    points: the start is the step. Taking the before-mean as zero (Pignatiello
    & Samuel) dates most of them at the start of the bias instead."""
    rng = np.random.default_rng(3)
    hits_two, hits_known = 0, 0
    w = np.ones(60)
    for _ in range(400):
        x = rng.standard_normal(60)
        x[10:] += 0.7
        x[57:] += 2.0
        hits_two += abs(change_start(x, w, 59, 0, 1) - 57) <= 1
        tail = np.cumsum(x[::-1])[::-1]
        hits_known += abs(int(np.argmax(tail**2 / np.arange(60, 0, -1))) - 57) <= 1
    assert hits_two >= 0.5 * 400
    assert hits_two >= 2 * hits_known


def test_change_start_edge_cases() -> None:
    w = np.ones(5)
    x = np.array([np.nan, np.nan, 2.5])
    assert change_start(x, w[:3], 2, 0, 1) == 2  # a single point: the change starts there
    assert change_start(np.full(4, np.nan), w[:4], 3, 0, 1) == 3
    y = np.array([0.1, -0.2, 0.0, 3.0, 3.2])
    assert change_start(y, w, 4, 0, 1) == 3
    assert change_start(-y, w, 4, 0, -1) == 3
    assert change_start(y, w, 4, 0, -1) == 4  # every split rises: no downward change, the alarm's point
    assert change_start(np.arange(5.0), w, 4, 0, -1) == 4  # no split in the direction: the alarm's point


def test_long_run_factor_measures_autocorrelation() -> None:
    """Independent residuals: about 1. AR(1) with phi 0.5: the long-run variance
    (1 + phi) / (1 - phi) = 3, less the small-block bias (about 2.8 at 28)."""
    rng = np.random.default_rng(0)
    T = 2800
    iid = rng.standard_normal((40, T))
    ar = np.zeros((40, T))
    e = rng.standard_normal((40, T)) * np.sqrt(1 - 0.25)
    for t in range(1, T):
        ar[:, t] = 0.5 * ar[:, t - 1] + e[:, t]
    train = np.ones(T, dtype=bool)
    f_iid = long_run_factor(iid, train)
    f_ar = long_run_factor(ar, train)
    assert np.median(f_iid) == pytest.approx(1.0, abs=0.15)
    assert f_iid.min() >= 1.0
    assert np.median(f_ar) == pytest.approx(2.8, rel=0.12)
    short = long_run_factor(ar[:, :50], np.ones(50, dtype=bool))  # fewer than four blocks of 14
    assert (short == 1.0).all()


def _orders(days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = [str(np.datetime64("2024-01-01") + i) for i in range(days)]
    rows = [("orders", d, "A", float(rng.poisson(30 + 0.05 * i)), np.nan, np.nan, 30, 30.0, np.nan)
            for i, d in enumerate(dates)]
    return pd.DataFrame(rows, columns=["metric", "period_start", "segment", "value", "ci_low", "ci_high", "n",
                                       "numerator", "denominator"])


def test_refit_is_the_default_and_zero_fits_once() -> None:
    s = series_from_metrics(_orders(400), by=["segment"], grain="day", catalog=METRICS, metrics=["orders"])
    base = "2024-01-01:2024-06-30"
    default = monitor_series(s, baseline=base).charts
    every_28 = monitor_series(s, baseline=base, refit_days=28).charts
    once = monitor_series(s, baseline=base, refit_days=0).charts
    assert np.allclose(default["expected"], every_28["expected"])
    assert not np.allclose(default["expected"], once["expected"])
    for bad in (-1, 3661, 2.5, True):
        with pytest.raises(InputDataError, match="refit_days: expected a whole number of points from 0"):
            monitor_series(s, baseline=base, refit_days=bad)
