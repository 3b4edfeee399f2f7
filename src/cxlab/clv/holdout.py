"""Holdout validation of a purchase model: totals, by calibration frequency, tracking curve.

This is the validation of Fader, Hardie & Lee (2005, Marketing Science),
figures 2-4: conditional expectations against actual holdout purchases, grouped
by the number of calibration repeat purchases, and the cumulative repeat
purchases of the whole cohort week by week against the model's expectation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab._checks import check_int
from cxlab._frames import as_pandas, require_columns
from cxlab.clv._base import FloatArray
from cxlab.clv.summary import (
    SUMMARY_UNITS,
    SummaryTimeUnit,
    collect_pandas,
    daily_purchases,
    date_to_day_number,
    rfm_summary,
)
from cxlab.timeunits import UNIT_DAYS, check_time_unit

_EPOCH = dt.date(1970, 1, 1)


class _Model(Protocol):
    def conditional_expected_purchases(self, X: Any, *, t: float | FloatArray) -> FloatArray: ...

    def expected_purchases(self, t: float | FloatArray) -> FloatArray: ...


def holdout_by_frequency(model: _Model, summary: Any, *, max_frequency: int = 7) -> dict[str, Any]:
    """Predicted vs actual holdout repeat purchases, in total and by calibration frequency.

    Parameters
    ----------
    model
        A fitted purchase model (calibration period).
    summary : dataframe
        Output of :func:`~cxlab.clv.rfm_summary` with ``calibration_end``:
        ``frequency, recency, T, frequency_holdout, duration_holdout``.
    max_frequency : int, default 7
        Customers with this many or more calibration repeat purchases form the
        last group (labelled ``"7+"``).

    Returns
    -------
    dict
        ``{"actual_total", "predicted_total", "by_frequency": [{"frequency",
        "label", "n", "actual_mean", "predicted_mean"}, ...]}``.
    """
    df = as_pandas(summary, name="summary", who="holdout_by_frequency")
    max_frequency = check_int(max_frequency, name="max_frequency", who="holdout_by_frequency", low=1, high=1_000)
    needed = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    require_columns(
        df.columns, needed, who="holdout_by_frequency", name="summary",
        hint="Build it with rfm_summary(..., calibration_end=...).",
    )
    predicted = np.asarray(
        model.conditional_expected_purchases(df, t=df["duration_holdout"].to_numpy(np.float64)), dtype=np.float64
    )
    actual = df["frequency_holdout"].to_numpy(np.float64)
    group = np.minimum(df["frequency"].to_numpy(np.int64), max_frequency)
    rows = []
    for g in range(max_frequency + 1):
        mask = group == g
        n = int(mask.sum())
        rows.append(
            {
                "frequency": g,
                "label": f"{g}+" if g == max_frequency else str(g),
                "n": n,
                "actual_mean": float(actual[mask].mean()) if n else None,
                "predicted_mean": float(predicted[mask].mean()) if n else None,
            }
        )
    return {
        "actual_total": float(actual.sum()),
        "predicted_total": float(predicted.sum()),
        "by_frequency": rows,
    }


def tracking_curve(
    model: _Model,
    orders: Any,
    *,
    observation_end: Any,
    calibration_end: Any,
    time_unit: SummaryTimeUnit = "W",
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    day_col: str | None = None,
) -> list[dict[str, Any]]:
    """Weekly cumulative repeat purchases of the calibration cohort: actual vs expected.

    The engine counts repeat purchase days per calendar day and customers per
    first-purchase day; the expectation of week ``k`` is
    ``sum_cohorts n_c E[X(end_k - first_c)]`` (unconditional E[X(t)] of each
    cohort, FHL 2005 figure 2). Weeks start on the cohort's first purchase day.

    Returns
    -------
    list of dict
        ``{"week", "end_date", "period" ("calibration" or "holdout"),
        "actual_cumulative", "predicted_cumulative"}`` per week.
    """
    unit = UNIT_DAYS[check_time_unit(time_unit, name="time_unit", who="tracking_curve", allowed=SUMMARY_UNITS)]
    obs = date_to_day_number(observation_end, name="observation_end")
    cal = date_to_day_number(calibration_end, name="calibration_end")
    daily = daily_purchases(
        orders,
        observation_end=observation_end,
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=None,
        day_col=day_col,
    ).filter(nw.col("_first") <= cal)
    repeats = collect_pandas(
        daily.filter(nw.col("_day") > nw.col("_first")).group_by("_day").agg(nw.len().alias("n"))
    )
    cohorts = collect_pandas(
        daily.filter(nw.col("_day") == nw.col("_first")).group_by("_day").agg(nw.len().alias("n"))
    )
    if cohorts.empty:
        return []
    first = cohorts["_day"].to_numpy(np.int64)
    sizes = cohorts["n"].to_numpy(np.float64)
    start = int(first.min())
    rep_days = repeats["_day"].to_numpy(np.int64)
    rep_n = repeats["n"].to_numpy(np.float64)
    out = []
    n_weeks = int(np.ceil((obs - start + 1) / 7))
    for k in range(1, n_weeks + 1):
        end = min(start + 7 * k - 1, obs)
        elapsed = np.clip(end - first, 0, None) / unit
        predicted = float(sizes @ np.asarray(model.expected_purchases(elapsed), dtype=np.float64))
        out.append(
            {
                "week": k,
                "end_date": (_EPOCH + dt.timedelta(days=end)).isoformat(),
                "period": "calibration" if end <= cal else "holdout",
                "actual_cumulative": float(rep_n[rep_days <= end].sum()),
                "predicted_cumulative": predicted,
            }
        )
    return out


def holdout_report(
    model: _Model,
    orders: Any,
    *,
    observation_end: Any,
    calibration_end: Any,
    time_unit: SummaryTimeUnit = "W",
    summary: Any = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    day_col: str | None = None,
) -> dict[str, Any]:
    """The ``holdout.json`` of ``cxlab clv fit``: totals, by frequency, weekly curve.

    ``summary`` (from :func:`~cxlab.clv.rfm_summary` with the same dates) is
    computed from ``orders`` when not given.
    """
    cols = {"customer_id_col": customer_id_col, "datetime_col": datetime_col, "day_col": day_col}
    if summary is None:
        summary = rfm_summary(
            orders,
            observation_end=observation_end,
            calibration_end=calibration_end,
            time_unit=time_unit,
            monetary_value_col=monetary_value_col,
            **cols,
        )
    report = holdout_by_frequency(model, summary)
    report["weekly"] = tracking_curve(
        model, orders, observation_end=observation_end, calibration_end=calibration_end, time_unit=time_unit, **cols
    )
    return report


def as_frame(report: dict[str, Any]) -> pd.DataFrame:
    """The ``by_frequency`` part of a report as a small pandas table."""
    return pd.DataFrame(report["by_frequency"])
