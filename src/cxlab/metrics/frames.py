"""Row work on the engine: sources -> per-unit totals -> per-group sums.

Everything here is Narwhals lazy code; the only values collected are the
distinct marketplaces and currencies (a few rows) and the final per-group sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import narwhals as nw

from cxlab.engine import days_per_group, materialize_with_ids
from cxlab.metrics.catalog import AMOUNT, Source, UnitColumn
from cxlab.money import conversion_factors, factor_expr, fx_rates
from cxlab.metrics.periods import (
    LOCAL,
    PERIOD,
    TZ,
    Grain,
    currency_expr,
    days_in_month,
    localize,
    lookup_expr,
    timezone_expr,
    truncate,
)
from cxlab.schema import Marketplace

CUSTOMER = "customer_id"
#: The customer in unit keys: an integer stand-in for ``customer_id`` where the
#: engine has one (:func:`~cxlab.engine.materialize_with_ids`).
UNIT = "_unit"
_MCUR = "_market_currency"
_CUR = "_currency"
_DAY = "_day"


@dataclass(frozen=True)
class Context:
    """What every source needs: customers with zone, segment columns, window."""

    tables: Mapping[str, nw.LazyFrame]
    columns: Mapping[str, tuple[str, ...]]
    #: customer_id, _unit, marketplace, _tz (zone position), _market_currency,
    #: by-columns, kept timestamps; held by the engine
    customers: nw.LazyFrame
    by: tuple[str, ...]
    grain: Grain
    since: object
    until: object
    currency: str
    fx_currency: str
    codes: tuple[str, ...]
    zones: tuple[str, ...]  # of the marketplaces present
    market_currencies: tuple[str, ...]  # of the marketplaces present
    #: Some customer has no marketplace (rows without a zone: null periods).
    null_marketplace: bool

    @property
    def unit_keys(self) -> list[str]:
        period = [] if self.grain == "all" else [PERIOD]
        return [UNIT, *period, *self.by]

    @property
    def group_keys(self) -> list[str]:
        return ([] if self.grain == "all" else [PERIOD]) + list(self.by)


def make_context(
    tables: Mapping[str, nw.LazyFrame],
    columns: Mapping[str, tuple[str, ...]],
    *,
    by: tuple[str, ...],
    grain: Grain,
    since: object,
    until: object,
    currency: str,
    fx_currency: str,
    marketplaces: Mapping[str, Marketplace],
    keep: Sequence[str] = (),
) -> Context:
    """Collect the distinct marketplaces and prepare the customers frame.

    The prepared customers (id, marketplace, zone as a position in
    ``Context.zones``, market currency, segment columns and the customers'
    own timestamps in ``keep``) are computed once and held by the engine:
    every source joins them, and a lazy frame would read the table and map
    marketplaces to zones again for each (DuckDB even maps them per fact row
    after the join).
    """
    customers = tables["customers"]
    # (a group-by: Narwhals' unique() is a window function on DuckDB)
    found = customers.group_by("marketplace").agg(nw.len()).collect()["marketplace"].to_list()
    codes = tuple(sorted(str(c) for c in found if c is not None))
    timezone_expr(list(codes), marketplaces)  # refuses marketplaces without a zone
    zones = tuple(sorted({marketplaces[c].timezone for c in codes}))
    position = {c: zones.index(marketplaces[c].timezone) for c in codes}
    cust_by = [b for b in by if b in columns["customers"] and b != "marketplace"]
    own = [c for c in keep if c in columns["customers"] and c not in (CUSTOMER, *cust_by)]
    prepared = materialize_with_ids(
        customers.select(CUSTOMER, "marketplace", *cust_by, *own).with_columns(
            lookup_expr("marketplace", position).cast(nw.Int32).alias(TZ),
            currency_expr(list(codes), marketplaces).alias(_MCUR),
        ),
        CUSTOMER,
        UNIT,
    )
    market_currencies = tuple(sorted({marketplaces[c].currency for c in codes}))
    return Context(
        tables, columns, prepared, by, grain, since, until, currency, fx_currency, codes,
        zones, market_currencies, any(c is None for c in found),
    )


def source_rows(ctx: Context, source: Source, units: Sequence[UnitColumn]) -> nw.LazyFrame:
    """Rows of a source with local time, period and the by-columns."""
    cols = ctx.columns[source.table]
    if source.table == "customers" and source.timestamp in ctx.customers.collect_schema():
        lf = ctx.customers
    elif source.table == "customers":
        lf = ctx.customers.join(
            ctx.tables["customers"].select(CUSTOMER, source.timestamp), on=CUSTOMER
        )
    else:
        need = {c for u in units for c in u.columns}
        if any(u.amount for u in units):
            need |= {"amount"} | ({"currency"} & set(cols))
        own_by = [b for b in ctx.by if b in cols and b not in ctx.columns["customers"]]
        keep = [CUSTOMER, source.timestamp, *sorted(need - {CUSTOMER, source.timestamp}), *own_by]
        fact = ctx.tables[source.table].select(*dict.fromkeys(keep))
        cust_cols = [c for c in ctx.customers.collect_schema().names() if c not in own_by]
        lf = fact.join(ctx.customers.select(*cust_cols), on=CUSTOMER, how="inner")
    window = {"since": ctx.since, "until": ctx.until}
    lf = localize(lf, source.timestamp, zones=ctx.zones, **window)  # type: ignore[arg-type]
    if ctx.grain != "all":
        lf = lf.with_columns(truncate(nw.col(LOCAL), ctx.grain).alias(PERIOD))
    if source.days:
        lf = _active_days(ctx, lf)
    if any(u.amount for u in units):
        lf = _with_amount(ctx, lf)
    return lf


def _active_days(ctx: Context, lf: nw.LazyFrame) -> nw.LazyFrame:
    """Reduce rows to distinct active days; at month grain or coarser, to months.

    At month grain and coarser each output row is one customer-month with
    ``_days`` active days and ``_days_in_month``; at finer grains one
    customer-day (``_days`` = 1). One group-by each (Narwhals' ``unique`` is a
    window function on DuckDB, several times slower).
    """
    day = nw.col(LOCAL).dt.truncate("1d")
    if ctx.grain in ("day", "week"):
        lf = lf.with_columns(day.alias(_DAY)).group_by(*ctx.unit_keys, _DAY).agg(nw.len())
        return lf.select(
            *ctx.unit_keys, nw.lit(1.0).alias("_days"), nw.lit(1.0).alias("_days_in_month")
        )
    month = PERIOD
    if ctx.grain != "month":  # at month grain the period is the month
        month = "_month"
        lf = lf.with_columns(nw.col(LOCAL).dt.truncate("1mo").alias(month))
    keys = list(dict.fromkeys([*ctx.unit_keys, month]))
    lf = days_per_group(lf, keys, LOCAL, "_days")
    return lf.with_columns(days_in_month(nw.col(month)).alias("_days_in_month"))


def _with_amount(ctx: Context, lf: nw.LazyFrame) -> nw.LazyFrame:
    """Add :data:`AMOUNT`: ``amount`` in the reporting currency, via ``fx``."""
    cur = nw.col(_MCUR)
    if "currency" in ctx.columns["orders"]:
        cur = nw.when(nw.col("currency").is_null()).then(cur).otherwise(nw.col("currency"))
    lf = lf.with_columns(cur.alias(_CUR))
    # The currencies the rows can use, without reading the rows (their join with
    # customers): the orders table's currencies and the marketplaces' own.
    used = list(ctx.market_currencies)
    if "currency" in ctx.columns["orders"]:
        used += _distinct(ctx.tables["orders"], "currency")
    used = sorted(set(used))
    rates = fx_rates(ctx.tables.get("fx")) if any(c != ctx.currency for c in used) else {}
    known = {**rates, ctx.fx_currency.upper(): rates.get(ctx.fx_currency.upper(), 1.0)}
    if any(c.upper() not in known for c in [*used, ctx.currency]):
        used = _distinct(lf, _CUR)  # the exact set decides whether that is an error
    if all(c == ctx.currency for c in used):
        return lf.with_columns(nw.col("amount").cast(nw.Float64).alias(AMOUNT))
    factors = conversion_factors(used, rates, ctx.currency, quote_currency=ctx.fx_currency)
    return lf.with_columns((nw.col("amount").cast(nw.Float64) * factor_expr(nw.col(_CUR), factors)).alias(AMOUNT))


def _distinct(lf: nw.LazyFrame, column: str) -> list[str]:
    """The distinct non-null values of ``column`` (a few), sorted."""
    found = lf.group_by(column).agg(nw.len()).collect()[column].to_list()
    return sorted(str(c) for c in found if c is not None)


def source_units(ctx: Context, units: Sequence[UnitColumn]) -> nw.LazyFrame:
    """Per-unit (customer x period x segment) totals of unit columns of one source."""
    source = units[0].source
    lf = source_rows(ctx, source, units)
    lf = lf.select(*ctx.unit_keys, *(u.row().cast(nw.Float64).alias(u.name) for u in units))
    if source.days and ctx.grain in ("day", "month"):
        return lf  # active days at day and month grain are one row per unit already
    return lf.group_by(*ctx.unit_keys).agg(*(nw.col(u.name).sum() for u in units))


def unit_frame(
    ctx: Context, parts: Sequence[tuple[nw.LazyFrame, Sequence[str]]], names: Sequence[str]
) -> nw.LazyFrame:
    """Per-unit totals of ``names`` from the unit frames of one or more sources.

    ``parts`` pairs each source's unit frame (:func:`source_units`) with the
    names it holds; a name no part holds is zero. Several sources are matched
    per unit with full joins on customer and period (about half the work of
    stacking them and summing per unit, the fallback where a key can be null or
    a segment column is not a customer attribute).
    """
    held = {n for _, own in parts for n in own}
    if len(parts) == 1:
        lf, own = parts[0]
        return lf.select(
            *ctx.unit_keys, *(nw.col(n) if n in own else nw.lit(0.0).alias(n) for n in names)
        )
    attrs = [b for b in ctx.by if b in ctx.columns["customers"]]
    keys = [UNIT, *([] if ctx.grain == "all" else [PERIOD])]
    if ctx.null_marketplace or len(attrs) < len(ctx.by):
        stacked = [
            lf.select(
                *ctx.unit_keys, *(nw.col(n) if n in own else nw.lit(0.0).alias(n) for n in names)
            )
            for lf, own in parts
        ]
        rows = nw.concat(stacked, how="vertical")
        return rows.group_by(*ctx.unit_keys).agg(*(nw.col(n).sum() for n in names))
    # customer and period are never null here; segments are customer attributes
    frame, first = parts[0]
    frame = frame.select(*keys, *attrs, *(n for n in first if n in names))
    for lf, own in parts[1:]:
        side = {c: f"{c}__r" for c in (*keys, *attrs)}
        right = lf.select(*side, *(n for n in own if n in names)).rename(side)
        frame = frame.join(right, left_on=keys, right_on=[side[k] for k in keys], how="full")
        frame = frame.with_columns(
            *(nw.coalesce(nw.col(c), nw.col(r)).alias(c) for c, r in side.items())
        ).drop(*side.values())
    return frame.select(
        *ctx.unit_keys,
        *(nw.col(n).fill_null(0.0) if n in held else nw.lit(0.0).alias(n) for n in names),
    )


def group_sums(
    ctx: Context,
    units: nw.LazyFrame,
    metrics: Mapping[str, tuple[nw.Expr, nw.Expr | None]],
) -> nw.LazyFrame:
    """Per-group sums ``Σy, Σx, Σy², Σx², Σxy`` and unit counts of each metric."""
    prepared = units.with_columns(
        *(y.alias(f"{m}__uy") for m, (y, _) in metrics.items()),
        *(x.alias(f"{m}__ux") for m, (_, x) in metrics.items() if x is not None),
    )
    aggs: list[nw.Expr] = []
    for m, (_, x) in metrics.items():
        y_ = nw.col(f"{m}__uy")
        aggs += [y_.sum().alias(f"{m}|sy"), (y_ * y_).sum().alias(f"{m}|syy")]
        present = y_ != 0
        if x is not None:
            x_ = nw.col(f"{m}__ux")
            aggs += [
                x_.sum().alias(f"{m}|sx"),
                (x_ * x_).sum().alias(f"{m}|sxx"),
                (x_ * y_).sum().alias(f"{m}|sxy"),
            ]
            present = present | (x_ != 0)
        aggs.append(present.cast(nw.Float64).sum().alias(f"{m}|n"))
    if ctx.group_keys:
        return prepared.group_by(*ctx.group_keys).agg(*aggs)
    return prepared.select(*aggs)


def distinct_counts(
    ctx: Context, source: Source, column: str, row_filter: nw.Expr, columns: Sequence[str]
) -> nw.LazyFrame:
    """Per-group number of distinct values of ``column`` where ``row_filter`` holds."""
    unit = UnitColumn("_unused", source, lambda: nw.lit(0.0), columns=(*columns, column))
    lf = source_rows(ctx, source, [unit]).filter(row_filter & ~nw.col(column).is_null())
    agg = nw.col(column).n_unique().cast(nw.Float64)
    if ctx.group_keys:
        return lf.group_by(*ctx.group_keys).agg(agg.alias("value"))
    return lf.select(agg.alias("value"))
