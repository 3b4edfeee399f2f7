"""Customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import numpy as np

from cxlab.clv._base import FloatArray
from cxlab.exceptions import InputDataError

TimeUnit = Literal["D", "W", "M"]

#: Length of each time unit in days; a month is 365.25 / 12 days.
UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


class _PurchaseModel(Protocol):
    def conditional_expected_purchases(self, X: Any, *, t: float | FloatArray) -> FloatArray: ...


class _SpendModel(Protocol):
    def conditional_expected_spend(self, X: Any) -> FloatArray: ...


def customer_lifetime_value(
    purchase_model: _PurchaseModel,
    spend_model: _SpendModel,
    X: Any,
    *,
    horizon: int,
    discount_rate: float = 0.0,
    time_unit: TimeUnit = "M",
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

    Parameters
    ----------
    purchase_model
        A fitted :class:`~cxlab.clv.BetaGeo` or :class:`~cxlab.clv.ParetoNBD`.
    spend_model
        A fitted :class:`~cxlab.clv.GammaGamma`.
    X : dataframe
        Columns ``frequency, recency, T`` (in ``model_time_unit``) and
        ``monetary_value``.
    horizon : int
        Number of periods of length ``time_unit`` (e.g. 12 months).
    discount_rate : float, default 0.0
        Discount rate per period (e.g. 0.01 a month, about 12.7% a year).
    time_unit : {"D", "W", "M"}, default "M"
        Length of a period (a month is 365.25/12 days).
    model_time_unit : {"D", "W", "M"}, default "W"
        Time unit of ``recency`` and ``T`` the models were fitted on.

    Returns
    -------
    numpy.ndarray
        CLV per row of ``X``, in the currency of ``monetary_value``.
    """
    if not isinstance(horizon, int | np.integer) or horizon < 0:
        raise InputDataError(f"customer_lifetime_value: horizon must be an integer >= 0; got {horizon!r}.")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise InputDataError(f"customer_lifetime_value: discount_rate must be > -1; got {discount_rate!r}.")
    for name, unit in (("time_unit", time_unit), ("model_time_unit", model_time_unit)):
        if unit not in UNIT_DAYS:
            raise InputDataError(
                f"customer_lifetime_value: {name} must be one of {', '.join(UNIT_DAYS)}; got {unit!r}."
            )
    step = UNIT_DAYS[time_unit] / UNIT_DAYS[model_time_unit]
    spend = np.asarray(spend_model.conditional_expected_spend(X), dtype=np.float64)
    clv = np.zeros_like(spend)
    previous = np.zeros_like(spend)
    for i in range(1, horizon + 1):
        cumulative = np.asarray(purchase_model.conditional_expected_purchases(X, t=i * step), dtype=np.float64)
        clv += spend * (cumulative - previous) / (1.0 + discount_rate) ** i
        previous = cumulative
    return clv
