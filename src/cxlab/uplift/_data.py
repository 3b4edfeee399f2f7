"""Campaign rows for uplift models: features before ``assigned_ts``, outcomes after it.

Written once with Narwhals (runs on DuckDB, Polars and Spark); only one row
per customer is collected. Features of a customer as of time t use only rows
strictly before t; outcomes use rows in ``[t, t + window_days)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab.exceptions import InputDataError
from cxlab.features._time import DAY_S, days, with_seconds
from cxlab.money import with_reporting_rate
from cxlab.schema import MARKETPLACES

Outcome = Literal["conversion", "revenue", "orders", "visit"]
OUTCOMES: tuple[str, ...] = ("conversion", "revenue", "orders", "visit")
#: History features, in output order (customer attributes follow them).
HISTORY: tuple[str, ...] = (
    "recency_days", "frequency", "spend", "avg_order_value", "tenure_days", "events_30d",
    "surveys_answered", "past_satisfaction",
)
_EVENT_DAYS = 30.0
_SKIP = ("customer_id", "signup_ts")


def _require(tables: Mapping[str, nw.LazyFrame], *names: str, who: str) -> None:
    missing = [n for n in names if n not in tables]
    if missing:
        raise InputDataError(
            f"{who}: the dataset has no {', '.join(map(repr, missing))} table; it has "
            f"{', '.join(sorted(tables))}. Add it (or map it in the project file)."
        )


def _currency(tables: Mapping[str, nw.LazyFrame], orders: nw.LazyFrame, reporting: str) -> nw.LazyFrame:
    """Orders with ``_amount`` in the reporting currency (order currency, else the marketplace's)."""
    cols = orders.collect_schema().names()
    market = tables["customers"].select("customer_id", "marketplace")
    orders = orders.join(market, on="customer_id", how="left")
    default: nw.Expr = nw.lit(reporting)
    for code, m in MARKETPLACES.items():
        default = nw.when(nw.col("marketplace") == code).then(nw.lit(m.currency)).otherwise(default)
    cur = nw.when(nw.col("currency").is_null()).then(default).otherwise(nw.col("currency")) if "currency" in cols \
        else default
    orders = with_reporting_rate(orders.with_columns(cur.alias("_cur")), tables.get("fx"), reporting,
                                 currency_col="_cur")
    return orders.with_columns((nw.col("amount") * nw.col("_rate")).alias("_amount"))


def history_features(
    tables: Mapping[str, nw.LazyFrame], anchors: nw.LazyFrame, *, reporting_currency: str,
) -> nw.LazyFrame:
    """Per anchor (``customer_id, _asof_s``): :data:`HISTORY` and every extra customer column.

    Only orders, events and survey answers strictly before ``_asof_s`` count.
    ``past_satisfaction`` is the mean answered score on a 0-1 scale (``csat5``
    (s-1)/4, ``nps11`` s/10), null without answers.
    """
    asof = nw.col("_asof_s")
    customers = tables["customers"]
    attrs = [c for c in customers.collect_schema().names() if c not in _SKIP]
    cust = with_seconds(customers, {"signup_ts": "_signup_s"}).select("customer_id", "_signup_s", *attrs)
    base = anchors.join(cust, on="customer_id", how="inner")
    orders = with_seconds(_currency(tables, tables["orders"], reporting_currency), {"order_ts": "_t"})
    past = (
        anchors.join(orders.select("customer_id", "_t", "_amount"), on="customer_id", how="inner")
        .filter(nw.col("_t") < asof)
        .group_by("customer_id").agg(
            nw.len().alias("frequency"), nw.col("_amount").sum().alias("spend"), nw.col("_t").max().alias("_last"),
        )
    )
    out = base.join(past, on="customer_id", how="left")
    if "events" in tables:
        ev = with_seconds(tables["events"], {"event_ts": "_t"}).select("customer_id", "_t")
        recent = (
            anchors.join(ev, on="customer_id", how="inner")
            .filter((nw.col("_t") < asof) & (nw.col("_t") >= asof - _EVENT_DAYS * DAY_S))
            .group_by("customer_id").agg(nw.len().alias("events_30d"))
        )
        out = out.join(recent, on="customer_id", how="left")
    if "surveys" in tables and "score" in tables["surveys"].collect_schema().names():
        sv = tables["surveys"]
        scols = sv.collect_schema().names()
        answered_at = "responded_ts" if "responded_ts" in scols else "sent_ts"
        scale = nw.col("scale") if "scale" in scols else nw.lit("csat5")
        norm = nw.when(scale == "nps11").then(nw.col("score") / 10.0).otherwise((nw.col("score") - 1.0) / 4.0)
        sv = with_seconds(sv.filter(~nw.col("score").is_null()), {answered_at: "_t"}).select(
            "customer_id", "_t", norm.alias("_s"))
        sat = (
            anchors.join(sv, on="customer_id", how="inner").filter(nw.col("_t") < asof)
            .group_by("customer_id").agg(nw.len().alias("surveys_answered"), nw.col("_s").mean().alias("past_satisfaction"))
        )
        out = out.join(sat, on="customer_id", how="left")
    names = out.collect_schema().names()
    exprs = {
        "recency_days": days(asof, nw.col("_last")),
        "frequency": nw.col("frequency").fill_null(0).cast(nw.Float64),
        "spend": nw.col("spend").fill_null(0.0).cast(nw.Float64),
        "avg_order_value": nw.col("spend") / nw.col("frequency"),
        "tenure_days": days(asof, nw.col("_signup_s")),
        "events_30d": nw.col("events_30d").fill_null(0).cast(nw.Float64) if "events_30d" in names
        else nw.lit(None, nw.Float64),
        "surveys_answered": nw.col("surveys_answered").fill_null(0).cast(nw.Float64) if "surveys_answered" in names
        else nw.lit(None, nw.Float64),
        "past_satisfaction": nw.col("past_satisfaction") if "past_satisfaction" in names else nw.lit(None, nw.Float64),
    }
    return out.select("customer_id", "_asof_s", *[e.alias(k) for k, e in exprs.items()], *attrs)


def outcomes(
    tables: Mapping[str, nw.LazyFrame], anchors: nw.LazyFrame, *, outcome: Outcome, window_days: float,
    reporting_currency: str,
) -> nw.LazyFrame:
    """Per anchor: ``y`` over ``[_asof_s, _asof_s + window_days)``."""
    asof = nw.col("_asof_s")
    end = asof + window_days * DAY_S
    if outcome == "visit":
        _require(tables, "events", who="uplift: outcome 'visit'")
        rows = with_seconds(tables["events"], {"event_ts": "_t"}).select("customer_id", "_t", nw.lit(1.0).alias("_w"))
    else:
        orders = _currency(tables, tables["orders"], reporting_currency) if outcome == "revenue" else tables["orders"]
        w = nw.col("_amount") if outcome == "revenue" else nw.lit(1.0)
        rows = with_seconds(orders, {"order_ts": "_t"}).select("customer_id", "_t", w.alias("_w"))
    agg = (
        anchors.join(rows, on="customer_id", how="inner").filter((nw.col("_t") >= asof) & (nw.col("_t") < end))
        .group_by("customer_id").agg(nw.len().alias("_n"), nw.col("_w").sum().alias("_sum"))
    )
    y = nw.col("_sum").fill_null(0.0) if outcome in ("revenue",) else nw.col("_n").fill_null(0).cast(nw.Float64)
    if outcome in ("conversion", "visit"):
        y = (nw.col("_n").fill_null(0) > 0).cast(nw.Float64)
    return anchors.join(agg, on="customer_id", how="left").select("customer_id", y.cast(nw.Float64).alias("y"))


def _to_pandas(lf: nw.LazyFrame) -> pd.DataFrame:
    return lf.collect().to_pandas()


def campaign_frame(
    tables: Mapping[str, nw.LazyFrame], *, outcome: Outcome, window_days: float, reporting_currency: str,
) -> pd.DataFrame:
    """One row per treated customer: ``customer_id, action, y, _asof_s`` and the features.

    A customer listed more than once in ``treatments`` keeps the first assignment.
    """
    if outcome not in OUTCOMES:
        raise InputDataError(f"uplift: outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}.")
    _require(tables, "customers", "orders", "treatments", who="uplift")
    tr = with_seconds(tables["treatments"], {"assigned_ts": "_asof_s"})
    first = tr.filter(nw.col("_asof_s") == nw.col("_asof_s").min().over("customer_id"))
    first = first.filter(nw.col("action") == nw.col("action").min().over("customer_id"))
    first = first.unique(["customer_id"]).select("customer_id", nw.col("action").cast(nw.String), "_asof_s")
    anchors = first.select("customer_id", "_asof_s")
    feats = history_features(tables, anchors, reporting_currency=reporting_currency)
    ys = outcomes(tables, anchors, outcome=outcome, window_days=window_days, reporting_currency=reporting_currency)
    frame = _to_pandas(first.join(ys, on="customer_id", how="left").join(feats.drop("_asof_s"), on="customer_id",
                                                                          how="inner"))
    if frame.empty:
        raise InputDataError("uplift: no treated customer matches a row of 'customers'; check the customer ids.")
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def scoring_frame(
    tables: Mapping[str, nw.LazyFrame], *, asof_s: float | None, reporting_currency: str,
) -> pd.DataFrame:
    """One row per customer of ``customers``: the features as of ``asof_s``.

    Default as-of: the latest order or event time in the data (plus a second),
    i.e. what a campaign launched now would know.
    """
    _require(tables, "customers", "orders", who="uplift score")
    if asof_s is None:
        ends = [
            _to_pandas(with_seconds(tables[name], {col: "_t"}).select(nw.col("_t").max()))["_t"].iloc[0]
            for name, col in (("orders", "order_ts"), ("events", "event_ts")) if name in tables
        ]
        ends = [float(e) for e in ends if e is not None and np.isfinite(e)]
        if not ends:
            raise InputDataError("uplift score: the dataset holds no orders; give --asof.")
        asof_s = max(ends) + 1.0
    anchors = tables["customers"].select("customer_id", nw.lit(float(asof_s)).alias("_asof_s"))
    frame = _to_pandas(history_features(tables, anchors, reporting_currency=reporting_currency))
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
