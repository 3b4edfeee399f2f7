"""The reporting currency, resolved once per dataset.

Order of precedence: the value given by the caller (``--currency``), else the
project file's ``data.reporting_currency``, else the data:

- the orders hold exactly one currency: that one;
- they hold several and there is an ``fx`` table: its base currency (the one
  listed with rate 1, or else the one currency of the orders it does not list,
  or else the default, EUR);
- they hold several and there is no ``fx`` table: an :class:`InputDataError`
  naming the currencies and the two ways to fix it.

An order is set aside for its currency (``unknown_currency``) only when there is
an ``fx`` table and it has no rate for that currency. Without an ``fx`` table,
every order must be in the reporting currency: nothing could convert it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cxlab.exceptions import InputDataError

__all__ = ["CurrencyChoice", "resolve_reporting_currency"]


@dataclass(frozen=True)
class CurrencyChoice:
    code: str
    #: How it was chosen, for a line on stderr (empty when the user named it).
    note: str = ""
    #: fx rates are divided by this so that ``code`` has rate 1 (1.0: unchanged).
    rebase: float = 1.0


def _listing(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{c} ({n:,} orders)" for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _fx_base(rates: Mapping[str, float]) -> str | None:
    ones = [c for c, r in rates.items() if r == 1.0]
    return ones[0] if len(ones) == 1 else None


def resolve_reporting_currency(
    given: str | None,
    source: str,
    counts: Mapping[str, int],
    rates: Mapping[str, float] | None,
) -> CurrencyChoice:
    """Choose the reporting currency and check that every order can reach it.

    Parameters
    ----------
    given
        The caller's or the project file's choice (upper case), or None.
    source
        Where ``given`` came from, for messages (``--currency``, ``the project file``).
    counts
        Currency -> number of (otherwise valid) orders in it.
    rates
        The clean ``fx`` table as currency -> rate, or None when there is no fx table.
    """
    found = {c: n for c, n in counts.items() if n}
    if given is None:
        if len(found) == 1:
            code = next(iter(found))
            return CurrencyChoice(code, f"reporting currency {code}: the one currency of the orders "
                                        "(choose another with --currency or data.reporting_currency).")
        if rates is None and not found:
            from cxlab.schema import DEFAULT_REPORTING_CURRENCY

            return CurrencyChoice(DEFAULT_REPORTING_CURRENCY, "")
        if rates is None:
            raise InputDataError(
                f"orders: the orders hold {len(found)} currencies, {_listing(found)}, and there is no fx "
                "table to convert them into one. Either add an fx table (columns currency, rate: units of "
                "the reporting currency per 1 unit) and name the reporting currency with --currency or "
                "data.reporting_currency in the project file, or give only orders in one currency."
            )
        base = _fx_base(rates)
        if base is None:
            unlisted = [c for c in found if c not in rates]
            base = unlisted[0] if len(unlisted) == 1 else None
        if base is None:
            from cxlab.schema import DEFAULT_REPORTING_CURRENCY

            base = DEFAULT_REPORTING_CURRENCY
            return CurrencyChoice(base, f"reporting currency {base}: the orders hold several currencies and "
                                        f"the fx table lists none at rate 1, so its rates are read as {base} "
                                        "per unit (the default); name it with --currency or "
                                        "data.reporting_currency.")
        return CurrencyChoice(base, f"reporting currency {base}: the base currency of the fx table "
                                    "(choose another with --currency or data.reporting_currency).")
    code = given
    if rates is None:
        others = {c: n for c, n in found.items() if c != code}
        if others:
            raise InputDataError(
                f"orders: the reporting currency is {code} ({source}) but {_listing(others)} are in another "
                f"currency and there is no fx table to convert them. Either add an fx table (columns "
                f"currency, rate: units of {code} per 1 unit), or give {source} as the currency the "
                f"orders are in ({', '.join(sorted(found))})."
            )
        return CurrencyChoice(code)
    if code in rates:
        rate = rates[code]
        return CurrencyChoice(code, rebase=rate)
    base = _fx_base(rates)
    if base is not None and base != code:
        raise InputDataError(
            f"fx: the rates are in {base} (its rate is 1) but the reporting currency is {code} ({source}) "
            f"and fx has no rate for {code}. Add a row 'currency {code}, rate: {base} per 1 {code}' to fx, "
            f"or use {base} as the reporting currency."
        )
    return CurrencyChoice(code)
