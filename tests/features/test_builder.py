"""Feature builder: hand-checked values, no leakage, same result on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.engine import Engine
from cxlab.exceptions import InputDataError
from cxlab.features import FEATURES, invitation_features, order_features

T = pd.Timestamp


def _tables() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2"], "marketplace": ["FR", "JP"],
        "signup_ts": [T("2024-01-01"), T("2024-02-01")], "segment": ["vip", "value"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["c1", "c1", "c2", "c1"],
        "order_ts": [T("2024-03-01"), T("2024-03-10"), T("2024-03-05"), T("2024-04-01")],
        "amount": [10.0, 20.0, 1000.0, 5.0],
        "currency": ["EUR", "EUR", None, "EUR"],
        "promised_ts": [T("2024-03-03"), T("2024-03-12"), T("2024-03-07"), T("2024-04-03")],
        "delivered_ts": [T("2024-03-02"), T("2024-03-14 12:00"), T("2024-03-07"), T("2024-04-02")],
        "returned": [False, True, False, False],
        "category": ["books", "toys", "toys", "books"],
    })
    surveys = pd.DataFrame({
        "survey_id": ["s1", "s2"], "customer_id": ["c1", "c2"],
        "sent_ts": [T("2024-03-20"), T("2024-03-10")],
        "responded_ts": [T("2024-03-21"), pd.NaT], "score": [2.0, np.nan],
        "scale": ["csat5", "nps11"], "order_id": ["o2", "o3"],
    })
    contacts = pd.DataFrame({
        "contact_id": ["k1", "k2", "k3"], "customer_id": ["c1", "c1", "c1"],
        "contact_ts": [T("2024-03-13"), T("2024-03-05"), T("2024-03-25")],
        "reason": ["late_delivery", "billing", "late_delivery"], "order_id": ["o2", None, "o2"],
    })
    events = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2"],
        "event_ts": [T("2024-03-19"), T("2024-01-15"), T("2024-03-21"), T("2024-03-09")],
        "event_type": ["visit"] * 4,
    })
    fx = pd.DataFrame({"currency": ["JPY"], "rate": [0.0062]})
    return {"customers": customers, "orders": orders, "surveys": surveys,
            "contacts": contacts, "events": events, "fx": fx}


def _run(engine: Engine, frames: dict[str, pd.DataFrame], builder=invitation_features) -> pd.DataFrame:
    tables = {name: engine.from_pandas(df) for name, df in frames.items()}
    out = engine.to_pandas(builder(tables))
    key = "survey_id" if builder is invitation_features else "order_id"
    return out.sort_values(key).set_index(key)


def test_invitation_features_by_hand(engine: Engine) -> None:
    out = _run(engine, _tables())
    s1, s2 = out.loc["s1"], out.loc["s2"]
    assert s1.delay_days == pytest.approx(2.5) and s1.late == 1 and s1.days_late == pytest.approx(2.5)
    assert s1.returned == 1 and s1.amount_reporting == pytest.approx(20.0)
    assert s1.contacts == 1  # k1 about o2 before the invitation; k3 is after it
    assert s1.contacts_around_order == 2  # k1 and k2 (5 days before the order)
    assert s1.prior_orders == 1 and s1.days_since_prior_order == pytest.approx(9.0)
    assert s1.tenure_days == pytest.approx(79.0) and s1.events_30d == 1
    assert (s1.marketplace, s1.segment, s1.category, bool(s1.responded)) == ("FR", "vip", "toys", True)
    assert s2.amount_reporting == pytest.approx(6.2)  # JPY from the marketplace, fx rate
    assert s2.delay_days == 0 and s2.late == 0 and s2.prior_orders == 0
    assert np.isnan(s2.days_since_prior_order) and not bool(s2.responded)
    assert list(out.columns[:6]) == ["customer_id", "order_id", "sent_ts", "scale", "score", "responded"]
    assert set(FEATURES) <= set(out.columns)


def test_no_leakage(engine: Engine) -> None:
    frames = _tables()
    before = _run(engine, frames)
    later = _tables()
    later["orders"] = pd.concat([later["orders"], pd.DataFrame({
        "order_id": ["o9"], "customer_id": ["c1"], "order_ts": [T("2024-03-25")], "amount": [99.0],
        "currency": ["EUR"], "promised_ts": [T("2024-03-27")], "delivered_ts": [T("2024-03-26")],
        "returned": [True], "category": ["toys"]})], ignore_index=True)
    later["events"] = pd.concat([later["events"], pd.DataFrame({
        "customer_id": ["c1", "c2"], "event_ts": [T("2024-03-20 00:00:01"), T("2024-04-01")],
        "event_type": ["visit", "visit"]})], ignore_index=True)
    later["contacts"] = pd.concat([later["contacts"], pd.DataFrame({
        "contact_id": ["k9"], "customer_id": ["c2"], "contact_ts": [T("2024-03-11")],
        "reason": ["billing"], "order_id": ["o3"]})], ignore_index=True)
    after = _run(engine, later)
    pd.testing.assert_frame_equal(before, after)


def test_delivery_after_invitation_is_unknown(engine: Engine) -> None:
    frames = _tables()
    frames["orders"].loc[1, "delivered_ts"] = T("2024-03-22")  # after s1 was sent
    s1 = _run(engine, frames).loc["s1"]
    assert np.isnan(s1.delay_days) and s1.delivered == 0
    assert s1.late == 1 and s1.days_late == pytest.approx(8.0)  # overdue since 03-12


def test_order_features(engine: Engine) -> None:
    out = _run(engine, _tables(), order_features)
    assert out.invited.tolist() == [False, True, True, False]
    assert out.loc["o2", "survey_id"] == "s1" and out.loc["o2", "score"] == 2.0
    # Uninvited o4 is seen at delivery + the median lag (s1: 5.5 days, s2: 3 days).
    o4 = out.loc["o4"]
    assert o4.prior_orders == 2 and o4.delay_days == pytest.approx(-1.0)
    assert o4.tenure_days == pytest.approx(96.25)  # as of 04-06 06:00 (median lag 4.25)
    assert o4.events_30d == 2  # 03-19 and 03-21 lie within 30 days before 04-06


def test_missing_tables() -> None:
    with pytest.raises(InputDataError, match="'surveys'"):
        invitation_features({})
