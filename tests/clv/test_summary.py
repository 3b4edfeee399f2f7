"""rfm_summary and distinct_tuples: CDNOW reference, engines, edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from cxlab.clv import BetaGeo
from cxlab.clv.summary import collect_pandas, day_number, distinct_tuples, rfm_summary
from cxlab.exceptions import InputDataError

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow"
PERIOD = {"observation_end": "1998-06-30", "calibration_end": "1997-09-30"}


def _sorted(summary: object) -> pd.DataFrame:
    df = collect_pandas(summary)
    df["customer_id"] = df["customer_id"].astype(str)
    return df.assign(_id=df["customer_id"].astype(int)).sort_values("_id").drop(columns="_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def cdnow_rfm(cdnow_orders: pd.DataFrame) -> pd.DataFrame:
    return _sorted(rfm_summary(cdnow_orders, **PERIOD))


def test_reproduces_the_published_calibration_summary(cdnow_rfm: pd.DataFrame) -> None:
    ref = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    assert len(cdnow_rfm) == len(ref) == 2357
    np.testing.assert_array_equal(cdnow_rfm["customer_id"].astype(int), ref["ID"])
    np.testing.assert_array_equal(cdnow_rfm["frequency"], ref["frequency"])
    np.testing.assert_allclose(cdnow_rfm["recency"], ref["recency"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(cdnow_rfm["T"], ref["T"], atol=0.005 + 1e-9)


def test_reproduces_zbar(cdnow_rfm: pd.DataFrame) -> None:
    ref = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    np.testing.assert_allclose(cdnow_rfm["monetary_value"], ref["zbar"], atol=0.005 + 1e-9)
    assert (cdnow_rfm["frequency"] > 0).sum() == 946


def test_holdout_columns(cdnow_rfm: pd.DataFrame, cdnow_orders: pd.DataFrame) -> None:
    holdout_days = cdnow_orders[cdnow_orders["order_ts"] > "1997-09-30"].drop_duplicates(["customer_id", "order_ts"])
    assert cdnow_rfm["frequency_holdout"].sum() == len(holdout_days)
    assert np.allclose(cdnow_rfm["duration_holdout"], 39.0)  # 1997-10-01 .. 1998-06-30 = 273 days
    buyers = cdnow_rfm["frequency_holdout"] > 0
    assert (cdnow_rfm.loc[buyers, "monetary_value_holdout"] > 0).all()
    assert (cdnow_rfm.loc[~buyers, "monetary_value_holdout"] == 0).all()


def test_fit_on_the_engine_summary_matches_the_published_fit(cdnow_rfm: pd.DataFrame) -> None:
    # unrounded recency and T: the optimum moves by a hair only
    model = BetaGeo().fit(cdnow_rfm)
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert model.params_["r"] == pytest.approx(0.2426, rel=0.005)


def test_same_summary_on_every_engine(engine: object, cdnow_orders: pd.DataFrame, cdnow_rfm: pd.DataFrame) -> None:
    frame = engine.from_pandas(cdnow_orders)  # type: ignore[attr-defined]
    got = _sorted(rfm_summary(frame, **PERIOD))
    pd.testing.assert_frame_equal(got, cdnow_rfm, check_dtype=False, atol=1e-12)
    tuples = distinct_tuples(rfm_summary(frame, **PERIOD))
    assert tuples["weight"].sum() == 2357
    pd.testing.assert_frame_equal(
        tuples, distinct_tuples(cdnow_rfm), check_dtype=False, atol=1e-12
    )
    # and so the same parameters from every engine's summary
    reference = BetaGeo().fit(cdnow_rfm)
    from_engine = BetaGeo().fit(tuples, sample_weight=tuples["weight"])
    assert from_engine.params_ == pytest.approx(reference.params_, rel=1e-9)


def test_day_number_is_exact_across_leap_years() -> None:
    days = [dt.date(1900, 3, 1), dt.date(1969, 12, 31), dt.date(1970, 1, 1), dt.date(2000, 2, 29),
            dt.date(2000, 12, 31), dt.date(2024, 3, 1), dt.date(2100, 3, 1), dt.date(2400, 12, 31)]
    df = pd.DataFrame({"ts": np.array(days, dtype="datetime64[us]")})
    got = nw.from_native(df).select(day_number(nw.col("ts")).alias("d"))["d"].to_list()
    assert got == [(d - dt.date(1970, 1, 1)).days for d in days]


def test_same_day_purchases_are_one_and_spend_is_summed() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "order_ts": pd.to_datetime(
                ["2024-01-01 08:00", "2024-01-01 23:59", "2024-01-08 10:00", "2024-01-08 11:00", "2024-01-05 00:00"]
            ).astype("datetime64[us]"),
            "amount": [10.0, 5.0, 7.0, 3.0, 4.0],
        }
    )
    got = _sorted_by_id(rfm_summary(orders, observation_end="2024-01-15", time_unit="D"))
    assert got.loc["a", "frequency"] == 1
    assert got.loc["a", "recency"] == 7.0
    assert got.loc["a", "T"] == 14.0
    assert got.loc["a", "monetary_value"] == 10.0  # the repeat day: 7 + 3; the first day is not a repeat
    assert got.loc["b", "frequency"] == 0 and got.loc["b", "monetary_value"] == 0.0
    assert "frequency_holdout" not in got.columns


def test_local_day_column_overrides_the_utc_day() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "order_ts": pd.to_datetime(["2024-01-01 22:00", "2024-01-02 01:00"]).astype("datetime64[us]"),
            "local_day": pd.to_datetime(["2024-01-01", "2024-01-01"]).astype("datetime64[us]"),
            "amount": [1.0, 2.0],
        }
    )
    utc = _sorted_by_id(rfm_summary(orders, observation_end="2024-01-10"))
    local = _sorted_by_id(rfm_summary(orders, observation_end="2024-01-10", day_col="local_day"))
    assert utc.loc["a", "frequency"] == 1
    assert local.loc["a", "frequency"] == 0


def test_customers_first_seen_after_calibration_are_left_out() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_ts": pd.to_datetime(["2024-01-01", "2024-02-01"]).astype("datetime64[us]"),
            "amount": [1.0, 2.0],
        }
    )
    got = collect_pandas(rfm_summary(orders, observation_end="2024-03-01", calibration_end="2024-01-15"))
    assert got["customer_id"].tolist() == ["a"]


def test_errors_name_the_problem(cdnow_orders: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="missing order_ts"):
        rfm_summary(cdnow_orders.rename(columns={"order_ts": "ts"}), observation_end="1998-06-30")
    with pytest.raises(InputDataError, match="must be on or before observation_end"):
        rfm_summary(cdnow_orders, observation_end="1997-06-30", calibration_end="1997-09-30")
    with pytest.raises(InputDataError, match="time_unit must be one of D, W; got 'M'"):
        rfm_summary(cdnow_orders, observation_end="1998-06-30", time_unit="M")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="observation_end must be a date"):
        rfm_summary(cdnow_orders, observation_end="not a date")


def _sorted_by_id(summary: object) -> pd.DataFrame:
    return collect_pandas(summary).set_index("customer_id")


def test_summary_without_spend_matches_the_one_with_spend(
    engine: object, cdnow_orders: pd.DataFrame, cdnow_rfm: pd.DataFrame
) -> None:
    """Without a spend column the summary is two group-bys and no join: the same
    counts, recency, T and holdout columns, spend 0."""
    frame = engine.from_pandas(cdnow_orders)  # type: ignore[attr-defined]
    got = _sorted(rfm_summary(frame, monetary_value_col=None, **PERIOD))
    expected = cdnow_rfm.assign(monetary_value=0.0, monetary_value_holdout=0.0)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-12)


def test_summary_without_spend_on_a_hand_made_export() -> None:
    """Holdout-only repeats, a same-day double order, a customer first seen after the
    calibration end, an order after the observation end."""
    orders = pd.DataFrame(
        {
            "client": ["a", "a", "a", "b", "b", "b", "c", "d", "e", "e", "e", "e"],
            "placed": pd.to_datetime(
                ["2024-01-03 09:00", "2024-01-03 18:00", "2024-02-10", "2024-01-05", "2024-02-20", "2024-03-05",
                 "2024-02-02", "2024-01-20", "2024-01-02", "2024-01-10 08:00", "2024-01-10 20:00", "2024-01-25"],
                format="ISO8601",
            ).astype("datetime64[us]"),
        }
    )
    got = _sorted_by_id(
        rfm_summary(
            orders, observation_end="2024-03-01", calibration_end="2024-01-31", time_unit="D",
            customer_id_col="client", datetime_col="placed", monetary_value_col=None,
        )
    )
    assert sorted(got.index) == ["a", "b", "d", "e"]  # c: first seen after the calibration end
    assert got.loc["a", ["frequency", "recency", "T", "frequency_holdout"]].tolist() == [0, 0.0, 28.0, 1]
    assert got.loc["b", ["frequency", "recency", "T", "frequency_holdout"]].tolist() == [0, 0.0, 26.0, 1]  # 5 March is after the end
    assert got.loc["d", ["frequency", "recency", "T", "frequency_holdout"]].tolist() == [0, 0.0, 11.0, 0]
    assert got.loc["e", ["frequency", "recency", "T", "frequency_holdout"]].tolist() == [2, 23.0, 29.0, 0]
    assert (got["monetary_value"] == 0.0).all() and got.loc["a", "duration_holdout"] == 30.0
