"""Independent references: quadrature of the model integrals, scipy and mpmath 2F1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import gammaln, hyp2f1

from cxlab.clv import BetaGeo, ParetoNBD
from cxlab.clv._special import log_hyp2f1_a_b_a1
from cxlab.clv.paretonbd import _pnbd_rows

POINTS = [  # a, b, z: CDNOW-like, large x, z near 1
    (1.2, 1.6, 0.09),
    (27.2, 1.6, 0.3),
    (1000.6, 1.606, 0.5),
    (5.0, 0.5, 0.95),
    (1003.0, 1001.0, 0.2),
]


@pytest.mark.parametrize(("a", "b", "z"), POINTS)
def test_log_hyp2f1_matches_scipy(a: float, b: float, z: float) -> None:
    assert float(log_hyp2f1_a_b_a1(a, b, z)) == pytest.approx(np.log(hyp2f1(a, b, a + 1.0, z)), rel=1e-10, abs=1e-10)


@pytest.mark.parametrize(("a", "b", "z"), POINTS)
def test_log_hyp2f1_matches_mpmath(a: float, b: float, z: float) -> None:
    mpmath = pytest.importorskip("mpmath", reason="mpmath is an optional extra oracle")
    mpmath.mp.dps = 40
    expected = float(mpmath.log(mpmath.hyp2f1(a, b, a + 1, z)))
    assert float(log_hyp2f1_a_b_a1(a, b, z)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def _pareto_loglik_by_quadrature(p: tuple[float, float, float, float], x: int, t_x: float, big_t: float) -> float:
    """L = E_{lambda,mu}[lambda^x e^{-(lambda+mu)T} + lambda^x mu int_{t_x}^T e^{-(lambda+mu)tau}]."""
    r, alpha, s, beta = p
    log_k = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    # scale the integrand by its value at t_x so that quad sees numbers near 1
    log_f0 = -(r + x) * np.log(alpha + t_x) - (s + 1) * np.log(beta + t_x)

    def f(tau: float) -> float:
        return float(np.exp(-(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau) - log_f0))

    integral, _ = integrate.quad(f, t_x, big_t, epsabs=0, epsrel=1e-12, limit=200)
    first = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    return float(log_k + np.logaddexp(first, np.log(s) + log_f0 + np.log(integral)))


@pytest.mark.parametrize(
    "row",
    [(0, 0.0, 38.86), (2, 30.43, 38.86), (26, 30.857, 31.0), (400, 120.0, 900.0), (1000, 999.0, 1000.0)],
)
@pytest.mark.parametrize("params", [(0.553, 10.58, 0.606, 11.66), (2.0, 3.0, 0.3, 40.0), (0.8, 50.0, 4.0, 0.5)])
def test_pareto_likelihood_matches_quadrature(
    row: tuple[int, float, float], params: tuple[float, float, float, float]
) -> None:
    x, t_x, big_t = row
    ours = _pnbd_rows(np.array(params), np.array([float(x)]), np.array([t_x]), np.array([big_t]), grad=False)[0]
    assert float(ours[0]) == pytest.approx(_pareto_loglik_by_quadrature(params, x, t_x, big_t), rel=1e-9)


def test_bgnbd_expectation_matches_quadrature() -> None:
    r, alpha, a, b = 0.2426, 4.4137, 0.7930, 2.4262
    model = BetaGeo()
    model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    for t in (1.0, 31.857, 78.0, 500.0):
        # E[X(t) | lambda, p] = (1 - exp(-lambda p t)) / p, averaged over the gamma and the beta
        def integrand(p: float, t: float = t) -> float:
            return float((1 - (alpha / (alpha + p * t)) ** r) / p * stats.beta.pdf(p, a, b))

        expected, _ = integrate.quad(integrand, 0, 1, limit=200, epsrel=1e-11)
        assert float(model.expected_purchases(t)) == pytest.approx(expected, rel=1e-8)


def test_pareto_probability_of_purchases_matches_quadrature(pareto: ParetoNBD) -> None:
    r, alpha, s, beta = (pareto.params_[k] for k in ("r", "alpha", "s", "beta"))
    t = 39.0
    for n in (0, 1, 5):
        nbd = lambda tau, n=n: stats.nbinom.pmf(n, r, alpha / (alpha + tau))  # noqa: E731
        death = lambda tau: s * beta**s / (beta + tau) ** (s + 1)  # noqa: E731
        integral, _ = integrate.quad(lambda tau: death(tau) * nbd(tau), 0, t, epsrel=1e-12)
        expected = (beta / (beta + t)) ** s * nbd(t) + integral
        assert float(pareto.probability_of_purchases(t, n)) == pytest.approx(expected, rel=1e-9)


def test_pareto_gradient_is_exact(cdnow_summary: pd.DataFrame) -> None:
    x, t_x, big_t = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    for p in (np.array([0.55, 10.5, 0.6, 11.7]), np.array([0.55, 20.5, 0.6, 3.0])):
        g = _pnbd_rows(p, x, t_x, big_t, grad=True)[1]
        assert g is not None
        for j in range(4):
            h = np.zeros(4)
            h[j] = 1e-6 * p[j]
            num = (
                _pnbd_rows(p + h, x, t_x, big_t, grad=False)[0].sum()
                - _pnbd_rows(p - h, x, t_x, big_t, grad=False)[0].sum()
            ) / (2 * h[j])
            assert g[:, j].sum() == pytest.approx(num, rel=1e-6, abs=1e-4)
