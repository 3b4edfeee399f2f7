"""Refits of the baseline: the trend is kept, and the points of a shift that
no chart has signalled yet stay out of the refit (reference CUSUM)."""

from __future__ import annotations

import numpy as np

from cxlab.monitor.api import ReferenceCusum, _fit, _fit_rolling
from cxlab.monitor.baseline import fit_baseline
from cxlab.monitor.series import SeriesSet

DAYS, TRAIN, REFIT = 400, 200, 28


def _counts(level: float, shift_from: int | None, shift_sd: float, rows: int = 1) -> SeriesSet:
    """Counts at ``level`` with a small alternating wiggle (0.3 sd), shifted by
    ``shift_sd`` sd from ``shift_from``."""
    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + DAYS)
    sd = np.sqrt(level)
    y = level + 0.3 * sd * np.where(np.arange(DAYS) % 2 == 0, 1.0, -1.0)
    if shift_from is not None:
        y[shift_from:] += shift_sd * sd
    value = np.tile(y, (rows, 1))
    return SeriesSet([("orders", f"s{i}") for i in range(rows)], ["count"] * rows, dates, value, value.copy(),
                     np.full(value.shape, np.nan), np.ones(value.shape, bool), "day")


def test_reference_cusum_opens_at_the_shift_and_closes_on_a_signal() -> None:
    z = np.zeros((3, 60))
    z[0, 20:] = -0.7  # a 0.7 sd drop from point 20: an open excursion, no signal yet (0.2 a point)
    z[1, 10:] = 3.0  # a 3 sd rise: signals at point 11 and restarts, again at 13, ...
    z[2, ::2], z[2, 1::2] = 0.4, -0.4  # in control: the CUSUM never leaves zero
    z[0, 30] = np.nan  # a missing point keeps the state
    watch = ReferenceCusum(3)
    watch.run(z, 0, 39)
    since = watch.open_since()
    assert since[0] == 20
    assert since[1] == 38  # signals at 11, 13, ..., 37: the excursion opened after the last restart
    assert since[2] > 10**9
    assert watch.down[0] > 0 and watch.down[0] < watch.h


def test_refit_leaves_out_an_unsignalled_shift() -> None:
    # A 0.6 sd drop 20 days before a refit: the CUSUM (0.1 a day, with the wiggle) has not signalled
    # when the refit comes, so the refitted baseline must stay at the old level.
    refit_at = TRAIN + 2 * REFIT
    series = _counts(100.0, refit_at - 20, -0.6)
    train = np.arange(DAYS) < TRAIN
    expected, sd, z, _ = _fit_rolling(series, train, REFIT)
    block = slice(refit_at, refit_at + REFIT)
    assert np.allclose(expected[0, block], 100.0, atol=0.5)
    # The same window taken whole bends the baseline toward the drop.
    window = np.zeros(DAYS, bool)
    window[refit_at - TRAIN : refit_at] = True
    bent = _fit(series, window, trend_test=False)[0]
    assert np.all(bent[0, block] < 100.0 - 1.0)
    # In control, nothing is left out: the refits follow the in-control level.
    quiet = _fit_rolling(_counts(100.0, None, 0.0), train, REFIT)[0]
    assert np.allclose(quiet[0, TRAIN:], 100.0, atol=0.5)


def test_trend_test_can_be_switched_off() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(300)
    y = rng.poisson(50 + 0.01 * t, size=(20, 300)).astype(float)  # a trend too weak for |t| > 3
    train = t < 200
    tested = fit_baseline(y, kind="count", train=train)
    kept = fit_baseline(y, kind="count", train=train, trend_test=False)
    assert (tested.coef[:, 1] == 0).mean() > 0.5
    assert (kept.coef[:, 1] != 0).all()
