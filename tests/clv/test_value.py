"""CLV over long horizons: one pass, equal to the period-by-period sum, bounded inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value, rfm_summary, score
from cxlab.clv.api import params_json
from cxlab.clv.value import _GAUSS_NODES, _discounted_purchases, _discounted_purchases_exact, _period_rule
from cxlab.exceptions import InputDataError
from tests.exports import retail_orders


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


# -- the Gauss rule over periods against the period-by-period sum ------------------------

RATES = (0.001, 0.01, 0.2)


def _both(model, rows: pd.DataFrame, horizon: int, step: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    return (
        _discounted_purchases(model, rows, horizon, step, d),
        _discounted_purchases_exact(model, rows, horizon, step, d),
    )


@pytest.mark.parametrize("horizon", [1, 52, 520])
@pytest.mark.parametrize("model_name", ["bgnbd", "pareto"])
def test_gauss_rule_equals_the_period_sum_on_cdnow(
    model_name: str, horizon: int, bgnbd: BetaGeo, pareto: ParetoNBD, cdnow_summary: pd.DataFrame
) -> None:
    model = bgnbd if model_name == "bgnbd" else pareto
    for d in RATES:
        fast, exact = _both(model, cdnow_summary, horizon, 1.0, d)
        assert np.all(exact > 0)
        np.testing.assert_allclose(fast, exact, rtol=1e-11, atol=0.0)


@pytest.fixture(scope="module")
def retail_summaries() -> dict[str, pd.DataFrame]:
    """The UK retailer's customers (valid invoices only) in weeks and in days."""
    orders = retail_orders()
    orders = orders[orders["customer_id"].notna() & (orders["amount"] > 0)]
    return {unit: rfm_summary(orders, observation_end="2011-03-31", time_unit=unit) for unit in ("W", "D")}


@pytest.mark.parametrize("unit", ["W", "D"])
@pytest.mark.parametrize("model_cls", [BetaGeo, ParetoNBD])
def test_gauss_rule_equals_the_period_sum_on_the_uk_retailer(
    model_cls: type, unit: str, retail_summaries: dict[str, pd.DataFrame]
) -> None:
    summary = retail_summaries[unit]
    model = model_cls().fit(summary)
    # weekly periods on either model's scale, and daily periods on the daily model
    steps = [1.0] if unit == "W" else [7.0, 1.0]
    for step in steps:
        for horizon in (1, 52, 520):
            for d in RATES:
                fast, exact = _both(model, summary, horizon, step, d)
                np.testing.assert_allclose(fast, exact, rtol=1e-11, atol=0.0)


@pytest.mark.parametrize(
    ("model_cls", "params"),
    [
        (BetaGeo, {"r": 0.3, "alpha": 3.0, "a": 1e-8, "b": 1e4}),  # the degenerate daily fit of issue 9
        (BetaGeo, {"r": 0.3, "alpha": 3.0, "a": 1.0, "b": 2.0}),  # a = 1: the averaged removable singularity
        (BetaGeo, {"r": 0.3, "alpha": 3.0, "a": 50.0, "b": 1e4}),
        (BetaGeo, {"r": 30.0, "alpha": 300.0, "a": 2e-4, "b": 3e-4}),
        (ParetoNBD, {"r": 0.55, "alpha": 10.0, "s": 1.0, "beta": 12.0}),  # s = 1: the logarithmic limit
        (ParetoNBD, {"r": 0.55, "alpha": 10.0, "s": 1e-6, "beta": 10.0}),
        (ParetoNBD, {"r": 0.55, "alpha": 10.0, "s": 1e3, "beta": 1e3}),
    ],
)
def test_gauss_rule_on_degenerate_fits(model_cls: type, params: dict, cdnow_summary: pd.DataFrame) -> None:
    model = model_cls()
    model.params_ = params
    rows = cdnow_summary.iloc[::7]
    fast, exact = _both(model, rows, 520, 1.0, 0.01)
    assert np.all(np.isfinite(exact)) and np.all(np.isfinite(fast))
    # a = 1 averages two sides of the singularity; the period sum's differences carry that noise
    np.testing.assert_allclose(fast, exact, rtol=1e-9, atol=0.0)


class _CountingBetaGeo(BetaGeo):
    """BG/NBD that counts the horizons it is evaluated at."""

    def conditional_expected_purchases(self, X, *, t):  # type: ignore[no-untyped-def]
        self.evaluated_ += np.size(t)
        return super().conditional_expected_purchases(X, t=t)


class _ForeignModel:
    """A purchase model cxlab knows nothing about: it keeps the period-by-period sum."""

    def __init__(self, model: BetaGeo) -> None:
        self.model = model
        self.evaluated = 0

    def conditional_expected_purchases(self, X, *, t):  # type: ignore[no-untyped-def]
        self.evaluated += np.size(t)
        return self.model.conditional_expected_purchases(X, t=t)


def test_cost_does_not_grow_with_the_horizon(bgnbd: BetaGeo, ggamma: GammaGamma, few: pd.DataFrame) -> None:
    counting = _CountingBetaGeo()
    counting.params_ = dict(bgnbd.params_)
    for horizon in (52, 5_217):  # a year, and the longest horizon in weeks
        counting.evaluated_ = 0
        customer_lifetime_value(counting, ggamma, few, horizon=horizon, time_unit="W", discount_rate=0.002)
        assert counting.evaluated_ == _GAUSS_NODES + 1
    foreign = _ForeignModel(bgnbd)
    value = customer_lifetime_value(foreign, ggamma, few, horizon=520, time_unit="W", discount_rate=0.002)
    assert foreign.evaluated == 520
    fast = customer_lifetime_value(bgnbd, ggamma, few, horizon=520, time_unit="W", discount_rate=0.002)
    np.testing.assert_allclose(fast, value, rtol=1e-11)


def test_period_rule_is_the_sum_itself_for_short_horizons() -> None:
    periods, weights = _period_rule(_GAUSS_NODES + 1, 0.05)
    np.testing.assert_array_equal(periods, np.arange(1.0, _GAUSS_NODES + 1))
    np.testing.assert_allclose(weights, 1.05 ** -periods, rtol=1e-13)
    periods, weights = _period_rule(10_000, 0.05)
    assert periods.size == _GAUSS_NODES and np.all(np.diff(periods) > 0)
    assert 1.0 - 1e-12 <= periods[0] and periods[-1] <= 10_000
    # the rule integrates what it was built for: powers of log(period) against q**i
    i = np.arange(1.0, 10_000.0)
    for k in (0, 1, 7, 2 * _GAUSS_NODES - 1):
        exact = float(1.05**-i @ np.log(i) ** k)
        assert float(weights @ np.log(periods) ** k) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("model_name", ["bgnbd", "pareto"])
def test_value_grows_with_the_horizon_and_falls_with_the_rate(
    model_name: str, bgnbd: BetaGeo, pareto: ParetoNBD, ggamma: GammaGamma, cdnow_spend: pd.DataFrame
) -> None:
    model = bgnbd if model_name == "bgnbd" else pareto
    rows = cdnow_spend.iloc[::10]
    # across the switch from the period sum (up to 41 periods) to the Gauss rule
    horizons = [1, 2, 13, 40, 41, 42, 43, 52, 104, 520, 2_000, 5_217]
    by_horizon = np.array(
        [customer_lifetime_value(model, ggamma, rows, horizon=h, time_unit="W", discount_rate=0.01) for h in horizons]
    )
    assert np.all(np.diff(by_horizon, axis=0) > 0)
    rates = [0.0, 1e-5, 1e-3, 0.01, 0.1, 0.5, 0.99]
    by_rate = np.array(
        [customer_lifetime_value(model, ggamma, rows, horizon=520, time_unit="W", discount_rate=d) for d in rates]
    )
    assert np.all(np.diff(by_rate, axis=0) < 0)
    # the periods beyond ten years are discounted by at least 1.01**-520 and at most 1.01**-5217
    tail = by_horizon[-1] - by_horizon[-3]
    undiscounted = [customer_lifetime_value(model, ggamma, rows, horizon=h, time_unit="W") for h in (520, 5_217)]
    added = undiscounted[1] - undiscounted[0]
    assert np.all(tail <= 1.01**-520 * added) and np.all(tail >= 1.01**-5_217 * added)


@pytest.mark.parametrize("model_name", ["bgnbd", "pareto"])
def test_score_from_params_takes_the_gauss_rule_to_a_century(
    model_name: str, bgnbd: BetaGeo, pareto: ParetoNBD, ggamma: GammaGamma, cdnow_spend: pd.DataFrame
) -> None:
    """What ``cxlab clv score`` and the service run: models rebuilt from params.json."""
    model = bgnbd if model_name == "bgnbd" else pareto
    params, spend = params_json(model, model_name, time_unit="W"), params_json(ggamma, "ggamma")
    rows = cdnow_spend.iloc[::20]
    scored = score(rows, params, horizon=5_217, spend=spend, discount_rate=0.002)
    exact = ggamma.conditional_expected_spend(rows) * _discounted_purchases_exact(model, rows, 5_217, 1.0, 0.002)
    np.testing.assert_allclose(scored["clv"], exact, rtol=1e-11)
