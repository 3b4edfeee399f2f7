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
    e: FloatArray, c: FloatArray, z: FloatArray, *, order: int = 1
) -> tuple[FloatArray, ...]:
    """Log of ``S = 2F1(1, e; c; z) = sum_n (e)_n / (c)_n z**n`` and its derivatives.

    Valid for ``0 < e < c`` and ``0 <= z < 1``; each term is positive, so the
    sum is accurate to a few ulps. The loop runs over terms, vectorized over
    rows, and drops rows whose last term fell below half an ulp of their sum.

    With ``tau_n`` the n-th term, ``A_n = sum_{k<n} 1/(e+k)`` and
    ``C_n = -sum_{k<n} 1/(c+k)``: ``d tau_n/de = tau_n A_n``,
    ``d tau_n/dc = tau_n C_n``, ``d tau_n/dz = n tau_n / z``, and the second
    derivatives follow (``d A_n/de = -sum 1/(e+k)**2``, ``d C_n/dc = sum 1/(c+k)**2``,
    ``d2 tau_n/dz2 = n (n-1) tau_n / z**2``); all are summed alongside ``S``.

    Returns
    -------
    tuple of arrays of the shape of the broadcast inputs
        ``order=0``: ``(log_s,)``; ``order=1``: ``log_s`` and ``d log S`` by
        ``e``, ``c``, ``z``; ``order=2``: those and the second derivatives of
        ``log S`` by ``ee, ec, ez, cc, cz, zz``.
    """
    e, c, z = np.broadcast_arrays(
        np.asarray(e, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(z, dtype=np.float64),
    )
    shape = e.shape
    e, c, z = e.ravel(), c.ravel(), z.ravel()
    m = e.size
    # accumulated sums: S, then by order S_e, S_c, S_z, then S_ee, S_ec, S_ez, S_cc, S_cz, S_zz
    n_sums = (1, 4, 10)[order]
    out = np.zeros((n_sums, m))
    acc = np.zeros((n_sums, m))
    acc[0] = 1.0
    idx = np.arange(m)
    ea, ca, za = e, c, z
    tau = np.ones(m)
    # A, C (order >= 1); A2 = sum 1/(e+k)**2, C2 = sum 1/(c+k)**2 and tau_{n-1}/z (order 2)
    aux = np.zeros((5, m))
    n = 0
    while idx.size:
        n += 1
        if n > _SERIES_MAX_TERMS:
            raise ConvergenceError(
                "Pareto/NBD: the hypergeometric series did not converge in "
                f"{_SERIES_MAX_TERMS} terms (z up to {za.max():.6g}); the parameters "
                "are degenerate. Try other starting values or check the input data."
            )
        ie = 1.0 / (ea + (n - 1))
        ic = 1.0 / (ca + (n - 1))
        ratio = (ea + (n - 1)) * ic
        tau_over_z = tau * ratio
        if order == 2:
            # tau_n / z**2 = ratio_n tau_{n-1} / z (0 for n = 1, where n (n-1) = 0 anyway)
            tau_over_z2 = ratio * aux[4]
            aux[4] = tau_over_z
        tau = tau_over_z * za
        acc[0] += tau
        if order >= 1:
            a_n, c_n = aux[0], aux[1]
            a_n += ie
            c_n -= ic
            acc[1] += tau * a_n
            acc[2] += tau * c_n
            acc[3] += n * tau_over_z
            if order == 2:
                a2, c2 = aux[2], aux[3]
                a2 += ie * ie
                c2 += ic * ic
                acc[4] += tau * (a_n * a_n - a2)
                acc[5] += tau * (a_n * c_n)
                acc[6] += n * tau_over_z * a_n
                acc[7] += tau * (c_n * c_n + c2)
                acc[8] += n * tau_over_z * c_n
                acc[9] += (n * (n - 1)) * tau_over_z2
        if n % 4 == 0:
            done = tau <= _SERIES_RTOL * acc[0]
            if done.any():
                out[:, idx[done]] = acc[:, done]
                keep = ~done
                idx = idx[keep]
                ea, ca, za, tau = ea[keep], ca[keep], za[keep], tau[keep]
                acc, aux = acc[:, keep], aux[:, keep]
    s_tot = out[0]
    res = [np.log(s_tot)]
    if order >= 1:
        d1 = out[1:4] / s_tot
        res.extend(d1)
        if order == 2:
            (ls_e, ls_c, ls_z), d2 = d1, out[4:] / s_tot
            res.extend(
                [
                    d2[0] - ls_e * ls_e,
                    d2[1] - ls_e * ls_c,
                    d2[2] - ls_e * ls_z,
                    d2[3] - ls_c * ls_c,
                    d2[4] - ls_c * ls_z,
                    d2[5] - ls_z * ls_z,
                ]
            )
    return tuple(r.reshape(shape) for r in res)


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
