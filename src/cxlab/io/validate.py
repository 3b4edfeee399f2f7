"""Validation with rejects: every row is either clean or rejected with a reason.

Fatal problems (a required table or column missing, a column that cannot be read
as its type at all) raise :class:`~cxlab.exceptions.InputDataError`. Row problems
move the row to the rejects with a ``reject_reason``; the first failing check
names it, in the order of :data:`REASONS`. Invariant: for every table,
``rows_in == rows_clean + rows_rejected``.

All row work is Narwhals code; it runs the same on DuckDB, Polars and Spark.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import narwhals as nw

from cxlab.engine import Engine, coerce
from cxlab.exceptions import InputDataError
from cxlab.io.config import DataConfig, TableConfig
from cxlab.io.currency import CurrencyChoice, resolve_reporting_currency
from cxlab.io.read import find_table, read_table
from cxlab.schema import MIN_TIMESTAMP, SCALES, TABLE_ORDER, TABLES, Marketplace, Table

log = logging.getLogger(__name__)

RAW = "__raw__"
REASON = "reject_reason"

#: Row-level reasons, in the order they are checked.
REASONS: dict[str, str] = {
    "unparseable": "a value could not be read as the column's type (unparseable:COLUMN)",
    "null_key": "a key or required column is null (null_key:COLUMN)",
    "non_finite": "a number is NaN or infinite (non_finite:COLUMN)",
    "duplicate_key": "the key value occurs on more than one row; all of them are set aside",
    "inconsistent_order_lines": "with combine_lines: lines of one order_id name different customers",
    "rejected_sibling_line": "with combine_lines: another line of the same order was rejected",
    "timestamp_before_1990": "a timestamp earlier than 1990-01-01 (timestamp_before_1990:COLUMN)",
    "timestamp_in_future": "a timestamp later than the moment of validation",
    "negative_amount": "orders.amount or treatments.cost below zero",
    "nonpositive_rate": "fx.rate zero or negative",
    "delivered_before_ordered": "orders.delivered_ts earlier than orders.order_ts",
    "unknown_scale": "surveys.scale is neither csat5 nor nps11",
    "score_out_of_scale": "surveys.score outside its scale (csat5: 1-5, nps11: 0-10) or not whole",
    "response_before_invitation": "surveys.responded_ts earlier than surveys.sent_ts",
    "unknown_marketplace": "customers.marketplace is not a configured marketplace",
    "orphan_customer_id": "customer_id has no clean row in customers",
    "orphan_order_id": "order_id is set but has no clean row in orders",
    "unknown_currency": "there is an fx table, it has no rate for orders.currency, and that is not the reporting currency",
}


@dataclass
class TableReport:
    source: str
    rows_in: int
    rows_clean: int
    rows_rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    #: With ``combine_lines``: the clean lines make this many orders.
    orders_from_lines: int | None = None

    def top_reasons(self, k: int = 3) -> str:
        top = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return ", ".join(f"{r} {n:,}" for r, n in top) or "none"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_clean": self.rows_clean,
            "rows_rejected": self.rows_rejected,
            "reasons": dict(sorted(self.reasons.items())),
        }
        if self.orders_from_lines is not None:
            out["orders_from_lines"] = self.orders_from_lines
        return out


@dataclass
class ValidationReport:
    tables: dict[str, TableReport] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    def warnings(self) -> list[str]:
        """One line per table of which more than half of the rows were set aside."""
        return [
            f"{name}: {t.rows_rejected:,} of {t.rows_in:,} rows ({t.rows_rejected / t.rows_in:.0%}) were "
            f"set aside; top reasons: {t.top_reasons()}."
            for name, t in self.tables.items()
            if t.rows_in and 0.5 < t.rows_rejected / t.rows_in < 1
        ]

    def check_usable(self) -> None:
        """Raise :class:`InputDataError` when every row of a table was set aside."""
        for name, t in self.tables.items():
            if t.rows_in and t.rows_clean == 0:
                raise InputDataError(
                    f"{t.source}: all {t.rows_in:,} rows of table '{name}' were set aside, so nothing is "
                    f"left to compute on; top reasons: {t.top_reasons()}. See 'cxlab validate DATA --out "
                    "DIR' for the rows and docs/data.md for the reasons."
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {name: t.to_dict() for name, t in self.tables.items()},
            "absent": [name for name in TABLE_ORDER if name not in self.tables],
            "rows_rejected": self.rows_rejected,
            "reasons": REASONS,
        }


@dataclass
class ValidatedTable:
    clean: nw.LazyFrame
    rejected: nw.LazyFrame
    report: TableReport


def _fatal_missing_columns(path: Path, table: Table, found: list[str], missing: list[str]) -> InputDataError:
    return InputDataError(
        f"{path}: table '{table.name}' is missing required column(s) "
        f"{', '.join(repr(m) for m in missing)}; expected {', '.join(table.required_columns)}; "
        f"found {', '.join(repr(f) for f in found[:20]) or 'no columns'}. Rename the columns, "
        f"or map them in the project file (data.tables.{table.name}.columns: "
        f"{{{missing[0]}: YOUR_COLUMN}})."
    )


#: Prefix of the typed factors of a product mapping (``amount: Quantity * UnitPrice``).
FACTOR = "__factor__"


def _products(path: Path, table: Table, config: TableConfig, found: list[str]) -> dict[str, tuple[str, str]]:
    """Mappings that name a product of two columns (``amount: Quantity * UnitPrice``).

    A mapped name that is itself a column of the file is a column, whatever it
    holds; otherwise ``A * B`` multiplies two numeric columns. Only numeric
    canonical columns (amount, cost, rate, score) can be products.
    """
    products: dict[str, tuple[str, str]] = {}
    for canonical, source in config.columns.items():
        if source in found or "*" not in source:
            continue
        left, _, right = (part.strip() for part in source.partition("*"))
        where = f"data.tables.{table.name}.columns.{canonical}"
        kind = next((c.type for c in table.columns if c.name == canonical), None)
        if kind != "float":
            raise InputDataError(
                f"{path}: {where} is {source!r}, a product of columns, but {table.name}.{canonical} "
                f"is a {kind}, not a number; only numeric columns can be a product. Map one column."
            )
        absent = [f for f in (left, right) if f not in found]
        if absent or "*" in right:
            raise InputDataError(
                f"{path}: {where} is {source!r}; a product names two columns of the file as 'A * B', "
                f"and {', '.join(repr(a) for a in absent) or repr(right)} is not one; "
                f"found {', '.join(repr(f) for f in found[:20])}."
            )
        products[canonical] = (left, right)
    return products


def _rename(lf: nw.LazyFrame, path: Path, table: Table, config: TableConfig) -> nw.LazyFrame:
    found = lf.collect_schema().names()
    products = _products(path, table, config, found)
    for canonical, source in config.columns.items():
        if source not in found and canonical not in products:
            raise InputDataError(
                f"{path}: column {source!r} mapped to {table.name}.{canonical} does not exist; "
                f"found {', '.join(repr(f) for f in found[:20])}. Fix "
                f"data.tables.{table.name}.columns.{canonical} in the project file."
            )
    if products:
        # the factors stay as extra columns; the canonical column holds 'A * B' as read
        # (what a rejected row shows) until _type multiplies the typed factors
        lf = lf.drop([c for c in products if c in found]).with_columns(
            *(nw.col(f).alias(f"{FACTOR}{i}{c}") for c, fs in products.items() for i, f in enumerate(fs)),
            *(
                nw.concat_str([nw.col(a).cast(nw.String), nw.lit(" * "), nw.col(b).cast(nw.String)]).alias(c)
                for c, (a, b) in products.items()
            ),
        )
    mapping = {source: canonical for canonical, source in config.columns.items() if canonical not in products}
    clashes = [c for c in mapping.values() if c in found and c not in mapping]
    lf = lf.drop(clashes) if clashes else lf
    lf = lf.rename(mapping)
    names = lf.collect_schema().names()
    missing = [c for c in table.required_columns if c not in names]
    if missing:
        raise _fatal_missing_columns(path, table, found, missing)
    return lf


def _recode(lf: nw.LazyFrame, config: TableConfig) -> nw.LazyFrame:
    """``values:`` recodes; text is matched without surrounding blanks (' Satisfied ')."""
    schema = lf.collect_schema()
    for column, mapping in config.values.items():
        expr = nw.col(column)
        text = column in schema and schema[column] == nw.String
        key = nw.col(column).str.strip_chars() if text else nw.col(column)
        for old, new in mapping.items():
            expr = nw.when(key == (old.strip() if text else old)).then(nw.lit(new)).otherwise(expr)
        lf = lf.with_columns(expr.alias(column))
    return lf


#: A currency sign before or after an amount (``£12.50``, ``12,50 €``), with its blanks.
_CURRENCY_SIGN = r"^\s*[£$€¥₹]\s*|\s*[£$€¥₹]\s*$"
#: Thousands grouped with commas (``1,234,567.89``), with a decimal point or none.
_GROUPED = r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"


def _coerce_number(lf: nw.LazyFrame, column: str, dtype: Any, config: TableConfig) -> nw.LazyFrame:
    """``column`` as a float in place, as spreadsheets and shop exports write amounts.

    A currency sign before or after the number is dropped (``£1,234.50``). With the
    decimal point, commas go only where they group thousands (``1,234.50``), so
    ``12,5`` stays unreadable instead of becoming 125; with ``csv: {decimal: ","}``
    points are the grouping (``1.234,50``).
    """
    if dtype != nw.String:
        return coerce(lf, column, "float")
    value = nw.col(column).str.replace_all(_CURRENCY_SIGN, "")
    if config.csv.decimal == ",":
        value = value.str.replace_all(".", "", literal=True).str.replace_all(",", ".", literal=True)
    else:
        value = nw.when(value.str.contains(_GROUPED)).then(value.str.replace_all(",", "", literal=True)).otherwise(value)
    return coerce(lf.with_columns(value.alias(column)), column, "float")


def _type(lf: nw.LazyFrame, path: Path, table: Table, config: TableConfig) -> tuple[nw.LazyFrame, list[str]]:
    """Keep a raw copy of each canonical column, then coerce it in place."""
    names = lf.collect_schema().names()
    present = [c for c in table.columns if c.name in names]
    lf = lf.with_columns(nw.col(c.name).alias(RAW + c.name) for c in present)
    schema = lf.collect_schema()
    for c in present:
        factors = [f"{FACTOR}{i}{c.name}" for i in (0, 1)]
        if factors[0] in schema:  # a product of two columns: type each, then multiply
            for factor in factors:
                lf = _coerce_number(lf, factor, schema[factor], config)
            lf = lf.with_columns((nw.col(factors[0]) * nw.col(factors[1])).alias(c.name))
            continue
        if c.type == "float":
            lf = _coerce_number(lf, c.name, schema[c.name], config)
            continue
        lf = coerce(
            lf, c.name, c.type,
            timestamp_format=config.format_for(c.name) if c.type == "timestamp" else None,
            timezone=config.timezone,
        )
        if c.type == "string":  # ids and codes: surrounding blanks are noise
            stripped = nw.col(c.name).str.strip_chars()
            lf = lf.with_columns(
                nw.when(stripped == "").then(nw.lit(None, nw.String)).otherwise(stripped).alias(c.name)
            )
    checks = [
        expr
        for c in present
        for expr in (
            nw.col(RAW + c.name).count().alias(f"raw:{c.name}"),
            nw.col(c.name).count().alias(f"ok:{c.name}"),
        )
    ]
    counts = lf.select(*checks, nw.len().alias("rows")).collect().to_pandas().iloc[0] if checks else None
    for c in present:
        if counts is not None and counts[f"raw:{c.name}"] > 0 and counts[f"ok:{c.name}"] == 0:
            examples = (
                lf.select(nw.col(RAW + c.name).cast(nw.String)).filter(~nw.col(RAW + c.name).is_null())
                .head(3).collect().to_pandas().iloc[:, 0].tolist()
            )
            hint = {
                "timestamp": "Give the format with 'timestamp_format' (strftime, e.g. '%d/%m/%Y %H:%M') "
                f"in data.tables.{table.name} of the project file.",
                "float": "Write plain numbers (a sign such as £ and commas grouping thousands are read; for 1.234,5 give csv: {decimal: \",\"}), or map another column.",
                "bool": "Use true/false, yes/no or 1/0.",
            }.get(c.type, "")
            raise InputDataError(
                f"{path}: column '{c.name}' must be a {c.type}; none of its "
                f"{int(counts[f'raw:{c.name}']):,} values could be read as one "
                f"(examples: {', '.join(repr(e) for e in examples)}). {hint}".rstrip()
            )
    return lf, [c.name for c in present]


def _null_key_checks(table: Table, present: list[str]) -> list[tuple[nw.Expr, nw.Expr]]:
    checks = []
    for c in table.columns:
        if c.name not in present:
            continue
        unparsed = ~nw.col(RAW + c.name).is_null() & nw.col(c.name).is_null()
        checks.append((unparsed, nw.lit(f"unparseable:{c.name}")))
        if c.type == "float":  # NaN and inf would make every sum NaN or inf
            checks.append((~nw.col(c.name).is_finite(), nw.lit(f"non_finite:{c.name}")))
    for c in table.columns:
        if c.required and c.name in present:
            checks.append((nw.col(c.name).is_null(), nw.lit(f"null_key:{c.name}")))
    return checks


def _timestamp_checks(table: Table, present: list[str], now: dt.datetime) -> list[tuple[nw.Expr, nw.Expr]]:
    floor = dt.datetime.fromisoformat(MIN_TIMESTAMP)
    checks = []
    for c in table.columns:
        if c.type == "timestamp" and c.name in present:
            checks.append((nw.col(c.name) < nw.lit(floor), nw.lit(f"timestamp_before_1990:{c.name}")))
            checks.append((nw.col(c.name) > nw.lit(now), nw.lit(f"timestamp_in_future:{c.name}")))
    return checks


def _table_checks(name: str, present: list[str], ctx: _Context) -> list[tuple[nw.Expr, nw.Expr]]:
    col, lit = nw.col, nw.lit
    checks: list[tuple[nw.Expr, nw.Expr]] = []
    if name == "orders":
        checks.append((col("amount") < 0, lit("negative_amount")))
        if "delivered_ts" in present:
            checks.append((col("delivered_ts") < col("order_ts"), lit("delivered_before_ordered")))
    elif name == "treatments" and "cost" in present:
        checks.append((col("cost") < 0, lit("negative_amount")))
    elif name == "fx":
        checks.append((col("rate") <= 0, lit("nonpositive_rate")))
    elif name == "surveys":
        scale = col("scale")
        checks.append((~scale.is_in(list(SCALES)), lit("unknown_scale")))
        out = reduce(
            lambda acc, item: acc
            | ((scale == item[0]) & ((col("score") < item[1][0]) | (col("score") > item[1][1]))),
            SCALES.items(),
            lit(False),
        )
        fractional = col("score").round(0) != col("score")
        checks.append((~col("score").is_null() & (out | fractional), lit("score_out_of_scale")))
        if "responded_ts" in present:
            checks.append((col("responded_ts") < col("sent_ts"), lit("response_before_invitation")))
    elif name == "customers":
        checks.append((~col("marketplace").is_in(sorted(ctx.marketplaces)), lit("unknown_marketplace")))
    return checks


@dataclass
class _Context:
    engine: Engine
    marketplaces: dict[str, Marketplace]
    reporting_currency: str | None
    currency_source: str
    now: dt.datetime
    default_scale: str
    clean: dict[str, nw.LazyFrame] = field(default_factory=dict)
    #: The clean fx table as currency -> rate; None when there is no fx table.
    fx_rates: dict[str, float] | None = None
    currency: CurrencyChoice | None = None


def _with_parents(lf: nw.LazyFrame, name: str, table: Table, present: list[str], ctx: _Context) -> tuple[nw.LazyFrame, list[tuple[nw.Expr, nw.Expr]]]:
    """Join flags that say whether each foreign key has a clean parent row."""
    checks = []
    for column, parent, parent_column in table.foreign_keys:
        if column not in present or parent not in ctx.clean:
            continue
        flag = f"__has_{parent}_{column}"
        keys = ctx.clean[parent].select(nw.col(parent_column).alias(column)).unique()
        if name == "orders" and parent == "customers":  # the order's marketplace currency
            keys = ctx.clean[parent].select(
                nw.col(parent_column).alias(column), nw.col("marketplace").alias("__marketplace")
            )
        keys = keys.with_columns(nw.lit(True).alias(flag))
        lf = lf.join(keys, on=column, how="left")
        missing = nw.col(flag).is_null()
        if column != "customer_id":  # optional reference: only set values must resolve
            missing = missing & ~nw.col(column).is_null()
        checks.append((missing, nw.lit(f"orphan_{column}")))
    return lf, checks


def _fill_currency(lf: nw.LazyFrame, present: list[str], ctx: _Context) -> nw.LazyFrame:
    """Orders without a currency are in their marketplace's currency.

    Except when the orders have no currency column at all, there is no fx table and
    the user named the reporting currency: a one-currency shop that sells abroad
    (a UK shop's export with French customers, all in GBP) then has every amount in
    that currency, since nothing could convert any other.
    """
    if "currency" not in present and ctx.fx_rates is None and ctx.reporting_currency is not None:
        return lf.with_columns(nw.lit(ctx.reporting_currency.upper(), nw.String).alias("currency"))
    names = lf.collect_schema().names()
    if "__marketplace" not in names:
        return lf
    fallback: Any = nw.lit(None, nw.String)
    for code, m in sorted(ctx.marketplaces.items()):
        fallback = nw.when(nw.col("__marketplace") == code).then(nw.lit(m.currency)).otherwise(fallback)
    if "currency" in present:
        currency = nw.when(nw.col("currency").is_null()).then(fallback).otherwise(nw.col("currency"))
    else:
        currency = fallback
    return lf.with_columns(currency.str.to_uppercase().alias("currency"))


def _currency_check(lf: nw.LazyFrame, reason: Any, ctx: _Context, *, from_marketplaces: bool = False) -> Any:
    """Resolve the reporting currency on the otherwise valid orders; add ``unknown_currency``."""
    counts = (
        lf.with_columns(reason.alias(REASON))
        .filter(nw.col(REASON).is_null() & ~nw.col("currency").is_null())
        .group_by("currency")
        .agg(nw.len().alias("n"))
        .collect()
        .to_pandas()
    )
    found = {str(c): int(n) for c, n in zip(counts["currency"], counts["n"], strict=True)}
    try:
        ctx.currency = resolve_reporting_currency(ctx.reporting_currency, ctx.currency_source, found, ctx.fx_rates)
    except InputDataError as err:
        if not from_marketplaces:
            raise
        raise InputDataError(
            f"{err} The orders have no currency column, so each order's currency is its customer's "
            "marketplace currency; if every amount is in one currency (a shop that sells abroad in its "
            "own), name it with --currency or data.reporting_currency, or add a currency column."
        ) from err
    if ctx.fx_rates is None:
        return reason
    known = sorted({*ctx.fx_rates, ctx.currency.code})
    unknown = ~nw.col("currency").is_in(known) | nw.col("currency").is_null()
    return nw.when(reason.is_null() & unknown).then(nw.lit("unknown_currency")).otherwise(reason)


def _customers_from_orders(orders: nw.LazyFrame, path: Path, config: DataConfig, ctx: _Context) -> ValidatedTable:
    """``customers`` derived from the orders as read (``tables.customers.from_orders``).

    One customer per non-null ``customer_id`` of every order row (rejected ones
    included: a customer whose only order was a cancellation still exists), signed
    up at their first order, in the marketplace that the orders' column mapped to
    ``marketplace`` names on their first order that names one (the smallest value
    on a tie; recoded by ``tables.customers.values``), or else in the one
    marketplace that ``data.marketplaces`` declares. Ids and times are typed as the
    orders' own validation types them, so every order finds its customer. Then
    validated as a customers table, so an unknown marketplace is set aside with its
    reason.
    """
    own, orders_config = config.table("customers"), config.table("orders")
    table = TABLES["orders"]
    lf, _ = _type(_recode(_rename(orders, path, table, orders_config), orders_config), path, table, orders_config)
    market = own.columns.get("marketplace")
    if market is None:
        if len(config.marketplaces) != 1:
            raise InputDataError(
                f"{path}: data.tables.customers.from_orders needs each customer's marketplace: map "
                "tables.customers.columns.marketplace to the orders' column that holds it (a country, "
                "say), or declare the shop's one marketplace under data.marketplaces "
                "(e.g. UK: {timezone: Europe/London, currency: GBP})."
            )
        lf = lf.with_columns(nw.lit(next(iter(config.marketplaces)), nw.String).alias("__market"))
    elif market in (names := lf.collect_schema().names()):
        lf = lf.with_columns(nw.col(market).cast(nw.String).alias("__market"))
    else:
        raise InputDataError(
            f"{path}: data.tables.customers.columns.marketplace is {market!r}, which is not a column of "
            f"the orders; found {', '.join(repr(n) for n in names[:20] if not n.startswith('__'))}."
        )
    # the marketplace of the customer's first order that names one
    named = ~nw.col("__market").is_null()
    lf = lf.filter(~nw.col("customer_id").is_null()).with_columns(
        nw.when(named).then(nw.col("order_ts")).otherwise(None).min().over("customer_id").alias("__first_named")
    )
    first = nw.when(named & (nw.col("order_ts") == nw.col("__first_named"))).then(nw.col("__market"))
    customers = lf.group_by("customer_id").agg(
        first.min().alias("marketplace"), nw.col("order_ts").min().alias("signup_ts"),
    )
    result = validate_table("customers", ctx.engine.materialize(customers), path, TableConfig(values=own.values), ctx)
    result.report.source = f"{path} (customers from the orders)"
    return result


def validate_table(
    name: str, lf: nw.LazyFrame, path: Path, config: TableConfig, ctx: _Context
) -> ValidatedTable:
    """Type, check and split one table into clean and rejected rows."""
    table = TABLES[name]
    lf = _recode(_rename(lf, path, table, config), config)
    lf, present = _type(lf, path, table, config)
    if name == "surveys" and "scale" not in present:
        scale = nw.lit(ctx.default_scale, nw.String)  # documented default: csat5
        lf = lf.with_columns(scale.alias("scale"), scale.alias(RAW + "scale"))
        present.append("scale")
    checks = _null_key_checks(table, present)
    lines = name == "orders" and config.combine_lines
    if lines:
        customers_of_order = nw.col("customer_id").min().over("order_id") != nw.col("customer_id").max().over("order_id")
        checks.append((customers_of_order, nw.lit("inconsistent_order_lines")))
    elif table.key:
        key = table.key[0]
        lf = lf.with_columns(nw.len().over(key).alias("__dup"))
        checks.append(((nw.col("__dup") > 1) & ~nw.col(key).is_null(), nw.lit(f"duplicate_key:{key}")))
    checks += _timestamp_checks(table, present, ctx.now)
    checks += _table_checks(name, present, ctx)
    lf, parent_checks = _with_parents(lf, name, table, present, ctx)
    checks += parent_checks
    from_marketplaces = name == "orders" and "currency" not in present
    if name == "orders":
        lf = _fill_currency(lf, present, ctx)
        if "currency" not in present:
            present.append("currency")
    reason: Any = nw.lit(None, nw.String)
    for condition, label in reversed(checks):
        # a null comparison (a missing optional value) is not a problem
        reason = nw.when(condition.fill_null(False)).then(label).otherwise(reason)
    if name == "orders":
        reason = _currency_check(lf, reason, ctx, from_marketplaces=from_marketplaces)
    lf = lf.with_columns(reason.alias(REASON))
    if lines:  # an order is clean only when every one of its lines is
        bad = (~nw.col(REASON).is_null()).cast(nw.Int32).max().over("order_id") > 0
        sibling = nw.when(nw.col(REASON).is_null() & bad.fill_null(False)).then(nw.lit("rejected_sibling_line"))
        lf = lf.with_columns(sibling.otherwise(nw.col(REASON)).alias(REASON))
    lf = ctx.engine.materialize(lf)

    names = lf.collect_schema().names()
    helpers = [c for c in names if c.startswith("__")]
    extras = [c for c in names if c not in helpers and c not in present and c != REASON]
    canonical = [c.name for c in table.columns if c.name in present]
    clean = lf.filter(nw.col(REASON).is_null()).select(*canonical, *extras)
    raw_columns = [nw.col(RAW + c).alias(c) if RAW + c in names else nw.col(c) for c in canonical]
    rejected = lf.filter(~nw.col(REASON).is_null()).select(*raw_columns, *extras, REASON)

    counts = lf.group_by(REASON).agg(nw.len().alias("n")).collect().to_pandas()
    reasons = {str(r): int(n) for r, n in zip(counts[REASON], counts["n"], strict=True) if r is not None and r == r}
    rows_in = int(counts["n"].sum())
    if rows_in == 0 and table.required:
        raise InputDataError(
            f"{path}: table '{name}' has no rows; it is required and needs at least one. "
            "Check that the export is complete (a header alone is not a table)."
        )
    n_rejected = sum(reasons.values())
    report = TableReport(str(path), rows_in, rows_in - n_rejected, n_rejected, reasons)
    if lines:
        clean = ctx.engine.materialize(_combine_lines(clean, canonical, extras))
        report.orders_from_lines = int(clean.select(nw.len()).collect().item(0, 0))
        return ValidatedTable(clean, rejected, report)
    return ValidatedTable(ctx.engine.materialize(clean), rejected, report)


#: How the lines of one order make the order (other columns: their smallest value).
_LINE_AGGREGATES = {"amount": "sum", "order_ts": "min", "promised_ts": "max", "delivered_ts": "max", "returned": "max"}


def _combine_lines(clean: nw.LazyFrame, canonical: list[str], extras: list[str]) -> nw.LazyFrame:
    """One row per order_id: amounts summed, the first order time, the last delivery."""
    aggs = [
        getattr(nw.col(c), _LINE_AGGREGATES.get(c, "min"))().alias(c)
        for c in (*canonical, *extras)
        if c != "order_id"
    ]
    return clean.group_by("order_id").agg(*aggs, nw.len().alias("lines")).select(*canonical, *extras, "lines")


def validate_tables(
    root: Path | None,
    engine: Engine,
    config: DataConfig,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    reporting_currency: str | None = None,
) -> tuple[dict[str, ValidatedTable], CurrencyChoice]:
    """Find, read and validate every table of a dataset, parents first.

    ``reporting_currency`` (the caller's ``--currency``) wins over the project
    file's; without either, it is resolved from the data (see
    :mod:`cxlab.io.currency`). Returns the tables and the currency chosen;
    when fx rates were given in another base, the clean fx table is rebased so
    that the reporting currency has rate 1.
    """
    if root is not None and not root.exists():
        raise InputDataError(f"{root}: dataset folder does not exist.")
    if root is not None and root.is_file():
        raise InputDataError(
            f"{root}: expected a dataset folder with customers and orders tables, got a file."
        )
    ctx = _Context(
        engine=engine,
        marketplaces=config.resolved_marketplaces(),
        reporting_currency=(reporting_currency or config.reporting_currency or None),
        currency_source="--currency" if reporting_currency else "data.reporting_currency in the project file",
        now=now or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        default_scale=config.default_scale,
    )
    out: dict[str, ValidatedTable] = {}
    orders_read: nw.LazyFrame | None = None  # read once when the customers come from it
    for name in TABLE_ORDER:
        table_config = config.table(name)
        if name == "customers" and table_config.from_orders:
            if progress:
                progress(name)
            path = find_table(root, "orders", config.table("orders"))
            if path is None:
                raise InputDataError(
                    f"{root}: data.tables.customers.from_orders derives the customers from the orders, "
                    "but there is no orders table; add it, or give its path in data.tables.orders.path."
                )
            orders_read = read_table(path, engine, config.table("orders"))
            result = _customers_from_orders(orders_read, path, config, ctx)
            out[name] = result
            ctx.clean[name] = result.clean
            continue
        path = find_table(root, name, table_config)
        if path is None:
            if TABLES[name].required:
                found = sorted(p.name for p in root.iterdir()) if root is not None else []
                derive = (
                    " With only orders, 'data.tables.customers: {from_orders: true}' in a project file "
                    "derives one customer per customer_id of the orders."
                    if name == "customers" else ""
                )
                raise InputDataError(
                    f"{root}: dataset has no '{name}' table (looked for {name}.parquet, "
                    f"{name}/ and {name}.csv); found {', '.join(found) or 'nothing'}. "
                    f"Add the table, or give its path in data.tables.{name}.path.{derive}"
                )
            continue
        if progress:
            progress(name)
        raw = orders_read if name == "orders" and orders_read is not None else read_table(path, engine, table_config)
        result = validate_table(name, raw, path, table_config, ctx)
        out[name] = result
        ctx.clean[name] = result.clean
        if name == "fx":
            result.clean = result.clean.with_columns(nw.col("currency").str.to_uppercase())
            ctx.clean[name] = result.clean
            fx = result.clean.select("currency", "rate").collect().to_pandas()
            ctx.fx_rates = {str(c): float(r) for c, r in zip(fx["currency"], fx["rate"], strict=True)}
        log.info("%s: %d rows, %d rejected", name, result.report.rows_in, result.report.rows_rejected)
    choice = ctx.currency or CurrencyChoice(ctx.reporting_currency or "EUR")
    if "fx" in out and choice.rebase != 1.0:
        fx_table = out["fx"]
        fx_table.clean = engine.materialize(fx_table.clean.with_columns(nw.col("rate") / nw.lit(choice.rebase)))
    return out, choice
