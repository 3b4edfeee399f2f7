"""Conversion into the reporting currency, the same on every engine."""

from __future__ import annotations

import pandas as pd

from cxlab.money import with_reporting_rate


def test_rates_reporting_currency_and_missing(engine) -> None:
    orders = engine.from_pandas(pd.DataFrame({"order_id": ["a", "b", "c"], "currency": ["JPY", "EUR", "CHF"]}))
    fx = engine.from_pandas(pd.DataFrame({"currency": ["jpy", "USD"], "rate": [0.0062, 0.92]}))
    got = engine.to_pandas(with_reporting_rate(orders, fx, "eur")).sort_values("order_id")
    assert got["_rate"].tolist()[:2] == [0.0062, 1.0]
    assert pd.isna(got["_rate"].iloc[2])
    assert list(got.columns) == ["order_id", "currency", "_rate"]


def test_without_fx_only_the_reporting_currency_converts(engine) -> None:
    orders = engine.from_pandas(pd.DataFrame({"order_id": ["a", "b"], "currency": ["EUR", "GBP"]}))
    got = engine.to_pandas(with_reporting_rate(orders, None, "EUR", name="r")).sort_values("order_id")
    assert got["r"].iloc[0] == 1.0 and pd.isna(got["r"].iloc[1])
