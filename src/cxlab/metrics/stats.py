"""Confidence intervals computed from small per-group sufficient statistics.

Rows of one customer (their orders, surveys, contacts) are correlated, so the
independent unit is the customer. The engine reduces rows to per-customer totals
``y_i`` (numerator) and ``x_i`` (denominator) and then, per period and segment,
to the sums ``Σy, Σx, Σy², Σx², Σxy`` and the number of customers ``n``. Every
interval here is finished in numpy from those few numbers, vectorized over
groups (or over simulation replications).

All functions take and return numpy arrays of the same shape and return NaN
where an interval is undefined (fewer than two units, zero denominator).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
# scipy.special, not scipy.stats: the same quantile functions (``t.ppf`` is
# ``stdtrit``, ``norm.ppf`` is ``ndtri``, equal to the last bit) without a
# second of import time in every command.
from scipy.special import ndtri, stdtrit

#: Default confidence level of every interval.
LEVEL = 0.95

FloatArray = NDArray[np.float64]


def _f(a: ArrayLike) -> FloatArray:
    return np.asarray(a, dtype=np.float64)


def ratio_interval(
    sum_y: ArrayLike,
    sum_x: ArrayLike,
    sum_yy: ArrayLike,
    sum_xx: ArrayLike,
    sum_xy: ArrayLike,
    n: ArrayLike,
    *,
    level: float = LEVEL,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cluster-robust (delta-method) interval of the ratio estimator ``Σy / Σx``.

    With clusters (customers) ``i = 1..n`` holding totals ``y_i`` and ``x_i``,
    ``R = Σy_i / Σx_i`` and, by the delta method (linearization of the ratio;
    Cochran, *Sampling Techniques*, 3rd ed., eq. 6.13, with the usual
    ``n / (n - 1)`` small-sample factor of cluster-robust "CR1" variances),

    ``Var(R) = n / (n - 1) · Σ (y_i - R x_i)² / (Σx_i)²``,

    where ``Σ (y_i - R x_i)² = Σy² - 2 R Σxy + R² Σx²`` needs only the five
    sums. The interval is ``R ± t_{n-1} · sqrt(Var(R))``; Student's t with
    ``n - 1`` degrees of freedom keeps small segments honest and equals the
    normal quantile for large ``n``.

    Parameters
    ----------
    sum_y, sum_x
        Sums over customers of the customer totals ``y_i`` and ``x_i``.
    sum_yy, sum_xx, sum_xy
        Sums over customers of ``y_i²``, ``x_i²`` and ``x_i y_i``.
    n
        Number of customers (clusters) behind the sums.
    level
        Confidence level, in (0, 1).

    Returns
    -------
    value, low, high
        The ratio and its interval; NaN where ``Σx == 0`` or ``n < 2``.

    Examples
    --------
    Three customers with 1/2, 2/2 and 0/1 successes:

    >>> v, lo, hi = ratio_interval(3, 5, 1 + 4 + 0, 4 + 4 + 1, 2 + 4 + 0, 3)
    >>> round(float(v), 3), bool(lo < v < hi)
    (0.6, True)
    """
    sy, sx, syy, sxx, sxy, nn = map(_f, (sum_y, sum_x, sum_yy, sum_xx, sum_xy, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(sx != 0, sy / sx, np.nan)
        resid = syy - 2.0 * r * sxy + r * r * sxx
        # The expanded sum of squares cancels when residuals are all ~0; values
        # within rounding error of zero are zero (else sqrt turns 1e-18 into 1e-9).
        noise = 64 * np.finfo(np.float64).eps * (np.abs(syy) + np.abs(2.0 * r * sxy) + r * r * sxx)
        resid = np.where(resid > noise, resid, 0.0)
        var = np.where(nn > 1, nn / (nn - 1.0) * resid / (sx * sx), np.nan)
        half = _t_half_width(var, nn, level)
    return r, r - half, r + half


def _t_half_width(var: FloatArray, nn: FloatArray, level: float) -> FloatArray:
    """``t(level, n-1) * sqrt(var)``: half the width of a t interval on ``n`` units."""
    return stdtrit(np.maximum(nn - 1.0, 1.0), 0.5 + level / 2.0) * np.sqrt(var)


def total_interval(
    sum_y: ArrayLike,
    sum_yy: ArrayLike,
    n: ArrayLike,
    *,
    level: float = LEVEL,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sampling view of a total over ``n`` customers: ``Σy ± t·sqrt(n·s²)``.

    A count or sum of the whole population has no sampling error. This view
    treats the period's customers as a draw from the process that produces
    them (the "next month with other customers like these" question), with
    ``s²`` the variance of the per-customer totals ``y``. ``sum_y`` and
    ``sum_yy`` are sums over customers of ``y`` and ``y²``.

    Examples
    --------
    >>> v, lo, hi = total_interval(6.0, 14.0, 3)   # customers with 1, 2 and 3
    >>> float(v), round(float(hi - v), 3)
    (6.0, 7.452)
    """
    sy, syy, nn = map(_f, (sum_y, sum_yy, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(nn > 1, (syy - sy * sy / nn) / (nn - 1.0), np.nan)
        half = _t_half_width(nn * np.maximum(var, 0.0), nn, level)
    return sy, sy - half, sy + half


def naive_interval(
    sum_y: ArrayLike,
    sum_yy: ArrayLike,
    rows: ArrayLike,
    *,
    level: float = LEVEL,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Row-level interval of a mean that treats every row as independent.

    Shown only to compare with :func:`ratio_interval`: when rows of one customer
    are correlated it is too narrow. ``sum_y`` and ``sum_yy`` are sums over
    rows of ``y`` and ``y²``; ``rows`` is the number of rows.
    """
    sy, syy, m = map(_f, (sum_y, sum_yy, rows))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sy / m
        var = (syy / m - mean * mean) * m / (m - 1.0) / m
        half = ndtri(0.5 + level / 2.0) * np.sqrt(np.maximum(var, 0.0))
    return mean, mean - half, mean + half


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, *, level: float = LEVEL
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Wilson score interval of a proportion of independent units.

    Used for proportions over customers (each customer counts once per period),
    where the units are independent. Wilson, E. B. (1927), *Probable inference,
    the law of succession, and statistical inference*, JASA 22, 209-212.

    Examples
    --------
    >>> p, lo, hi = wilson_interval(8, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
    """
    k, nn = _f(successes), _f(n)
    z = ndtri(0.5 + level / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(nn > 0, k / nn, np.nan)
        denom = 1.0 + z * z / nn
        centre = (p + z * z / (2.0 * nn)) / denom
        half = z * np.sqrt(p * (1.0 - p) / nn + z * z / (4.0 * nn * nn)) / denom
    return p, np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
