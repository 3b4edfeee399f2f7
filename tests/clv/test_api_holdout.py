"""Holdout validation and the library entry points of `cxlab clv fit|score`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import (
    BetaGeo,
    GammaGamma,
    customer_lifetime_value,
    fit_from_orders,
    fit_from_summary,
    holdout_by_frequency,
    model_from_params,
    rfm_summary,
    score,
    score_orders,
)
from cxlab.exceptions import InputDataError

PERIOD = {"observation_end": "1998-06-30", "calibration_end": "1997-09-30"}


@pytest.fixture(scope="module")
def fitted(cdnow_orders: pd.DataFrame) -> dict:
    return fit_from_orders(cdnow_orders, **PERIOD)


def test_fit_from_orders_params_json(fitted: dict) -> None:
    params = fitted["params"]
    assert set(params) == {
        "model", "params", "log_likelihood", "standard_errors", "n_customers", "time_unit", "diagnostics"
    }
    assert params["time_unit"] == "W" and params["diagnostics"] == []  # CDNOW in weeks fits soundly
    assert params["model"] == "bgnbd" and params["n_customers"] == 2357
    assert params["params"]["r"] == pytest.approx(0.2426, rel=0.005)
    assert fitted["spend"]["params"]["p"] == pytest.approx(6.25, rel=0.01)
    json.dumps(fitted)  # JSON-ready as is


def test_holdout_report_shape_and_consistency(fitted: dict, cdnow_orders: pd.DataFrame) -> None:
    holdout = fitted["holdout"]
    holdout_days = cdnow_orders[cdnow_orders["order_ts"] > "1997-09-30"].drop_duplicates(["customer_id", "order_ts"])
    assert holdout["actual_total"] == len(holdout_days)
    rows = holdout["by_frequency"]
    assert [r["label"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["n"] for r in rows) == 2357
    assert sum(r["n"] * r["actual_mean"] for r in rows) == pytest.approx(holdout["actual_total"])
    assert sum(r["n"] * r["predicted_mean"] for r in rows) == pytest.approx(holdout["predicted_total"])
    # the model tracks the holdout: within 15% in total, and means rise with frequency
    assert holdout["predicted_total"] == pytest.approx(holdout["actual_total"], rel=0.15)
    assert np.all(np.diff([r["predicted_mean"] for r in rows]) > 0)


def test_weekly_tracking_curve(fitted: dict) -> None:
    weekly = fitted["holdout"]["weekly"]
    assert len(weekly) == 78
    assert weekly[38]["end_date"] == "1997-09-30" and weekly[38]["period"] == "calibration"
    assert weekly[39]["period"] == "holdout" and weekly[-1]["end_date"] == "1998-06-30"
    actual = [w["actual_cumulative"] for w in weekly]
    predicted = [w["predicted_cumulative"] for w in weekly]
    assert np.all(np.diff(actual) >= 0) and np.all(np.diff(predicted) >= 0)
    assert actual[-1] == 4339  # all repeat purchase days of the sample to 1998-06-30
    assert predicted[38] == pytest.approx(actual[38], rel=0.05)  # fitted on these weeks


def test_holdout_needs_holdout_columns(bgnbd: BetaGeo, cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="missing frequency_holdout"):
        holdout_by_frequency(bgnbd, cdnow_summary)


def test_fit_from_summary_each_model(cdnow_spend: pd.DataFrame) -> None:
    for model, ll in (("bgnbd", -9582.43), ("pareto", -9594.98)):
        out = fit_from_summary(cdnow_spend, model)  # type: ignore[arg-type]
        assert out["model"] == model and out["log_likelihood"] == pytest.approx(ll, abs=0.05)
    gg = fit_from_summary(cdnow_spend, "ggamma")
    assert gg["n_customers"] == 946
    with pytest.raises(InputDataError, match="model must be one of bgnbd, pareto, ggamma; got 'bg'"):
        fit_from_summary(cdnow_spend, "bg")  # type: ignore[arg-type]


def test_model_round_trips_through_json(fitted: dict, cdnow_summary: pd.DataFrame) -> None:
    model = model_from_params(json.loads(json.dumps(fitted["params"])))
    direct = BetaGeo().fit(cdnow_summary)
    np.testing.assert_allclose(model.probability_alive(cdnow_summary), direct.probability_alive(cdnow_summary), rtol=1e-4)


def test_score_orders(fitted: dict, cdnow_orders: pd.DataFrame) -> None:
    scores = score_orders(
        cdnow_orders, fitted["params"], spend=fitted["spend"], observation_end="1997-09-30", horizon=39
    )
    assert list(scores.columns) == ["customer_id", "p_alive", "expected_purchases", "expected_spend", "clv"]
    assert len(scores) == 2357
    assert scores["p_alive"].between(0, 1).all()
    np.testing.assert_allclose(scores["clv"], scores["expected_purchases"] * scores["expected_spend"], rtol=1e-9)
    discounted = score_orders(
        cdnow_orders, fitted["params"], spend=fitted["spend"], observation_end="1997-09-30", horizon=39,
        discount_rate=0.01,
    )
    assert (discounted["clv"] <= scores["clv"] + 1e-12).all()
    assert discounted["clv"].sum() < scores["clv"].sum()


def test_score_without_spend_model_uses_observed_spend(fitted: dict, cdnow_spend: pd.DataFrame) -> None:
    scores = score(cdnow_spend, fitted["params"], horizon=10)
    np.testing.assert_allclose(scores["expected_spend"], cdnow_spend["monetary_value"])


def test_clv_sums_discounted_period_purchases(bgnbd: BetaGeo, ggamma: GammaGamma, cdnow_spend: pd.DataFrame) -> None:
    x = cdnow_spend.head(5)
    clv = customer_lifetime_value(bgnbd, ggamma, x, horizon=3, discount_rate=0.1, time_unit="M")
    step = 365.25 / 12 / 7
    cum = [bgnbd.conditional_expected_purchases(x, t=i * step) for i in range(4)]
    expected = sum((cum[i] - cum[i - 1]) / 1.1**i for i in range(1, 4)) * ggamma.conditional_expected_spend(x)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)
    with pytest.raises(InputDataError, match="time_unit must be one of D, W, M, Y; got 'Q'"):
        customer_lifetime_value(bgnbd, ggamma, x, horizon=3, time_unit="Q")  # type: ignore[arg-type]


def test_fit_by_group(cdnow_orders: pd.DataFrame) -> None:
    orders = cdnow_orders.assign(marketplace=np.where(cdnow_orders["customer_id"].astype(int) % 2 == 0, "DE", "US"))
    out = fit_from_orders(orders, observation_end="1997-09-30", by="marketplace")
    assert [g["marketplace"] for g in out["groups"]] == ["DE", "US"]
    assert sum(g["params"]["n_customers"] for g in out["groups"]) == 2357
    assert all(g["holdout"] is None for g in out["groups"])


def test_rfm_summary_without_monetary_column(cdnow_orders: pd.DataFrame) -> None:
    summary = rfm_summary(cdnow_orders.drop(columns="amount"), observation_end="1997-09-30", monetary_value_col=None)
    assert (summary["monetary_value"] == 0).all()
