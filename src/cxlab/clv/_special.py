"""Numerically stable special functions for the buy-till-you-die likelihoods.

The Pareto/NBD likelihood needs the Gaussian hypergeometric function
``2F1(a, b; a + 1; z)`` for ``0 <= z < 1`` with ``a = r + s + x`` that grows
with the number of purchases ``x``. Evaluating it with a generic routine and
dividing by ``(alpha + t)**(r + s + x)`` overflows for large ``x`` and ``T``
(the most common complaint about ``lifetimes``). Here it is evaluated in log
space through Euler's transformation (Abramowitz & Stegun 15.3.3)::

    2F1(a, b; a + 1; z) = (1 - z)**(1 - b) * sum_n (a + 1 - b)_n / (a + 1)_n * z**n

whose terms are all positive and shrink at least as fast as ``z**n``, so the
sum never cancels and never overflows. Its derivatives with respect to the two
parameters and ``z`` are summed alongside, which gives the Pareto/NBD an exact
gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cxlab.exceptions import ConvergenceError

FloatArray = NDArray[np.float64]

_SERIES_RTOL = 2.0**-54  # below half an ulp of the sum: later terms cannot change it
_SERIES_MAX_TERMS = 200_000


def log1mexp(x: FloatArray) -> FloatArray:
    """Return ``log(1 - exp(x))`` for ``x <= 0`` without cancellation.

    Uses the two-branch rule of Maechler (2012), "Accurately computing
    log(1 - exp(-|a|))". ``x == 0`` gives ``-inf``.
    """
    x = np.minimum(np.asarray(x, dtype=np.float64), 0.0)
    out = np.empty_like(x)
    small = x > -np.log(2.0)
    with np.errstate(divide="ignore"):
        out[small] = np.log(-np.expm1(x[small]))
    out[~small] = np.log1p(-np.exp(x[~small]))
    return out


def log_series_1_e_c(
    e: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Log of ``S = 2F1(1, e; c; z) = sum_n (e)_n / (c)_n z**n`` and its derivatives.

    Valid for ``0 < e < c`` and ``0 <= z < 1``; each term is positive, so the
    sum is accurate to a few ulps. The loop runs over terms, vectorized over
    rows, and drops rows whose last term fell below half an ulp of their sum.

    Returns
    -------
    log_s, dlog_s_de, dlog_s_dc, dlog_s_dz
        Arrays of the shape of the broadcast inputs.
    """
    e, c, z = np.broadcast_arrays(
        np.asarray(e, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(z, dtype=np.float64),
    )
    shape = e.shape
    e, c, z = e.ravel(), c.ravel(), z.ravel()
    m = e.size
    s_tot = np.ones(m)
    s_e = np.zeros(m)
    s_c = np.zeros(m)
    s_z = np.zeros(m)
    idx = np.arange(m)
    ea, ca, za = e, c, z
    tau = np.ones(m)
    d_e = np.zeros(m)
    d_c = np.zeros(m)
    sa, sea, sca, sza = s_tot.copy(), s_e.copy(), s_c.copy(), s_z.copy()
    n = 0
    while idx.size:
        n += 1
        if n > _SERIES_MAX_TERMS:
            raise ConvergenceError(
                "Pareto/NBD: the hypergeometric series did not converge in "
                f"{_SERIES_MAX_TERMS} terms (z up to {za.max():.6g}); the parameters "
                "are degenerate. Try other starting values or check the input data."
            )
        ratio = (ea + (n - 1)) / (ca + (n - 1))
        tau_over_z = tau * ratio
        tau = tau_over_z * za
        d_e += 1.0 / (ea + (n - 1))
        d_c -= 1.0 / (ca + (n - 1))
        sa += tau
        sea += tau * d_e
        sca += tau * d_c
        sza += n * tau_over_z
        if n % 4 == 0:
            done = tau <= _SERIES_RTOL * sa
            if done.any():
                fin = idx[done]
                s_tot[fin], s_e[fin], s_c[fin], s_z[fin] = sa[done], sea[done], sca[done], sza[done]
                keep = ~done
                idx = idx[keep]
                ea, ca, za, tau, d_e, d_c = ea[keep], ca[keep], za[keep], tau[keep], d_e[keep], d_c[keep]
                sa, sea, sca, sza = sa[keep], sea[keep], sca[keep], sza[keep]
    log_s = np.log(s_tot)
    return (
        log_s.reshape(shape),
        (s_e / s_tot).reshape(shape),
        (s_c / s_tot).reshape(shape),
        (s_z / s_tot).reshape(shape),
    )


def log_hyp2f1_a_b_a1(a: FloatArray, b: FloatArray, z: FloatArray) -> FloatArray:
    """``log 2F1(a, b; a + 1; z)`` for ``0 < b < a + 1`` and ``0 <= z < 1``.

    Euler's transformation (A&S 15.3.3) plus :func:`log_series_1_e_c`; stable
    for ``a`` in the thousands. Exposed for tests against an independent
    evaluation.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    log_s = log_series_1_e_c(a + 1.0 - b, a + 1.0, z)[0]
    return (1.0 - b) * np.log1p(-z) + log_s
