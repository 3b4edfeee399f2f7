"""Money: the one place that converts amounts into the reporting currency.

``fx`` rows give ``rate`` = units of the quote currency (by default the
reporting currency) per 1 unit of ``currency``; the reporting currency converts
at 1.0 whether ``fx`` lists it or not. The ``fx`` table is small (a row per
currency), so it is read once and the conversion becomes a literal
``when(currency == c).then(factor)`` expression: no join on the hot path of the
metrics catalog, the same numbers as a join. Validation sets aside orders whose
currency has no rate, so on validated data every rate is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import narwhals as nw

from cxlab._frames import as_frame, as_lazy, native_like
from cxlab.exceptions import InputDataError


def fx_rates(fx: Any) -> dict[str, float]:
    """``{CURRENCY: rate}`` of an ``fx`` table (currency codes upper-cased).

    Rows with a null currency or a null or non-finite rate give no rate.
    ``None`` (no ``fx`` table) gives ``{}``.
    """
    if fx is None:
        return {}
    frame = as_frame(fx, name="fx", who="fx_rates").select("currency", "rate")
    table = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    out: dict[str, float] = {}
    for c, r in zip(table["currency"].to_list(), table["rate"].to_list(), strict=True):
        if c is None or r is None or not math.isfinite(float(r)):
            continue
        out[str(c).upper()] = float(r)
    return out


def conversion_factors(
    currencies: Iterable[str],
    rates: Mapping[str, float],
    reporting_currency: str,
    *,
    quote_currency: str | None = None,
) -> dict[str, float]:
    """Units of ``reporting_currency`` per 1 unit of each of ``currencies``.

    Keys are the codes as given (so that they match the data exactly); rates
    are looked up by the upper-cased code.

    ``rates`` are quoted in ``quote_currency`` (default: the reporting
    currency), whose own rate is 1.0 when absent; a factor is
    ``rates[c] / rates[reporting_currency]``.

    Raises
    ------
    InputDataError
        When a currency (or the reporting currency) has no rate, naming it and
        the rates given.
    """
    reporting = reporting_currency.upper()
    quote = (quote_currency or reporting).upper()
    known = {**rates, reporting: rates.get(reporting, 1.0)} if quote == reporting else dict(rates)
    known.setdefault(quote, 1.0)
    wanted = list(dict.fromkeys(str(c) for c in currencies))
    missing = [c for c in [*wanted, reporting] if c.upper() not in known]
    if missing:
        given = ", ".join(sorted(rates)) or "none"
        raise InputDataError(
            f"fx: currency {', '.join(map(repr, dict.fromkeys(missing)))} has no rate "
            f"(rates given for {given}). Add a row to the fx table with the rate in "
            f"{quote} per 1 unit of that currency."
        )
    return {c: known[c.upper()] / known[reporting] for c in wanted}


def factor_expr(currency: nw.Expr, factors: Mapping[str, float]) -> nw.Expr:
    """The factor of each row's ``currency`` (exact code match), null for others."""
    out: nw.Expr = nw.lit(None, dtype=nw.Float64)
    for code, factor in factors.items():
        out = nw.when(currency == code).then(nw.lit(factor)).otherwise(out)
    return out


def with_reporting_rate(
    lf: Any,
    fx: Any,
    reporting_currency: str,
    *,
    currency_col: str = "currency",
    name: str = "_rate",
) -> Any:
    """Add ``name``: units of ``reporting_currency`` per 1 unit of ``currency_col``.

    Null where ``fx`` has no rate for the currency (and it is not the
    reporting currency). ``lf`` and ``fx`` may be any frames (see
    :mod:`cxlab._frames`); the result is ``lf``'s kind, lazy.
    """
    frame = as_lazy(lf, name="lf", who="with_reporting_rate")
    reporting = reporting_currency.upper()
    rates = fx_rates(fx)
    factors = {c: r for c, r in rates.items() if c != reporting}
    factors[reporting] = 1.0
    out = frame.with_columns(factor_expr(nw.col(currency_col), factors).alias(name))
    return native_like(out, lf)
