"""Library entry points behind ``cxlab clv fit`` and ``cxlab clv score``.

Everything returned is JSON-ready (``params.json``, ``holdout.json``) or a
pandas frame (scores); models travel as their parameters, never pickled, and
:func:`model_from_params` rebuilds an estimator from them.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab.clv.bgnbd import BetaGeo
from cxlab.clv.gammagamma import GammaGamma
from cxlab.clv.holdout import holdout_report
from cxlab.clv.paretonbd import ParetoNBD
from cxlab._frames import as_frame, as_pandas, to_native_like
from cxlab.clv.summary import SUMMARY_UNITS, SummaryTimeUnit, collect_pandas, distinct_tuples, rfm_summary
from cxlab.clv.value import check_discount_rate, check_horizon, customer_lifetime_value
from cxlab.exceptions import ConvergenceError, InputDataError
from cxlab.timeunits import UNIT_DAYS, TimeUnit, check_time_unit

logger = logging.getLogger(__name__)

ModelName = Literal["bgnbd", "pareto", "ggamma"]
PurchaseModelName = Literal["bgnbd", "pareto"]
_CLASSES: dict[str, type[Any]] = {"bgnbd": BetaGeo, "pareto": ParetoNBD, "ggamma": GammaGamma}


def _model_class(model: str) -> type[Any]:
    try:
        return _CLASSES[model]
    except KeyError:
        raise InputDataError(f"model must be one of {', '.join(_CLASSES)}; got {model!r}.") from None


def params_json(estimator: Any, model: str, *, time_unit: str = "W") -> dict[str, Any]:
    """``{"model", "params", "log_likelihood", "standard_errors", "n_customers", "time_unit",
    "diagnostics"}``; ``diagnostics`` lists why the fit is doubtful and what to try (empty
    for a sound fit)."""
    return {
        "model": model,
        "params": dict(estimator.params_),
        "log_likelihood": float(estimator.log_likelihood_),
        "standard_errors": {k: (None if np.isnan(v) else float(v)) for k, v in estimator.standard_errors_.items()},
        "n_customers": int(round(estimator.n_customers_)),
        "time_unit": time_unit,
        "diagnostics": list(getattr(estimator, "diagnostics_", [])),
    }


def doubt_text(diagnostics: Any) -> str:
    """``the fit is doubtful: WHY; WHY. ADVICE`` from a fit's ``diagnostics`` (the reasons,
    then what to try, as :func:`params_json` keeps them); empty when there are none."""
    if not diagnostics:
        return ""
    *why, advice = diagnostics
    return f"the fit is doubtful: {'; '.join(why)}. {advice}"


def model_from_params(params: dict[str, Any]) -> Any:
    """Rebuild a fitted estimator from a ``params.json`` dict (no pickle involved)."""
    cls = _model_class(str(params.get("model")))
    est = cls()
    names = cls._param_names
    given = params.get("params", {})
    missing = [k for k in names if k not in given]
    if missing:
        raise InputDataError(f"params.json: 'params' must have {', '.join(names)}; missing {', '.join(missing)}.")
    est.params_ = {k: float(given[k]) for k in names}
    est.log_likelihood_ = float(params.get("log_likelihood", np.nan))
    errors = params.get("standard_errors", {})
    est.standard_errors_ = {k: float(v) if v is not None else np.nan for k, v in errors.items()}
    est.n_customers_ = float(params.get("n_customers", np.nan))
    est.diagnostics_ = [str(d) for d in params.get("diagnostics", [])]
    return est


def fit_from_summary(
    summary: Any, model: ModelName = "bgnbd", *, sample_weight: Any = None, time_unit: str = "W"
) -> dict[str, Any]:
    """Fit one model on a per-customer summary and return the ``params.json`` dict.

    Parameters
    ----------
    summary : dataframe
        Columns ``frequency, recency, T`` (and ``monetary_value`` for
        ``"ggamma"``), e.g. read from ``--summary FILE.csv``.
    model : {"bgnbd", "pareto", "ggamma"}
    sample_weight : array-like, optional
        Customers per row when ``summary`` holds distinct tuples.
    time_unit : str, default "W"
        Recorded in the result so that scoring knows the unit of ``T``.
    """
    estimator = _model_class(model)().fit(summary, sample_weight=sample_weight)
    return params_json(estimator, model, time_unit=time_unit)


def _fit_purchase_and_spend(
    summary: Any, model: PurchaseModelName, time_unit: str
) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    tuples = collect_pandas(distinct_tuples(summary))
    purchase = _model_class(model)().fit(tuples, sample_weight=tuples["weight"])
    params = params_json(purchase, model, time_unit=time_unit)
    frame = as_frame(summary, name="summary", who="fit_from_orders")
    spend_frame = frame.filter(nw.col("frequency") > 0).select("frequency", "monetary_value")
    try:
        # rows in a fixed order: engines return groups in any order, and the fit's sums must not depend on it
        rows = collect_pandas(spend_frame).sort_values(["frequency", "monetary_value"], kind="stable")
        spend = params_json(GammaGamma().fit(rows.reset_index(drop=True)), "ggamma", time_unit=time_unit)
    except (InputDataError, ConvergenceError) as err:
        logger.warning("Gamma-Gamma spend model not fitted: %s", err)
        spend = None
    return purchase, params, spend


def fit_from_orders(
    orders: Any,
    *,
    observation_end: Any,
    calibration_end: Any = None,
    time_unit: SummaryTimeUnit = "W",
    model: PurchaseModelName = "bgnbd",
    by: str | None = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    day_col: str | None = None,
) -> dict[str, Any]:
    """Raw orders -> engine summary -> purchase model (+ Gamma-Gamma spend), optional holdout.

    Parameters
    ----------
    orders : dataframe
        Any Narwhals-readable orders frame (DuckDB, Polars, Spark, pandas).
    observation_end, calibration_end, time_unit, *_col, day_col
        As in :func:`~cxlab.clv.rfm_summary`. With ``calibration_end`` the
        model is fitted on the calibration period and checked on the holdout.
    model : {"bgnbd", "pareto"}
    by : str, optional
        A column of ``orders`` (e.g. ``marketplace``, joined from customers)
        to fit one model per value.

    Returns
    -------
    dict
        ``{"params": params.json dict, "spend": Gamma-Gamma params.json dict or
        None, "holdout": holdout.json dict or None}``; with ``by``,
        ``{"by": by, "groups": [{by: value, "params", "spend", "holdout"}, ...]}``.
    """
    cols = {"customer_id_col": customer_id_col, "datetime_col": datetime_col, "day_col": day_col}
    if by is not None:
        frame = as_frame(orders, name="orders", who="fit_from_orders")
        if by not in frame.collect_schema().names():
            raise InputDataError(f"fit_from_orders: by={by!r} is not a column of orders.")
        values = collect_pandas(frame.select(by).unique())[by].dropna().sort_values().tolist()
        groups = []
        for value in values:
            part = nw.to_native(frame.filter(nw.col(by) == value))
            result = fit_from_orders(
                part,
                observation_end=observation_end,
                calibration_end=calibration_end,
                time_unit=time_unit,
                model=model,
                monetary_value_col=monetary_value_col,
                **cols,
            )
            groups.append({by: value, **result})
        return {"by": by, "groups": groups}

    if model not in ("bgnbd", "pareto"):
        raise InputDataError(f"fit_from_orders: model must be one of bgnbd, pareto; got {model!r}.")
    summary = rfm_summary(
        orders,
        observation_end=observation_end,
        calibration_end=calibration_end,
        time_unit=time_unit,
        monetary_value_col=monetary_value_col,
        **cols,
    )
    # The engine reduces customers to distinct (frequency, recency, T) tuples and
    # the repeat buyers' spend; only the holdout check needs per-customer rows.
    summary_pd = collect_pandas(summary) if calibration_end is not None else None
    purchase, params, spend = _fit_purchase_and_spend(
        summary_pd if summary_pd is not None else summary, model, time_unit
    )
    holdout = None
    if calibration_end is not None:
        holdout = holdout_report(
            purchase,
            orders,
            observation_end=observation_end,
            calibration_end=calibration_end,
            time_unit=time_unit,
            summary=summary_pd,
            **cols,
        )
    return {"params": params, "spend": spend, "holdout": holdout}


def score(
    summary: Any,
    params: dict[str, Any],
    *,
    horizon: int,
    time_unit: TimeUnit | None = None,
    discount_rate: float = 0.0,
    spend: dict[str, Any] | None = None,
) -> Any:
    """Per-customer ``customer_id, p_alive, expected_purchases, expected_spend, clv``.

    Parameters
    ----------
    summary : dataframe
        Output of :func:`~cxlab.clv.rfm_summary` (``customer_id, frequency,
        recency, T, monetary_value``) in the model's time unit.
    params : dict
        The purchase model's ``params.json`` dict.
    horizon : int
        Number of periods of ``time_unit`` to forecast (at most 100 years).
    time_unit : {"D", "W", "M", "Y"}, optional
        Unit of ``horizon`` and of ``discount_rate``; default the model's own
        unit, recorded in ``params["time_unit"]`` (weeks unless fitted otherwise).
    discount_rate : float, default 0.0
        Discount rate per period, in [0, 1) (see
        :func:`~cxlab.clv.customer_lifetime_value`).
    spend : dict, optional
        The Gamma-Gamma ``params.json`` dict. Without it ``expected_spend`` is
        the customer's ``monetary_value`` (0 without repeats) and so is the CLV
        spend.

    Returns
    -------
    dataframe
        In the caller's kind (pandas for pandas, DuckDB and Spark input;
        Polars for Polars; PyArrow for PyArrow).
    """
    df = as_pandas(summary, name="summary", who="score")
    purchase = model_from_params(params)
    model_unit = check_time_unit(str(params.get("time_unit", "W")), name="params time_unit", who="score")
    unit = model_unit if time_unit is None else check_time_unit(time_unit, name="time_unit", who="score")
    horizon = check_horizon(horizon, unit, who="score", minimum=1)
    discount_rate = check_discount_rate(discount_rate, who="score")
    if "customer_id" in df.columns:
        out = pd.DataFrame({"customer_id": df["customer_id"]})
    else:
        out = pd.DataFrame(index=df.index)
    out["p_alive"] = purchase.probability_alive(df)
    step = UNIT_DAYS[unit] / UNIT_DAYS[model_unit]
    out["expected_purchases"] = purchase.conditional_expected_purchases(df, t=horizon * step)
    if spend is not None:
        spend_model: Any = model_from_params(spend)
    else:
        if "monetary_value" not in df.columns:
            raise InputDataError("score: summary needs 'monetary_value' when no spend model is given.")
        spend_model = _ObservedSpend()
    out["expected_spend"] = spend_model.conditional_expected_spend(df)
    out["clv"] = customer_lifetime_value(
        purchase,
        spend_model,
        df,
        horizon=horizon,
        discount_rate=discount_rate,
        time_unit=unit,  # type: ignore[arg-type]
        model_time_unit=model_unit,  # type: ignore[arg-type]
    )
    return to_native_like(out.reset_index(drop=True), summary)


class _ObservedSpend:
    """Spend model that takes each customer's observed mean repeat spend as is."""

    def conditional_expected_spend(self, X: pd.DataFrame) -> np.ndarray:
        return X["monetary_value"].to_numpy(np.float64)


def score_orders(
    orders: Any,
    params: dict[str, Any],
    *,
    observation_end: Any,
    horizon: int,
    time_unit: TimeUnit | None = None,
    discount_rate: float = 0.0,
    spend: dict[str, Any] | None = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    day_col: str | None = None,
) -> pd.DataFrame:
    """:func:`score` from raw orders: summarize up to ``observation_end`` on the engine, then score.

    Returns a pandas frame (the orders' engine keeps the rows; the scores are
    per customer).
    """
    unit = check_time_unit(
        str(params.get("time_unit", "W")), name="params time_unit", who="score_orders", allowed=SUMMARY_UNITS
    )
    # the cheap checks before the engine summarizes the orders
    check_horizon(horizon, unit if time_unit is None else time_unit, who="score", minimum=1)
    check_discount_rate(discount_rate, who="score")
    summary = rfm_summary(
        orders,
        observation_end=observation_end,
        time_unit=unit,  # type: ignore[arg-type]
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        day_col=day_col,
    )
    scored = score(
        summary, params, horizon=horizon, time_unit=time_unit, discount_rate=discount_rate, spend=spend
    )
    return collect_pandas(scored)
