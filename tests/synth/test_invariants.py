"""The generated data is clean: every rule the validator enforces holds."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from cxlab.schema import MARKETPLACES, SCALES, TABLES

from .conftest import Generated

START = pd.Timestamp("2024-01-01")
END_EXCLUSIVE = pd.Timestamp("2026-01-01")


@pytest.mark.parametrize("name", [n for n in TABLES])
def test_keys_unique_and_required_columns_not_null(generated: Generated, name: str) -> None:
    df = generated.df(name)
    table = TABLES[name]
    for column in table.required_columns:
        assert df[column].notna().all(), (name, column)
    if table.key:
        assert not df.duplicated(list(table.key)).any(), name


@pytest.mark.parametrize("name", [n for n in TABLES if n != "fx"])
def test_timestamps_inside_the_window(generated: Generated, name: str) -> None:
    df = generated.df(name)
    columns = [c.name for c in TABLES[name].columns if c.type == "timestamp" and c.name in df]
    assert columns
    for column in columns:
        values = df[column].dropna()
        assert values.min() >= START, (name, column)
        # a promise made before the end may be for a date after it
        limit = END_EXCLUSIVE + pd.Timedelta(days=7 if column == "promised_ts" else 0)
        assert values.max() < limit, (name, column)
    assert END_EXCLUSIVE < pd.Timestamp(datetime.now())


def test_no_orphans(generated: Generated) -> None:
    customers = set(generated.df("customers")["customer_id"])
    orders = set(generated.df("orders")["order_id"])
    for name in ("orders", "events", "surveys", "contacts", "treatments"):
        assert set(generated.df(name)["customer_id"]) <= customers, name
    for name in ("surveys", "contacts"):
        assert set(generated.df(name)["order_id"].dropna()) <= orders, name
    # a survey's or contact's order belongs to the same customer
    o = generated.df("orders").set_index("order_id")["customer_id"]
    for name in ("surveys", "contacts"):
        df = generated.df(name).dropna(subset=["order_id"])
        assert (o.loc[df["order_id"]].to_numpy() == df["customer_id"].to_numpy()).all(), name


def test_orders_are_consistent(generated: Generated) -> None:
    o = generated.df("orders")
    c = generated.df("customers").set_index("customer_id")
    assert (o["amount"] > 0).all()
    delivered = o["delivered_ts"].notna()
    assert (o.loc[delivered, "delivered_ts"] >= o.loc[delivered, "order_ts"]).all()
    assert o["promised_ts"].notna().all()
    assert (o["promised_ts"] > o["order_ts"]).all()
    assert not o.loc[~delivered, "returned"].any()
    signup = c.loc[o["customer_id"], "signup_ts"].to_numpy()
    assert (o["order_ts"].to_numpy() >= signup).all()
    expected = c.loc[o["customer_id"], "marketplace"].map(lambda m: MARKETPLACES[m].currency)
    assert (o["currency"].to_numpy() == expected.to_numpy()).all()
    assert set(o["category"]) >= {"electronics", "books", "fashion"}


def test_fx_covers_every_currency(generated: Generated) -> None:
    fx = generated.df("fx").set_index("currency")["rate"]
    assert set(generated.df("orders")["currency"]) <= set(fx.index)
    assert fx["EUR"] == 1.0
    assert (fx > 0).all()


def test_surveys_are_consistent(generated: Generated) -> None:
    s = generated.df("surveys")
    o = generated.df("orders").set_index("order_id")
    responded = s["responded_ts"].notna()
    assert (s["score"].notna() == responded).all()
    assert (s.loc[responded, "responded_ts"] > s.loc[responded, "sent_ts"]).all()
    assert (s["sent_ts"].to_numpy() > o.loc[s["order_id"], "delivered_ts"].to_numpy()).all()
    assert set(s["scale"]) == set(SCALES)
    for scale, (low, high) in SCALES.items():
        score = s.loc[(s["scale"] == scale) & responded, "score"]
        assert score.between(low, high).all() and (score == np.round(score)).all()
    assert not s["order_id"].duplicated().any()  # one invitation per order


def test_nps_only_where_configured(generated: Generated) -> None:
    s = generated.df("surveys").merge(generated.df("customers")[["customer_id", "marketplace"]])
    nps_markets = set(s.loc[s["scale"] == "nps11", "marketplace"])
    assert nps_markets == {"UK", "US", "JP"}


def test_contacts_about_an_order_precede_its_survey(generated: Generated) -> None:
    k = generated.df("contacts").dropna(subset=["order_id"])
    s = generated.df("surveys").set_index("order_id")["sent_ts"]
    k = k[k["order_id"].isin(s.index)]
    assert len(k) > 100
    assert (k["contact_ts"].to_numpy() < s.loc[k["order_id"]].to_numpy()).all()


def test_treatments_are_consistent(generated: Generated) -> None:
    t = generated.df("treatments")
    assert not t["customer_id"].duplicated().any()
    assert t["randomized"].all()
    assert t["assigned_ts"].nunique() == 1
    assert t["assigned_ts"].iloc[0] == pd.Timestamp("2025-11-01")  # 60 days before end
    costs = t.groupby("action")["cost"].unique().map(lambda v: list(v))
    assert costs.to_dict() == {
        "call": [12.0], "control": [0.0], "coupon_10": [5.0], "email": [0.1], "free_shipping": [3.0],
    }
    first = generated.df("orders").groupby("customer_id")["order_ts"].min()
    assert (first.loc[t["customer_id"]] < t["assigned_ts"].iloc[0]).all()


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_the_validator_rejects_nothing(generated: Generated, engine: str) -> None:
    io = pytest.importorskip("cxlab.io")
    dataset = io.load_dataset(generated.out, engine=engine)
    tables = dataset.report.to_dict()["tables"]
    assert set(tables) == set(TABLES)
    for name, report in tables.items():
        assert report["rows_rejected"] == 0, (name, report["reasons"])
        assert report["rows_in"] == generated.summary.rows[name]
