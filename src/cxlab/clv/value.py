"""Customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from cxlab._frames import as_pandas
from cxlab.clv._base import FloatArray
from cxlab._checks import check_float, check_int
from cxlab.timeunits import UNIT_DAYS, TimeUnit, check_time_unit

#: Longest horizon accepted, in years: beyond a century a forecast means nothing
#: and a horizon of 10**11 periods is a typo, not a question.
MAX_HORIZON_YEARS = 100.0

#: Cells (customers x periods) of one vectorized block of the forecast.
_BLOCK_CELLS = 2_000_000


class _PurchaseModel(Protocol):
    def conditional_expected_purchases(self, X: Any, *, t: float | FloatArray) -> FloatArray: ...


class _SpendModel(Protocol):
    def conditional_expected_spend(self, X: Any) -> FloatArray: ...


def max_horizon(time_unit: str) -> int:
    """The longest horizon accepted, in periods of ``time_unit``: :data:`MAX_HORIZON_YEARS` years."""
    return int(MAX_HORIZON_YEARS * UNIT_DAYS["Y"] / UNIT_DAYS[time_unit])


def check_horizon(horizon: Any, time_unit: str, *, who: str, minimum: int = 0) -> int:
    """``horizon`` (a whole number of ``time_unit`` periods) checked against
    ``minimum`` and :data:`MAX_HORIZON_YEARS`."""
    unit = check_time_unit(time_unit, name="time_unit", who=who)
    limit = max_horizon(unit)
    what = f" periods of {unit} (at most {MAX_HORIZON_YEARS:.0f} years)"
    return check_int(horizon, name="horizon", who=who, low=minimum, high=limit, what=what)


def check_discount_rate(discount_rate: Any, *, who: str) -> float:
    """A discount rate per period in [0, 1)."""
    return check_float(
        discount_rate, name="discount_rate", who=who, low=0.0, high=1.0, high_open=True,
        what=" per period (e.g. 0.01 a month)",
    )


def customer_lifetime_value(
    purchase_model: _PurchaseModel,
    spend_model: _SpendModel,
    X: Any,
    *,
    horizon: int,
    time_unit: TimeUnit,
    discount_rate: float = 0.0,
    model_time_unit: TimeUnit = "W",
) -> FloatArray:
    """Discounted expected spend of each customer over the next ``horizon`` periods.

    ``CLV = sum_{i=1}^{horizon} E[spend] * (E[Y(i)] - E[Y(i-1)]) / (1 + d)**i``,
    where ``E[Y(i)]`` is the purchase model's conditional expected number of
    purchases in the next ``i`` periods and ``d`` the discount rate per period:
    purchases of period ``i`` are discounted as if they happened at its end.
    This is the discrete approximation used by ``lifetimes`` and by Fader,
    Hardie & Lee (2005, JMR "RFM and CLV"), whose closed-form DERT is the
    continuous-time limit.

    Without discounting the sum telescopes to ``E[spend] * E[Y(horizon)]``, one
    model evaluation whatever the horizon. With discounting, the cumulative
    expectations of all periods are evaluated in one vectorized pass over the
    distinct ``(frequency, recency, T)`` rows (blocks of periods x rows), not one
    model evaluation per period.

    Parameters
    ----------
    purchase_model
        A fitted :class:`~cxlab.clv.BetaGeo` or :class:`~cxlab.clv.ParetoNBD`.
    spend_model
        A fitted :class:`~cxlab.clv.GammaGamma`.
    X : dataframe
        Any frame (see :mod:`cxlab._frames`) with columns ``frequency, recency,
        T`` (in ``model_time_unit``) and ``monetary_value``.
    horizon : int
        Number of periods of length ``time_unit`` (e.g. 12 months), at most
        :data:`MAX_HORIZON_YEARS` years.
    time_unit : {"D", "W", "M", "Y"}
        Length of a period (a month is 365.25/12 days, a year 365.25); required,
        so that a horizon always says its unit.
    discount_rate : float, default 0.0
        Discount rate per period, in [0, 1) (e.g. 0.01 a month, about 12.7% a year).
    model_time_unit : {"D", "W", "M", "Y"}, default "W"
        Time unit of ``recency`` and ``T`` the models were fitted on.

    Returns
    -------
    numpy.ndarray
        CLV per row of ``X``, in the currency of ``monetary_value``.
    """
    who = "customer_lifetime_value"
    horizon = check_horizon(horizon, time_unit, who=who)
    discount_rate = check_discount_rate(discount_rate, who=who)
    model_unit = check_time_unit(model_time_unit, name="model_time_unit", who=who)
    step = UNIT_DAYS[time_unit] / UNIT_DAYS[model_unit]
    X = as_pandas(X, name="X", who=who)
    spend = np.asarray(spend_model.conditional_expected_spend(X), dtype=np.float64)
    if horizon == 0 or spend.size == 0:
        return np.zeros_like(spend)
    if discount_rate == 0.0:
        # the sum of the period increments telescopes to E[Y(horizon)]: one evaluation
        total = purchase_model.conditional_expected_purchases(X, t=horizon * step)
        return spend * np.asarray(total, dtype=np.float64)
    return spend * _discounted_purchases(purchase_model, X, horizon, step, discount_rate)


def _discounted_purchases(
    purchase_model: _PurchaseModel, X: Any, horizon: int, step: float, discount_rate: float
) -> FloatArray:
    """``sum_i (E[Y(i)] - E[Y(i-1)]) / (1 + d)**i`` per row, in one vectorized pass.

    The expectations depend on a row through ``frequency, recency, T`` only, so
    they are computed once per distinct triple, for blocks of periods at once
    (``t`` as a column against the rows).
    """
    rfm = X[["frequency", "recency", "T"]].to_numpy(dtype=np.float64)
    distinct, inverse = np.unique(rfm, axis=0, return_inverse=True)
    rows = pd.DataFrame(distinct, columns=["frequency", "recency", "T"])
    n = len(rows)
    block = max(1, _BLOCK_CELLS // n)
    log_discount = np.log1p(discount_rate)
    out = np.zeros(n)
    previous = np.zeros(n)
    for start in range(1, horizon + 1, block):
        periods = np.arange(start, min(start + block, horizon + 1), dtype=np.float64)
        cumulative = np.asarray(
            purchase_model.conditional_expected_purchases(rows, t=(periods * step)[:, None]), dtype=np.float64
        ).reshape(periods.size, n)
        increments = np.diff(cumulative, axis=0, prepend=previous[None, :])
        out += np.exp(-log_discount * periods) @ increments
        previous = cumulative[-1]
    return out[inverse.ravel()]
