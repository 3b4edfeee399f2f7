"""The built-in metric catalog and the data model every metric shares.

Every metric is computed the same way. Rows of a *source* (a table read at one
timestamp column: orders at ``order_ts``, surveys at ``responded_ts``, ...) are
summed per *unit* (customer x period x segment) into a few unit columns; each
metric then defines a per-unit numerator ``y`` and denominator ``x`` on those
columns, and the estimate for a period and segment is ``scale · Σy / Σx`` (or
``Σy`` for totals). Confidence intervals come from the same unit totals, with
the customer as the independent unit (:mod:`cxlab.metrics.stats`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import narwhals as nw

from cxlab.schema import DETRACTOR_AT, SATISFIED_AT

#: How the interval of a metric is computed.
#: ``ratio``: cluster-robust delta method on Σy/Σx; ``proportion``: the same,
#: clipped to [0, 1]; ``nps``: the same on y in {-1, 0, 1}, scaled to
#: [-100, 100] (variance of a difference of multinomial shares, clustered by
#: customer); ``customer_share``: Wilson interval over customers;
#: ``total``: a count or sum of the full population, no interval;
#: ``distinct_count``: distinct values of a column, no interval.
Kind = Literal["ratio", "proportion", "nps", "customer_share", "total", "distinct_count"]

ExprFn = Callable[[], nw.Expr]

#: Amount in the reporting currency (added to orders rows when needed).
AMOUNT = "_amount"


@dataclass(frozen=True)
class Source:
    """Rows of ``table`` placed in periods by ``timestamp`` (local time).

    ``days`` sources first reduce rows to distinct (customer, local day,
    segment): used for active days and stickiness.
    """

    table: str
    timestamp: str
    days: bool = False

    @property
    def key(self) -> str:
        return f"{self.table}@{self.timestamp}" + ("#days" if self.days else "")


@dataclass(frozen=True)
class UnitColumn:
    """A unit-level column: the sum over a source's rows of ``row()``."""

    name: str
    source: Source
    row: ExprFn
    #: Columns of ``source.table`` the row expression reads.
    columns: tuple[str, ...] = ()
    #: Whether the row expression reads :data:`AMOUNT` (needs currency conversion).
    amount: bool = False


@dataclass(frozen=True)
class Metric:
    """One metric: unit numerator ``y``, denominator ``x``, interval ``kind``.

    Attributes
    ----------
    name
        Identifier used on the command line and in the ``metric`` column.
    description
        One-line definition, shown by ``cxlab metrics --list``.
    kind
        How the value and interval are computed (see :data:`Kind`).
    columns
        The unit columns the metric reads.
    y, x
        Unit-level numerator and denominator expressions over ``columns``;
        ``x`` is ``None`` for totals.
    scale
        Factor applied to the value (100 for NPS).
    period_by
        The timestamp columns that place rows in periods (documentation).
    optional
        Unit columns whose absence (missing table) is treated as zero, e.g. the
        events of ``active_customers``.
    month_or_coarser
        Only defined at month grain or coarser (``stickiness``).
    distinct_column, row_filter
        For ``distinct_count``: the column whose distinct values are counted,
        over the rows of ``columns[0].source`` where ``row_filter`` holds.
    """

    name: str
    description: str
    kind: Kind
    columns: tuple[UnitColumn, ...]
    y: ExprFn
    x: ExprFn | None = None
    scale: float = 1.0
    period_by: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    month_or_coarser: bool = False
    distinct_column: str | None = None
    row_filter: ExprFn | None = None


def _f(expr: nw.Expr) -> nw.Expr:
    return expr.cast(nw.Float64)


def _c(name: str) -> nw.Expr:
    return nw.col(name)


def _ind(expr: nw.Expr) -> nw.Expr:
    """1.0 where ``expr`` is true, 0.0 where false or null."""
    return nw.when(expr).then(nw.lit(1.0)).otherwise(nw.lit(0.0))


ORDERS = Source("orders", "order_ts")
SURVEYS_SENT = Source("surveys", "sent_ts")
SURVEYS_RESPONDED = Source("surveys", "responded_ts")
CONTACTS = Source("contacts", "contact_ts")
EVENT_DAYS = Source("events", "event_ts", days=True)
SIGNUPS = Source("customers", "signup_ts")

_answered_csat = (
    lambda: (_c("scale") == "csat5") & ~_c("score").is_null()  # noqa: E731
)
_answered_nps = lambda: (_c("scale") == "nps11") & ~_c("score").is_null()  # noqa: E731
_delivered = (  # noqa: E731
    lambda: ~_c("delivered_ts").is_null() & ~_c("promised_ts").is_null()
)

#: Unit columns of the built-in metrics.
U: dict[str, UnitColumn] = {
    u.name: u
    for u in (
        UnitColumn("o_n", ORDERS, lambda: nw.lit(1.0)),
        UnitColumn("o_amount", ORDERS, lambda: _c(AMOUNT), amount=True),
        UnitColumn(
            "o_returned", ORDERS, lambda: _ind(_c("returned")), columns=("returned",)
        ),
        UnitColumn(
            "o_delivered", ORDERS, lambda: _ind(_delivered()),
            columns=("delivered_ts", "promised_ts"),
        ),
        UnitColumn(
            "o_late", ORDERS,
            lambda: _ind(_delivered() & (_c("delivered_ts") > _c("promised_ts"))),
            columns=("delivered_ts", "promised_ts"),
        ),
        UnitColumn("s_invited", SURVEYS_SENT, lambda: nw.lit(1.0)),
        UnitColumn(
            "s_responded", SURVEYS_SENT, lambda: _ind(~_c("responded_ts").is_null()),
            columns=("responded_ts",),
        ),
        UnitColumn(
            "r_csat", SURVEYS_RESPONDED, lambda: _ind(_answered_csat()),
            columns=("scale", "score"),
        ),
        UnitColumn(
            "r_csat_good", SURVEYS_RESPONDED,
            lambda: _ind(_answered_csat() & (_c("score") >= SATISFIED_AT["csat5"])),
            columns=("scale", "score"),
        ),
        UnitColumn(
            "r_csat_score", SURVEYS_RESPONDED,
            lambda: nw.when(_answered_csat()).then(_f(_c("score"))).otherwise(nw.lit(0.0)),
            columns=("scale", "score"),
        ),
        UnitColumn(
            "r_nps", SURVEYS_RESPONDED, lambda: _ind(_answered_nps()),
            columns=("scale", "score"),
        ),
        UnitColumn(
            "r_nps_net", SURVEYS_RESPONDED,
            lambda: _ind(_answered_nps() & (_c("score") >= SATISFIED_AT["nps11"]))
            - _ind(_answered_nps() & (_c("score") <= DETRACTOR_AT)),
            columns=("scale", "score"),
        ),
        UnitColumn("k_n", CONTACTS, lambda: nw.lit(1.0)),
        UnitColumn("e_days", EVENT_DAYS, lambda: _c("_days")),
        UnitColumn("e_day_share", EVENT_DAYS, lambda: _c("_days") / _c("_days_in_month")),
        UnitColumn("e_months", EVENT_DAYS, lambda: nw.lit(1.0)),
        UnitColumn("c_new", SIGNUPS, lambda: nw.lit(1.0)),
    )
}


def _active() -> nw.Expr:
    return _ind((_c("o_n") > 0) | (_c("e_days") > 0))


def _m(
    name: str,
    description: str,
    kind: Kind,
    columns: tuple[str, ...],
    y: ExprFn,
    x: ExprFn | None = None,
    period_by: tuple[str, ...] = (),
    **kw: object,
) -> Metric:
    return Metric(
        name, description, kind, tuple(U[c] for c in columns), y, x,
        period_by=period_by, **kw,  # type: ignore[arg-type]
    )


#: The built-in catalog, in display order.
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _m("csat", "share of responded csat5 surveys with score >= 4", "proportion",
           ("r_csat_good", "r_csat"), lambda: _c("r_csat_good"), lambda: _c("r_csat"),
           ("responded_ts",)),
        _m("mean_score", "mean score of responded csat5 surveys", "ratio",
           ("r_csat_score", "r_csat"), lambda: _c("r_csat_score"), lambda: _c("r_csat"),
           ("responded_ts",)),
        _m("nps", "100 x (share of 9-10 minus share of 0-6) over responded nps11 surveys",
           "nps", ("r_nps_net", "r_nps"), lambda: _c("r_nps_net"), lambda: _c("r_nps"),
           ("responded_ts",), scale=100.0),
        _m("response_rate", "responded surveys / invited surveys", "proportion",
           ("s_responded", "s_invited"), lambda: _c("s_responded"),
           lambda: _c("s_invited"), ("sent_ts",)),
        _m("late_delivery_rate",
           "delivered orders with delivered_ts > promised_ts / delivered orders "
           "with a promised_ts", "proportion", ("o_late", "o_delivered"),
           lambda: _c("o_late"), lambda: _c("o_delivered"), ("order_ts",)),
        _m("return_rate", "returned orders / orders", "proportion",
           ("o_returned", "o_n"), lambda: _c("o_returned"), lambda: _c("o_n"),
           ("order_ts",)),
        _m("contact_rate", "contacts / orders", "ratio", ("k_n", "o_n"),
           lambda: _c("k_n"), lambda: _c("o_n"), ("contact_ts", "order_ts")),
        _m("orders", "number of orders", "total", ("o_n",), lambda: _c("o_n"),
           period_by=("order_ts",)),
        _m("revenue", "sum of amount converted to the reporting currency with fx",
           "total", ("o_amount",), lambda: _c("o_amount"), period_by=("order_ts",)),
        _m("aov", "revenue / orders (average order value, reporting currency)", "ratio",
           ("o_amount", "o_n"), lambda: _c("o_amount"), lambda: _c("o_n"),
           ("order_ts",)),
        _m("active_customers",
           "distinct customers with an order or an event in the period "
           "(events when the table is present)", "total", ("o_n", "e_days"), _active,
           period_by=("order_ts", "event_ts"), optional=("e_days",)),
        _m("new_customers", "customers whose signup falls in the period", "total",
           ("c_new",), lambda: _c("c_new"), period_by=("signup_ts",)),
        _m("orders_per_active_customer", "orders / active customers", "ratio",
           ("o_n", "e_days"), lambda: _c("o_n"), _active,
           ("order_ts", "event_ts"), optional=("e_days",)),
        _m("repeat_purchase_rate",
           "customers with >= 2 orders in the period / customers with >= 1",
           "customer_share", ("o_n",), lambda: _ind(_c("o_n") >= 2),
           lambda: _ind(_c("o_n") >= 1), ("order_ts",)),
        _m("stickiness",
           "mean daily active customers / monthly active customers, from events "
           "(month grain and coarser: active customer-months weighted)", "proportion",
           ("e_day_share", "e_months"), lambda: _c("e_day_share"),
           lambda: _c("e_months"), ("event_ts",), month_or_coarser=True),
    )
}


def required_columns(metric: Metric) -> dict[str, set[str]]:
    """Tables (and their columns) a metric needs; optional tables left out."""
    need: dict[str, set[str]] = {}
    for u in metric.columns:
        if u.name in metric.optional:
            continue
        cols = need.setdefault(u.source.table, set())
        cols.update(u.columns)
        if u.source.table != "customers":
            cols.update({"customer_id", u.source.timestamp})
        if u.amount:
            cols.add("amount")
    return need
