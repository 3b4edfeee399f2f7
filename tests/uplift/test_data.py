"""Campaign rows: hand-checked features and outcomes, no leakage, same on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.engine import Engine
from cxlab.exceptions import InputDataError
from cxlab.uplift import HISTORY, campaign_frame, scoring_frame

T = pd.Timestamp


def _frames() -> dict[str, pd.DataFrame]:
    return {
        "customers": pd.DataFrame({
            "customer_id": ["c1", "c2", "c3"], "marketplace": ["UK", "UK", "US"],
            "signup_ts": [T("2024-01-01"), T("2024-02-01"), T("2024-03-01")], "segment": ["vip", "value", "value"],
        }),
        "orders": pd.DataFrame({
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["c1", "c1", "c1", "c2", "c3"],
            "order_ts": [T("2024-03-01"), T("2024-03-21"), T("2024-04-02"), T("2024-05-15"), T("2024-04-05")],
            "amount": [10.0, 20.0, 7.0, 30.0, 100.0],
            "currency": ["GBP", "GBP", "GBP", "GBP", "USD"],
        }),
        "fx": pd.DataFrame({"currency": ["USD", "GBP"], "rate": [0.8, 1.0]}),
        "events": pd.DataFrame({
            "customer_id": ["c1", "c1", "c2", "c2"],
            "event_ts": [T("2024-03-25"), T("2024-04-03"), T("2024-01-01"), T("2024-04-10")],
            "event_type": ["visit"] * 4,
        }),
        "surveys": pd.DataFrame({
            "survey_id": ["s1", "s2"], "customer_id": ["c1", "c1"], "sent_ts": [T("2024-03-02"), T("2024-03-22")],
            "responded_ts": [T("2024-03-03"), T("2024-04-05")], "score": [5.0, 1.0], "scale": ["csat5", "csat5"],
        }),
        "treatments": pd.DataFrame({
            "customer_id": ["c1", "c2", "c3"], "action": ["coupon", "control", "coupon"],
            "assigned_ts": [T("2024-04-01")] * 3,
        }),
    }


def _run(engine: Engine, frames: dict[str, pd.DataFrame], **kw) -> pd.DataFrame:
    tables = {name: engine.from_pandas(df) for name, df in frames.items()}
    return campaign_frame(tables, reporting_currency="GBP", **kw).set_index("customer_id")


def test_features_and_outcomes_by_hand(engine: Engine) -> None:
    out = _run(engine, _frames(), outcome="revenue", window_days=30)
    c1, c2, c3 = out.loc["c1"], out.loc["c2"], out.loc["c3"]
    assert c1["action"] == "coupon" and c2["action"] == "control"
    # c1 as of 2024-04-01: orders o1, o2 (o3 is after); last order 2024-03-21
    assert c1["frequency"] == 2 and c1["spend"] == pytest.approx(30.0) and c1["avg_order_value"] == pytest.approx(15.0)
    assert c1["recency_days"] == pytest.approx(11.0) and c1["tenure_days"] == pytest.approx(91.0)
    assert c1["events_30d"] == 1  # 2024-03-25 only
    assert c1["surveys_answered"] == 1 and c1["past_satisfaction"] == pytest.approx(1.0)  # s2 answered after
    assert c1["y"] == pytest.approx(7.0)  # o3 in the window
    assert c2["frequency"] == 0 and np.isnan(c2["recency_days"]) and c2["events_30d"] == 0
    assert c2["y"] == 0.0  # its order on 2024-05-15 is 44 days after assignment
    assert c3["y"] == pytest.approx(80.0)  # 100 USD at 0.8
    assert c3["segment"] == "value" and c3["marketplace"] == "US"
    assert set(HISTORY) <= set(out.columns)


def test_outcome_kinds(engine: Engine) -> None:
    frames = _frames()
    conv = _run(engine, frames, outcome="conversion", window_days=30)["y"].to_dict()
    visit = _run(engine, frames, outcome="visit", window_days=30)["y"].to_dict()
    orders = _run(engine, frames, outcome="orders", window_days=60)["y"].to_dict()
    assert conv == {"c1": 1.0, "c2": 0.0, "c3": 1.0}
    assert visit == {"c1": 1.0, "c2": 1.0, "c3": 0.0}
    assert orders == {"c1": 1.0, "c2": 1.0, "c3": 1.0}


def test_no_leakage_from_after_assignment(engine: Engine) -> None:
    frames = _frames()
    before = _run(engine, frames, outcome="orders", window_days=30)
    late = frames["orders"].copy()
    late.loc[len(late)] = ["o9", "c2", T("2024-04-01 00:00:01"), 999.0, "GBP"]
    frames["orders"] = late
    frames["events"].loc[len(frames["events"])] = ["c3", T("2024-04-01"), "visit"]
    after = _run(engine, frames, outcome="orders", window_days=30)
    pd.testing.assert_frame_equal(before[list(HISTORY)], after[list(HISTORY)])
    assert after.loc["c2", "y"] == before.loc["c2", "y"] + 1


def test_scoring_frame_covers_every_customer(engine: Engine) -> None:
    tables = {name: engine.from_pandas(df) for name, df in _frames().items()}
    out = scoring_frame(tables, asof_s=None, reporting_currency="GBP").set_index("customer_id")
    assert list(out.index) == ["c1", "c2", "c3"]
    assert out.loc["c1", "frequency"] == 3 and out.loc["c2", "frequency"] == 1


def test_missing_tables_and_bad_outcome() -> None:
    from cxlab.engine import get_engine

    eng = get_engine("polars")
    frames = _frames()
    tables = {n: eng.from_pandas(df) for n, df in frames.items() if n != "treatments"}
    with pytest.raises(InputDataError, match="no 'treatments' table"):
        campaign_frame(tables, outcome="revenue", window_days=30, reporting_currency="GBP")
    tables = {n: eng.from_pandas(df) for n, df in frames.items() if n != "events"}
    with pytest.raises(InputDataError, match="outcome 'visit'.*no 'events' table"):
        campaign_frame(tables, outcome="visit", window_days=30, reporting_currency="GBP")
    with pytest.raises(InputDataError, match="outcome must be one of"):
        campaign_frame(tables, outcome="clicks", window_days=30, reporting_currency="GBP")  # type: ignore[arg-type]
