"""CLV over long horizons: one pass, equal to the period-by-period sum, bounded inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value, score
from cxlab.clv.api import params_json
from cxlab.exceptions import InputDataError


def _loop_clv(model, spend_model, x: pd.DataFrame, *, horizon: int, step: float, d: float) -> np.ndarray:
    """The definition, period by period: sum_i spend (E[Y(i)] - E[Y(i-1)]) / (1+d)**i.

    Each customer's cumulative expectations come from one call with ``t`` over
    all periods (a row against a vector of horizons); the discounted sum is an
    explicit loop.
    """
    spend = spend_model.conditional_expected_spend(x)
    out = []
    for k in range(len(x)):
        row = x.iloc[[k]]
        cum = model.conditional_expected_purchases(row, t=step * np.arange(horizon + 1, dtype=float))
        total = 0.0
        for i in range(1, horizon + 1):
            total += (cum[i] - cum[i - 1]) / (1.0 + d) ** i
        out.append(spend[k] * total)
    return np.array(out)


@pytest.fixture(scope="module")
def few(cdnow_spend: pd.DataFrame) -> pd.DataFrame:
    # a one-time buyer, a frequent one, a lapsed one and two ties (the distinct-row path)
    rows = cdnow_spend.iloc[[0, 1, 2, 3, 3, 10, 41]].reset_index(drop=True)
    assert rows["frequency"].nunique() > 2
    return rows


@pytest.mark.parametrize("model_name", ["bgnbd", "pareto"])
def test_ten_thousand_periods_equal_the_period_loop(
    model_name: str, bgnbd: BetaGeo, pareto: ParetoNBD, ggamma: GammaGamma, few: pd.DataFrame
) -> None:
    model = bgnbd if model_name == "bgnbd" else pareto
    clv = customer_lifetime_value(model, ggamma, few, horizon=10_000, time_unit="D", discount_rate=0.0005)
    oracle = _loop_clv(model, ggamma, few, horizon=10_000, step=1 / 7, d=0.0005)
    np.testing.assert_allclose(clv, oracle, rtol=1e-9)
    assert clv[3] == clv[4]  # identical customers, identical value


def test_undiscounted_clv_is_spend_times_expected_purchases(
    bgnbd: BetaGeo, ggamma: GammaGamma, few: pd.DataFrame
) -> None:
    clv = customer_lifetime_value(bgnbd, ggamma, few, horizon=520, time_unit="W")
    expected = ggamma.conditional_expected_spend(few) * bgnbd.conditional_expected_purchases(few, t=520.0)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)
    oracle = _loop_clv(bgnbd, ggamma, few, horizon=520, step=1.0, d=0.0)
    np.testing.assert_allclose(clv, oracle, rtol=1e-9)


def test_discounting_never_raises_value(bgnbd: BetaGeo, ggamma: GammaGamma, few: pd.DataFrame) -> None:
    plain = customer_lifetime_value(bgnbd, ggamma, few, horizon=60, time_unit="M")
    discounted = customer_lifetime_value(bgnbd, ggamma, few, horizon=60, time_unit="M", discount_rate=0.01)
    assert np.all(discounted <= plain + 1e-12) and np.all(discounted > 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 10**11, "time_unit": "W"}, r"horizon must be a whole number in \[0, 5,217\] periods of W"),
        ({"horizon": 101, "time_unit": "Y"}, r"at most 100 years\); got 101"),
        ({"horizon": -1, "time_unit": "M"}, r"horizon must be a whole number in \[0, 1,200\]"),
        ({"horizon": 2.5, "time_unit": "M"}, "horizon must be a whole number .*; got 2.5"),
        ({"horizon": True, "time_unit": "M"}, "horizon must be a whole number"),
        ({"horizon": 12, "time_unit": "M", "discount_rate": 1.0}, r"discount_rate must be a number in \[0, 1\) per period"),
        ({"horizon": 12, "time_unit": "M", "discount_rate": -0.1}, "discount_rate must be"),
        ({"horizon": 12, "time_unit": "M", "discount_rate": math.nan}, "discount_rate must be"),
        ({"horizon": 12, "time_unit": "M", "discount_rate": "5%"}, "discount_rate must be"),
        ({"horizon": 12, "time_unit": "M", "model_time_unit": "fortnight"}, "model_time_unit must be one of"),
    ],
)
def test_bad_clv_arguments_are_input_errors(
    kwargs: dict, message: str, bgnbd: BetaGeo, ggamma: GammaGamma, few: pd.DataFrame
) -> None:
    with pytest.raises(InputDataError, match=message):
        customer_lifetime_value(bgnbd, ggamma, few, **kwargs)


def test_score_converts_the_horizon_unit(bgnbd: BetaGeo, ggamma: GammaGamma, few: pd.DataFrame) -> None:
    params, spend = params_json(bgnbd, "bgnbd", time_unit="W"), params_json(ggamma, "ggamma")
    by_year = score(few, params, horizon=2, time_unit="Y", spend=spend, discount_rate=0.05)
    direct = customer_lifetime_value(bgnbd, ggamma, few, horizon=2, time_unit="Y", discount_rate=0.05)
    np.testing.assert_allclose(by_year["clv"], direct, rtol=1e-12)
    np.testing.assert_allclose(
        by_year["expected_purchases"], bgnbd.conditional_expected_purchases(few, t=2 * 365.25 / 7), rtol=1e-12
    )
    with pytest.raises(InputDataError, match="score: horizon must be a whole number in"):
        score(few, params, horizon=100_000_000_000)
    with pytest.raises(InputDataError, match="score: horizon must be a whole number in \\[1,"):
        score(few, params, horizon=0)
