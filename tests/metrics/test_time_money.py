"""Local time, ISO weeks, currency conversion, and option errors."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlab.engine import get_engine
from cxlab.exceptions import InputDataError
from cxlab.metrics import compute_metrics


def _tables(orders: pd.DataFrame, customers: pd.DataFrame, fx: pd.DataFrame | None = None):
    engine = get_engine("duckdb")
    out = {"customers": customers, "orders": orders}
    if fx is not None:
        out["fx"] = fx
    for df in out.values():
        for c in df.columns:
            if c.endswith("_ts"):
                df[c] = df[c].astype("datetime64[us]")
    return {k: engine.from_pandas(v) for k, v in out.items()}


def _customers(*markets: str) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(len(markets))],
        "marketplace": list(markets),
        "signup_ts": pd.to_datetime(["2023-01-01"] * len(markets)),
    })


def _orders(rows: list[tuple[str, str, float, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(rows))],
        "customer_id": [r[0] for r in rows],
        "order_ts": pd.to_datetime([r[1] for r in rows]),
        "amount": [r[2] for r in rows],
        "currency": [r[3] for r in rows],
    })


def test_tokyo_purchase_late_on_january_31_utc_is_in_february() -> None:
    orders = _orders([("c0", "2024-01-31 23:30", 10.0, "EUR"), ("c1", "2024-01-31 23:30", 10.0, "EUR")])
    out = compute_metrics(
        _tables(orders, _customers("JP", "US")), metrics=["orders"], by=["marketplace"]
    )
    got = dict(zip(out["marketplace"], out["period_start"], strict=True))
    assert got == {"JP": "2024-02-01", "US": "2024-01-01"}


def test_iso_weeks_start_on_monday() -> None:
    # Sunday 2024-03-10 and Monday 2024-03-11, 12:00 in Berlin.
    orders = _orders([("c0", "2024-03-10 11:00", 1.0, "EUR"), ("c0", "2024-03-11 11:00", 1.0, "EUR"),
                      ("c0", "2024-03-17 11:00", 1.0, "EUR")])
    out = compute_metrics(_tables(orders, _customers("DE")), metrics=["orders"], grain="week")
    assert out[["period_start", "value"]].values.tolist() == [["2024-03-04", 1.0], ["2024-03-11", 2.0]]


def test_since_until_are_inclusive_local_dates() -> None:
    orders = _orders([("c0", "2024-01-31 15:30", 1.0, "EUR"), ("c0", "2024-02-29 14:00", 1.0, "EUR")])
    out = compute_metrics(
        _tables(orders, _customers("JP")), metrics=["orders"], grain="all",
        since="2024-02-01", until="2024-02-29",
    )
    # 15:30 UTC on Jan 31 is 00:30 Feb 1 in Tokyo (kept); Feb 29 14:00 is 23:00 (kept).
    assert out["value"].tolist() == [2.0]


def test_revenue_converts_through_fx_and_falls_back_to_marketplace_currency() -> None:
    orders = _orders([("c0", "2024-05-01", 100.0, "USD"), ("c1", "2024-05-01", 1000.0, None),
                      ("c0", "2024-05-02", 5.0, "EUR")])
    fx = pd.DataFrame({"currency": ["USD", "JPY"], "rate": [0.9, 0.006]})
    out = compute_metrics(_tables(orders, _customers("US", "JP"), fx), metrics=["revenue"], grain="all")
    assert out["value"].tolist() == pytest.approx([90.0 + 6.0 + 5.0])
    usd = compute_metrics(_tables(orders, _customers("US", "JP"), fx), metrics=["revenue"], grain="all",
                          reporting_currency="USD", fx_currency="EUR")
    assert usd["value"].tolist() == pytest.approx([101.0 / 0.9])


def test_currency_without_rate_is_an_error_naming_it() -> None:
    orders = _orders([("c0", "2024-05-01", 100.0, "CHF")])
    fx = pd.DataFrame({"currency": ["USD"], "rate": [0.9]})
    with pytest.raises(InputDataError, match="'CHF'"):
        compute_metrics(_tables(orders, _customers("DE"), fx), metrics=["revenue"], grain="all")


def test_no_fx_needed_when_amounts_are_in_reporting_currency() -> None:
    orders = _orders([("c0", "2024-05-01", 100.0, "EUR"), ("c1", "2024-05-01", 50.0, None)])
    out = compute_metrics(_tables(orders, _customers("DE", "FR")), metrics=["revenue", "aov"])
    assert out["value"].tolist() == pytest.approx([150.0, 75.0])


@pytest.mark.parametrize(
    ("kwargs", "listed"),
    [({"metrics": ["csatt"]}, "valid metrics: csat, mean_score"),
     ({"grain": "fortnight"}, "day, week, month, quarter, year, all"),
     ({"by": ["colour"]}, "valid choices:"),
     ({"metrics": ["stickiness"], "grain": "week"}, "month, quarter, year, all")],
)
def test_bad_options_list_valid_choices(kwargs, listed) -> None:
    orders = _orders([("c0", "2024-05-01", 1.0, "EUR")])
    with pytest.raises(InputDataError, match=listed):
        compute_metrics(_tables(orders, _customers("DE")), **kwargs)


def test_unknown_marketplace_is_an_error() -> None:
    orders = _orders([("c0", "2024-05-01", 1.0, "EUR")])
    with pytest.raises(InputDataError, match="'XX'"):
        compute_metrics(_tables(orders, _customers("XX")), metrics=["orders"])
