"""Hypothesis properties of the purchase and spend models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD
from cxlab.clv.bgnbd import _bgnbd_rows
from cxlab.clv.paretonbd import _pnbd_rows

SETTINGS = settings(max_examples=40, deadline=None)
positive = st.floats(min_value=0.05, max_value=20.0)


@st.composite
def customers(draw: st.DrawFn, max_x: int = 1000, max_t: float = 1000.0) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    rows = []
    for _ in range(n):
        big_t = draw(st.floats(0.0, max_t))
        x = draw(st.integers(0, max_x))
        t_x = 0.0 if x == 0 else draw(st.floats(0.0, big_t))
        rows.append((x, t_x, big_t))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def _bg(r: float, alpha: float, a: float, b: float) -> BetaGeo:
    model = BetaGeo()
    model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    return model


def _pnbd(r: float, alpha: float, s: float, beta: float) -> ParetoNBD:
    model = ParetoNBD()
    model.params_ = {"r": r, "alpha": alpha, "s": s, "beta": beta}
    return model


@SETTINGS
@given(customers(), positive, positive, positive, positive)
def test_p_alive_is_a_probability(x: pd.DataFrame, p1: float, p2: float, p3: float, p4: float) -> None:
    for model in (_bg(p1, p2, p3, p4), _pnbd(p1, p2, p3, p4)):
        p = model.probability_alive(x)
        assert np.all(np.isfinite(p))
        assert np.all((p >= 0) & (p <= 1))


@SETTINGS
@given(customers(), positive, positive, positive, positive)
def test_no_nan_or_overflow_for_extreme_customers(
    x: pd.DataFrame, p1: float, p2: float, p3: float, p4: float
) -> None:
    p = np.array([p1, p2, p3, p4])
    arrays = (x["frequency"].to_numpy(float), x["recency"].to_numpy(float), x["T"].to_numpy(float))
    for rows in (_bgnbd_rows, _pnbd_rows):
        with np.errstate(all="raise", under="ignore"):
            ll, g = rows(p, *arrays, grad=True)
        assert g is not None
        assert np.all(np.isfinite(ll))  # a density in t_x: may exceed 0
        assert np.all(np.isfinite(g))
    for model in (_bg(p1, p2, p3, p4), _pnbd(p1, p2, p3, p4)):
        e = model.conditional_expected_purchases(x, t=52.0)
        assert np.all(np.isfinite(e)) and np.all(e >= 0)


@SETTINGS
@given(
    positive,
    positive,
    st.floats(0.05, 20.0).filter(lambda a: abs(a - 1.0) > 1e-3),
    positive,
    st.lists(st.floats(0.0, 500.0), min_size=2, max_size=10),
)
def test_expected_purchases_non_decreasing_in_t(r: float, alpha: float, a: float, b: float, ts: list[float]) -> None:
    t = np.sort(np.asarray(ts))
    for model in (_bg(r, alpha, a, b), _pnbd(r, alpha, a, b)):
        e = model.expected_purchases(t)
        assert np.all(np.isfinite(e))
        assert np.all(np.diff(e) >= -1e-9 * (1 + np.abs(e[1:])))
        assert e[0] >= -1e-12


@SETTINGS
@given(customers(max_x=50, max_t=200.0), positive, positive, positive, positive)
def test_conditional_expectation_non_decreasing_in_t(
    x: pd.DataFrame, p1: float, p2: float, p3: float, p4: float
) -> None:
    for model in (_bg(p1, p2, p3, p4), _pnbd(p1, p2, p3, p4)):
        e = np.stack([model.conditional_expected_purchases(x, t=t) for t in (0.0, 1.0, 10.0, 52.0, 300.0)])
        assert np.allclose(e[0], 0.0)
        assert np.all(np.diff(e, axis=0) >= -1e-9 * (1 + np.abs(e[1:])))


@SETTINGS
@given(
    st.floats(0.1, 5.0),
    st.floats(0.5, 20.0),
    st.floats(0.1, 5.0),
    st.floats(0.5, 20.0),
    st.floats(0.0, 104.0),
)
def test_probability_of_purchases_sums_to_one(r: float, alpha: float, a: float, b: float, t: float) -> None:
    n = np.arange(0, 20_000)  # means reach ~1,000 purchases: keep the tail in
    for model in (_bg(r, alpha, a, b), _pnbd(r, alpha, a, b)):
        p = model.probability_of_purchases(t, n)
        assert np.all(p >= -1e-15)
        assert p.sum() == pytest.approx(1.0, abs=1e-6)


def test_probability_of_purchases_matches_expectation(bgnbd: BetaGeo, pareto: ParetoNBD) -> None:
    n = np.arange(0, 3000)
    for model in (bgnbd, pareto):
        p = model.probability_of_purchases(39.0, n)
        assert float(n @ p) == pytest.approx(float(model.expected_purchases(39.0)), rel=1e-6)


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_per_row_log_likelihoods_sum_to_the_total(
    name: str, request: pytest.FixtureRequest, cdnow_summary: pd.DataFrame
) -> None:
    model = request.getfixturevalue(name)
    rows = model.score_samples(cdnow_summary)
    assert rows.shape == (len(cdnow_summary),)
    assert rows.sum() == pytest.approx(model.log_likelihood_, rel=1e-12)
    assert model.log_likelihood(cdnow_summary) == pytest.approx(model.log_likelihood_, rel=1e-12)


def test_gamma_gamma_per_row_log_likelihoods_sum_to_the_total(
    ggamma: GammaGamma, cdnow_spend: pd.DataFrame
) -> None:
    rows = ggamma.score_samples(cdnow_spend)
    assert np.nansum(rows) == pytest.approx(ggamma.log_likelihood_, rel=1e-12)
    assert np.isnan(rows[cdnow_spend["frequency"].to_numpy() == 0]).all()


@pytest.mark.parametrize(("cls", "name"), [(BetaGeo, "bgnbd"), (ParetoNBD, "pareto")])
def test_weighted_distinct_tuples_fit_like_every_row(
    cls: type, name: str, request: pytest.FixtureRequest, cdnow_summary: pd.DataFrame
) -> None:
    full = request.getfixturevalue(name)
    tuples = cdnow_summary.groupby(["frequency", "recency", "T"], as_index=False).size()
    assert len(tuples) < len(cdnow_summary)
    weighted = cls().fit(tuples, sample_weight=tuples["size"])
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-10)
    for k, v in full.params_.items():
        assert weighted.params_[k] == pytest.approx(v, rel=1e-5)


def test_fit_is_invariant_to_row_order(cdnow_summary: pd.DataFrame, bgnbd: BetaGeo) -> None:
    shuffled = cdnow_summary.sample(frac=1.0, random_state=1)
    refit = BetaGeo().fit(shuffled)
    assert refit.params_ == pytest.approx(bgnbd.params_, rel=1e-8)


def test_expected_purchases_where_the_closed_form_overflows() -> None:
    """a and b in the millions (the drop-out probability pinned down, as a group of a few
    customers who never drop out gives): scipy's 2F1 overflows, the integral does not.
    With Beta(a, b+x) that narrow, p is its mean and the expectation is the
    fixed-p formula (1 - (A / (A + p t))**(r+x)) / p, A = alpha + T."""
    from cxlab.clv.bgnbd import _expected_given, _expected_given_quadrature

    r, alpha, a, b = 9.21, 43.24, 122024.3, 19410908.9
    x = np.array([0.0, 1.0, 5.0, 30.0])
    big_t = np.array([10.0, 20.0, 52.0, 52.0])
    t = np.full(4, 52.0)
    with np.errstate(all="ignore"):
        assert not np.isfinite(_expected_given(r, alpha, a, b, x, big_t, t)).any()  # the case at hand
    p = a / (a + b + x)
    fixed_p = -np.expm1(-(r + x) * np.log1p(p * t / (alpha + big_t))) / p
    model = _bg(r, alpha, a, b)
    frame = pd.DataFrame({"frequency": x, "recency": np.minimum(big_t, x), "T": big_t})
    e = model.conditional_expected_purchases(frame, t=52.0)
    assert np.all(np.isfinite(e))
    assert e == pytest.approx(model.probability_alive(frame) * fixed_p, rel=1e-4)
    assert model.expected_purchases(np.array([1.0, 52.0])) == pytest.approx(
        -np.expm1(-r * np.log1p(a / (a + b) * np.array([1.0, 52.0]) / alpha)) / (a / (a + b)), rel=1e-4)
    # where the closed form holds, the integral agrees with it (CDNOW's published parameters)
    cdnow = (0.243, 4.414, 0.793, 2.426)
    xs, ts = np.arange(0.0, 40.0), np.linspace(1.0, 78.0, 40)
    assert _expected_given_quadrature(*cdnow, xs, ts, np.full(40, 52.0)) == pytest.approx(
        _expected_given(*cdnow, xs, ts, np.full(40, 52.0)), rel=1e-4)


@SETTINGS
@given(customers(max_x=200, max_t=200.0), positive, positive, st.floats(1e3, 1e8), st.floats(1e3, 1e9))
def test_no_nan_with_huge_beta_parameters(x: pd.DataFrame, r: float, alpha: float, a: float, b: float) -> None:
    e = _bg(r, alpha, a, b).conditional_expected_purchases(x, t=52.0)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)


def test_pareto_p_alive_where_the_series_does_not_converge() -> None:
    """s and beta in the millions (a drop-out rate the data pin down): the series near z = 1
    does not converge, so P(alive) integrates the likelihood's death term instead. It must
    match the fixed-rate limit (mu = s/beta, integrated by scipy's quad), and match the
    series where that converges."""
    from scipy.integrate import quad

    from cxlab.clv.paretonbd import _p_alive_quadrature

    r, alpha, s, beta = 9.2, 43.2, 1e5, 1e7
    mu = s / beta
    rows = [(1.0, 5.0, 20.0), (5.0, 20.0, 52.0), (0.0, 0.0, 10.0), (30.0, 50.0, 52.0), (4.0, 52.0, 52.0)]
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    expected = []
    for x, t_x, big_t in rows:
        alive = (alpha + big_t) ** -(r + x) * np.exp(-mu * big_t)
        death = quad(lambda t, x=x: mu * np.exp(-mu * t) * (alpha + t) ** -(r + x), t_x, big_t, epsrel=1e-12)[0]
        expected.append(alive / (alive + death))
    model = _pnbd(r, alpha, s, beta)
    assert model.probability_alive(frame) == pytest.approx(expected, abs=1e-5)
    e = model.conditional_expected_purchases(frame, t=52.0)
    assert np.all(np.isfinite(e)) and np.all(e > 0)
    # where the series converges, the integral is the same number (CDNOW-like parameters)
    rng = np.random.default_rng(0)
    big_t = rng.uniform(0.5, 78.0, 500)
    x = rng.integers(0, 40, 500).astype(float)
    t_x = np.where(x > 0, rng.uniform(0.0, 1.0, 500) * big_t, 0.0)
    for params in [(0.553, 10.58, 0.606, 11.67), (0.2, 1.0, 3.0, 2.0), (5.0, 30.0, 0.05, 0.5)]:
        series = _pnbd(*params).probability_alive(pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t}))
        assert _p_alive_quadrature(*params, x, t_x, big_t) == pytest.approx(series, abs=1e-10)


@SETTINGS
@given(customers(max_x=200, max_t=200.0), positive, positive, st.floats(1e3, 1e8), st.floats(1e4, 1e10))
def test_pareto_no_nan_with_huge_drop_out_parameters(x: pd.DataFrame, r: float, alpha: float, s: float, beta: float) -> None:
    model = _pnbd(r, alpha, s, beta)
    p = model.probability_alive(x)
    e = model.conditional_expected_purchases(x, t=52.0)
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(e)) and np.all(e >= 0)
