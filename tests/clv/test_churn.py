"""Churn risk: features on every engine, time-based split, AUCs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.clv.churn import churn_features, churn_risk
from cxlab.clv.summary import collect_pandas
from cxlab.exceptions import InputDataError


def _toy_orders() -> pd.DataFrame:
    ts = pd.to_datetime(
        ["2024-01-01 10:00", "2024-01-01 18:00", "2024-02-01 09:00", "2024-03-20 12:00", "2024-01-15 00:00", "2024-04-02 00:00"]
    ).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b"],
            "order_ts": ts,
            "amount": [10.0, 20.0, 30.0, 40.0, 5.0, 7.0],
            "promised_ts": ts + pd.Timedelta(days=3),
            "delivered_ts": [ts[0] + pd.Timedelta(days=5), ts[1] + pd.Timedelta(days=1), pd.NaT, ts[3] + pd.Timedelta(days=4), ts[4], ts[5]],
        }
    )


def _toy_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "event_ts": pd.to_datetime(["2024-03-30", "2023-12-01", "2024-04-05", "2024-01-01"]).astype("datetime64[us]"),
        }
    )


def test_features_by_hand() -> None:
    orders = _toy_orders()
    contacts = pd.DataFrame(
        {"customer_id": ["b"], "contact_ts": pd.to_datetime(["2024-03-01"]).astype("datetime64[us]")}
    )
    feats = collect_pandas(
        churn_features(orders, cutoff="2024-03-31", events=_toy_events(), contacts=contacts, window_days=30)
    ).set_index("customer_id")
    a, b = feats.loc["a"], feats.loc["b"]
    assert a["n_orders"] == 4 and a["frequency"] == 2  # three purchase days
    assert a["recency_days"] == 11 and a["tenure_days"] == 90
    assert a["monetary_mean"] == pytest.approx(25.0)
    assert a["n_orders_last_window"] == 1
    assert a["late_deliveries"] == 2 and a["late_delivery_rate"] == pytest.approx(0.5)
    assert a["n_events"] == 2 and a["n_events_last_window"] == 1 and a["days_since_last_event"] == 1
    assert a["n_contacts"] == 0
    assert b["n_orders"] == 1  # the April order is after the cutoff
    assert b["n_events"] == 0  # so is the event
    assert b["n_contacts"] == 1 and b["days_since_last_contact"] == 30
    assert "c" not in feats.index  # no order before the cutoff


def test_features_are_the_same_on_every_engine(engine: object) -> None:
    orders, events = _toy_orders(), _toy_events()
    expected = collect_pandas(churn_features(orders, cutoff="2024-03-31", events=events)).sort_values("customer_id")
    got = collect_pandas(
        churn_features(
            engine.from_pandas(orders),  # type: ignore[attr-defined]
            cutoff="2024-03-31",
            events=engine.from_pandas(events),  # type: ignore[attr-defined]
        )
    ).sort_values("customer_id")
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True)[expected.columns], expected.reset_index(drop=True), check_dtype=False
    )


@pytest.fixture(scope="module")
def cdnow_churn(cdnow_orders: pd.DataFrame):  # noqa: ANN201
    return churn_risk(cdnow_orders, cutoff="1998-03-31", horizon_days=90)


def test_churn_on_cdnow_time_split(cdnow_churn, cdnow_orders: pd.DataFrame) -> None:  # noqa: ANN001
    result = cdnow_churn
    assert result.n_train == result.n_test == 2357
    # the label is "no purchase in 1998-04-01 .. 1998-06-29"
    buyers = cdnow_orders.loc[
        (cdnow_orders["order_ts"] > "1998-03-31") & (cdnow_orders["order_ts"] < "1998-06-30"), "customer_id"
    ].unique()
    assert result.churn_rate_test == pytest.approx(1 - len(buyers) / 2357)
    assert 0.75 < result.auc_lightgbm <= 1.0
    assert 0.75 < result.auc_bgnbd_expected <= 1.0
    # P(alive) is 1 for every one-time buyer (most of whom churn), so it ranks worse than chance here
    assert 0.0 <= result.auc_p_alive < 0.6
    assert set(result.scores.columns) == {"customer_id", "churn_risk", "p_alive", "churned"}
    assert result.scores["churn_risk"].between(0, 1).all()
    assert set(result.to_dict()) >= {"auc_lightgbm", "auc_p_alive", "n_train", "n_test"}


def test_churn_needs_both_classes(cdnow_orders: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="only one class"):
        churn_risk(cdnow_orders, cutoff="1998-06-30", horizon_days=90)  # nothing after the data ends


def test_churn_rejects_bad_horizon(cdnow_orders: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match=r"horizon_days must be a whole number in \[1, 3,660\]; got 0"):
        churn_risk(cdnow_orders, cutoff="1998-03-31", horizon_days=0)


def test_lightgbm_is_deterministic(cdnow_churn, cdnow_orders: pd.DataFrame) -> None:  # noqa: ANN001
    again = churn_risk(cdnow_orders, cutoff="1998-03-31", horizon_days=90)
    np.testing.assert_array_equal(again.scores["churn_risk"], cdnow_churn.scores["churn_risk"])
