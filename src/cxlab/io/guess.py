"""Propose how a folder of exports maps onto the canonical tables (``cxlab init``).

A shop's export has its own file and column names (``invoices.csv``: ``InvoiceNo``,
``InvoiceDate``, ``CustomerID``, ``Quantity``, ``UnitPrice``, ``Country``), its own
date format and often no customers table. :func:`guess_data` reads each file with
the loader's own reader, matches columns by name (a list of usual names per
canonical column) and checks each candidate with the loader's own parsers on the
first rows: a date column must read as a timestamp in some format, an amount as a
number. What it cannot settle (two date formats that both read every row, a country
that is no marketplace) it says in a comment of the project file it proposes.
Nothing here is used by ``cxlab run``: the user reads and keeps the proposal.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw

from cxlab.schema import MARKETPLACES, TABLES

__all__ = ["DataGuess", "TableGuess", "guess_data", "render_data_section", "summary"]

#: Rows of each file whose order is looked at (repeated order ids, time order).
SAMPLE_ROWS = 2000
#: Distinct values of a column, from the whole file, that a candidate must read.
DISTINCT_VALUES = 50_000


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


#: Usual names of each canonical column, most telling first (compared without case,
#: spaces or punctuation). A column whose name is the canonical one always wins.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "orders": {
        "order_id": ("orderid", "orderno", "ordernumber", "ordernr", "invoiceno", "invoiceid", "invoicenumber",
                     "invoice", "transactionid", "transactionno", "txnid", "receiptid", "receiptno", "order"),
        "customer_id": ("customerid", "customerno", "customernumber", "custid", "clientid", "userid", "buyerid",
                        "memberid", "accountid", "shopperid", "customer", "client", "cust", "user", "buyer"),
        "order_ts": ("orderts", "orderdate", "orderdatetime", "ordertime", "orderedat", "invoicedate",
                     "invoicedatetime", "transactiondate", "transactiontime", "purchasedate", "purchasedat",
                     "createdat", "datetime", "timestamp", "date"),
        "amount": ("amount", "ordertotal", "totalamount", "total", "ordervalue", "grandtotal", "totalprice",
                   "revenue", "sales", "netamount", "grossamount", "amountpaid", "value", "dollars", "spend"),
        "currency": ("currency", "currencycode", "ccy"),
        "delivered_ts": ("deliveredts", "deliveredat", "deliverydate", "delivereddate"),
        "promised_ts": ("promisedts", "promisedat", "promiseddate", "promiseddeliverydate", "expecteddelivery"),
        "returned": ("returned", "isreturned", "returnflag"),
        "category": ("category", "productcategory"),
    },
    "customers": {
        "customer_id": ("customerid", "customerno", "customernumber", "custid", "clientid", "userid", "buyerid",
                        "memberid", "accountid", "shopperid", "customer", "client", "cust", "user", "buyer", "id"),
        "marketplace": ("marketplace", "market", "country", "countrycode", "site", "store", "storecountry",
                        "shopcountry", "region"),
        "signup_ts": ("signupts", "signupdate", "signedupat", "signup", "registeredat", "registrationdate",
                      "registered", "createdat", "created", "joindate", "joined", "customersince", "since",
                      "firstpurchase", "firstpurchasedate", "firstorder", "firstorderdate", "firstseen", "date"),
    },
}
#: A line total from a quantity and a unit price when there is no amount column.
QUANTITY = ("quantity", "qty", "units", "nunits", "numberofunits", "itemcount")
UNIT_PRICE = ("unitprice", "priceperunit", "itemprice", "unitcost", "price")

#: Country names (and a few usual spellings) of the built-in marketplaces.
COUNTRY_NAMES: dict[str, str] = {
    **{n: "UK" for n in ("unitedkingdom", "greatbritain", "england", "scotland", "wales", "northernireland",
                          "britain")},
    **{n: "US" for n in ("unitedstates", "unitedstatesofamerica", "usa")},
    **{n: "DE" for n in ("germany", "deutschland")},
    **{n: "FR" for n in ("france",)},
    **{n: "IT" for n in ("italy", "italia")},
    **{n: "ES" for n in ("spain", "espana", "españa")},
    **{n: "NL" for n in ("netherlands", "thenetherlands", "holland", "nederland")},
    **{n: "PL" for n in ("poland", "polska")},
    **{n: "SE" for n in ("sweden", "sverige")},
    **{n: "CA" for n in ("canada",)},
    **{n: "MX" for n in ("mexico", "méxico")},
    **{n: "BR" for n in ("brazil", "brasil")},
    **{n: "JP" for n in ("japan",)},
    **{n: "IN" for n in ("india",)},
    **{n: "SG" for n in ("singapore",)},
    **{n: "AU" for n in ("australia",)},
    **{n: "AE" for n in ("unitedarabemirates", "uae")},
}

_DATES = ("%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d", "%d/%m/%y",
          "%m/%d/%y", "%Y-%m-%d", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%b-%y")
_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
#: None first: what the loader reads without a format (ISO 8601, with or without an offset).
FORMATS: tuple[str | None, ...] = (None, *(d + t for d in _DATES for t in _TIMES))


@dataclass
class TableGuess:
    """One canonical table (the key of :attr:`DataGuess.tables`) and where it comes from."""

    path: Path | None
    #: canonical column -> the file's column (or ``"A * B"``)
    columns: dict[str, str] = field(default_factory=dict)
    #: canonical timestamp column -> format (None: ISO, no format needed)
    formats: dict[str, str | None] = field(default_factory=dict)
    #: canonical timestamp column -> another format that also read every sampled value
    ambiguous: dict[str, str] = field(default_factory=dict)
    decimal_comma: bool = False
    combine_lines: bool = False
    from_orders: bool = False
    recode: dict[str, str] = field(default_factory=dict)
    #: required columns no file column matched
    missing: list[str] = field(default_factory=list)


@dataclass
class DataGuess:
    tables: dict[str, TableGuess]
    currency: str | None = None
    currency_note: str = ""
    timezone: str | None = None
    #: values of the marketplace column that are no marketplace, with their row counts
    unknown_markets: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _candidates(folder: Path) -> list[Path]:
    """The files, and folders of Parquet parts of one table, that may be tables."""
    out = []
    for p in sorted(folder.iterdir()):
        name = p.name.lower()
        if name.startswith("."):
            continue
        if p.is_dir():
            if _parts_of_one_table(p):
                out.append(p)
        elif name.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".parquet")):
            out.append(p)
    return out


def _parts_of_one_table(folder: Path) -> bool:
    """A folder of Parquet parts with one set of columns; not a cxlab run or validation
    folder (``manifest.json``, ``validation.json``), whose files are different tables."""
    import pyarrow.parquet as pq

    if (folder / "manifest.json").exists() or (folder / "validation.json").exists():
        return False
    parts = sorted(folder.rglob("*.parquet"))[:20]
    try:
        columns = {tuple(pq.read_schema(part).names) for part in parts}
    except Exception:  # noqa: BLE001  (unreadable parts: not a table we can propose)
        return False
    return len(columns) == 1


class _Sample:
    """A file on DuckDB: its first rows (for row order), each column's distinct values
    (for parsing), and the loader's parsers applied to them."""

    def __init__(self, path: Path, engine: Any) -> None:
        from cxlab.io.config import TableConfig
        from cxlab.io.read import read_table

        self.path, self.engine = path, engine
        self.lf = read_table(path, engine, TableConfig())
        self.head = engine.materialize(self.lf.head(SAMPLE_ROWS))
        self.names = self.head.collect_schema().names()
        self.schema = self.head.collect_schema()
        self._distinct: dict[str, nw.LazyFrame] = {}

    def distinct(self, column: str) -> nw.LazyFrame:
        """Up to :data:`DISTINCT_VALUES` distinct values of ``column`` from the whole file.

        The first rows of an export are often one day (``12/1/2010 ...``), which reads
        both day first and month first; the whole column settles it.
        """
        if column not in self._distinct:
            values = self.lf.select(nw.col(column)).unique().head(DISTINCT_VALUES)
            self._distinct[column] = self.engine.materialize(values)
        return self._distinct[column]

    def share(self, column: str, target: str, fmt: str | None = None, *, comma: bool = False) -> float:
        """Share of the distinct non-null values of ``column`` that read as ``target``."""
        from cxlab.engine import coerce
        from cxlab.io.config import CsvOptions, TableConfig
        from cxlab.io.validate import _coerce_number

        lf = self.distinct(column).select(nw.col(column).alias("v"), nw.col(column).alias("raw"))
        if target == "float":  # as the loader reads numbers: signs, grouping, the decimal mark
            table = TableConfig(csv=CsvOptions(decimal="," if comma else "."))
            lf = _coerce_number(lf, "v", self.schema[column], table)
        else:
            lf = coerce(lf, "v", target, timestamp_format=fmt)  # type: ignore[arg-type]
        counts = lf.select(nw.col("raw").count().alias("n"), nw.col("v").count().alias("ok")).collect().to_pandas()
        n = int(counts["n"].iloc[0])
        return float(counts["ok"].iloc[0]) / n if n else 0.0

    def timestamp_formats(self, column: str) -> list[str | None]:
        """Every format in :data:`FORMATS` that reads every sampled value (a timestamp column: [None])."""
        if self.schema[column] == nw.Datetime or self.schema[column] == nw.Date:
            return [None]
        if self.schema[column] != nw.String:
            return []
        import datetime as dt

        head = [str(v).strip() for v in self.engine.to_pandas(self.distinct(column).head(50))[column].dropna()]

        def plausible(fmt: str | None) -> bool:  # Python's strptime first: cheap, and as lenient
            if fmt is None:
                return True
            try:
                return all(dt.datetime.strptime(v, fmt) for v in head)
            except ValueError:
                return False

        return [f for f in FORMATS if plausible(f) and self.share(column, "timestamp", f) == 1.0]

    def repeats(self, column: str) -> bool:
        values = self.engine.to_pandas(self.head.select(nw.col(column)))[column].dropna()
        return bool(values.duplicated().any())

    def monotone_share(self, column: str, fmt: str | None) -> float:
        """Share of consecutive sampled rows in time order when read with ``fmt`` (exports are often sorted)."""
        import pandas as pd

        from cxlab.engine import coerce

        parsed = coerce(self.head.select(nw.col(column).alias("v")), "v", "timestamp", timestamp_format=fmt)
        steps = self.engine.to_pandas(parsed)["v"].dropna().diff().dropna()
        return float((steps >= pd.Timedelta(0)).mean()) if len(steps) else 0.0


def _match(sample: _Sample, table: str) -> tuple[dict[str, str], dict[str, list[str | None]]]:
    """Canonical column -> file column for ``table``, and the formats that read each timestamp."""
    by_norm: dict[str, str] = {}
    for name in sample.names:
        by_norm.setdefault(_norm(name), name)
    types = {c.name: c.type for c in TABLES[table].columns}
    columns: dict[str, str] = {}
    formats: dict[str, list[str | None]] = {}
    for canonical, synonyms in SYNONYMS[table].items():
        names = [canonical] if canonical in sample.names else []
        names += [by_norm[s] for s in synonyms if s in by_norm]
        for name in dict.fromkeys(names):
            if name in columns.values():
                continue
            kind = types[canonical]
            if kind == "timestamp":
                found = sample.timestamp_formats(name)
                if not found:
                    continue
                formats[canonical] = found
            elif kind == "float" and max(sample.share(name, "float"), sample.share(name, "float", comma=True)) < 0.9:
                continue
            columns[canonical] = name
            break
    if table == "orders" and "amount" not in columns:
        quantity = next((by_norm[s] for s in QUANTITY if s in by_norm), None)
        price = next((by_norm[s] for s in UNIT_PRICE if s in by_norm), None)
        if quantity and price and min(sample.share(quantity, "float"), sample.share(price, "float")) >= 0.9:
            columns["amount"] = f"{quantity} * {price}"
    return columns, formats


def _choose_format(sample: _Sample, column: str, found: list[str | None]) -> tuple[str | None, str | None]:
    """The format to use and, when day-first and month-first both read every value, the other one."""
    if None in found:
        return None, None
    day_first = [f for f in found if f and f.startswith("%d")]
    month_first = [f for f in found if f and f.startswith("%m")]
    if day_first and month_first:
        a, b = day_first[0], month_first[0]
        if sample.monotone_share(column, b) > sample.monotone_share(column, a):
            a, b = b, a
        return a, b
    return found[0], None


def _markets(sample: _Sample, column: str) -> tuple[dict[str, str], dict[str, int], Counter[str]]:
    """Recodes of a marketplace column's values, the values that are no marketplace, and rows per code."""
    counts = (
        sample.lf.select(nw.col(column).cast(nw.String).alias("m"))
        .filter(~nw.col("m").is_null())
        .group_by("m").agg(nw.len().alias("n"))
        .collect().to_pandas()
    )
    recode: dict[str, str] = {}
    unknown: dict[str, int] = {}
    per_code: Counter[str] = Counter()
    for value, n in zip(counts["m"], counts["n"], strict=True):
        value = str(value)
        code = value.strip().upper() if value.strip().upper() in MARKETPLACES else COUNTRY_NAMES.get(_norm(value))
        if code is None:
            unknown[value] = int(n)
            continue
        per_code[code] += int(n)
        if code != value:
            recode[value] = code
    return recode, unknown, per_code


def guess_data(folder: Path) -> DataGuess:
    """Propose the ``data:`` section for the exports in ``folder``."""
    from cxlab.engine import get_engine

    engine = get_engine("duckdb")
    samples: dict[Path, _Sample] = {}
    notes: list[str] = []
    for path in _candidates(folder):
        try:
            samples[path] = _Sample(path, engine)
        except Exception as err:  # noqa: BLE001  (a file we cannot read is reported, not fatal)
            notes.append(f"{path.name}: not read ({' '.join(str(err).split())[:160]})")
    tables: dict[str, TableGuess] = {}
    # orders: every required column found; a file named like orders first
    ranked = sorted(samples.values(), key=lambda s: (not re.search(r"order|invoice|transaction|sale|purchase",
                                                                   s.path.name.lower()), s.path.name))
    for sample in ranked:
        columns, formats = _match(sample, "orders")
        if all(c in columns for c in TABLES["orders"].required_columns):
            guess = TableGuess(sample.path, columns)
            _set_formats(sample, guess, formats)
            guess.combine_lines = sample.repeats(columns["order_id"])
            guess.decimal_comma = _needs_comma(sample, columns)
            tables["orders"] = guess
            break
    if "orders" not in tables:
        for sample in ranked:
            columns, _ = _match(sample, "orders")
            absent = [c for c in TABLES["orders"].required_columns if c not in columns]
            if len(absent) == 1:
                notes.append(f"{sample.path.name} looks like orders but has no column for {absent[0]}; "
                             f"add one (an order id may be a row number) and map it under data.tables.orders")
    orders_sample = samples.get(tables["orders"].path) if "orders" in tables else None  # type: ignore[arg-type]
    for sample in sorted(samples.values(), key=lambda s: ("customer" not in s.path.name.lower(), s.path.name)):
        if sample is orders_sample:
            continue
        columns, formats = _match(sample, "customers")
        if "customer_id" in columns and ({"signup_ts", "marketplace"} & set(columns)):
            guess = TableGuess(sample.path, columns)
            _set_formats(sample, guess, formats)
            guess.missing = [c for c in TABLES["customers"].required_columns if c not in columns]
            tables["customers"] = guess
            break
    market_sample = None
    if "customers" not in tables and orders_sample is not None:
        guess = TableGuess(None, from_orders=True)
        by_norm = {_norm(n): n for n in orders_sample.names}
        market = next((by_norm[s] for s in SYNONYMS["customers"]["marketplace"] if s in by_norm
                       and by_norm[s] not in tables["orders"].columns.values()), None)
        if market:
            guess.columns["marketplace"] = market
            market_sample = orders_sample
        tables["customers"] = guess
    elif "customers" in tables and "marketplace" in tables["customers"].columns:
        market_sample = samples[tables["customers"].path]  # type: ignore[index]
    result = DataGuess(tables, notes=notes)
    per_code: Counter[str] = Counter()
    if market_sample is not None:
        column = tables["customers"].columns["marketplace"]
        tables["customers"].recode, result.unknown_markets, per_code = _markets(market_sample, column)
    zones = {MARKETPLACES[c].timezone for c in per_code}
    if len(zones) == 1:
        result.timezone = zones.pop()
    if "orders" in tables and "currency" not in tables["orders"].columns and per_code:
        currencies: Counter[str] = Counter()
        for code, n in per_code.items():
            currencies[MARKETPLACES[code].currency] += n
        result.currency = currencies.most_common(1)[0][0]
        if len(currencies) > 1:
            result.currency_note = (
                f"check: the orders have no currency column and the marketplaces use "
                f"{', '.join(sorted(currencies))}; this is the most common one. Every amount must be in it"
            )
    return result


def _set_formats(sample: _Sample, guess: TableGuess, formats: dict[str, list[str | None]]) -> None:
    for canonical, found in formats.items():
        chosen, other = _choose_format(sample, guess.columns[canonical], found)
        guess.formats[canonical] = chosen
        if other:
            guess.ambiguous[canonical] = other


def _needs_comma(sample: _Sample, columns: dict[str, str]) -> bool:
    amount = columns["amount"]
    names = [n.strip() for n in amount.split("*")] if amount not in sample.names else [amount]
    return all(sample.share(n, "float") < 0.9 <= sample.share(n, "float", comma=True) for n in names)


def _q(text: str) -> str:
    """A YAML scalar for ``text``: plain when safe, else double-quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .\-/*]*", text) and not text.endswith(" ") and ": " not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_data_section(guess: DataGuess, relative_to: Path) -> list[str]:
    """The proposal as commented YAML lines (the ``data:`` section)."""
    import os

    lines = ["data:"]
    if guess.currency:
        lines.append(f"  reporting_currency: {guess.currency}" + (f"   # {guess.currency_note}" if guess.currency_note else
                                                                  "   # the marketplaces' currency; the orders have no currency column"))
    else:
        lines.append("  # reporting_currency: GBP   # default: the one currency of the orders")
    if guess.unknown_markets:
        top = sorted(guess.unknown_markets.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("  # check: these marketplace values are no built-in marketplace, so their customers are set")
        lines.append("  # aside (unknown_marketplace) until you declare them (e.g. IE: {timezone: Europe/Dublin,")
        lines.append("  # currency: EUR}) and recode the values to them under values.marketplace:")
        lines.append("  # marketplaces:")
        for value, n in top[:20]:
            lines.append(f"  #   {_q(value)}: {{timezone: ?, currency: ?}}   # {n:,} row{'s' if n != 1 else ''}")
        if len(top) > 20:
            lines.append(f"  #   ... and {len(top) - 20} more values")
    lines.append("  tables:")
    for name in ("orders", "customers"):
        t = guess.tables.get(name)
        if t is None:
            continue
        lines.append(f"    {name}:")
        if t.from_orders:
            lines.append("      from_orders: true   # no customers file: one customer per customer_id of the orders")
        if t.path is not None:
            lines.append(f"      path: {_q(os.path.relpath(t.path, relative_to))}")
        mapped = {c: s for c, s in t.columns.items() if c != s}
        if mapped:
            lines.append("      columns: {" + ", ".join(f"{c}: {_q(s)}" for c, s in mapped.items()) + "}")
        for column in t.missing:
            lines.append(f"      # check: no column looked like {name}.{column}; map one under columns")
        formats = {c: f for c, f in t.formats.items() if f}
        if len(set(formats.values())) == 1:
            (column, fmt), = list(formats.items())[:1]
            note = f"   # check: {t.ambiguous[column]} reads every value too" if t.ambiguous else ""
            lines.append(f'      timestamp_format: "{fmt}"{note}')
        elif formats:
            lines.append("      timestamp_format: {" + ", ".join(f'{c}: "{f}"' for c, f in formats.items()) + "}")
            for column, other in t.ambiguous.items():
                lines.append(f"      # check: {column} reads as {other} too")
        if guess.timezone and t.path is not None and t.formats:
            lines.append(f"      timezone: {guess.timezone}   # the marketplaces' zone; delete if the times are UTC")
        if t.decimal_comma:
            lines.append('      csv: {decimal: ","}')
        if t.combine_lines:
            lines.append(f"      combine_lines: true   # {_q(t.columns['order_id'])} repeats: rows are lines of one order")
        if t.recode:
            pairs = ", ".join(f"{_q(k)}: {v}" for k, v in sorted(t.recode.items()))
            lines.append("      values:")
            lines.append(f"        marketplace: {{{pairs}}}")
    return lines


def summary(guess: DataGuess) -> list[str]:
    """What was found, one line per table, for the console."""
    out = []
    for name in ("orders", "customers"):
        t = guess.tables.get(name)
        if t is None:
            continue
        source = "from the orders" if t.from_orders else (t.path.name if t.path else "?")
        mapped = ", ".join(f"{s} -> {c}" for c, s in t.columns.items() if c != s)
        out.append(f"{name}: {source}" + (f" ({mapped})" if mapped else ""))
    out += guess.notes
    if guess.unknown_markets:
        out.append(f"{len(guess.unknown_markets)} marketplace value(s) are no marketplace: "
                   + ", ".join(sorted(guess.unknown_markets)[:8]) + " (see the project file)")
    return out
