"""Features of survey invitations and orders, as of the moment of invitation.

Every feature of a row is computed from what was known at its *as-of time*
(``asof_ts``): the invitation's ``sent_ts`` or, for an order that was never
invited, the moment it would have been invited (see :func:`order_features`).
Nothing recorded after that moment enters a feature, so a model trained on
these rows can be used at invitation time, and population estimates over all
orders compare like with like. ``docs/features.md`` lists every feature.

Written once with Narwhals; runs on DuckDB, Polars and Spark. The only
engine-specific step is turning timestamps into epoch seconds
(:func:`cxlab.engine.epoch_seconds`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import narwhals as nw

from cxlab._frames import as_tables, native_like
from cxlab.exceptions import InputDataError
from cxlab.features._time import DAY_S, days, with_seconds
from cxlab.money import with_reporting_rate
from cxlab.schema import DEFAULT_REPORTING_CURRENCY, MARKETPLACES, TABLES

logger = logging.getLogger(__name__)

#: Days before the order whose customer contacts count as "around the order".
CONTACT_WINDOW_DAYS = 7.0
#: Days of app and web events counted before the as-of time.
EVENT_WINDOW_DAYS = 30.0

#: Feature columns, in output order (customer attributes follow them).
FEATURES: tuple[str, ...] = (
    "marketplace", "category", "amount_reporting", "delivered", "delay_days", "late",
    "days_late", "returned", "contacts", "contacts_around_order", "prior_orders",
    "days_since_prior_order", "tenure_days", "events_30d",
)
_KEY = "_key"


def _require(tables: Mapping[str, nw.LazyFrame], *names: str) -> None:
    missing = [n for n in names if n not in tables]
    if missing:
        raise InputDataError(
            f"features: the dataset has no {', '.join(map(repr, missing))} table; "
            f"it has {', '.join(sorted(tables))}. Satisfaction features need "
            "customers, orders and surveys."
        )


def _columns(lf: nw.LazyFrame) -> list[str]:
    return list(lf.collect_schema().names())


def _count_in_window(
    anchors: nw.LazyFrame, other: nw.LazyFrame, on: str, start: nw.Expr, end: nw.Expr,
    time_s: str, name: str,
) -> nw.LazyFrame:
    """Per anchor key: rows of ``other`` sharing ``on`` with start <= time < end."""
    joined = anchors.join(other, on=on, how="inner")
    return (
        joined.filter((nw.col(time_s) >= start) & (nw.col(time_s) < end))
        .group_by(_KEY).agg(nw.len().alias(name))
    )


def _order_columns(orders: nw.LazyFrame) -> tuple[nw.LazyFrame, list[str]]:
    """Order columns the features need, timestamps as seconds, and the extra columns."""
    cols = _columns(orders)
    extra = [c for c in cols if TABLES["orders"].column(c) is None]
    exprs = [nw.col("order_id"), nw.col("customer_id"), nw.col("_order_s"), nw.col("amount"), *extra]
    for name, dtype in (
        ("currency", nw.String), ("category", nw.String), ("returned", nw.Boolean),
        ("_promised_s", nw.Float64), ("_delivered_s", nw.Float64),
    ):
        present = name in cols or (name.startswith("_") and name[1:-2] + "_ts" in cols)
        exprs.append(nw.col(name) if present else nw.lit(None, dtype).alias(name))
    seconds = {"order_ts": "_order_s"}
    seconds |= {c: f"_{c[:-3]}_s" for c in ("promised_ts", "delivered_ts") if c in cols}
    return with_seconds(orders, seconds).select(exprs), extra


def _currency_of(marketplace: nw.Expr) -> nw.Expr:
    expr: nw.Expr = nw.lit(None, nw.String)
    for code, market in MARKETPLACES.items():
        expr = nw.when(marketplace == code).then(nw.lit(market.currency)).otherwise(expr)
    return expr


def _fx_rate(
    base: nw.LazyFrame, tables: Mapping[str, nw.LazyFrame], reporting_currency: str
) -> nw.LazyFrame:
    """Add ``_rate``: units of reporting currency per unit of the order's currency."""
    return with_reporting_rate(base, tables.get("fx"), reporting_currency, currency_col="_cur")


def _build(
    anchors: nw.LazyFrame,
    tables: Mapping[str, nw.LazyFrame],
    reporting_currency: str,
) -> nw.LazyFrame:
    """Features of ``anchors`` (``_key``, customer_id, order_id, ``_asof_s``)."""
    orders, order_extra = _order_columns(tables["orders"])
    customers = tables["customers"]
    cust_cols = [c for c in _columns(customers) if c not in ("customer_id", "signup_ts", "marketplace")]
    customers = with_seconds(customers, {"signup_ts": "_signup_s"}).select(
        "customer_id", "marketplace", "_signup_s", *cust_cols
    )
    base = anchors.join(orders.drop("customer_id"), on="order_id", how="left").join(
        customers, on="customer_id", how="left"
    )
    asof = nw.col("_asof_s")
    # An order's time, else (no order) the as-of time: "prior" is relative to it.
    base = base.with_columns(
        nw.when(nw.col("_order_s").is_null()).then(asof).otherwise(nw.col("_order_s")).alias("_ref_s"),
        nw.when(nw.col("currency").is_null()).then(_currency_of(nw.col("marketplace")))
        .otherwise(nw.col("currency")).alias("_cur"),
    )
    base = _fx_rate(base, tables, reporting_currency)
    delivered = ~nw.col("_delivered_s").is_null() & (nw.col("_delivered_s") <= asof)
    delay = days(nw.col("_delivered_s"), nw.col("_promised_s"))
    overdue = days(asof, nw.col("_promised_s"))
    base = base.with_columns(
        (nw.col("amount") * nw.col("_rate")).alias("amount_reporting"),
        nw.when(nw.col("_order_s").is_null()).then(nw.lit(None, nw.Float64))
        .otherwise(delivered.cast(nw.Float64)).alias("delivered"),
        nw.when(delivered).then(delay).otherwise(nw.lit(None, nw.Float64)).alias("delay_days"),
        nw.when(delivered).then((delay > 0).cast(nw.Float64))
        .when(~nw.col("_promised_s").is_null() & ~nw.col("_order_s").is_null())
        .then((overdue > 0).cast(nw.Float64))
        .otherwise(nw.lit(None, nw.Float64)).alias("late"),
        nw.when(delivered & (delay > 0)).then(delay)
        .when(delivered).then(nw.lit(0.0))
        .when(~nw.col("_promised_s").is_null() & (overdue > 0)).then(overdue)
        .when(~nw.col("_promised_s").is_null()).then(nw.lit(0.0))
        .otherwise(nw.lit(None, nw.Float64)).alias("days_late"),
        nw.col("returned").cast(nw.Float64).alias("returned"),
        days(asof, nw.col("_signup_s")).alias("tenure_days"),
    )
    keys = base.select(_KEY, "customer_id", "order_id", "_asof_s", "_ref_s")
    counts: list[nw.LazyFrame] = []
    prior = (
        keys.select(_KEY, "customer_id", "_ref_s")
        .join(orders.select("customer_id", "_order_s"), on="customer_id", how="inner")
        .filter(nw.col("_order_s") < nw.col("_ref_s"))
        .group_by(_KEY).agg(nw.len().alias("prior_orders"), nw.col("_order_s").max().alias("_last_s"))
    )
    if "events" in tables:
        events = with_seconds(tables["events"], {"event_ts": "_event_s"}).select("customer_id", "_event_s")
        counts.append(_count_in_window(
            keys, events, "customer_id", asof - EVENT_WINDOW_DAYS * DAY_S, asof, "_event_s", "events_30d"))
    if "contacts" in tables:
        contacts = with_seconds(tables["contacts"], {"contact_ts": "_contact_s"})
        ccols = _columns(contacts)
        linked = contacts.select(
            "order_id" if "order_id" in ccols else nw.lit(None, nw.String).alias("order_id"), "_contact_s"
        ).filter(~nw.col("order_id").is_null())
        counts.append(_count_in_window(
            keys.drop("customer_id").filter(~nw.col("order_id").is_null()), linked, "order_id",
            nw.lit(-1e18), asof, "_contact_s", "contacts"))
        counts.append(_count_in_window(
            keys.drop("order_id"), contacts.select("customer_id", "_contact_s"), "customer_id",
            nw.col("_ref_s") - CONTACT_WINDOW_DAYS * DAY_S, asof, "_contact_s", "contacts_around_order"))
    out = base.join(prior, on=_KEY, how="left")
    for frame in counts:
        out = out.join(frame, on=_KEY, how="left")
    fills = {
        name: (nw.col(name).fill_null(0) if name in _columns(out) else nw.lit(0)).cast(nw.Float64).alias(name)
        for name in ("prior_orders", "events_30d", "contacts", "contacts_around_order")
    }
    if "events" not in tables:
        fills["events_30d"] = nw.lit(None, nw.Float64).alias("events_30d")
    if "contacts" not in tables:
        fills["contacts"] = nw.lit(None, nw.Float64).alias("contacts")
        fills["contacts_around_order"] = nw.lit(None, nw.Float64).alias("contacts_around_order")
    out = out.with_columns(
        *fills.values(), days(nw.col("_ref_s"), nw.col("_last_s")).alias("days_since_prior_order"),
    )
    return out.select(_KEY, "_asof_s", *FEATURES, *order_extra, *cust_cols)


def invitation_features(
    tables: Mapping[str, Any],
    *,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
) -> Any:
    """One row per survey invitation: labels and features as of ``sent_ts``.

    Parameters
    ----------
    tables
        Clean canonical tables (``customers``, ``orders``, ``surveys``; ``fx``,
        ``events`` and ``contacts`` when present), e.g. ``Dataset.tables``: any
        frames (see :mod:`cxlab._frames`), on one engine.
    reporting_currency
        Currency of ``amount_reporting``; ``fx`` rates convert into it, and it
        converts at 1.0 when ``fx`` does not list it.

    Returns
    -------
    lazy frame
        On the tables' engine (in-memory tables: Polars), wrapped as the tables
        were (Narwhals in, Narwhals out; native in, native out):
        ``survey_id, customer_id, order_id, sent_ts, scale, score, responded``
        then the features of :data:`FEATURES`, every extra column of ``orders``
        (carrier, ...) and every extra column of ``customers`` (segment,
        device, ...). See ``docs/features.md``.
    """
    given, tables = tables, as_tables(tables, who="invitation_features")
    _require(tables, "customers", "orders", "surveys")
    surveys = tables["surveys"]
    scols = _columns(surveys)
    surveys = with_seconds(surveys, {"sent_ts": "_asof_s"}).select(
        nw.col("survey_id").alias(_KEY), "customer_id",
        "order_id" if "order_id" in scols else nw.lit(None, nw.String).alias("order_id"),
        "_asof_s",
    )
    feats = _build(surveys, tables, reporting_currency)
    labels = tables["surveys"].select(
        nw.col("survey_id").alias(_KEY), "survey_id", "customer_id",
        "order_id" if "order_id" in scols else nw.lit(None, nw.String).alias("order_id"),
        "sent_ts",
        "scale" if "scale" in scols else nw.lit(None, nw.String).alias("scale"),
        nw.col("score").cast(nw.Float64) if "score" in scols else nw.lit(None, nw.Float64).alias("score"),
    ).with_columns(~nw.col("score").is_null().alias("responded"))
    return native_like(labels.join(feats, on=_KEY, how="left").drop(_KEY, "_asof_s"), given)


def order_features(
    tables: Mapping[str, Any],
    *,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
    invitation_lag_days: float | None = None,
) -> Any:
    """One row per order: features as of its (actual or would-be) invitation.

    An invited order is described as of its first invitation's ``sent_ts`` and
    carries that invitation's ``survey_id``, ``scale`` and ``score``. An order
    never invited is described as of the moment it would have been: its
    delivery (else its promised delivery, else its order time) plus
    ``invitation_lag_days``. This is the frame for ``target="orders"`` in
    :func:`cxlab.satisfaction.estimate_population`.

    Parameters
    ----------
    invitation_lag_days
        Days from delivery to invitation for orders never invited. Default: the
        median lag of the dataset's invitations (0 when there are none).

    Returns
    -------
    lazy frame
        As :func:`invitation_features`:
        ``order_id, customer_id, invited, survey_id, scale, score, responded``
        then the features (as :func:`invitation_features`).
    """
    given, tables = tables, as_tables(tables, who="order_features")
    _require(tables, "customers", "orders")
    orders, _ = _order_columns(tables["orders"])
    base_s = (
        nw.when(~nw.col("_delivered_s").is_null()).then(nw.col("_delivered_s"))
        .when(~nw.col("_promised_s").is_null()).then(nw.col("_promised_s"))
        .otherwise(nw.col("_order_s"))
    )
    orders = orders.with_columns(base_s.alias("_base_s"))
    if "surveys" in tables and "order_id" in _columns(tables["surveys"]):
        scols = _columns(tables["surveys"])
        surveys = with_seconds(tables["surveys"], {"sent_ts": "_sent_s"}).filter(~nw.col("order_id").is_null())
        first = surveys.filter(nw.col("_sent_s") == nw.col("_sent_s").min().over("order_id"))
        first = first.filter(nw.col("survey_id") == nw.col("survey_id").min().over("order_id")).select(
            "order_id", "survey_id", "_sent_s",
            "scale" if "scale" in scols else nw.lit(None, nw.String).alias("scale"),
            nw.col("score").cast(nw.Float64) if "score" in scols else nw.lit(None, nw.Float64).alias("score"),
        )
        orders = orders.join(first, on="order_id", how="left")
        if invitation_lag_days is None:
            lag = (
                orders.filter(~nw.col("_sent_s").is_null())
                .select(((nw.col("_sent_s") - nw.col("_base_s")) / DAY_S).median().alias("lag"))
                .collect().to_native()
            )
            value = nw.from_native(lag, eager_only=True)["lag"][0] if len(nw.from_native(lag, eager_only=True)) else None
            invitation_lag_days = float(value) if value is not None else 0.0
            logger.info("order_features: uninvited orders described %.2f days after delivery", invitation_lag_days)
    else:
        orders = orders.with_columns(
            nw.lit(None, nw.String).alias("survey_id"), nw.lit(None, nw.Float64).alias("_sent_s"),
            nw.lit(None, nw.String).alias("scale"), nw.lit(None, nw.Float64).alias("score"),
        )
        invitation_lag_days = invitation_lag_days or 0.0
    asof = (
        nw.when(~nw.col("_sent_s").is_null()).then(nw.col("_sent_s"))
        .otherwise(nw.col("_base_s") + invitation_lag_days * DAY_S)
    )
    orders = orders.with_columns(asof.alias("_asof_s"), nw.col("order_id").alias(_KEY))
    anchors = orders.select(_KEY, "customer_id", "order_id", "_asof_s")
    feats = _build(anchors, tables, reporting_currency).drop("_asof_s")
    labels = orders.select(
        _KEY, "order_id", "customer_id", ~nw.col("_sent_s").is_null().alias("invited"),
        "survey_id", "scale", "score", ~nw.col("score").is_null().alias("responded"),
    )
    return native_like(labels.join(feats, on=_KEY, how="left").drop(_KEY), given)
