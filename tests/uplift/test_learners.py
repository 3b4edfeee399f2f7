"""T/X/DR learners: recover known heterogeneous effects, the estimator contract, saving without pickle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxlab.exceptions import InputDataError
from cxlab.uplift import LEARNERS, DRLearner, TLearner, XLearner


def _data(n: int, seed: int, *, binary: bool = False):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.choice(["a", "b", "c"], size=n), "x3": rng.normal(size=n),
    })
    t = rng.choice(["control", "mail", "call"], size=n, p=[0.4, 0.3, 0.3])
    tau = np.column_stack([
        np.where(X["x1"] > 0, 2.0, 0.0),  # call
        np.where(X["x2"] == "b", 1.5, 0.2),  # mail
    ])
    eff = np.where(t == "call", tau[:, 0], np.where(t == "mail", tau[:, 1], 0.0))
    if binary:
        p = 1 / (1 + np.exp(-(-1.0 + 0.5 * X["x3"].to_numpy() + eff)))
        y = (rng.random(n) < p).astype(float)
    else:
        y = X["x3"].to_numpy() + eff + rng.normal(0, 1, n)
    return X, t, y, tau


@pytest.mark.parametrize("kind", ["t", "x", "dr"])
def test_recovers_heterogeneous_effects(kind: str) -> None:
    X, t, y, _ = _data(12_000, 0)
    model = LEARNERS[kind](n_estimators=80).fit(X, t, y)
    assert model.actions_ == ["call", "mail"] and model.arms_[0] == "control"
    Xt, _, _, tau = _data(2000, 1)
    pred = model.predict(Xt)
    for j in range(2):
        assert np.corrcoef(pred[:, j], tau[:, j])[0, 1] > 0.8
        assert abs(pred[:, j].mean() - tau[:, j].mean()) < 0.25


def test_binary_outcome_and_estimated_propensity() -> None:
    X, t, y, _ = _data(5000, 2, binary=True)
    model = DRLearner(n_estimators=60, propensity="estimated").fit(X, t, y)
    assert model.binary_
    p = model.propensities(X.head(50))
    assert p.shape == (50, 3) and np.allclose(p.sum(axis=1), 1, atol=0.05)
    mu = model.predict_outcomes(X.head(50))
    assert ((mu >= 0) & (mu <= 1)).all()
    Xt, _, _, tau = _data(2000, 3)
    assert np.corrcoef(model.predict(Xt)[:, 0], tau[:, 0])[0, 1] > 0.6


@pytest.mark.parametrize("cls", [TLearner, XLearner, DRLearner])
def test_contract_and_round_trip_without_pickle(cls) -> None:
    import lightgbm as lgb

    X, t, y, _ = _data(1500, 4)
    model = cls(n_estimators=20, random_state=3)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(X)
    model.fit(X, t, y)
    files, meta = model.to_files()
    assert all(isinstance(text, str) and text.startswith("tree") for text in files.values())
    boosters = {name: lgb.Booster(model_str=text) for name, text in files.items()}
    again = cls.from_files(boosters, meta)
    Xn = X.head(300).copy()
    Xn.loc[0, "x2"] = "never-seen"  # an unseen level is treated as missing, not an error
    np.testing.assert_allclose(again.predict(Xn), model.predict(Xn), rtol=0, atol=1e-12)


def test_bad_input() -> None:
    X, t, y, _ = _data(600, 5)
    with pytest.raises(InputDataError, match="control action 'none'"):
        TLearner(control="none").fit(X, t, y)
    with pytest.raises(InputDataError, match="same length"):
        TLearner().fit(X, t[:-1], y)
    with pytest.raises(InputDataError, match="at least 100 rows"):
        TLearner().fit(X.head(150), t[:150], y[:150])
    with pytest.raises(InputDataError, match="propensity must be"):
        TLearner(propensity="guess").fit(X, t, y)  # type: ignore[arg-type]
    model = TLearner(n_estimators=10).fit(X, t, y)
    with pytest.raises(InputDataError, match="lacks the feature columns x2"):
        model.predict(X.drop(columns="x2"))


def test_categorical_dtype_encodes_like_strings() -> None:
    """A pandas Categorical column (other level order, an unseen level, a missing value) scores like its strings."""
    X, t, y, _ = _data(3000, 4)
    model = TLearner(n_estimators=30).fit(X, t, y)
    Xt = X.head(200).copy()
    Xt.loc[Xt.index[:5], "x2"] = "zzz"  # unseen in fit -> missing
    Xt.loc[Xt.index[5:8], "x2"] = None
    as_cat = Xt.assign(x2=pd.Categorical(Xt["x2"], categories=["zzz", "c", "b", "a"]))
    assert np.array_equal(model.predict(as_cat), model.predict(Xt))
    Z = model._check_X(as_cat)
    assert Z.dtype == np.float32 and np.isnan(Z[:8, 1]).all() and not np.isnan(Z[8:, 1]).any()


@pytest.mark.parametrize("cls", [TLearner, XLearner, DRLearner])
def test_side_by_side_training_matches_one_at_a_time(cls) -> None:
    """Models trained at once on 3 threads (one LightGBM thread each: 3 arms) equal the sequential fit."""
    X, t, y, _ = _data(4000, 5)
    kw = {"n_estimators": 30, "shared_baseline": False}
    one = cls(n_jobs=1, **kw).fit(X, t, y).predict(X.head(300))
    several = cls(n_jobs=3, **kw).fit(X, t, y).predict(X.head(300))
    assert np.array_equal(one, several)
