"""Money: converting amounts into the reporting currency through ``fx``.

``fx`` rows give ``rate`` = units of the reporting currency per 1 unit of
``currency``; the reporting currency converts at 1.0 whether ``fx`` lists it or
not. Validation sets aside orders whose currency has no rate, so on validated
data every rate is known. (The metrics catalog converts with literal rates
instead of a join, to keep its hot path short; it gives the same numbers.)
"""

from __future__ import annotations

import narwhals as nw


def with_reporting_rate(
    lf: nw.LazyFrame,
    fx: nw.LazyFrame | None,
    reporting_currency: str,
    *,
    currency_col: str = "currency",
    name: str = "_rate",
) -> nw.LazyFrame:
    """Add ``name``: units of ``reporting_currency`` per 1 unit of ``currency_col``.

    Null where ``fx`` has no rate for the currency (and it is not the
    reporting currency).
    """
    reporting = reporting_currency.upper()
    if fx is None:
        rate_of_row: nw.Expr = nw.lit(None, nw.Float64)
    else:
        rates = fx.select(
            nw.col("currency").str.to_uppercase().alias("__fx_currency"), nw.col("rate").alias("__fx_rate")
        )
        lf = lf.join(rates, left_on=currency_col, right_on="__fx_currency", how="left")
        rate_of_row = nw.col("__fx_rate")
    rate = nw.when(nw.col(currency_col) == reporting).then(nw.lit(1.0)).otherwise(rate_of_row)
    lf = lf.with_columns(rate.alias(name))
    return lf.drop("__fx_rate") if fx is not None else lf
