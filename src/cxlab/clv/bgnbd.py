"""The BG/NBD model of Fader, Hardie & Lee (2005).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your
Customers' the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing
Science* 24(2), 275-284. Equation numbers below refer to that paper.

Assumptions: while active, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; after each purchase the customer drops out with
probability ``p ~ Beta(a, b)``; rates and dropout probabilities are independent
across customers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1, polygamma

from numpy.typing import NDArray

from cxlab.clv._base import FloatArray, Tuples, dot, unique_inverse
from cxlab.clv._btyd import PurchaseModel, gamma_rate_moments


def _bgnbd_rows(
    p: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    *,
    grad: bool,
    prep: tuple[FloatArray, NDArray[np.intp]] | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood (eq. 6) and, optionally, its gradient in (r, alpha, a, b).

    The x-only terms (log-gamma, log-beta, digamma) are evaluated once per
    distinct ``x`` and gathered, which keeps a fit on a million rows cheap.
    """
    r, alpha, a, b = p
    ux, inv = prep if prep is not None else unique_inverse(x)
    pos = ux > 0
    lb_ab = betaln(a, b)
    c1 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[inv]
    c2 = (betaln(a, b + ux) - lb_ab)[inv]
    c3u = np.full(ux.shape, -np.inf)
    c3u[pos] = betaln(a + 1.0, b + ux[pos] - 1.0) - lb_ab
    c3 = c3u[inv]
    rx = r + x
    log_at = np.log(alpha + big_t)
    log_atx = np.log(alpha + t_x)
    a2 = c2 - rx * log_at
    a3 = c3 - rx * log_atx
    lse = np.logaddexp(a2, a3)
    ll = c1 + lse
    if not grad:
        return ll, None
    w3 = np.exp(a3 - lse)
    w2 = 1.0 - w3
    psi_abx = digamma(a + b + ux)
    d_r = (digamma(r + ux) - digamma(r))[inv] + np.log(alpha) - w2 * log_at - w3 * log_atx
    d_alpha = r / alpha - rx * (w2 / (alpha + big_t) + w3 / (alpha + t_x))
    common = (digamma(a + b) - psi_abx)[inv]
    d_a = common + w3 / a
    inv_bx1 = np.zeros(ux.shape)
    inv_bx1[pos] = 1.0 / (b + ux[pos] - 1.0)
    d_b = common - digamma(b) + digamma(b + ux)[inv] - w3 * inv_bx1[inv]
    return ll, np.stack([d_r, d_alpha, d_a, d_b], axis=1)


def _bgnbd_prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> tuple[Any, ...]:
    """What every likelihood evaluation of one fit reuses: distinct ``x`` (with
    inverse and weight per ``x``), distinct ``T`` with the weights and weighted
    ``x`` summed per ``T``, and ``T - t_x`` per row."""
    ux, inv = unique_inverse(x)
    ut, t_inv = unique_inverse(big_t)
    return (
        ux,
        inv,
        np.bincount(inv, weights=w, minlength=ux.size),
        ut,
        np.bincount(t_inv, weights=w, minlength=ut.size),
        np.bincount(t_inv, weights=w * x, minlength=ut.size),
        big_t - t_x,
    )


def _bgnbd_total(
    p: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    w: FloatArray,
    prep: tuple[Any, ...],
    order: int = 1,
) -> tuple[float, FloatArray | None, FloatArray | None]:
    """Weighted total of eq. (6) with, up to ``order``, its gradient and Hessian
    in (r, alpha, a, b), for fitting.

    Same algebra as :func:`_bgnbd_rows`, arranged so that little is done per row.
    Eq. (6) is ``c1 + A2 + log(1 + exp(d))`` with
    ``A2 = log B(a, b+x) - log B(a, b) - (r+x) log(alpha+T)`` and
    ``d = A3 - A2 = log B(a+1, b+x-1) - log B(a, b+x) - (r+x) log((alpha+t_x)/(alpha+T))``
    (``d = -inf`` for ``x = 0``). The parts that depend on ``x`` only are
    summed once per distinct ``x``, those on ``T`` only once per distinct ``T``
    (with the weights and weighted ``x`` summed per ``T``); per row remain one
    logarithm, one exponential and one ``log1p``.

    With ``w3 = sigmoid(d)`` (the weight of the ``A3`` branch) the Hessian of
    ``log(exp(A2) + exp(A3))`` is ``(1-w3) A2'' + w3 A3'' + w3 (1-w3) dd'``
    where ``dd = grad A3 - grad A2 = (-log((alpha+t_x)/(alpha+T)),
    -(r+x)(T-t_x)/((alpha+t_x)(alpha+T)), 1/a, -1/(b+x-1))``.
    """
    r, alpha, a, b = p
    ux, inv, w_x, ut, w_t, wx_t, dt = prep
    pos = ux > 0
    lb_ab = betaln(a, b)
    c2u = betaln(a, b + ux) - lb_ab
    c3u = np.full(ux.shape, -np.inf)
    c3u[pos] = betaln(a + 1.0, b + ux[pos] - 1.0) - lb_ab
    rx = r + x
    at = alpha + big_t
    atx = alpha + t_x
    log_ratio = np.log(atx / at)
    d = (c3u - c2u)[inv] - rx * log_ratio
    e = np.exp(-np.abs(d))
    sw = float(w_x.sum())
    log_aut = np.log(alpha + ut)
    rw_t = r * w_t + wx_t  # sum of w (r + x) per distinct T
    c1u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    total = dot(w_x, c1u + c2u) - dot(rw_t, log_aut) + dot(w, np.maximum(d, 0.0) + np.log1p(e))
    if order == 0:
        return total, None, None
    w3 = np.where(d > 0, 1.0, e) / (1.0 + e)
    ww3 = w * w3
    psi_abx = digamma(a + b + ux)
    common = digamma(a + b) - psi_abx
    inv_bx1 = np.zeros(ux.shape)
    inv_bx1[pos] = 1.0 / (b + ux[pos] - 1.0)
    # 1/(alpha+t_x) - 1/(alpha+T) = (T - t_x) / ((alpha+t_x)(alpha+T))
    atat = atx * at
    q = dt / atat
    rxq = rx * q
    sww3 = float(ww3.sum())
    ww3_x = np.bincount(inv, weights=ww3, minlength=ux.size)
    g_r = dot(w_x, digamma(r + ux) - digamma(r)) + sw * np.log(alpha) - dot(w_t, log_aut) - dot(ww3, log_ratio)
    g_alpha = sw * r / alpha - dot(rw_t, 1.0 / (alpha + ut)) - dot(ww3, rxq)
    g_a = dot(w_x, common) + sww3 / a
    g_b = dot(w_x, common - digamma(b) + digamma(b + ux)) - dot(ww3_x, inv_bx1)
    grad = np.array([g_r, g_alpha, g_a, g_b])
    if order == 1:
        return total, grad, None
    # second order: per-row v = w w3 (1 - w3) and the row parts of dd
    v = ww3 * (1.0 - w3)
    v_lr = v * log_ratio
    v_rxq = v * rxq
    sv = float(v.sum())
    v_x = np.bincount(inv, weights=v, minlength=ux.size)
    vlr_x = np.bincount(inv, weights=v_lr, minlength=ux.size)
    vrxq_x = np.bincount(inv, weights=v_rxq, minlength=ux.size)
    tri_ab = polygamma(1, a + b)
    tri_abx = polygamma(1, a + b + ux)
    inv_aut = 1.0 / (alpha + ut)
    h = np.empty((4, 4))
    h[0, 0] = dot(w_x, polygamma(1, r + ux) - polygamma(1, r)) + dot(v_lr, log_ratio)
    h[0, 1] = sw / alpha - dot(w_t, inv_aut) - dot(ww3, q) + dot(v_lr, rxq)
    h[1, 1] = (
        -sw * r / alpha**2
        + dot(rw_t, inv_aut * inv_aut)
        + dot(ww3, rxq * (at + atx) / atat)  # (r+x)(1/(alpha+t_x)**2 - 1/(alpha+T)**2)
        + dot(v_rxq, rxq)
    )
    h[0, 2] = -float(v_lr.sum()) / a
    h[0, 3] = dot(vlr_x, inv_bx1)
    h[1, 2] = -float(v_rxq.sum()) / a
    h[1, 3] = dot(vrxq_x, inv_bx1)
    h[2, 2] = dot(w_x, tri_ab - tri_abx) - sww3 / a**2 + sv / a**2
    h[2, 3] = dot(w_x, tri_ab - tri_abx) - dot(v_x, inv_bx1) / a
    h[3, 3] = (
        dot(w_x, polygamma(1, b + ux) - tri_abx - polygamma(1, b) + tri_ab)
        + dot(ww3_x + v_x, inv_bx1 * inv_bx1)
    )
    h[1, 0], h[2, 0], h[3, 0], h[2, 1], h[3, 1], h[3, 2] = h[0, 1], h[0, 2], h[0, 3], h[1, 2], h[1, 3], h[2, 3]
    return total, grad, h


_A_NEAR_ONE = 1e-5


def _expected_given(
    r: float, alpha: float, a: float, b: float, x: FloatArray, big_t: FloatArray, t: FloatArray
) -> FloatArray:
    """Eq. (10) numerator over ``P(alive)``: expected purchases in ``(T, T+t]`` if alive.

    Uses ``(1-z)**(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)**(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``
    (Euler's transformation), finite for any horizon.
    """
    z = np.asarray(t / (alpha + big_t + t), dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    z, x = np.broadcast_arrays(z, x)
    f = np.asarray(hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z), dtype=np.float64)
    bad = ~np.isfinite(f)
    if bad.any():
        # scipy's 2F1 returns nan near z = 1 when c - a - b = r + x - a + 1 is an
        # integer (the logarithmic case); the function is smooth in the parameters,
        # so average the two sides of a tiny shift of ``r``.
        h = 1e-7 * max(r, 1.0)
        f = f.copy()
        f[bad] = 0.5 * (
            hyp2f1(a + b - 1.0 - r - h, a - 1.0, a + b + x[bad] - 1.0, z[bad])
            + hyp2f1(a + b - 1.0 - r + h, a - 1.0, a + b + x[bad] - 1.0, z[bad])
        )
    log_pow = (a - 1.0) * np.log1p(-z)
    # F > 0 in the usual case (expm1 keeps small horizons exact); with a + b + x < 1
    # the analytic continuation of 2F1 can be negative, and then there is no cancellation.
    with np.errstate(invalid="ignore", divide="ignore"):
        bracket = np.where(f > 0, -np.expm1(log_pow + np.log(np.abs(f))), 1.0 - np.exp(log_pow) * f)
    return np.asarray((a + b + x - 1.0) / (a - 1.0) * bracket, dtype=np.float64)


#: Gauss-Legendre nodes of the quadrature fallback of :func:`_expected_given`.
_QUAD_NODES = 64


def _expected_given_quadrature(
    r: float, alpha: float, a: float, b: float, x: FloatArray, big_t: FloatArray, t: FloatArray
) -> FloatArray:
    """:func:`_expected_given` as a one-dimensional integral, for where the closed form breaks.

    An alive customer with rate lambda ~ Gamma(r+x, alpha+T) and drop-out probability
    p ~ Beta(a, b+x) makes ``(1 - exp(-lambda p t)) / p`` purchases in ``(T, T+t]`` on
    average, so the expectation is ``E_p[(1 - ((alpha+T) / (alpha+T+p t))**(r+x)) / p]``.
    That is integrated over the Beta's quantiles (Gauss-Legendre in ``u``, ``p =
    I^-1(u)``): the integrand is bounded (by ``(r+x) t / (alpha+T)``) and smooth in p.
    Agrees with the closed form to 1.2e-5 relative where both are finite (four
    parameter sets, CDNOW's among them, 1,000 customers each); finite where
    scipy's 2F1 overflows, e.g. with a and b in the millions (a drop-out probability
    the data pin down, as on a few customers who never drop out).
    """
    from numpy.polynomial.legendre import leggauss
    from scipy.special import betaincinv

    nodes, weights = leggauss(_QUAD_NODES)
    u, w = 0.5 * (nodes + 1.0), 0.5 * weights
    x, big_t, t = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, big_t, t))
    flat_x = x.ravel()
    distinct, inverse = np.unique(flat_x, return_inverse=True)
    p = np.asarray(betaincinv(a, b + distinct[:, None], u[None, :]), dtype=np.float64)[inverse]
    scale = (alpha + big_t.ravel())[:, None]
    shape = (r + flat_x)[:, None]
    horizon = t.ravel()[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(p > 0, -np.expm1(-shape * np.log1p(p * horizon / scale)) / p, shape * horizon / scale)
    return np.asarray((g * w).sum(axis=1).reshape(x.shape), dtype=np.float64)


class BetaGeo(PurchaseModel):
    """BG/NBD purchase model (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    n_starts : int, default 3
        Optimizer starts. The first, moment estimates of ``r, alpha`` (mean and
        variance of ``frequency / T``) with ``a = 1, b = 3``, is run to
        convergence; only if that fails or ends at the edge of the range are the
        others (random log-normal jitters of it drawn with ``random_state``)
        screened with a few L-BFGS-B iterations each and the best polished.
    max_iter : int, default 2000
        L-BFGS-B iteration limit per start.
    tol : float, default 1e-13
        Relative tolerance on the mean log-likelihood (L-BFGS-B ``ftol``);
        tight because the papers quote the log-likelihood to 0.01.
    random_state : int, numpy Generator or None, default 0
        Seed of the random starts.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}`` on the time scale of the data.
    log_likelihood_ : float
        Total log-likelihood at the optimum (as reported in the paper).
    standard_errors_ : dict
        Standard errors of ``params_`` from the observed information (delta
        method from the log-parameters).
    n_customers_ : float
        Sum of the weights (number of customers).
    diagnostics_ : list of str
        Why the fit is doubtful and what to try (empty for a sound fit); each
        non-empty list was also raised as a :class:`~cxlab.exceptions.FitWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"frequency": [0, 2, 5, 1], "recency": [0.0, 20.0, 30.0, 5.0],
    ...                   "T": [39.0, 38.0, 35.0, 30.0]})
    >>> model = BetaGeo(n_starts=1).fit(X)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _total_uses_blas = False
    _advice: ClassVar[str] = (
        "Try a coarser time unit (weeks rather than days), a longer calibration window, "
        "or the Pareto/NBD model (ParetoNBD, --model pareto)."
    )

    @staticmethod
    def _start(tuples: Tuples) -> tuple[float, ...]:
        r, alpha = gamma_rate_moments(tuples)
        return r, alpha, 1.0, 3.0

    @staticmethod
    def _prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> Any:
        return _bgnbd_prepare(x, t_x, big_t, w)

    @staticmethod
    def _total_to_order(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray, prep: Any, order: int
    ) -> tuple[float, FloatArray | None, FloatArray | None]:
        return _bgnbd_total(p, x, t_x, big_t, w, prep, order)

    @staticmethod
    def _rows(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, *, grad: bool, prep: Any = None
    ) -> tuple[FloatArray, FloatArray | None]:
        return _bgnbd_rows(p, x, t_x, big_t, grad=grad, prep=None if prep is None else prep[:2])

    def expected_purchases(self, t: float | FloatArray) -> FloatArray:
        """Expected repeat purchases of a new customer in ``(0, t]``: E[X(t)], eq. (7).

        Computed as ``(a+b-1)/(a-1) * [1 - (1-z)**(a-1) 2F1(a+b-1-r, a-1; a+b-1; z)]``
        with ``z = t / (alpha + t)``, the Euler transform of eq. (7), which stays
        finite for large ``t``.
        """
        t = np.asarray(t, dtype=np.float64)
        zeros = np.zeros_like(t)
        return self._conditional(zeros, zeros, zeros, t, alive_weighted=False)

    def conditional_expected_purchases(self, X: Any, *, t: float | FloatArray) -> FloatArray:
        """Expected repeat purchases in the next ``t`` time units given history, eq. (10).

        Parameters
        ----------
        X : dataframe
            Columns ``frequency, recency, T``.
        t : float or array broadcastable to the rows
            Horizon, in the time unit of the fitted data.
        """
        x, t_x, big_t = self._rfm(X)
        return self._conditional(x, t_x, big_t, np.asarray(t, dtype=np.float64), alive_weighted=True)

    def _conditional(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, t: FloatArray, *, alive_weighted: bool
    ) -> FloatArray:
        r, alpha, a, b = self._p()
        if abs(a - 1.0) < _A_NEAR_ONE:
            # removable singularity at a = 1: average the two sides (error O(h**2))
            out = 0.5 * (
                _expected_given(r, alpha, 1.0 + _A_NEAR_ONE, b, x, big_t, t)
                + _expected_given(r, alpha, 1.0 - _A_NEAR_ONE, b, x, big_t, t)
            )
        else:
            out = _expected_given(r, alpha, a, b, x, big_t, t)
        broken = ~np.isfinite(out) | (out < 0)
        if broken.any():  # 2F1 overflowed (a, b very large): integrate instead
            x_, big_t_, t_ = np.broadcast_arrays(x, big_t, t)
            out = np.array(out, dtype=np.float64)
            out[broken] = _expected_given_quadrature(r, alpha, a, b, x_[broken], big_t_[broken], t_[broken])
        if alive_weighted:
            out = out * self._p_alive(x, t_x, big_t)
        return np.asarray(out, dtype=np.float64)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._p()
        x1 = np.maximum(x, 1.0)  # the odds term only exists for x > 0
        log_odds = np.log(a) - np.log(b + x1 - 1.0) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.asarray(np.where(x > 0, expit(-log_odds), 1.0), dtype=np.float64)

    def probability_alive(self, X: Any) -> FloatArray:
        """P(active | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))**(r+x)).

        Eq. (A2) of Fader, Hardie & Lee (2005) / their note "Computing P(alive)
        using the BG/NBD model" (2008), evaluated as a logistic of the log-odds.
        """
        return self._p_alive(*self._rfm(X))

    def probability_of_purchases(self, t: float, n: int | FloatArray) -> FloatArray:
        """P(X(t) = n) for a new customer, eq. (8).

        The sum ``1 - (alpha/(alpha+t))**r sum_{j<n} ...`` of eq. (8) is the
        negative-binomial tail, computed as the regularized incomplete beta
        function ``I_{t/(alpha+t)}(n, r)``.
        """
        r, alpha, a, b = self._p()
        n = np.asarray(n, dtype=np.float64)
        lb = betaln(a, b)
        log_p0 = r * np.log(alpha / (alpha + t))
        log_q = np.log(t) - np.log(alpha + t) if t > 0 else -np.inf  # finite even for subnormal t
        with np.errstate(divide="ignore", invalid="ignore"):
            term1 = np.exp(
                betaln(a, b + n) - lb + gammaln(r + n) - gammaln(r) - gammaln(n + 1.0) + log_p0 + n * log_q
            )
            term1 = np.where((n == 0) & (t == 0), 1.0, np.nan_to_num(term1))
            tail = betainc(np.maximum(n, 1.0), r, t / (alpha + t))
            term2 = np.where(n > 0, np.exp(betaln(a + 1.0, b + n - 1.0) - lb) * tail, 0.0)
        return np.asarray(term1 + term2, dtype=np.float64)
