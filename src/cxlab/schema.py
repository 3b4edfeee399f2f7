"""The canonical dataset: tables, columns, types and marketplaces.

A dataset is a folder with one entry per table (``NAME.parquet``, a folder of
Parquet parts ``NAME/``, or ``NAME.csv``). Only ``customers`` and ``orders`` are
required. Timestamps are UTC (stored without a zone), ids are strings, extra
columns are kept. See DESIGN.md section 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "timestamp", "float", "int", "bool"]

#: Survey scales and their valid score range (inclusive).
SCALES: dict[str, tuple[int, int]] = {"csat5": (1, 5), "nps11": (0, 10)}

#: Score at or above which an answer is *satisfied* (csat5: 4-5) or a *promoter*
#: (nps11: 9-10). The one definition every metric, model and generator uses.
SATISFIED_AT: dict[str, int] = {"csat5": 4, "nps11": 9}
#: Score at or below which an nps11 answer is a *detractor* (0-6; Reichheld 2003).
DETRACTOR_AT = 6

#: Earliest plausible timestamp; anything before is rejected as impossible.
MIN_TIMESTAMP = "1990-01-01"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    key: bool = False  # part of the table's primary key: not null, unique


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = False
    #: (column, parent table, parent column): orphan values are rejected.
    foreign_keys: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _c(name: str, type_: ColumnType, *, required: bool = False, key: bool = False) -> Column:
    return Column(name, type_, required=required or key, key=key)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            (
                _c("customer_id", "string", key=True),
                _c("marketplace", "string", required=True),
                _c("signup_ts", "timestamp", required=True),
            ),
            required=True,
        ),
        Table(
            "orders",
            (
                _c("order_id", "string", key=True),
                _c("customer_id", "string", required=True),
                _c("order_ts", "timestamp", required=True),
                _c("amount", "float", required=True),
                _c("currency", "string"),
                _c("promised_ts", "timestamp"),
                _c("delivered_ts", "timestamp"),
                _c("returned", "bool"),
                _c("category", "string"),
            ),
            required=True,
            foreign_keys=(("customer_id", "customers", "customer_id"),),
        ),
        Table(
            "events",
            (
                _c("customer_id", "string", required=True),
                _c("event_ts", "timestamp", required=True),
                _c("event_type", "string", required=True),
                _c("session_id", "string"),
            ),
            foreign_keys=(("customer_id", "customers", "customer_id"),),
        ),
        Table(
            "surveys",
            (
                _c("survey_id", "string", key=True),
                _c("customer_id", "string", required=True),
                _c("sent_ts", "timestamp", required=True),
                _c("responded_ts", "timestamp"),
                _c("score", "float"),
                _c("scale", "string"),
                _c("order_id", "string"),
            ),
            foreign_keys=(
                ("customer_id", "customers", "customer_id"),
                ("order_id", "orders", "order_id"),
            ),
        ),
        Table(
            "contacts",
            (
                _c("contact_id", "string", key=True),
                _c("customer_id", "string", required=True),
                _c("contact_ts", "timestamp", required=True),
                _c("reason", "string"),
                _c("order_id", "string"),
            ),
            foreign_keys=(
                ("customer_id", "customers", "customer_id"),
                ("order_id", "orders", "order_id"),
            ),
        ),
        Table(
            "treatments",
            (
                _c("customer_id", "string", required=True),
                _c("action", "string", required=True),
                _c("assigned_ts", "timestamp", required=True),
                _c("cost", "float"),
                _c("randomized", "bool"),
            ),
            foreign_keys=(("customer_id", "customers", "customer_id"),),
        ),
        Table(
            "fx",
            (
                _c("currency", "string", key=True),
                _c("rate", "float", required=True),
            ),
        ),
    )
}

#: What each table is used for, in messages about a missing table.
TABLE_PURPOSE: dict[str, str] = {
    "customers": "customers, their marketplace and attributes",
    "orders": "orders and their amounts",
    "events": "app and web activity",
    "surveys": "survey invitations and answers",
    "contacts": "customer-service contacts",
    "treatments": "actions given to customers",
    "fx": "exchange rates into the reporting currency",
}

#: Tables in the order they are validated (parents before children).
TABLE_ORDER: tuple[str, ...] = (
    "customers", "fx", "orders", "events", "surveys", "contacts", "treatments",
)


@dataclass(frozen=True)
class Marketplace:
    code: str
    timezone: str
    currency: str
    continent: str


#: Built-in marketplaces (ISO 3166-1 alpha-2, with UK for GB as commonly used).
MARKETPLACES: dict[str, Marketplace] = {
    m.code: m
    for m in (
        Marketplace("DE", "Europe/Berlin", "EUR", "Europe"),
        Marketplace("FR", "Europe/Paris", "EUR", "Europe"),
        Marketplace("IT", "Europe/Rome", "EUR", "Europe"),
        Marketplace("ES", "Europe/Madrid", "EUR", "Europe"),
        Marketplace("NL", "Europe/Amsterdam", "EUR", "Europe"),
        Marketplace("PL", "Europe/Warsaw", "PLN", "Europe"),
        Marketplace("SE", "Europe/Stockholm", "SEK", "Europe"),
        Marketplace("UK", "Europe/London", "GBP", "Europe"),
        Marketplace("GB", "Europe/London", "GBP", "Europe"),
        Marketplace("US", "America/New_York", "USD", "North America"),
        Marketplace("CA", "America/Toronto", "CAD", "North America"),
        Marketplace("MX", "America/Mexico_City", "MXN", "North America"),
        Marketplace("BR", "America/Sao_Paulo", "BRL", "South America"),
        Marketplace("JP", "Asia/Tokyo", "JPY", "Asia"),
        Marketplace("IN", "Asia/Kolkata", "INR", "Asia"),
        Marketplace("SG", "Asia/Singapore", "SGD", "Asia"),
        Marketplace("AU", "Australia/Sydney", "AUD", "Oceania"),
        Marketplace("AE", "Asia/Dubai", "AED", "Asia"),
    )
}

#: The reporting currency of library functions called without one (the CLI and
#: :func:`cxlab.io.load_dataset` resolve it from the data instead).
DEFAULT_REPORTING_CURRENCY = "EUR"


def check_currency_code(value: object) -> str:
    """``value`` as an upper-case ISO 4217 code (three letters), or ValueError."""
    text = str(value).strip().upper() if isinstance(value, str) else ""
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        raise ValueError(f"a currency is a three-letter ISO 4217 code such as GBP, USD or EUR; got {value!r}")
    return text
