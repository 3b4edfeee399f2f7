"""Per-customer recency-frequency-monetary summaries, computed by the engine.

Written once against the Narwhals API, so the same code runs on pandas,
Polars, DuckDB and PySpark frames. Timestamps turn into day numbers through
``dt.year()`` and ``dt.ordinal_day()`` and a leap-year formula, which all
engines evaluate alike (unlike epoch seconds, see NOTES-engines.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import narwhals as nw
import pandas as pd

from cxlab._frames import as_frame, as_pandas, native_like, require_columns, to_native_like
from cxlab.exceptions import InputDataError
from cxlab.timeunits import UNIT_DAYS, check_time_unit

SummaryTimeUnit = Literal["D", "W"]
#: Time units a summary can count in (whole days or weeks).
SUMMARY_UNITS = ("D", "W")
_EPOCH = dt.date(1970, 1, 1)


def day_number(expr: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a date or timestamp expression (calendar day).

    ``365 (y - 1970) + leap days before year y + ordinal day - 1``, where the
    leap days come from the Gregorian rule ``(y-1)//4 - (y-1)//100 + (y-1)//400``
    minus its value for 1969 (477). Exact for any Gregorian date from year 1.
    The floor divisions are written as ``floor((y-1) / k)``: for ``y >= 1`` the
    quotient is exact or lies at least ``1/400`` from an integer, so the
    rounding of the division cannot move the floor, and engines evaluate it in
    a few instructions (Narwhals' integer ``//`` becomes a nest of sign tests on
    DuckDB that doubled the time of a summary of ten million orders).
    """
    y = expr.dt.year().cast(nw.Int64)
    y1 = y - 1
    doy = expr.dt.ordinal_day().cast(nw.Int64)

    def floor_div(k: int) -> nw.Expr:
        return (y1 / k).floor().cast(nw.Int64)

    return (y - 1970) * 365 + floor_div(4) - floor_div(100) + floor_div(400) - 477 + doy - 1


def date_to_day_number(value: dt.date | dt.datetime | str | pd.Timestamp, *, name: str) -> int:
    """Day number of a date given as a date, datetime or ISO string (its calendar day)."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise InputDataError(f"{name} must be a date such as '1997-09-30'; got {value!r}.") from err
    if pd.isna(ts):
        raise InputDataError(f"{name} must be a date such as '1997-09-30'; got {value!r}.")
    return (ts.date() - _EPOCH).days


def _names(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> list[str]:
    return list(frame.collect_schema().names())


def daily_purchases(
    orders: Any,
    *,
    observation_end: Any,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    day_col: str | None = None,
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """One row per customer and purchase day up to ``observation_end`` (inclusive).

    Columns ``customer_id``, ``_day`` (day number), ``_amount`` (sum of the
    day's amounts, 0 without a monetary column) and ``_first`` (the customer's
    first purchase day). Purchases on the same day are one purchase.
    """
    frame = as_frame(orders, name="orders", who="rfm_summary")
    names = _names(frame)
    wanted = [customer_id_col, day_col or datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    require_columns(
        names, wanted, who="rfm_summary", name="orders",
        hint="Pass the column names with customer_id_col, datetime_col, monetary_value_col or day_col.",
    )
    obs = date_to_day_number(observation_end, name="observation_end")
    amount = nw.col(monetary_value_col).cast(nw.Float64) if monetary_value_col else nw.lit(0.0)
    daily = (
        frame.select(
            nw.col(customer_id_col).alias("customer_id"),
            day_number(nw.col(day_col or datetime_col)).alias("_day"),
            amount.alias("_amount"),
        )
        .filter(nw.col("_day") <= obs)
        .group_by("customer_id", "_day")
        .agg(nw.col("_amount").sum())
    )
    # a group-by and a join, not ``min().over(customer_id)``: on DuckDB the window
    # (partition, then sort) takes about twice as long as the hash join
    first = daily.group_by("customer_id").agg(nw.col("_day").min().alias("_first"))
    return daily.join(first, on="customer_id")


def rfm_summary(
    orders: Any,
    *,
    observation_end: dt.date | dt.datetime | str,
    calibration_end: dt.date | dt.datetime | str | None = None,
    time_unit: SummaryTimeUnit = "W",
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str | None = "amount",
    day_col: str | None = None,
) -> Any:
    """Per-customer ``frequency, recency, T, monetary_value`` from raw orders.

    Parameters
    ----------
    orders : dataframe
        Any frame Narwhals reads, eager or lazy: pandas, Polars, a DuckDB
        relation, a PySpark DataFrame. One row per order.
    observation_end : date
        Last day of the data (inclusive). Orders after it are ignored.
    calibration_end : date, optional
        Last day of the calibration period (inclusive). When given, only
        customers whose first purchase is on or before it are kept, the
        calibration columns describe the days up to it, and the holdout columns
        describe the days after it up to ``observation_end``.
    time_unit : {"W", "D"}, default "W"
        Unit of ``recency``, ``T`` and ``duration_holdout`` (weeks as in the
        papers, or days).
    customer_id_col, datetime_col, monetary_value_col : str
        Column names in ``orders``. ``monetary_value_col=None`` skips spend
        (``monetary_value`` is then 0).
    day_col : str, optional
        A date column to use as the purchase day instead of the UTC calendar day
        of ``datetime_col`` (e.g. the day in the marketplace's time zone).

    Returns
    -------
    dataframe
        A frame of the same kind as ``orders`` (lazy stays lazy; native in,
        native out; a Narwhals frame in, a Narwhals frame out) with
        columns ``customer_id, frequency, recency, T, monetary_value`` and, with
        ``calibration_end``, ``frequency_holdout, monetary_value_holdout,
        duration_holdout``. ``frequency`` counts repeat purchase days (the
        first purchase day is not a repeat); ``recency`` is the time from the
        first to the last purchase day; ``T`` from the first purchase day to the
        end of the (calibration) period; ``monetary_value`` is the mean of the
        repeat days' spend (0 without repeats). Rows are in no particular order.
    """
    unit = UNIT_DAYS[check_time_unit(time_unit, name="time_unit", who="rfm_summary", allowed=SUMMARY_UNITS)]
    obs = date_to_day_number(observation_end, name="observation_end")
    cal = obs if calibration_end is None else date_to_day_number(calibration_end, name="calibration_end")
    if cal > obs:
        raise InputDataError(
            f"rfm_summary: calibration_end ({calibration_end}) must be on or before observation_end "
            f"({observation_end})."
        )
    if monetary_value_col is None:
        agg = _summary_without_spend(
            orders, obs=obs, cal=cal, customer_id_col=customer_id_col, datetime_col=datetime_col, day_col=day_col
        )
    else:
        agg = _summary_with_spend(
            orders, observation_end=observation_end, cal=cal, customer_id_col=customer_id_col,
            datetime_col=datetime_col, monetary_value_col=monetary_value_col, day_col=day_col,
        )

    def mean_of(total: str, count: str) -> nw.Expr:
        # Engines sum floats on several threads in any order (last-bit noise); a total rounded to
        # 1e-6 money units is the same on every run and engine, and so are the fits that use it.
        safe = nw.when(nw.col(count) > 0).then(nw.col(count)).otherwise(1)
        return nw.when(nw.col(count) > 0).then(nw.col(total).round(6) / safe).otherwise(0.0)

    columns = [
        nw.col("customer_id"),
        nw.col("frequency").cast(nw.Int64),
        ((nw.col("_last") - nw.col("_first")) / unit).cast(nw.Float64).alias("recency"),
        ((cal - nw.col("_first")) / unit).cast(nw.Float64).alias("T"),
        mean_of("_rep_amt", "frequency").cast(nw.Float64).alias("monetary_value"),
    ]
    if calibration_end is not None:
        columns += [
            nw.col("frequency_holdout").cast(nw.Int64),
            mean_of("_hold_amt", "frequency_holdout").cast(nw.Float64).alias("monetary_value_holdout"),
            nw.lit((obs - cal) / unit).cast(nw.Float64).alias("duration_holdout"),
        ]
    return native_like(agg.select(*columns), orders)


def _summary_with_spend(
    orders: Any,
    *,
    observation_end: Any,
    cal: int,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str,
    day_col: str | None,
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """Per-customer aggregates when spend is wanted: the repeat days' spend
    leaves out the first day's, so every day row needs its customer's first day
    (a join of the daily rows with the first days)."""
    daily = daily_purchases(
        orders,
        observation_end=observation_end,
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        day_col=day_col,
    ).filter(nw.col("_first") <= cal)
    in_cal = nw.col("_day") <= cal
    repeat = (nw.col("_day") > nw.col("_first")) & in_cal
    holdout = ~in_cal
    flagged = daily.with_columns(
        nw.when(repeat).then(1).otherwise(0).alias("_rep_n"),
        nw.when(repeat).then(nw.col("_amount")).otherwise(0.0).alias("_rep_amt"),
        nw.when(in_cal).then(nw.col("_day")).otherwise(nw.col("_first")).alias("_cal_day"),
        nw.when(holdout).then(1).otherwise(0).alias("_hold_n"),
        nw.when(holdout).then(nw.col("_amount")).otherwise(0.0).alias("_hold_amt"),
    )
    return flagged.group_by("customer_id").agg(
        nw.col("_rep_n").sum().alias("frequency"),
        nw.col("_first").min(),
        nw.col("_cal_day").max().alias("_last"),
        nw.col("_rep_amt").sum(),
        nw.col("_hold_n").sum().alias("frequency_holdout"),
        nw.col("_hold_amt").sum(),
    )


def _summary_without_spend(
    orders: Any, *, obs: int, cal: int, customer_id_col: str, datetime_col: str, day_col: str | None
) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """Per-customer aggregates without spend: one group-by to purchase days, one
    to customers, no join (every column is an aggregate of the customer's days).

    The same columns as :func:`_summary_with_spend`, the spend totals 0.
    """
    frame = as_frame(orders, name="orders", who="rfm_summary")
    day = day_col or datetime_col
    require_columns(
        _names(frame), [customer_id_col, day], who="rfm_summary", name="orders",
        hint="Pass the column names with customer_id_col, datetime_col or day_col.",
    )
    days = (
        frame.select(nw.col(customer_id_col).alias("customer_id"), day_number(nw.col(day)).alias("_day"))
        .filter(nw.col("_day") <= obs)
        .group_by("customer_id", "_day")
        .agg(nw.len().alias("_n"))
    )
    in_cal = nw.col("_day") <= cal
    return (
        days.with_columns(
            nw.when(in_cal).then(1).otherwise(0).alias("_cal_n"),
            nw.when(in_cal).then(nw.col("_day")).alias("_cal_day"),  # null after cal: max skips it
        )
        .group_by("customer_id")
        .agg(
            nw.col("_day").min().alias("_first"),
            nw.col("_cal_n").sum().alias("_cal_n"),
            nw.col("_cal_day").max().alias("_last"),
            nw.len().alias("_n_days"),
        )
        .filter(nw.col("_first") <= cal)
        .with_columns(
            (nw.col("_cal_n") - 1).alias("frequency"),
            (nw.col("_n_days") - nw.col("_cal_n")).alias("frequency_holdout"),
            nw.lit(0.0).alias("_rep_amt"),
            nw.lit(0.0).alias("_hold_amt"),
        )
    )


def distinct_tuples(summary: Any) -> Any:
    """Distinct ``(frequency, recency, T)`` rows with their counts, computed by the engine.

    The result (column ``weight``) is what the purchase models fit on:
    ``BetaGeo().fit(t, sample_weight=t["weight"])`` equals a fit on every row.
    A billion orders shrink to at most a few hundred thousand tuples. It is
    sorted by ``frequency, recency, T`` and comes back in the caller's kind
    (pandas for pandas, DuckDB and Spark; Polars for Polars; PyArrow for
    PyArrow; see :mod:`cxlab._frames`).
    """
    frame = as_frame(summary, name="summary", who="distinct_tuples")
    names = _names(frame)
    missing = [c for c in ("frequency", "recency", "T") if c not in names]
    if missing:
        raise InputDataError(
            f"distinct_tuples: summary must have columns frequency, recency, T; missing {', '.join(missing)}."
        )
    grouped = frame.group_by("frequency", "recency", "T").agg(nw.len().alias("weight"))
    if isinstance(grouped, nw.LazyFrame):
        grouped = grouped.collect()
    out = grouped.to_pandas().sort_values(["frequency", "recency", "T"], ignore_index=True)
    return to_native_like(out, summary)


def collect_pandas(frame: Any) -> pd.DataFrame:
    """Collect any Narwhals-readable frame into pandas (for small results)."""
    return as_pandas(frame, name="frame", who="collect_pandas")
