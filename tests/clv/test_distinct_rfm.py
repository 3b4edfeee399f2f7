"""distinct_rfm: grid-numbered, hashed and counted paths give the pandas groupby."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.clv._base import _grid_codes, distinct_rfm


def _groupby(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t, "w": w})
    return frame.groupby(["x", "t_x", "T"], as_index=False)["w"].sum()


def _check(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray | None) -> None:
    tuples = distinct_rfm(x, t_x, big_t, w)
    expected = _groupby(x, t_x, big_t, np.ones(x.size) if w is None else w)
    expected = expected[expected["w"] > 0]
    np.testing.assert_array_equal(tuples.x, expected["x"].to_numpy(dtype=float))
    np.testing.assert_array_equal(tuples.t_x, expected["t_x"].to_numpy())
    np.testing.assert_array_equal(tuples.T, expected["T"].to_numpy())
    np.testing.assert_array_equal(tuples.weight, expected["w"].to_numpy(dtype=float))
    assert tuples.weight.dtype == np.float64


def _week_grid(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    big_days = rng.integers(0, 273, n)
    x = rng.poisson(1.5, n)
    rec_days = np.where(x > 0, rng.integers(0, 273, n) % (big_days + 1), 0)
    return x, rec_days / 7.0, big_days / 7.0


@pytest.mark.parametrize("weighted", [False, True])
def test_days_in_weeks_are_numbered_on_their_grid(weighted: bool) -> None:
    x, t_x, big_t = _week_grid(5_000, 1)
    codes = _grid_codes(big_t)
    assert codes is not None
    ranks, values = codes
    np.testing.assert_array_equal(values, np.unique(big_t))
    np.testing.assert_array_equal(values[ranks], big_t)
    w = np.random.default_rng(2).integers(0, 4, x.size).astype(float) if weighted else None
    _check(x, t_x, big_t, w)
    _check(x.astype(float), t_x, big_t, w)


def test_whole_numbers_are_their_own_grid() -> None:
    days = np.array([3.0, 0.0, 3.0, 10.0, 7.0])
    ranks, values = _grid_codes(days)  # type: ignore[misc]
    np.testing.assert_array_equal(values, [0.0, 3.0, 7.0, 10.0])
    np.testing.assert_array_equal(ranks, [1, 0, 1, 3, 2])


def test_values_off_the_grid_are_hashed_not_merged() -> None:
    x, t_x, big_t = _week_grid(2_000, 3)
    # a value within 1e-12 of a grid point: rounding would merge it with the grid value
    big_t = big_t.copy()
    big_t[7] = big_t[8] + 1e-12
    assert _grid_codes(big_t) is None
    _check(x, t_x, big_t, None)
    assert _grid_codes(np.array([0.1, 0.12, 2.5])) is None  # 0.7 and 0.84 weeks round to one day
    assert _grid_codes(np.array([-1.0, 2.0])) is None  # negative: left to the checks
    # off the grid but one value per grid point: a valid numbering all the same
    ranks, values = _grid_codes(np.array([2.5, 0.1, 1 / 3, 0.1]))  # type: ignore[misc]
    np.testing.assert_array_equal(values, [0.1, 1 / 3, 2.5])
    np.testing.assert_array_equal(ranks, [2, 0, 1, 0])


def test_hand_made_export_in_weeks() -> None:
    """A few customers as a summary export gives them (weeks of days, one repeat-free)."""
    frame = pd.DataFrame(
        {
            "frequency": [2, 0, 2, 5, 0],
            "recency": [10 / 7, 0.0, 10 / 7, 200 / 7, 0.0],
            "T": [38 / 7, 20 / 7, 38 / 7, 273 / 7, 20 / 7],
        }
    )
    tuples = distinct_rfm(*(frame[c].to_numpy() for c in ("frequency", "recency", "T")), None)
    assert tuples.x.tolist() == [0.0, 2.0, 5.0]
    assert tuples.weight.tolist() == [2.0, 2.0, 1.0]
    assert tuples.T.tolist() == [20 / 7, 38 / 7, 273 / 7]
