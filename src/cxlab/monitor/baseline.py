"""Robust baselines and standardized residuals for many series at once.

The baseline of each series is a level, a linear trend and (daily grain) a
day-of-week effect, fitted on the training period by iteratively reweighted
least squares with Huber weights (so a few outlying days in the training
period do not bend it), and extrapolated over the monitored period. Every
series shares the date axis, so the fit is one batched solve.

A point's residual is standardized by its own sampling error and the
between-day variation the sampling error does not explain::

    z_t = (y_t - b_t) / sqrt(se_t^2 + tau^2)

``se_t`` comes from the metric: ``p(1-p)/n`` for a proportion from ``n``
answers (``p`` the baseline, so a day at 0% or 100% still has a variance), the
metric catalog's standard error for a mean or ratio, ``b_t`` (Poisson) for a
count. ``tau^2`` is solved per series so that the median absolute training
residual is that of a standard normal (0.6745): a robust variance component
that tolerates outliers in the training period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Huber tuning constant (95% efficiency at the normal).
HUBER_C = 1.345
#: |t| of the trend coefficient below which the trend is dropped.
TREND_T = 3.0
#: Median of |N(0, 1)|.
MAD_NORMAL = 0.6744897501960817


@dataclass(frozen=True)
class Baseline:
    """Fitted baselines of series x time.

    Attributes
    ----------
    expected
        Baseline value ``b_t`` at every point.
    sd
        ``sqrt(se_t^2 + tau^2)``: the in-control standard deviation of each point.
    z
        Standardized residuals (NaN where the point is missing).
    tau
        Between-day standard deviation per series (metric units).
    coef
        Fitted coefficients per series (level, trend, day-of-week effects).
    """

    expected: np.ndarray
    sd: np.ndarray
    z: np.ndarray
    tau: np.ndarray
    coef: np.ndarray


def design(n_points: int, weekday: np.ndarray | None, train: np.ndarray) -> np.ndarray:
    """Columns: 1, trend (in training lengths, centred on the training period),
    and six day-of-week contrasts when ``weekday`` is given."""
    t = np.arange(n_points, dtype=float)
    idx = np.flatnonzero(train)
    centre, span = t[idx].mean(), max(float(np.ptp(t[idx])), 1.0)
    cols = [np.ones(n_points), (t - centre) / span]
    if weekday is not None:
        cols += [(weekday == d).astype(float) for d in range(1, 7)]
    return np.column_stack(cols)


def _gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w_s) X`` for every series ``s`` (batched matrix products)."""
    T, p = X.shape
    outer = (X[:, :, None] * X[:, None, :]).reshape(T, p * p)
    return (w @ outer).reshape(w.shape[0], p, p)  # one matrix product for all series


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares per series (rows of y, w): coefficients."""
    A = _gram(X, w)
    b = (w * y) @ X
    A += 1e-9 * np.eye(X.shape[1])[None]
    return np.linalg.solve(A, b[..., None])[..., 0]


def nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an all-NaN row); one sort,
    much faster than ``np.nanmedian`` on many short rows."""
    s = np.sort(a, axis=1)  # NaN last
    k = (~np.isnan(a)).sum(axis=1)
    lo = np.take_along_axis(s, np.maximum((k - 1) // 2, 0)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(s, np.maximum(k // 2, 0)[:, None], axis=1)[:, 0]
    return np.where(k > 0, 0.5 * (lo + hi), np.nan)


def _tau(resid: np.ndarray, se2: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per series, the tau >= 0 with median |r| / sqrt(se^2 + tau^2) = 0.6745."""
    r = np.where(mask, np.abs(resid), np.nan)
    s2 = np.where(mask, se2, np.nan)

    def med(tau: np.ndarray) -> np.ndarray:
        return nanmedian_rows(r / np.sqrt(s2 + tau[:, None] ** 2 + 1e-300))

    lo = np.zeros(r.shape[0])
    hi = np.nanmax(r, axis=1) * 4.0 + 1e-12
    hi = np.where(np.isfinite(hi), hi, 1.0)
    need = med(lo) > MAD_NORMAL
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        over = med(mid) > MAD_NORMAL
        lo = np.where(over, mid, lo)
        hi = np.where(over, hi, mid)
    return np.where(need, 0.5 * (lo + hi), 0.0)


def fit_baseline(
    y: np.ndarray,
    *,
    kind: str,
    train: np.ndarray,
    weekday: np.ndarray | None = None,
    se: np.ndarray | None = None,
    n: np.ndarray | None = None,
    iterations: int = 6,
    trend_test: bool = True,
) -> Baseline:
    """Fit baselines to ``y`` (series x time; NaN = no point) on ``train``.

    Parameters
    ----------
    y
        Values in metric units.
    kind
        ``count`` (Poisson sampling error from the baseline), ``proportion``
        (``p(1-p)/n`` with ``n`` the answers behind each point) or ``mean``
        (``se`` given per point).
    train
        Boolean mask over time: the training period.
    weekday
        Day of week (0 = Monday) per time point, for daily series.
    se, n
        Standard errors (``mean``) or answer counts (``proportion``).
    trend_test
        Drop the trend where ``|t| <= TREND_T`` (for a fit extrapolated far
        ahead). ``False`` keeps it in every series: a baseline refitted on a
        trailing window and used only up to the next refit (a level-only fit
        estimates the level at the window's middle, half a window behind).
    """
    S, T = y.shape
    X_all = design(T, weekday, train)
    # The fit sees only the training columns (every other point has weight 0).
    X, yt = X_all[train], y[:, train]
    se_t = None if se is None else se[:, train]
    n_t = None if n is None else n[:, train]
    ok = ~np.isnan(yt)
    yv = np.where(ok, yt, 0.0)
    w = ok.astype(float)
    coef = _wls(X, yv, w)
    tau = np.zeros(S)
    for it in range(iterations):
        fit = coef @ X.T
        se2 = _se2(kind, fit, se_t, n_t)
        resid = yv - fit
        if it == 0:  # the spread settles fast; it is solved again on the final fit
            tau = _tau(resid, se2, ok)
        sd = np.sqrt(se2 + tau[:, None] ** 2)
        u = np.abs(resid) / np.where(sd > 0, sd, np.inf)
        huber = np.where(u <= HUBER_C, 1.0, HUBER_C / np.maximum(u, 1e-12))
        w = np.where(ok, huber / np.maximum(sd**2, 1e-12), 0.0)
        coef = _wls(X, yv, w)
    # Keep the trend only where the data show one (|t| > TREND_T): a trend fitted
    # to noise, extrapolated over the monitored period, is a bias of its own.
    cov = np.linalg.inv(_gram(X, w) + 1e-9 * np.eye(X.shape[1])[None])
    t_stat = coef[:, 1] / np.sqrt(np.maximum(cov[:, 1, 1], 1e-300))
    flat = (np.abs(t_stat) <= TREND_T) & trend_test
    if flat.any():
        keep = [c for c in range(X.shape[1]) if c != 1]
        coef_flat = np.zeros_like(coef[flat])
        coef_flat[:, keep] = _wls(X[:, keep], yv[flat], w[flat])
        coef[flat] = coef_flat
    X = X_all
    expected = coef @ X.T
    if kind in ("count", "proportion"):
        expected = np.maximum(expected, 0.0)
    if kind == "proportion":
        expected = np.minimum(expected, 1.0)
    se2 = _se2(kind, expected, se, n)
    tau = _tau(yv - expected[:, train], se2[:, train], ok)
    sd = np.sqrt(se2 + tau[:, None] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(np.isnan(y) | (sd <= 0), np.nan, (y - expected) / sd)
    return Baseline(expected, sd, z, tau, coef)


def _se2(kind: str, fit: np.ndarray, se: np.ndarray | None, n: np.ndarray | None) -> np.ndarray:
    if kind == "count":
        return np.maximum(fit, 0.0)
    if kind == "proportion":
        assert n is not None
        p = np.clip(fit, 0.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, p * (1.0 - p) / np.where(n > 0, n, 1.0), np.nan)
    if kind == "level" or se is None:
        return np.zeros_like(fit)
    return np.where(np.isnan(se), 0.0, se**2)


#: A point needs this much information (expected count, or answers times the
#: smaller of p and 1 - p) for its residual to be near normal; sparser points
#: are pooled with the next ones until the pool has it (the np >= 5 rule).
MIN_INFO = 5.0
#: Block lengths (points) at which the long-run variance of the training
#: residuals is compared with their point variance: about the memory of the
#: charts (EWMA lambda 0.2, CUSUM k 0.5 at a 1-sd shift) and twice it.
LONG_RUN_BLOCKS = (14, 28)


def pool_sparse(
    z: np.ndarray, sd: np.ndarray, weight: np.ndarray, info: np.ndarray, boundary: int,
    min_info: float = MIN_INFO,
) -> np.ndarray:
    """Pool consecutive sparse points of each series.

    ``z`` residuals, ``sd`` their point sd, ``weight`` each point's weight in the
    pooled value (answers for a proportion, 1 for a count), ``info`` its
    information. A series whose median information per point is at least
    ``min_info`` is left as it is. Pools never cross ``boundary`` (the first
    monitored column). Returns the pooled residuals (at the last point of each
    pool, NaN elsewhere).
    """
    S, T = z.shape
    out = z.copy()
    sparse_rows = np.flatnonzero(np.nanmedian(np.where(np.isnan(z), np.nan, info), axis=1) < min_info)
    for i in sparse_rows:
        acc_r = acc_v = acc_info = 0.0
        first = -1
        for t in range(T):
            if t == boundary and first >= 0:
                acc_r = acc_v = acc_info = 0.0
                first = -1
            if np.isnan(z[i, t]):
                continue
            if first < 0:
                first = t
            w = weight[i, t]
            acc_r += w * sd[i, t] * z[i, t]
            acc_v += (w * sd[i, t]) ** 2
            acc_info += info[i, t]
            out[i, t] = np.nan
            if acc_info >= min_info:
                out[i, t] = acc_r / np.sqrt(acc_v) if acc_v > 0 else np.nan
                acc_r = acc_v = acc_info = 0.0
                first = -1
    return out


def long_run_factor(z: np.ndarray, train: np.ndarray, blocks: tuple[int, ...] = LONG_RUN_BLOCKS) -> np.ndarray:
    """Per series, ``max(1, b * var(means of b consecutive training residuals))``
    over the block lengths ``b`` of ``blocks``.

    Charts assume independent residuals. Slow wander of the process (a
    customer base that grows in bursts, a heavy buyer who arrives or leaves)
    makes block means vary more than ``1 / b``; dividing the residuals by the
    square root of this factor keeps the false-alarm rate at the requested
    one. The block means overlap (the overlapping batch means estimator of
    Meketon & Schmeiser 1984, with half the variance of disjoint blocks); a
    series needs four blocks of training points for a length to count.
    """
    factor = np.ones(z.shape[0])
    for i in range(z.shape[0]):
        v = z[i, train]
        v = v[~np.isnan(v)]
        n = v.size
        c = np.concatenate([[0.0], np.cumsum(v - v.mean())]) if n else v
        for b in blocks:
            if n < 4 * b:
                continue
            means = (c[b:] - c[:-b]) / b
            factor[i] = max(factor[i], b * float(np.sum(means**2)) / (n - b + 1) * n / (n - b))
    return factor
