"""PELT (Killick, Fearnhead & Eckley 2012): optimal change points in the mean.

Minimizes ``sum of segment costs + penalty * number of change points`` exactly,
with the Gaussian cost of a segment of standardized residuals (known unit
variance), ``C(a..b) = sum x^2 - (sum x)^2 / n``, and prunes candidates that can
never be optimal again (the cost satisfies the pruning condition with K = 0).
"""

from __future__ import annotations

import math

import numpy as np

from cxlab.exceptions import InputDataError


def pelt(x: np.ndarray, *, penalty: float | None = None, min_size: int = 2) -> list[int]:
    """Change points of the mean of ``x`` (NaN points skipped).

    Parameters
    ----------
    x
        One series, in standard-deviation units (unit variance in control).
    penalty
        Cost of one change point; default ``2 log n`` (BIC-like for a mean
        shift with known variance, counting the location and the new level).
    min_size
        Fewest points in a segment.

    Returns
    -------
    list of int
        Positions in ``x`` where a new segment begins, increasing.
    """
    x = np.asarray(x, dtype=float)
    keep = np.flatnonzero(~np.isnan(x))
    v = x[keep]
    n = v.size
    if min_size < 1:
        raise InputDataError(f"pelt: min_size must be at least 1; got {min_size}.")
    if n < 2 * min_size:
        return []
    beta = 2.0 * math.log(n) if penalty is None else float(penalty)
    if not beta >= 0:
        raise InputDataError(f"pelt: penalty must be >= 0; got {penalty!r}.")
    s1 = np.concatenate([[0.0], np.cumsum(v)])
    s2 = np.concatenate([[0.0], np.cumsum(v * v)])
    F = np.full(n + 1, np.inf)
    F[0] = -beta
    last = np.zeros(n + 1, dtype=np.int64)
    cands = np.array([0], dtype=np.int64)
    for t in range(min_size, n + 1):
        ok = cands[t - cands >= min_size]
        if ok.size == 0:
            continue
        m = t - ok
        cost = (s2[t] - s2[ok]) - (s1[t] - s1[ok]) ** 2 / m
        total = F[ok] + cost + beta
        j = int(np.argmin(total))
        F[t] = total[j]
        last[t] = ok[j]
        # prune: candidates whose cost to t already exceeds F(t) never win again
        all_m = t - cands
        all_cost = np.where(
            all_m > 0, (s2[t] - s2[cands]) - (s1[t] - s1[cands]) ** 2 / np.maximum(all_m, 1), 0.0
        )
        young = all_m < min_size
        cands = cands[young | (F[cands] + all_cost <= F[t])]
        cands = np.append(cands, t)
    points = []
    t = n
    while t > 0:
        t = int(last[t])
        if t > 0:
            points.append(t)
    return [int(keep[p]) for p in sorted(points)]
