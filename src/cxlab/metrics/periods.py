"""Periods in each marketplace's local time: grains, truncation, date windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal, get_args

import narwhals as nw

from cxlab.engine import local_timestamp
from cxlab.exceptions import InputDataError
from cxlab.schema import Marketplace

Grain = Literal["day", "week", "month", "quarter", "year", "all"]
GRAINS: tuple[str, ...] = get_args(Grain)

#: Grains at which month-based metrics (stickiness) are defined.
MONTH_OR_COARSER: tuple[str, ...] = ("month", "quarter", "year", "all")

_TRUNCATE = {"day": "1d", "month": "1mo", "quarter": "1q", "year": "1y"}

#: Internal column names (leading underscore: never clash with user columns).
TZ = "_tz"
LOCAL = "_local_ts"
PERIOD = "_period"


def check_grain(grain: str) -> Grain:
    """Return ``grain`` or raise :class:`InputDataError` listing the valid grains."""
    if grain not in GRAINS:
        raise InputDataError(
            f"grain must be one of {', '.join(GRAINS)}; got {grain!r}."
        )
    return grain  # type: ignore[return-value]


def as_date(value: dt.date | str | None, name: str) -> dt.date | None:
    """Parse ``since``/``until`` (a date or an ISO ``YYYY-MM-DD`` string)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise InputDataError(
            f"{name} must be an ISO date such as 2024-01-31; got {value!r}."
        ) from err


def timezone_expr(codes: list[str], marketplaces: Mapping[str, Marketplace]) -> nw.Expr:
    """The IANA zone of column ``marketplace``, for the marketplace ``codes`` present.

    Raises :class:`InputDataError` naming marketplaces without a known zone.
    """
    unknown = sorted(c for c in codes if c not in marketplaces)
    if unknown:
        raise InputDataError(
            f"customers: marketplace {', '.join(map(repr, unknown[:5]))} has no time zone; "
            f"known marketplaces are {', '.join(sorted(marketplaces))}. "
            "Add it to the project file's marketplaces."
        )
    return lookup_expr("marketplace", {c: marketplaces[c].timezone for c in codes})


def currency_expr(codes: list[str], marketplaces: Mapping[str, Marketplace]) -> nw.Expr:
    """The currency of column ``marketplace`` (marketplaces already checked)."""
    return lookup_expr("marketplace", {c: marketplaces[c].currency for c in codes})


def lookup_expr(column: str, mapping: Mapping[str, object]) -> nw.Expr:
    """A when/then chain mapping the few values of ``column``; others give null."""
    items = sorted(mapping.items())
    if not items:
        return nw.lit(None, dtype=nw.String)
    expr = nw.when(nw.col(column) == items[0][0]).then(nw.lit(items[0][1]))
    for key, value in items[1:]:
        expr = nw.when(nw.col(column) == key).then(nw.lit(value)).otherwise(expr)
    return expr


def truncate(expr: nw.Expr, grain: Grain) -> nw.Expr:
    """Start of the ``grain`` period containing timestamp ``expr`` (weeks start Monday)."""
    day = expr.dt.truncate("1d")
    if grain == "week":
        # ISO weekday: Monday 1 .. Sunday 7. Narwhals on PySpark 4 gives Sunday
        # as 0 (checked November 2026), so Sunday is matched as 0 or 7.
        weekday = expr.dt.weekday()
        out = nw.when(weekday.is_in([0, 7])).then(day.dt.offset_by("-6d")).otherwise(day)
        for k in range(2, 7):
            out = nw.when(weekday == k).then(day.dt.offset_by(f"-{k - 1}d")).otherwise(out)
        return out
    if grain == "day":
        return day
    return expr.dt.truncate(_TRUNCATE[grain])


def days_in_month(expr: nw.Expr) -> nw.Expr:
    """Number of calendar days (28-31) of the month of timestamp ``expr``."""
    month, year = expr.dt.month(), expr.dt.year()
    leap = ((year % 4) == 0) & (((year % 100) != 0) | ((year % 400) == 0))
    return (
        nw.when(month == 2)
        .then(nw.when(leap).then(nw.lit(29.0)).otherwise(nw.lit(28.0)))
        .otherwise(
            nw.when(month.is_in([4, 6, 9, 11])).then(nw.lit(30.0)).otherwise(nw.lit(31.0))
        )
    )


def localize(
    lf: nw.LazyFrame,
    column: str,
    *,
    since: dt.date | None,
    until: dt.date | None,
    zones: tuple[str, ...] | None = None,
) -> nw.LazyFrame:
    """Add :data:`LOCAL`, the wall-clock time of ``column`` in zone :data:`TZ`.

    Rows where ``column`` is null are dropped, and so are rows outside the
    local-date window ``since <= date <= until`` (both inclusive). ``zones``
    are the zones :data:`TZ` holds, when known.
    """
    lf = lf.filter(~nw.col(column).is_null())
    # UTC offsets stay within a day, so rows a day or more outside the window
    # go before the (costlier) conversion; the exact local filter follows.
    start = end = None
    if since is not None:
        start = dt.datetime.combine(since, dt.time())
        lf = lf.filter(nw.col(column) >= nw.lit(start - dt.timedelta(days=1)))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        lf = lf.filter(nw.col(column) < nw.lit(end + dt.timedelta(days=1)))
    lf = local_timestamp(lf, column, TZ, LOCAL, zones=zones)
    if start is not None:
        lf = lf.filter(nw.col(LOCAL) >= nw.lit(start))
    if end is not None:
        lf = lf.filter(nw.col(LOCAL) < nw.lit(end))
    return lf
