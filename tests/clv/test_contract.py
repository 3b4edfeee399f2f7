"""The scikit-learn estimator contract and input errors."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD
from cxlab.exceptions import ConvergenceError, InputDataError

ESTIMATORS = [BetaGeo, ParetoNBD, GammaGamma]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_get_params_and_clone(cls: type) -> None:
    est = cls(n_starts=2, max_iter=50, tol=1e-9, random_state=7)
    assert est.get_params() == {"n_starts": 2, "max_iter": 50, "tol": 1e-9, "random_state": 7}
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_hyperparameters_are_keyword_only(cls: type) -> None:
    with pytest.raises(TypeError):
        cls(3)


@pytest.mark.parametrize("name", ["bgnbd", "pareto", "ggamma"])
def test_clone_of_fitted_is_unfitted(name: str, request: pytest.FixtureRequest) -> None:
    fitted = request.getfixturevalue(name)
    assert not hasattr(clone(fitted), "params_")


def test_methods_need_a_fitted_model(cdnow_summary: pd.DataFrame) -> None:
    for call in (
        lambda: BetaGeo().probability_alive(cdnow_summary),
        lambda: ParetoNBD().conditional_expected_purchases(cdnow_summary, t=1.0),
        lambda: BetaGeo().expected_purchases(1.0),
        lambda: ParetoNBD().score_samples(cdnow_summary),
        lambda: GammaGamma().conditional_expected_spend(cdnow_summary),
    ):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_pickle_round_trip(name: str, request: pytest.FixtureRequest, cdnow_summary: pd.DataFrame) -> None:
    fitted = request.getfixturevalue(name)
    back = pickle.loads(pickle.dumps(fitted))
    assert back.params_ == fitted.params_
    np.testing.assert_array_equal(back.probability_alive(cdnow_summary), fitted.probability_alive(cdnow_summary))


def test_fit_returns_self_and_sets_attributes(cdnow_summary: pd.DataFrame) -> None:
    est = BetaGeo(n_starts=1)
    assert est.fit(cdnow_summary) is est
    assert est.n_customers_ == len(cdnow_summary)
    assert set(est.standard_errors_) == {"r", "alpha", "a", "b"}


def test_missing_column_names_what_is_missing(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="missing T"):
        BetaGeo().fit(cdnow_summary.drop(columns="T"))


def test_recency_after_t_is_rejected_with_rows() -> None:
    bad = pd.DataFrame({"frequency": [1, 2], "recency": [5.0, 50.0], "T": [10.0, 40.0]})
    with pytest.raises(InputDataError, match=r"'recency' must be <= 'T'; 1 of 2 rows .*rows 1\)"):
        ParetoNBD().fit(bad)


def test_non_finite_values_are_rejected() -> None:
    bad = pd.DataFrame({"frequency": [1.0, np.nan], "recency": [5.0, 0.0], "T": [10.0, 40.0]})
    with pytest.raises(InputDataError, match="must be finite"):
        BetaGeo().fit(bad)


def test_bad_sample_weight_is_rejected(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="sample_weight must have 2,357 values"):
        BetaGeo().fit(cdnow_summary, sample_weight=[1.0, 2.0])


def test_bad_n_starts_names_the_parameter(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="n_starts must be an integer >= 1; got 0"):
        BetaGeo(n_starts=0).fit(cdnow_summary)


def test_non_convergence_raises_convergence_error(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(ConvergenceError, match="n_starts"):
        BetaGeo(n_starts=1, max_iter=1).fit(cdnow_summary)


def test_fits_polars_frames(cdnow_summary: pd.DataFrame, bgnbd: BetaGeo) -> None:
    pl = pytest.importorskip("polars")
    model = BetaGeo().fit(pl.from_pandas(cdnow_summary).lazy())
    assert model.params_ == pytest.approx(bgnbd.params_, rel=1e-10)


def test_plain_pandas_columns_read_directly_equal_the_narwhals_route() -> None:
    """A pandas frame of NumPy numbers skips Narwhals; nullable, Arrow-backed and
    non-pandas frames go through it, and all give the same arrays."""
    from cxlab.clv._base import _plain_pandas, frame_columns

    plain = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0.0, 3.5, 9.0], "T": [10.0, 10.0, 12.0]})
    cols = ["frequency", "recency", "T"]
    assert _plain_pandas(plain, cols)
    others = [plain.astype({"frequency": "Int64"}), plain.convert_dtypes(dtype_backend="pyarrow"), pl.from_pandas(plain)]
    assert not any(_plain_pandas(o, cols) for o in others)
    want = frame_columns(plain, cols, who="t")
    for other in others:
        got = frame_columns(other, cols, who="t")
        for c in cols:
            np.testing.assert_array_equal(got[c], want[c])
    twice = pd.concat([plain, plain[["T"]]], axis=1)  # a duplicated column name
    assert not _plain_pandas(twice, cols)
    with pytest.raises(InputDataError):
        frame_columns(plain.drop(columns="T"), cols, who="t")
    with pytest.raises(InputDataError, match="finite"):
        frame_columns(plain.assign(recency=[0.0, np.nan, 1.0]), cols, who="t")
