"""SatisfactionModel: contract, calibration, drivers, safe save/load, CLI functions."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxlab.engine import get_engine
from cxlab.exceptions import InputDataError
from cxlab.satisfaction import (
    SatisfactionModel, drivers, drivers_text, estimate, explain_drivers, fit, load_model, save_model,
)


def _answers(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    delay = rng.exponential(1.5, n) - 0.5
    returned = rng.random(n) < 0.1
    market = rng.choice(["DE", "FR"], n)
    noise = rng.normal(size=n)
    eta = 1.5 - 0.9 * np.maximum(delay, 0) - 1.4 * returned
    p = 1 / (1 + np.exp(-eta))
    sat = rng.random(n) < p
    score = np.where(sat, rng.choice([4.0, 5.0], n), rng.choice([1.0, 2.0, 3.0], n))
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "delay_days": delay,
                         "returned": returned.astype(float), "marketplace": market, "noise": noise,
                         "score": score, "p_true": p})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _answers()


@pytest.fixture(scope="module")
def model(data: pd.DataFrame) -> SatisfactionModel:
    features = ["delay_days", "returned", "marketplace", "noise"]
    return SatisfactionModel(features=features, n_estimators=100).fit(data, data.score)


def test_contract(model: SatisfactionModel, data: pd.DataFrame) -> None:
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        SatisfactionModel().predict_proba(data)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict_satisfied(data), model.predict_satisfied(data))
    proba = model.predict_proba(data)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(model.predict(data))) <= {0, 1}
    es = model.expected_score(data)
    assert ((es >= 1) & (es <= 5)).all()


def test_record_encoder_equals_the_frame_matrix(model: SatisfactionModel, data: pd.DataFrame) -> None:
    # Rows as a JSON request brings them: missing values, a flag as a boolean, an integer, a
    # marketplace the model never saw, and one it did.
    messy = [
        {"delay_days": None, "returned": True, "marketplace": "UK", "noise": 0},
        {"delay_days": 3, "returned": False, "marketplace": None, "noise": -1.25},
        {"delay_days": -0.5, "returned": None, "marketplace": "FR", "noise": None},
        {"delay_days": 1e15, "returned": 1.0, "marketplace": "", "noise": 2.5},
    ]
    sample = data[model.features_].head(200).to_dict(orient="records")
    for records in (messy, sample, messy[:1]):
        x = model.record_encoder()(records)
        want = model._matrix(pd.DataFrame.from_records(records, columns=model.features_))
        np.testing.assert_array_equal(x, want)
        p, score = model.predict_satisfied_and_score_matrix(x)
        frame = pd.DataFrame.from_records(records, columns=model.features_)
        np.testing.assert_array_equal(p, model.predict_satisfied(frame))
        np.testing.assert_array_equal(score, model.expected_score(frame))
    x = model.record_encoder()(messy)
    assert np.isnan(x[0, 0]) and x[0, 1] == 1.0 and np.isnan(x[0, 2])  # unknown level: missing
    with pytest.raises(KeyError):
        model.record_encoder()([{"delay_days": 1.0}])


def test_discrimination_and_calibration(model: SatisfactionModel) -> None:
    test = _answers(4000, seed=1)
    ev = model.evaluate(test, test.score)
    from sklearn.metrics import roc_auc_score

    oracle = roc_auc_score(test.score >= 4, test.p_true)
    assert ev["auc"] > oracle - 0.03
    assert ev["ece"] < 0.04  # 400 rows per bin: sampling noise alone is about 0.015
    assert len(ev["calibration_curve"]) == 10 and {"auc", "log_loss", "brier"} <= set(ev)


def test_monotone_delay(model: SatisfactionModel, data: pd.DataFrame) -> None:
    grid = pd.concat([data.iloc[:1]] * 50, ignore_index=True)
    grid["delay_days"] = np.linspace(-1, 8, 50)
    assert np.all(np.diff(model.predict_satisfied(grid)) <= 1e-12)


def test_drivers(model: SatisfactionModel, data: pd.DataFrame) -> None:
    table = explain_drivers(model, data, top=3)
    assert table.feature.tolist()[:2] == ["delay_days", "returned"]
    delay = table.set_index("feature").loc["delay_days"]
    assert delay.direction == "higher lowers satisfaction" and delay.points < 0
    assert delay.sentence.startswith("delivery delays: -")
    by = explain_drivers(model, data, by="marketplace", top=2)
    assert set(by.marketplace) == {"DE", "FR"} and " in FR " in drivers_text(by)
    contrib = model.contributions(data.iloc[:5])
    raw = model.booster_.predict(model._matrix(data.iloc[:5]), raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-8)


def test_save_load_no_pickle(model: SatisfactionModel, data: pd.DataFrame, tmp_path: Path) -> None:
    folder = save_model(model, tmp_path / "m")
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "SHA256SUMS", "model.json", "scales/csat5/model.txt", "scales/csat5/score_model.txt",
    ]
    loaded = load_model(folder)
    np.testing.assert_allclose(loaded.predict_satisfied(data), model.predict_satisfied(data))
    np.testing.assert_allclose(loaded.expected_score(data), model.expected_score(data))
    assert loaded.get_params() == model.get_params()
    meta = json.loads((folder / "model.json").read_text())
    assert meta["kind"] == "satisfaction" and meta["format"] == "cxlab.bundle/1"
    assert {f["name"]: f["type"] for f in meta["features"]} == {
        f: ("category" if f in model.categories_ else "number") for f in model.features_
    }
    text = (folder / "scales/csat5/model.txt").read_text()
    (folder / "scales/csat5/model.txt").write_text(text.replace("tree", "tree ", 1))
    with pytest.raises(InputDataError, match="scales/csat5/model.txt: checksum"):
        load_model(folder)
    with pytest.raises(InputDataError, match="not a cxlab model bundle"):
        load_model(tmp_path)


def test_bad_fit_input(data: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="same side"):
        SatisfactionModel(features=["delay_days"]).fit(data, np.full(len(data), 5.0))
    with pytest.raises(InputDataError, match="one csat5 score"):
        SatisfactionModel(features=["delay_days"]).fit(data, np.full(len(data), 7.0))
    with pytest.raises(InputDataError, match=r"X \(the features the model was fit with\) must have column"):
        SatisfactionModel(features=["delay_days"], n_estimators=5, calibration_folds=0).fit(
            data, data.score).predict_proba(data.drop(columns="delay_days"))


def _tables(n: int = 3000, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-01-01")
    order_ts = t0 + pd.to_timedelta(rng.uniform(0, 300, n), unit="D")
    delay = rng.exponential(1.5, n) - 0.7
    promised = order_ts + pd.Timedelta(days=3)
    delivered = promised + pd.to_timedelta(delay, unit="D")
    p_sat = 1 / (1 + np.exp(-(1.5 - 0.9 * np.maximum(delay, 0))))
    sat = rng.random(n) < p_sat
    answered = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.8 * np.maximum(delay, 0))))
    score = np.where(sat, 5.0, 2.0)
    market = rng.choice(["DE", "FR"], n)
    ids = [f"c{i}" for i in range(n)]
    return {
        "customers": pd.DataFrame({"customer_id": ids, "marketplace": market, "signup_ts": t0}),
        "orders": pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "customer_id": ids,
                                "order_ts": order_ts, "amount": 20.0, "currency": "EUR",
                                "promised_ts": promised, "delivered_ts": delivered}),
        "surveys": pd.DataFrame({"survey_id": [f"s{i}" for i in range(n)], "customer_id": ids,
                                 "sent_ts": delivered + pd.Timedelta(days=3),
                                 "score": np.where(answered, score, np.nan), "scale": "csat5",
                                 "order_id": [f"o{i}" for i in range(n)]}),
    }, float(sat.mean())


def test_fit_estimate_drivers_api(tmp_path: Path) -> None:
    frames, truth = _tables()
    engine = get_engine("polars")
    tables = {name: engine.from_pandas(df) for name, df in frames.items()}
    result = fit(tables, tmp_path / "model")
    assert set(result["scales"]) == {"csat5"} and result["scales"]["csat5"]["auc"] > 0.6
    saved = json.loads((tmp_path / "model" / "evaluation.json").read_text())
    assert saved["scales"]["csat5"]["n_test"] > 0
    table = drivers(tmp_path / "model", by="marketplace", top=2)
    assert table.scale.eq("csat5").all() and set(table.marketplace) == {"DE", "FR"}
    assert table.groupby("marketplace").head(1).feature.isin(["delay_days", "days_late", "late"]).all()
    with pytest.raises(InputDataError, match="--by must be one of"):
        drivers(tmp_path / "model", by="planet")
    with pytest.raises(InputDataError, match="not a cxlab model bundle"):
        drivers(tmp_path)
    out = estimate(tables, "aipw", ["marketplace"], "invited", folds=2)
    naive = estimate(tables, "naive")
    assert list(out.marketplace) == ["DE", "FR"]
    overall = estimate(tables, "aipw", folds=2)
    assert abs(overall.estimate[0] - truth) < abs(naive.estimate[0] - truth)
