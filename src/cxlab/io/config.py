"""The ``data:`` section of a project file: where tables are and how to read them.

A project file maps a user's own exports onto the canonical schema without
editing them::

    data:
      path: exports/                 # dataset folder (tables found by name)
      reporting_currency: EUR
      marketplaces:                  # add or override built-in marketplaces
        UK: {timezone: Europe/London, currency: GBP}
      tables:
        orders:
          path: exports/invoices.csv # a file or folder; relative to the project file
          columns:                   # canonical name: your column name
            order_id: InvoiceNo
            customer_id: CustomerID
            order_ts: InvoiceDate
            amount: Total              # or a product of two columns: Quantity * UnitPrice
          timestamp_format: "%d/%m/%Y %H:%M"   # strftime; or a mapping per column
          timezone: Europe/London    # zone of timestamps written without an offset
          csv: {delimiter: ";", encoding: latin-1, decimal: ","}
          values:                    # recode values of a column
            marketplace: {United Kingdom: UK}
          combine_lines: true        # rows are order lines: one order per order_id
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cxlab.exceptions import InputDataError
from cxlab.schema import MARKETPLACES, SCALES, TABLES, Marketplace, check_currency_code


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delimiter: str | None = Field(None, description="field separator; sniffed when absent")
    encoding: str | None = Field(None, description="text encoding; utf-8 then cp1252 when absent")
    decimal: str = Field(".", description="decimal mark of numbers: '.' or ','")

    @field_validator("decimal")
    @classmethod
    def _mark(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError(f"decimal must be '.' or ',', got {value!r}")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"delimiter must be one character, got {value!r}")
        return value


def _check_zone(value: str | None) -> str | None:
    """An IANA time zone name, checked now (not when the engine first meets it)."""
    if value is None:
        return value
    if not isinstance(value, str) or not value.strip() or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", value):
        raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/London")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise ValueError(f"{value!r} is not a known IANA time zone (e.g. Europe/London, America/New_York)") from err
    return value


class TableConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    timestamp_format: str | dict[str, str] | None = None
    timezone: str | None = None
    csv: CsvOptions = Field(default_factory=CsvOptions)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    combine_lines: bool = Field(
        False,
        description="orders only: rows sharing an order_id are lines of one order "
        "(summed into one order) instead of duplicates",
    )
    from_orders: bool = Field(
        False,
        description="customers only: there is no customers table; one customer per customer_id "
        "of the orders, signed up at their first order, in the marketplace named by the orders' "
        "column mapped to marketplace (or the one marketplace of data.marketplaces)",
    )

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))

    def format_for(self, column: str) -> str | None:
        if isinstance(self.timestamp_format, dict):
            return self.timestamp_format.get(column)
        return self.timestamp_format


class MarketplaceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    currency: str
    continent: str = "unknown"

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))
    _code = field_validator("currency")(classmethod(lambda cls, v: check_currency_code(v)))


class DataConfig(BaseModel):
    """How to find and read a dataset. All fields are optional."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    #: None: resolved from the data (the one currency the orders hold, or the fx base).
    reporting_currency: str | None = None
    marketplaces: dict[str, MarketplaceConfig] = Field(default_factory=dict)
    tables: dict[str, TableConfig] = Field(default_factory=dict)
    default_scale: str = Field("csat5", description="scale of surveys without a scale column")

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, value: dict[str, TableConfig]) -> dict[str, TableConfig]:
        for name, table in value.items():
            if name not in TABLES:
                raise ValueError(
                    f"unknown table {name!r}; valid tables: {', '.join(TABLES)}"
                )
            if table.combine_lines and name != "orders":
                raise ValueError(f"tables.{name}.combine_lines: only orders have lines")
            if table.from_orders and name != "customers":
                raise ValueError(f"tables.{name}.from_orders: only customers can be derived from the orders")
            if table.from_orders and (table.path is not None or set(table.columns) - {"marketplace"}
                                      or table.timestamp_format or table.timezone):
                raise ValueError(
                    "tables.customers.from_orders: the customers come from the orders, so give no path, "
                    "timestamp_format or timezone, and map only marketplace (to a column of the orders)"
                )
            known = {c.name for c in TABLES[name].columns}
            for canonical in table.columns:
                if canonical not in known:
                    raise ValueError(
                        f"tables.{name}.columns: {canonical!r} is not a canonical column "
                        f"of {name}; valid: {', '.join(sorted(known))}. Extra columns "
                        "need no mapping: they are kept as they are."
                    )
        return value

    _code = field_validator("reporting_currency")(
        classmethod(lambda cls, v: None if v is None else check_currency_code(v))
    )

    @field_validator("default_scale")
    @classmethod
    def _scale(cls, value: str) -> str:
        if value not in SCALES:
            raise ValueError(f"default_scale must be one of {', '.join(SCALES)}; got {value!r}")
        return value

    def table(self, name: str) -> TableConfig:
        return self.tables.get(name) or TableConfig()

    def resolved_marketplaces(self) -> dict[str, Marketplace]:
        out = dict(MARKETPLACES)
        for code, m in self.marketplaces.items():
            out[code] = Marketplace(code, m.timezone, m.currency, m.continent)
        return out


def load_config(path: Path) -> DataConfig:
    """Read the ``data:`` section of a project file (or a file that is only that)."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        reason = " ".join(str(err).split())
        raise InputDataError(f"{path}: cannot read the project file: {reason}") from err
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputDataError(f"{path}: a project file must be a mapping; got {type(raw).__name__}.")
    section = raw.get("data", raw)
    try:
        config = DataConfig.model_validate(section)
    except ValidationError as err:
        problems = "; ".join(
            f"data.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
        )
        raise InputDataError(f"{path}: {problems}") from err
    base = path.parent
    if config.path is not None and not config.path.is_absolute():
        config.path = base / config.path
    for table in config.tables.values():
        if table.path is not None and not table.path.is_absolute():
            table.path = base / table.path
    return config
