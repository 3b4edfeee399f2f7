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

The fit is Newton's method on the exact Hessian (second derivatives of the
series summed alongside it), as for BG/NBD; L-BFGS-B on the exact gradient is
the fallback when Newton's method does not reach an interior maximum.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma, gammaln, polygamma, roots_legendre

from cxlab.clv._base import FloatArray, Tuples, dot, unique_inverse, unique_rows_inverse
from cxlab.clv._btyd import PurchaseModel, gamma_rate_moments
from cxlab.clv._special import _SERIES_MAX_TERMS, log1mexp, log_series_1_e_c
from cxlab.exceptions import ConvergenceError

_N_QUAD = 128


def _log_g(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, u: FloatArray, *, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """``log G(u)`` for each ``(x, u)`` and its gradient in (r, alpha, s, beta)."""
    lg, dg, _ = _log_g_to_order(r, alpha, s, beta, x, u, order=1 if grad else 0)
    return lg, dg


def _log_g_to_order(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, u: FloatArray, *, order: int
) -> tuple[FloatArray, FloatArray | None, _LogGHessian | None]:
    """``log G(u)`` for each ``(x, u)`` and, up to ``order``, its gradient
    ``(m, 4)`` in (r, alpha, s, beta) and its Hessian (a :class:`_LogGHessian`).

    ``log G = -a log(mu) - log(a) + (1-b) log(1-z) + log S(e, a+1, z)`` with
    ``a = r+s+x``, ``mu = M+u``, ``z = (M-O)/mu`` (``M`` the larger of alpha and
    beta, ``O`` the other); ``e`` and ``b`` are ``r+x`` and ``s+1`` in one order
    or the other. Derivatives are taken in ``(a, e, b, M, O)`` and mapped onto
    the parameters, each of which moves one or two of them with slope 1.
    """
    a = r + s + x
    if alpha >= beta:
        m, other, b, e = alpha, beta, s + 1.0, r + x
    else:
        m, other, b, e = beta, alpha, r + x, s + 1.0
    mu = m + u
    z = (m - other) / mu
    series = log_series_1_e_c(e, a + 1.0, z, order=order)
    log_s = series[0]
    log_1mz = np.log1p(-z)
    log_mu = np.log(mu)
    lg = -a * log_mu - np.log(a) + (1.0 - b) * log_1mz + log_s
    if order == 0:
        return lg, None, None
    s_e, s_c, s_z = series[1:4]
    inv_mu = 1.0 / mu
    inv_1mz = 1.0 / (1.0 - z)
    d_a = -log_mu - 1.0 / a + s_c  # a and c = a+1 move with r and s alike
    z1 = -(1.0 - b) * inv_1mz + s_z  # d log G / dz
    z_m = (other + u) * inv_mu * inv_mu
    z_o = -inv_mu
    d_m = -a * inv_mu + z1 * z_m
    d_o = z1 * z_o
    # (r, alpha, s, beta) from (a, e, b, M, O): r, s each move a and one of e, b
    if alpha >= beta:
        dg = np.stack([d_a + s_e, d_m, d_a - log_1mz, d_o], axis=1)
    else:
        dg = np.stack([d_a - log_1mz, d_o, d_a + s_e, d_m], axis=1)
    if order == 1:
        return lg, dg, None
    s_ee, s_ec, s_ez, s_cc, s_cz, s_zz = series[4:]
    z2 = -(1.0 - b) * inv_1mz * inv_1mz + s_zz  # d2 log G / dz2
    z_mm = -2.0 * z_m * inv_mu
    z_mo = inv_mu * inv_mu
    # the nonzero entries of the upper triangle of the Hessian in (a, e, b, M, O)
    entries = (
        (0, 0, 1.0 / (a * a) + s_cc),
        (0, 1, s_ec),
        (0, 3, -inv_mu + s_cz * z_m),
        (0, 4, s_cz * z_o),
        (1, 1, s_ee),
        (1, 3, s_ez * z_m),
        (1, 4, s_ez * z_o),
        (2, 3, z_m * inv_1mz),
        (2, 4, z_o * inv_1mz),
        (3, 3, a * inv_mu * inv_mu + z2 * z_m * z_m + z1 * z_mm),
        (3, 4, z2 * z_m * z_o + z1 * z_mo),
        (4, 4, z2 * z_o * z_o),
    )
    if alpha >= beta:
        jac = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=np.float64)
    else:
        jac = np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 1], [1, 1, 0, 0, 0], [0, 0, 0, 1, 0]], dtype=np.float64)
    dv = np.stack([d_a, s_e, -log_1mz, d_m, d_o], axis=1)  # the gradient in (a, e, b, M, O)
    return lg, dg, _LogGHessian(dv, entries, jac)


class _LogGHessian:
    """Second-order parts of ``log G`` on the distinct pairs, kept in the
    variables ``(a, e, b, M, O)``: the gradient there ``dv`` (m, 5), the nonzero
    upper entries of the Hessian and the map ``jac`` onto (r, alpha, s, beta)."""

    def __init__(self, dv: FloatArray, entries: tuple[tuple[int, int, FloatArray], ...], jac: FloatArray) -> None:
        self.dv, self.entries, self.jac = dv, entries, jac

    def weighted_sum(self, coef: FloatArray) -> FloatArray:
        """``sum_i coef_i (H_i + g_i g_i')`` in (r, alpha, s, beta)."""
        h = np.zeros((5, 5))
        for i, j, arr in self.entries:
            h[i, j] = dot(coef, arr)
        h = h + np.triu(h, 1).T + _gram(coef, self.dv)
        return np.einsum("pv,vw,qw->pq", self.jac, h, self.jac)

    def full(self) -> FloatArray:
        """Per-pair Hessians ``(m, 4, 4)`` in (r, alpha, s, beta) (for tests)."""
        hv = np.zeros((self.dv.shape[0], 5, 5))
        for i, j, arr in self.entries:
            hv[:, i, j] = hv[:, j, i] = arr
        return np.einsum("pv,ivw,qw->ipq", self.jac, hv, self.jac)


def _gram(weight: FloatArray, a: FloatArray) -> FloatArray:
    """``sum_i weight_i a_i a_i'`` for the rows ``a_i`` of ``a``, without BLAS."""
    return np.einsum("ij,ik->jk", a * weight[:, None], a)


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
    p: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    w: FloatArray,
    prep: tuple[Any, ...],
    order: int = 1,
) -> tuple[float, FloatArray | None, FloatArray | None]:
    """Weighted total log-likelihood and, up to ``order``, its gradient and
    Hessian in (r, alpha, s, beta), for fitting.

    Same algebra as :func:`_pnbd_rows`; weights are pushed onto the distinct
    ``x`` values and ``(x, u)`` pairs so that no per-row gradient matrix is built.
    Each row is ``K + log(exp(P) + exp(Q))`` with ``Q = log(s) + log D``,
    ``D = G(t_x) - G(T)``. With ``omega`` the weight of the ``Q`` branch, the
    Hessian of the log-sum is ``(1-omega) P'' + omega Q'' + omega (1-omega) dd'``
    with ``dd = grad Q - grad P``; with ``q = G(T)/G(t_x)`` and ``g_u``, ``H_u``
    the gradient and Hessian of ``log G(u)``::

        grad log D = (g_t - q g_T) / (1 - q)
        hess log D = (H_t + g_t g_t' - q (H_T + g_T g_T')) / (1 - q) - grad log D grad log D'

    whose first part is summed over the distinct ``(x, u)`` pairs.
    """
    r, alpha, s, beta = p
    _, inv_t, inv_big, ux, xinv, w_x, pair_x, pair_u = prep
    lg_u, dg_u, hg_u = _log_g_to_order(r, alpha, s, beta, pair_x, pair_u, order=order)
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
    if order == 0:
        return total, None, None
    assert dg_u is not None
    omega = np.exp(q_term - lse)
    w_p = w * (1.0 - omega)
    w_q = w * omega
    inv_at, inv_bt = 1.0 / (alpha + big_t), 1.0 / (beta + big_t)
    rx = r + x
    sw_q = float(w_q.sum())
    g = np.array(
        [
            dot(w_x, digamma(r + ux)) - sw * digamma(r) + sw * np.log(alpha) - dot(w_p, log_at),
            sw * r / alpha - dot(w_p * rx, inv_at),
            sw * np.log(beta) - dot(w_p, log_bt) + sw_q / s,
            sw * s / beta - s * dot(w_p, inv_bt),
        ]
    )
    # d log D = (dG_t - q dG_T) / (1 - q), pushed onto the distinct (x, u) pairs
    q = np.where(has_gap, np.exp(log_q), 0.0)
    one_mq = np.where(has_gap, -np.expm1(log_q), 1.0)
    scale = np.where(has_gap, w_q / one_mq, 0.0)
    coef = np.bincount(inv_t, weights=scale, minlength=lg_u.size) - np.bincount(
        inv_big, weights=scale * q, minlength=lg_u.size
    )
    g = g + np.einsum("i,ij->j", coef, dg_u)
    if order == 1:
        return total, g, None
    assert hg_u is not None
    h = hg_u.weighted_sum(coef)
    # per row: grad log D (0 without a gap) and dd = grad Q - grad P
    d_log_d = (dg_u[inv_t] - q[:, None] * dg_u[inv_big]) / one_mq[:, None]
    h -= _gram(w_q, d_log_d)
    dd = d_log_d
    dd[:, 0] += log_at
    dd[:, 1] += rx * inv_at
    dd[:, 2] += 1.0 / s + log_bt
    dd[:, 3] += s * inv_bt
    h += _gram(w_q * (1.0 - omega), dd)
    tri = float(dot(w_x, polygamma(1, r + ux))) - sw * float(polygamma(1, r))
    h[0, 0] += tri
    h[0, 1] += sw / alpha - dot(w_p, inv_at)
    h[1, 1] += -sw * r / alpha**2 + dot(w_p * rx, inv_at * inv_at)
    h[2, 2] += -sw_q / s**2
    h[2, 3] += sw / beta - dot(w_p, inv_bt)
    h[3, 3] += -sw * s / beta**2 + s * dot(w_p, inv_bt * inv_bt)
    h[1, 0], h[3, 2] = h[0, 1], h[2, 3]
    return total, g, 0.5 * (h + h.T)  # symmetric to the last bit (sums taken in different orders)


def _one_minus_ratio_pow_over(k: FloatArray, log_ratio: FloatArray) -> FloatArray:
    """``(1 - exp(-k * log_ratio)) / k``, equal to ``log_ratio`` in the limit ``k -> 0``."""
    k = np.asarray(k, dtype=np.float64)
    small = np.abs(k) < 1e-8
    safe_k = np.where(small, 1.0, k)
    return np.where(small, log_ratio, -np.expm1(-safe_k * log_ratio) / safe_k)


def _p_alive_quadrature(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """P(alive) with the death term of the likelihood as a one-dimensional integral.

    The bracket of FH05's likelihood is ``(alpha+T)**-(r+x) (beta+T)**-s + D`` with
    ``D = int_{t_x}^{T} s (alpha+tau)**-(r+x) (beta+tau)**-(s+1) dtau`` (dying at tau).
    With the survival ``S = (beta/(beta+tau))**s`` as the variable, ``D = beta**-s
    int_{S(T)}^{S(t_x)} (alpha+tau(S))**-(r+x) dS``: a bounded, monotone integrand,
    taken with 128-point Gauss-Legendre in log space. It agrees with the series to
    5e-12 where both work (six parameter sets, 1,000 customers each), and works where the series does not converge (s and beta
    in the millions: a drop-out rate the data pin down).
    """
    from scipy.special import logsumexp

    nodes, weights = roots_legendre(_N_QUAD)
    u, log_w = 0.5 * (nodes + 1.0), np.log(0.5 * weights)
    x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (x, t_x, big_t))
    log_s_tx, log_s_big = -s * np.log1p(t_x / beta), -s * np.log1p(big_t / beta)
    gap = t_x < big_t
    with np.errstate(divide="ignore", invalid="ignore"):
        log_width = log_s_tx + log1mexp(np.where(gap, log_s_big - log_s_tx, -1.0))
        log_s_k = np.logaddexp(log_s_big[:, None], log_width[:, None] + np.log(u)[None, :])
        tau = beta * np.expm1(-log_s_k / s)
        log_d = -s * np.log(beta) + log_width + logsumexp(log_w[None, :] - (r + x)[:, None] * np.log(alpha + tau), axis=1)
        p_term = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        alive = np.exp(p_term - np.logaddexp(p_term, log_d))
    return np.asarray(np.where(gap, alive, 1.0), dtype=np.float64)


class ParetoNBD(PurchaseModel):
    """Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

    Parameters
    ----------
    n_starts : int, default 3
        Optimizer starts. The first, moment estimates of ``r, alpha`` with
        ``s = 1`` and ``beta`` = the mean ``T``, is run to convergence by
        Newton's method on the exact Hessian (then by L-BFGS-B if Newton's
        method does not reach an interior maximum); the others (random jitters
        drawn with ``random_state``) only if that fails, as in :class:`BetaGeo`.
    max_iter : int, default 2000
        Iteration limit (Newton's method, and L-BFGS-B per start).
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
        return r, alpha, 1.0, max(dot(tuples.weight, tuples.T) / float(tuples.weight.sum()), 1e-3)

    @staticmethod
    def _prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> Any:
        return _pnbd_prepare(x, t_x, big_t, w)

    @staticmethod
    def _total_to_order(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray, prep: Any, order: int
    ) -> tuple[float, FloatArray | None, FloatArray | None]:
        return _pnbd_total(p, x, t_x, big_t, w, prep, order)

    @staticmethod
    def _rows(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, *, grad: bool, prep: Any = None
    ) -> tuple[FloatArray, FloatArray | None]:
        return _pnbd_rows(p, x, t_x, big_t, grad=grad, prep=prep)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        p = self._p()
        r, alpha, s, beta = p
        # the series' terms shrink like z**n, z = |alpha-beta| / (max(alpha, beta) + t_x): when
        # that needs more terms than it may take (beta in the millions), integrate at once
        z_max = abs(alpha - beta) / (max(alpha, beta) + (float(t_x.min()) if t_x.size else 0.0))
        if z_max >= 1.0 - 40.0 / _SERIES_MAX_TERMS:
            return _p_alive_quadrature(r, alpha, s, beta, x, t_x, big_t)
        try:
            ll = _pnbd_rows(p, x, t_x, big_t, grad=False)[0]
        except ConvergenceError:  # the series near z = 1 did not converge: integrate instead
            return _p_alive_quadrature(r, alpha, s, beta, x, t_x, big_t)
        k = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        p_term = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        # P(alive) = first bracket term / bracket (FH05, P(alive))
        out = np.asarray(np.exp(np.minimum(k + p_term - ll, 0.0)), dtype=np.float64)
        broken = ~np.isfinite(out)
        if broken.any():
            out[broken] = _p_alive_quadrature(r, alpha, s, beta, x[broken], t_x[broken], big_t[broken])
        return out

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
