"""Numbers and names for people: percentages, money, thousands, labels."""

from __future__ import annotations

import math
from typing import Any

#: Currency symbols used in front of amounts; other codes are written after.
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹", "BRL": "R$", "CNY": "¥",
           "AUD": "A$", "CAD": "C$", "CHF": "CHF ", "PLN": "zł", "SEK": "kr"}

#: Human names of metrics and columns.
LABELS = {
    "csat": "Satisfied customers (CSAT)", "nps": "Net Promoter Score", "response_rate": "Survey response rate",
    "late_delivery_rate": "Late deliveries", "return_rate": "Returns", "contact_rate": "Contact rate",
    "active_customers": "Active customers", "new_customers": "New customers", "orders": "Orders",
    "revenue": "Revenue", "aov": "Average order value", "repeat_rate": "Repeat buyers",
    "stickiness": "Stickiness", "mean_score": "Average score", "orders_per_active": "Orders per active customer",
    "csat5": "CSAT", "nps11": "NPS", "marketplace": "Marketplace",
}

#: Metrics whose values are shares (shown as %).
SHARES = {"csat", "response_rate", "late_delivery_rate", "return_rate", "contact_rate", "repeat_rate",
          "stickiness"}
MONEY = {"revenue", "aov"}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _bad(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any, digits: int = 0) -> str:
    """``12,345`` (or ``12.3k``-free plain thousands separators)."""
    if _bad(value):
        return "–"
    return f"{float(value):,.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    """A share in [0, 1] as ``59.4%``."""
    if _bad(value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def points(value: Any, digits: int = 1) -> str:
    """A difference of shares as signed percentage points: ``+2.3 pts``."""
    if _bad(value):
        return "–"
    return f"{100 * float(value):+.{digits}f} pts"


def money(value: Any, currency: str, digits: int | None = None) -> str:
    """``£1,234`` / ``€1.2M`` / ``1,234 SEK``: compact above a million."""
    if _bad(value):
        return "–"
    v = float(value)
    if digits is None:
        digits = 0 if abs(v) >= 100 else 2
    if abs(v) >= 1e6:
        text = f"{v / 1e6:,.1f}M"
    else:
        text = f"{v:,.{digits}f}"
    symbol = SYMBOLS.get(currency.upper())
    if symbol is None:
        return f"{text} {currency.upper()}"
    sign = "-" if text.startswith("-") else ""
    return f"{sign}{symbol}{text.lstrip('-')}"


def metric_value(metric: str, value: Any, currency: str) -> str:
    """A metric's value the way people read it."""
    if metric in SHARES:
        return pct(value)
    if metric in MONEY:
        return money(value, currency)
    if metric == "nps":
        return number(value, 1)
    return number(value, 0 if _bad(value) or abs(float(value)) >= 100 else 2)


def seconds(value: Any) -> str:
    if _bad(value):
        return "–"
    v = float(value)
    return f"{v:.1f} s" if v < 120 else f"{v / 60:.1f} min"
