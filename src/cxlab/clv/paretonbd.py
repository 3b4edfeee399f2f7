"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987).

References
----------
D. C. Schmittlein, D. G. Morrison and R. Colombo (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", *Management Science*
33(1), 1-24.

P. S. Fader and B. G. S. Hardie (2005), "A Note on Deriving the Pareto/NBD
Model and Related Expressions" (FH05 below).

Assumptions: while active, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; the unobserved lifetime is exponential with rate
``mu ~ Gamma(s, beta)``; ``lambda`` and ``mu`` are independent.

The likelihood (FH05, section 2) is written here as::

    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        * [ (alpha+T)^-(r+x) (beta+T)^-s + s (G(t_x) - G(T)) ]
    G(u) = int_u^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau
         = (M+u)^-(r+s+x) / (r+s+x) * 2F1(r+s+x, b; r+s+x+1; |alpha-beta| / (M+u))

with ``M = max(alpha, beta)`` and ``b = s+1`` if ``alpha >= beta`` else
``b = r+x`` (FH05: ``s/(r+s+x) A_0 = s (G(t_x) - G(T))``). ``log G``
and its gradient come from :mod:`cxlab.clv._special`; the difference
``G(t_x) - G(T)`` is taken in log space with ``log1mexp``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.optimize  # noqa: F401  (the L-BFGS-B fit of this model; loaded with it, as any import)
from scipy.special import digamma, expit, gammaln, roots_legendre

from cxlab.clv._base import FloatArray, Tuples, dot, unique_inverse, unique_rows_inverse
from cxlab.clv._btyd import PurchaseModel, gamma_rate_moments
from cxlab.clv._special import log1mexp, log_series_1_e_c

_N_QUAD = 128


def _log_g(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, u: FloatArray, *, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """``log G(u)`` for each ``(x, u)`` and its gradient in (r, alpha, s, beta)."""
    a = r + s + x
    if alpha >= beta:
        m, other, b, e = alpha, beta, s + 1.0, r + x
    else:
        m, other, b, e = beta, alpha, r + x, s + 1.0
    mu = m + u
    z = (m - other) / mu
    log_s, s_e, s_c, s_z = log_series_1_e_c(e, a + 1.0, z)
    log_1mz = np.log1p(-z)
    log_mu = np.log(mu)
    lg = -a * log_mu - np.log(a) + (1.0 - b) * log_1mz + log_s
    if not grad:
        return lg, None
    common = -log_mu - 1.0 / a + s_c  # a and c = a+1 move with r and s alike
    dz_term = -(1.0 - b) / (1.0 - z) + s_z
    dz_dm = (other + u) / mu**2
    dz_dother = -1.0 / mu
    d_m = -a / mu + dz_term * dz_dm
    d_other = dz_term * dz_dother
    if alpha >= beta:  # b = s+1 moves with s, e = r+x with r
        d_r = common + s_e
        d_s = common - log_1mz
        d_alpha, d_beta = d_m, d_other
    else:  # b = r+x moves with r, e = s+1 with s
        d_r = common - log_1mz
        d_s = common + s_e
        d_alpha, d_beta = d_other, d_m
    return lg, np.stack([d_r, d_alpha, d_s, d_beta], axis=1)


def _pnbd_prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray | None = None) -> tuple[Any, ...]:
    """Distinct ``(x, u)`` pairs (``u`` in ``{t_x, T}``) and distinct ``x``, with
    inverses, and the weights summed per distinct ``x``."""
    n = x.size
    both_x, both_u = np.concatenate([x, x]), np.concatenate([t_x, big_t])
    first, inv = unique_rows_inverse(both_x, both_u)
    ux, xinv = unique_inverse(x)
    w_x = np.bincount(xinv, weights=np.ones(n) if w is None else w, minlength=ux.size)
    return first, inv[:n], inv[n:], ux, xinv, w_x, both_x[first], both_u[first]


def _pnbd_rows(
    p: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    *,
    grad: bool,
    prep: tuple[Any, ...] | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood (FH05, section 2) and its gradient in (r, alpha, s, beta)."""
    r, alpha, s, beta = p
    # log G on the distinct (x, u) pairs, u in {t_x, T}
    if prep is None:
        prep = _pnbd_prepare(x, t_x, big_t)
    _, inv_t, inv_big, ux, xinv, _, pair_x, pair_u = prep
    lg_u, dg_u = _log_g(r, alpha, s, beta, pair_x, pair_u, grad=grad)
    n = x.size
    lg_t, lg_big = lg_u[inv_t], lg_u[inv_big]
    # G(t_x) > G(T) unless t_x == T (or so close that they round equal): then D = 0
    has_gap = (t_x < big_t) & (lg_big < lg_t)
    log_q = np.where(has_gap, lg_big - lg_t, -np.inf)
    log_d = np.where(has_gap, lg_t + log1mexp(np.where(has_gap, log_q, -1.0)), -np.inf)
    k = gammaln(r + ux)[xinv] - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_at, log_bt = np.log(alpha + big_t), np.log(beta + big_t)
    p_term = -(r + x) * log_at - s * log_bt
    q_term = np.log(s) + log_d
    lse = np.logaddexp(p_term, q_term)
    ll = k + lse
    if not grad:
        return ll, None
    assert dg_u is not None
    w = np.exp(q_term - lse)
    q = np.exp(np.minimum(log_q, 0.0))
    denom = np.where(has_gap, -np.expm1(np.minimum(log_q, 0.0)), 1.0)
    d_log_d = np.where(has_gap[:, None], (dg_u[inv_t] - q[:, None] * dg_u[inv_big]) / denom[:, None], 0.0)
    d_k = np.stack(
        [
            digamma(r + ux)[xinv] - digamma(r) + np.log(alpha),
            np.full(n, r / alpha),
            np.full(n, np.log(beta)),
            np.full(n, s / beta),
        ],
        axis=1,
    )
    d_p = np.stack([-log_at, -(r + x) / (alpha + big_t), -log_bt, -s / (beta + big_t)], axis=1)
    d_q = d_log_d
    d_q[:, 2] += 1.0 / s
    g = d_k + (1.0 - w)[:, None] * d_p + w[:, None] * d_q
    return ll, g


def _pnbd_total(
    p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray, prep: tuple[Any, ...]
) -> tuple[float, FloatArray]:
    """Weighted total log-likelihood and gradient in (r, alpha, s, beta), for fitting.

    Same algebra as :func:`_pnbd_rows`; weights are pushed onto the distinct
    ``x`` values and ``(x, u)`` pairs so that no per-row gradient matrix is built.
    """
    r, alpha, s, beta = p
    _, inv_t, inv_big, ux, xinv, w_x, pair_x, pair_u = prep
    lg_u, dg_u = _log_g(r, alpha, s, beta, pair_x, pair_u, grad=True)
    assert dg_u is not None
    lg_t, lg_big = lg_u[inv_t], lg_u[inv_big]
    has_gap = (t_x < big_t) & (lg_big < lg_t)
    log_q = np.where(has_gap, lg_big - lg_t, -1.0)
    log_d = np.where(has_gap, lg_t + log1mexp(log_q), -np.inf)
    log_at, log_bt = np.log(alpha + big_t), np.log(beta + big_t)
    p_term = -(r + x) * log_at - s * log_bt
    q_term = np.log(s) + log_d
    lse = np.logaddexp(p_term, q_term)
    sw = float(w.sum())
    # sums of products by einsum, not BLAS: the fit then needs no thread limit
    # (BLAS threads spinning on a busy machine cost more than these products)
    total = float(
        dot(w_x, gammaln(r + ux)) + sw * (-gammaln(r) + r * np.log(alpha) + s * np.log(beta)) + dot(w, lse)
    )
    omega = np.exp(q_term - lse)
    w_p = w * (1.0 - omega)
    w_q = w * omega
    g = np.array(
        [
            dot(w_x, digamma(r + ux)) - sw * digamma(r) + sw * np.log(alpha) - dot(w_p, log_at),
            sw * r / alpha - dot(w_p * (r + x), 1.0 / (alpha + big_t)),
            sw * np.log(beta) - dot(w_p, log_bt) + w_q.sum() / s,
            sw * s / beta - dot(w_p * s, 1.0 / (beta + big_t)),
        ]
    )
    # d log D = (dG_t - q dG_T) / (1 - q), pushed onto the distinct (x, u) pairs
    q = np.where(has_gap, np.exp(log_q), 0.0)
    scale = np.where(has_gap, w_q / -np.expm1(log_q), 0.0)
    coef = np.bincount(inv_t, weights=scale, minlength=lg_u.size) - np.bincount(
        inv_big, weights=scale * q, minlength=lg_u.size
    )
    return total, g + np.einsum("i,ij->j", coef, dg_u)


def _one_minus_ratio_pow_over(k: FloatArray, log_ratio: FloatArray) -> FloatArray:
    """``(1 - exp(-k * log_ratio)) / k``, equal to ``log_ratio`` in the limit ``k -> 0``."""
    k = np.asarray(k, dtype=np.float64)
    small = np.abs(k) < 1e-8
    safe_k = np.where(small, 1.0, k)
    return np.where(small, log_ratio, -np.expm1(-safe_k * log_ratio) / safe_k)


class ParetoNBD(PurchaseModel):
    """Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

    Parameters
    ----------
    n_starts : int, default 3
        Optimizer starts. The first, moment estimates of ``r, alpha`` with
        ``s = 1`` and ``beta`` = the mean ``T``, is run to convergence; the
        others (random jitters drawn with ``random_state``) only if that fails,
        as in :class:`BetaGeo`.
    max_iter : int, default 2000
        L-BFGS-B iteration limit per start.
    tol : float, default 1e-13
        Relative tolerance on the mean log-likelihood (L-BFGS-B ``ftol``).
    random_state : int, numpy Generator or None, default 0
        Seed of the random starts.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "s", "beta"}`` on the time scale of the data.
    log_likelihood_ : float
        Total log-likelihood at the optimum.
    standard_errors_ : dict
        Standard errors from the observed information (delta method).
    n_customers_ : float
        Sum of the weights.
    diagnostics_ : list of str
        Why the fit is doubtful and what to try (empty for a sound fit), as in
        :class:`BetaGeo`.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _total_uses_blas = False
    _advice: ClassVar[str] = (
        "Try a coarser time unit (weeks rather than days), a longer calibration window, "
        "or the BG/NBD model (BetaGeo, --model bgnbd)."
    )

    @staticmethod
    def _start(tuples: Tuples) -> tuple[float, ...]:
        # lifetimes' rates from the moments; lifetimes ~ Gamma(1, beta) with a mean of
        # the mean observation time
        r, alpha = gamma_rate_moments(tuples)
        return r, alpha, 1.0, max(float(tuples.weight @ tuples.T / tuples.weight.sum()), 1e-3)

    @staticmethod
    def _prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> Any:
        return _pnbd_prepare(x, t_x, big_t, w)

    @staticmethod
    def _total(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray, prep: Any
    ) -> tuple[float, FloatArray]:
        return _pnbd_total(p, x, t_x, big_t, w, prep)

    @staticmethod
    def _rows(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, *, grad: bool, prep: Any = None
    ) -> tuple[FloatArray, FloatArray | None]:
        return _pnbd_rows(p, x, t_x, big_t, grad=grad, prep=prep)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        p = self._p()
        r, alpha, s, beta = p
        ll = _pnbd_rows(p, x, t_x, big_t, grad=False)[0]
        k = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        p_term = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        # P(alive) = first bracket term / bracket (FH05, P(alive))
        return np.asarray(np.exp(np.minimum(k + p_term - ll, 0.0)), dtype=np.float64)

    def probability_alive(self, X: Any) -> FloatArray:
        """P(alive | x, t_x, T), FH05, P(alive): the share of the likelihood in which
        the customer is still alive at ``T``."""
        return self._p_alive(*self._rfm(X))

    def expected_purchases(self, t: float | FloatArray) -> FloatArray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))**(s-1)] (FH05).

        The limit ``s -> 1``, ``(r beta / alpha) log(1 + t/beta)``, is used near
        ``s = 1``.
        """
        r, alpha, s, beta = self._p()
        t = np.asarray(t, dtype=np.float64)
        return np.asarray(r * beta / alpha * _one_minus_ratio_pow_over(s - 1.0, np.log1p(t / beta)))

    def conditional_expected_purchases(self, X: Any, *, t: float | FloatArray) -> FloatArray:
        """E[Y(t) | x, t_x, T] (FH05, conditional expectation)::

            (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))**(s-1)] P(alive)
        """
        x, t_x, big_t = self._rfm(X)
        r, alpha, s, beta = self._p()
        t = np.asarray(t, dtype=np.float64)
        rate = (r + x) * (beta + big_t) / (alpha + big_t)
        return np.asarray(
            rate * _one_minus_ratio_pow_over(s - 1.0, np.log1p(t / (beta + big_t))) * self._p_alive(x, t_x, big_t)
        )

    def probability_of_purchases(self, t: float, n: int | FloatArray) -> FloatArray:
        """P(X(t) = n) for a new customer (FH05).

        ``P = S(t) NBD(n; t) + int_0^t -S'(tau) NBD(n; tau) dtau`` with survival
        ``S(tau) = (beta/(beta+tau))**s``. The integral is taken over
        ``v = S(tau)`` with 128-point Gauss-Legendre quadrature, which is exact
        for the normalization: the probabilities sum to 1 over ``n``.
        """
        r, alpha, s, beta = self._p()
        n = np.asarray(n, dtype=np.float64)
        surv_t = (beta / (beta + t)) ** s
        nodes, weights = roots_legendre(_N_QUAD)
        v = 0.5 * (1.0 - surv_t) * nodes + 0.5 * (1.0 + surv_t)
        tau = beta * np.expm1(-np.log(v) / s)

        def log_nbd(tt: FloatArray, nn: FloatArray) -> FloatArray:
            with np.errstate(divide="ignore", invalid="ignore"):
                # log(tt) - log(alpha + tt) stays finite for subnormal tt; n = 0 adds nothing
                lq = np.where(tt > 0, np.log(np.where(tt > 0, tt, 1.0)) - np.log(alpha + tt), -np.inf)
                n_lq = np.where(nn == 0, 0.0, nn * lq)
                out = gammaln(r + nn) - gammaln(r) - gammaln(nn + 1.0) + r * np.log(alpha / (alpha + tt)) + n_lq
            return np.where((tt == 0) & (nn == 0), 0.0, np.nan_to_num(out, nan=-np.inf))

        first = surv_t * np.exp(log_nbd(np.asarray(t, dtype=np.float64), n))
        integral = 0.5 * (1.0 - surv_t) * np.tensordot(weights, np.exp(log_nbd(tau[:, None], n.reshape(1, -1))), 1)
        return np.asarray(first + integral.reshape(n.shape), dtype=np.float64)
