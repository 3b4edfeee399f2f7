"""Shared machinery of the cxlab.clv estimators: input checks, distinct tuples, fitting.

Every model here is fitted by maximum likelihood over the logarithms of its
parameters (all of them are positive): by Newton's method on an exact Hessian
where the model has one (BG/NBD, Pareto/NBD), else (or when Newton's method
does not reach an interior maximum) with L-BFGS-B on an exact gradient, from
several starting points (screened with a few iterations each, then the best
polished to convergence). Standard errors come from the Hessian of the total
log-likelihood (exact, or finite differences of the exact gradient) mapped
back to the papers' parameter space with the delta method.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cxlab.exceptions import ConvergenceError, FitWarning, InputDataError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]
#: ``(theta, order) -> (total, gradient or None, Hessian or None)`` in log-parameters.
NewtonObjective = Callable[[FloatArray, int], tuple[float, "FloatArray | None", "FloatArray | None"]]

RFM_COLUMNS = ("frequency", "recency", "T")
_LOG_BOUND = 25.0  # |log parameter| bound: keeps the optimizer in floating range
_SCREEN_ITER = 5  # L-BFGS-B iterations per start before the best one is polished


def _examples(positions: NDArray[np.intp]) -> str:
    shown = ", ".join(str(int(p)) for p in positions[:5])
    return shown + (", ..." if positions.size > 5 else "")


def frame_columns(X: Any, columns: Sequence[str], *, who: str, as_float: bool = True) -> dict[str, NDArray[Any]]:
    """Read ``columns`` of a pandas or narwhals-compatible frame as numeric arrays
    (float64, or with ``as_float=False`` integer columns kept as integers).

    Lazy frames (DuckDB, Polars lazy, PySpark) are collected: callers pass
    per-customer summaries or their distinct tuples, which are small.

    Raises
    ------
    InputDataError
        If ``X`` is not a dataframe, misses a column, or holds non-numeric or
        non-finite values.
    """
    frame: Any = X
    if not _plain_pandas(X, columns):  # which has every column
        # imported here: Narwhals costs a fresh process tens of milliseconds that
        # a fit on a plain pandas frame does not need
        from cxlab._frames import as_eager, require_columns  # noqa: PLC0415

        frame = as_eager(X, name="X", who=who)
        require_columns(
            list(frame.columns), columns, who=who, name="X",
            hint="Rename the columns or build the summary with cxlab.clv.rfm_summary.",
        )
    out: dict[str, NDArray[Any]] = {}
    for c in columns:
        try:
            arr = np.asarray(frame[c].to_numpy())
            if as_float or arr.dtype.kind not in "iu":
                arr = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InputDataError(f"{who}: column {c!r} must be numeric.") from err
        # integers are finite; a float column is when its sum is (one pass, no temporary)
        if arr.dtype.kind == "f" and not np.isfinite(np.add.reduce(arr)):
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise InputDataError(
                    f"{who}: column {c!r} must be finite; {bad.size:,} of {arr.size:,} values are "
                    f"missing or infinite (rows {_examples(bad)}). Drop or fill those rows."
                )
        out[c] = arr
    return out


def dot(u: FloatArray, v: FloatArray) -> float:
    """Sum of products without BLAS (whose threads, spinning on a busy machine,
    cost more than these few hundred thousand multiplications)."""
    return float(np.einsum("i,i->", u, v))


def _plain_pandas(X: Any, columns: Sequence[str]) -> bool:
    """Whether ``X`` is a pandas frame whose ``columns`` are unique NumPy numbers:
    read directly, without Narwhals (whose pandas backend costs a first call
    tens of milliseconds). Anything else (nullable or Arrow dtypes, duplicate
    names, a missing column) goes through :func:`as_eager` and its checks."""
    if not isinstance(X, pd.DataFrame) or not X.columns.is_unique:
        return False
    dtypes = X.dtypes
    return all(
        c in X.columns and isinstance(dtypes[c], np.dtype) and dtypes[c].kind in "iuf" for c in columns
    )


def check_rfm(cols: dict[str, FloatArray], *, who: str) -> None:
    """Check the buy-till-you-die input contract on frequency, recency and T."""
    x, t_x, big_t = cols["frequency"], cols["recency"], cols["T"]
    checks = [
        (x < 0, "'frequency' must be >= 0"),
        (x != np.round(x), "'frequency' must be whole numbers (repeat purchase counts)"),
        (t_x < 0, "'recency' must be >= 0"),
        (t_x > big_t * (1 + 1e-12), "'recency' must be <= 'T'"),
        ((x == 0) & (t_x != 0), "'recency' must be 0 where 'frequency' is 0"),
    ]
    for mask, what in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            raise InputDataError(
                f"{who}: {what}; {bad.size:,} of {x.size:,} rows break this (rows "
                f"{_examples(bad)}). Build the summary with cxlab.clv.rfm_summary."
            )


def check_sample_weight(sample_weight: Any, n: int, *, who: str) -> FloatArray:
    """Return validated non-negative weights (ones when ``None``)."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.size != n:
        raise InputDataError(f"{who}: sample_weight must have {n:,} values, one per row; got {w.size:,}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputDataError(f"{who}: sample_weight must be finite, >= 0 and not all 0.")
    return w


@dataclass(frozen=True)
class Tuples:
    """Distinct ``(frequency, recency, T)`` rows and their total weights."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray


def unique_inverse(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Sorted distinct values and the index of each input in them."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.ravel()


def unique_rows_inverse(*columns: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Distinct rows of equal-length columns: one representative position per
    distinct row and, for every row, the number of its distinct row.

    Hash-based (``pandas.factorize``, linear time) and column by column, with
    the combined key re-factorized at each step so that it never overflows.
    """
    n = columns[0].size
    key = np.zeros(n, dtype=np.int64)
    n_keys = 1
    for col in columns:
        code, uniq = pd.factorize(col)
        key, keys = pd.factorize(key * np.int64(uniq.size) + code)
        n_keys = keys.size
    first = np.empty(n_keys, dtype=np.intp)
    # numpy assigns repeated indices in order, so the last write wins: reverse to keep the first
    first[key[::-1]] = np.arange(n - 1, -1, -1)
    return first, key.astype(np.intp, copy=False)


#: Largest product of the columns' numbers of distinct values for which
#: :func:`distinct_rfm` counts in a dense array (8 bytes each) instead of hashing.
_DENSE_KEYS = 1 << 24


#: Time grids (units per step) on which :func:`distinct_rfm` codes a float column
#: without hashing: whole units, and days counted in weeks (``days / 7``, what
#: :func:`cxlab.clv.rfm_summary` writes).
_GRIDS = (1.0, 7.0)


def _grid_codes(col: FloatArray) -> tuple[NDArray[np.int64], FloatArray] | None:
    """Sorted codes and distinct values of a non-negative float column whose
    distinct values round to distinct points of one of :data:`_GRIDS` (``None``
    when none does), as values on a day or week grid do.

    ``round(value * k)`` numbers the grid points; a value table indexed by that
    number, read back, must give every value exactly, which proves the numbering
    one-to-one, and it is monotone, so ordered like the values. A few vector
    passes, cheaper than hashing a million floats.
    """
    if not col.size:
        return None
    lo, hi = float(col.min()), float(col.max())
    for k in _GRIDS:
        if lo < 0 or not hi * k < _DENSE_KEYS:
            continue
        scaled = col * k
        scaled += 0.5
        code = scaled.astype(np.int64)  # round half up: the values are >= 0
        del scaled
        size = int(hi * k + 0.5) + 1
        table = np.zeros(size)
        table[code] = col
        if not np.array_equal(table[code], col):
            continue
        present = np.flatnonzero(np.bincount(code, minlength=size))
        rank = np.zeros(size, dtype=np.int64)
        rank[present] = np.arange(present.size, dtype=np.int64)
        return rank[code], table[present]
    return None


def distinct_rfm(x: FloatArray, t_x: FloatArray, big_t: FloatArray, weight: FloatArray | None) -> Tuples:
    """Collapse rows to distinct ``(x, t_x, T)`` tuples, summing their weights
    (``weight=None``: counting the rows).

    The tuples come out sorted by ``(x, t_x, T)``, so that a fit does not depend
    on the order of the input rows. Sorted codes per column: whole numbers are
    their own codes, values on a day or week grid are numbered on it
    (:func:`_grid_codes`), anything else is hashed; when the three codes fit in
    a dense key space (the usual case: a few hundred distinct values each), the
    weights are summed with one ``bincount`` over the combined code, which is
    already in sorted order.
    """
    codes, uniques = [], []
    for col in (x, t_x, big_t):
        if col is x and col.dtype.kind in "iu" and col.size and 0 <= col.min() and col.max() < _DENSE_KEYS:
            # integer repeat purchase counts: their own codes, no hashing
            codes.append(col.astype(np.int64, copy=False))
            uniques.append(np.arange(int(col.max()) + 1, dtype=np.float64))
            continue
        top = float(col.max()) if col.size else -1.0
        if col is x and 0 <= col.min() and top < _DENSE_KEYS and np.array_equal(col, np.round(col)):
            # whole repeat purchase counts stored as floats: the same
            codes.append(col.astype(np.int64))
            uniques.append(np.arange(int(top) + 1, dtype=np.float64))
            continue
        grid = _grid_codes(np.asarray(col, dtype=np.float64))
        if grid is not None:
            codes.append(grid[0])
            uniques.append(grid[1])
            continue
        # hash in order of appearance, then renumber by rank: a gather through a
        # small table, cheaper than ``factorize(sort=True)``'s reordering
        code, uniq = pd.factorize(col)
        order = np.argsort(uniq, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size, dtype=np.int64)
        codes.append(rank[code])
        uniques.append(np.asarray(uniq, dtype=np.float64)[order])
    n1, n2, n3 = (u.size for u in uniques)
    if n1 * n2 * n3 <= _DENSE_KEYS:
        key = codes[0] * n2
        key += codes[1]
        key *= n3
        key += codes[2]
        if n1 * n2 * n3 <= 4 * key.size:
            # dense: one bincount over the key space, already in sorted order
            w = np.bincount(key, weights=weight, minlength=n1 * n2 * n3)
            nz = np.flatnonzero(w > 0)
            return _decode(nz, n2, n3, uniques, np.asarray(w[nz], dtype=np.float64))
        # sparse (few rows for the key space): hash the keys, sort the distinct ones
        code, keys = pd.factorize(key)
        w = np.bincount(code, weights=weight, minlength=keys.size)
        order = np.argsort(keys)
        nz, w = keys[order], w[order]
        keep = w > 0
        return _decode(nz[keep], n2, n3, uniques, np.asarray(w[keep], dtype=np.float64))
    first, inverse = unique_rows_inverse(x, t_x, big_t)
    w = np.bincount(inverse, weights=weight, minlength=first.size)
    keep = w > 0
    idx, w = first[keep], np.asarray(w[keep], dtype=np.float64)
    order = np.lexsort((big_t[idx], t_x[idx], x[idx]))
    idx, w = idx[order], w[order]
    return Tuples(np.asarray(x[idx], dtype=np.float64), t_x[idx], big_t[idx], w)


def _decode(keys: NDArray[np.int64], n2: int, n3: int, uniques: list[FloatArray], w: FloatArray) -> Tuples:
    i1, rest = np.divmod(keys, n2 * n3)
    i2, i3 = np.divmod(rest, n3)
    return Tuples(uniques[0][i1], uniques[1][i2], uniques[2][i3], w)


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit_log_params`."""

    params: FloatArray
    log_likelihood: float
    standard_errors: FloatArray
    n_iter: int
    diagnostics: tuple[str, ...] = ()


#: A standard error larger than this many times its parameter (in log space: the
#: 95% interval spans more than a factor e**20) means the data do not pin it down.
_MAX_RELATIVE_SE = 10.0


def fit_log_params(
    loglik_and_grad: Objective,
    starts: Sequence[FloatArray],
    *,
    total_weight: float,
    max_iter: int,
    tol: float,
    who: str,
    names: Sequence[str],
    advice: str,
    newton: NewtonObjective | None = None,
    blas: bool = True,
) -> FitResult:
    """Maximize a log-likelihood over log-parameters.

    With ``newton`` (the model has an exact Hessian), the first start is run
    by Newton's method (:func:`_newton`), which converges in a few iterations
    and gives the standard errors from the exact Hessian; only when it does not
    converge to an interior maximum does the L-BFGS-B search below run.

    The first start (the model's moment estimates) is run to convergence; the
    others are used only when that fails or ends at the edge of the range: each
    gets a few L-BFGS-B iterations (screening), then the screened points are
    polished to convergence in order of their log-likelihood until one converges.

    Parameters
    ----------
    loglik_and_grad
        Maps log-parameters to the total log-likelihood and its gradient with
        respect to the log-parameters.
    starts
        Starting log-parameter vectors, best guess first.
    total_weight
        Sum of the weights; the optimizer sees the mean log-likelihood so that
        its tolerances do not depend on the number of customers.
    who, names, advice
        The model's name, its parameter names and what to try when the fit is
        doubtful; used in messages and in ``FitResult.diagnostics``.
    blas
        Whether ``loglik_and_grad`` calls BLAS (matrix products): the search
        then runs with BLAS on one thread. ``False`` skips that limit and its
        scan of the process's libraries.

    Warns
    -----
    FitWarning
        When a parameter ends at the edge of its range, the Hessian is singular
        or not negative definite, or a standard error is not finite or dwarfs
        its parameter. The same messages are in ``FitResult.diagnostics``.
    """
    scale = 1.0 / total_weight
    if newton is not None:
        found = _newton(newton, np.asarray(starts[0], dtype=np.float64), scale=scale, max_iter=max_iter, tol=tol)
        if found is not None:
            theta, ll, hess, n_iter = found
            se, hessian_problem = _se_from_hessian(theta, hess)
            return _result(theta, ll, se, n_iter, hessian_problem, None, names, advice, who=who)

    def neg(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, g = loglik_and_grad(theta)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(theta)
        return -ll * scale, -g * scale

    messages: list[str] = []
    limit: Any = nullcontext()
    if blas:
        # imported here: threadpoolctl's scan of the loaded libraries costs tens
        # of milliseconds, which fits whose objective calls no BLAS skip
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        limit = threadpool_limits(limits=1, user_api="blas")
    with limit:
        # a 4-parameter problem gains nothing from BLAS threads, and threads that
        # spin on a busy machine slow each L-BFGS-B step down by orders of magnitude
        best = _polish(neg, [np.asarray(starts[0], dtype=np.float64)], max_iter, tol, who, messages)
        if len(starts) > 1 and (best is None or _at_bound(best.x)):
            screened = [
                _minimize(neg, np.asarray(s0, dtype=np.float64), max_iter=_SCREEN_ITER, tol=tol) for s0 in starts[1:]
            ]
            order = sorted(range(len(screened)), key=lambda i: float(np.nan_to_num(screened[i].fun, nan=np.inf)))
            other = _polish(neg, [screened[i].x for i in order], max_iter, tol, who, messages)
            if other is not None and (best is None or other.fun < best.fun):
                best = other
        flat = None
        if best is None:
            best, flat = _stalled(neg, starts, max_iter, tol)
        if best is None:
            raise ConvergenceError(
                f"{who}: the optimizer did not converge from any of {len(starts)} starts "
                f"({'; '.join(messages[:3])}). Try more starts (n_starts), a larger max_iter, "
                "or check that the data has repeat buyers."
            )
        theta = best.x
        ll, g0 = loglik_and_grad(theta)
        se, hessian_problem = _delta_method_se(loglik_and_grad, theta, g0)
    return _result(theta, ll, se, int(best.nit), hessian_problem, flat, names, advice, who=who)


def _result(
    theta: FloatArray,
    ll: float,
    se: FloatArray,
    n_iter: int,
    hessian_problem: str | None,
    flat: str | None,
    names: Sequence[str],
    advice: str,
    *,
    who: str = "",
) -> FitResult:
    """The fit's result, with the diagnostics (also raised as a FitWarning)."""
    params = np.exp(theta)
    diagnostics = _diagnose(theta, params, se, hessian_problem, names)
    if flat:
        diagnostics.insert(0, flat)
    if diagnostics:
        text = f"{who}: the fit is doubtful: {'; '.join(diagnostics)}. {advice}"
        warnings.warn(text, FitWarning, stacklevel=5)
        diagnostics = [*diagnostics, advice]
    return FitResult(params, float(ll), se, n_iter, tuple(diagnostics))


#: Largest Newton step in log-parameters (a factor e**2 on a parameter): far from
#: the optimum the quadratic model is not to be trusted further.
_NEWTON_MAX_STEP = 2.0


def _newton(
    objective: NewtonObjective, theta: FloatArray, *, scale: float, max_iter: int, tol: float
) -> tuple[FloatArray, float, FloatArray, int] | None:
    """Newton's method with a backtracking line search, maximizing ``objective``.

    Where the Hessian is not negative definite its eigenvalues are mirrored
    (and floored), which keeps every step an ascent direction. Converged when
    the predicted gain of a full step (half the Newton decrement) is below
    ``tol`` times the mean log-likelihood, the largest gradient component of
    the mean log-likelihood is below 1e-5 and the Hessian is negative definite.

    Returns ``(theta, total, Hessian, iterations)`` at an interior maximum, or
    ``None`` (no convergence, a non-finite value, or the edge of the range),
    for the caller to fall back on L-BFGS-B.
    """
    f, g, h = objective(theta, 2)
    for it in range(1, max_iter + 1):
        if not (np.isfinite(f) and g is not None and h is not None and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            return None
        eig, vec = np.linalg.eigh(-0.5 * (h + h.T))
        top = float(np.max(np.abs(eig)))
        if top == 0.0:
            return None
        definite = bool(np.all(eig > 1e-12 * top))
        step = vec @ ((vec.T @ g) / np.maximum(np.abs(eig), 1e-10 * top))
        gain = float(g @ step)  # the Newton decrement: > 0 for an ascent direction
        if definite and 0.5 * gain * scale <= tol * max(1.0, abs(f) * scale) and np.max(np.abs(g)) * scale < 1e-5:
            return (theta, f, h, it) if not _at_bound(theta) else None
        longest = float(np.max(np.abs(step)))
        t = min(1.0, _NEWTON_MAX_STEP / longest) if longest > 0 else 1.0
        # the first trial is evaluated to second order: it is usually accepted and
        # is then the next iterate; backtracking trials need the value only
        order = 2
        while True:
            trial = np.clip(theta + t * step, -_LOG_BOUND, _LOG_BOUND)
            f_trial, g_trial, h_trial = objective(trial, order)
            if np.isfinite(f_trial) and f_trial >= f + 1e-4 * t * gain:
                break
            order = 0
            t *= 0.5
            if t < 1e-10:
                # no ascent left along the step: converged to rounding if the gain is negligible
                ok = definite and 0.5 * gain * scale <= 1e3 * tol * max(1.0, abs(f) * scale)
                return (theta, f, h, it) if ok and not _at_bound(theta) else None
        theta = trial
        f, g, h = (f_trial, g_trial, h_trial) if order == 2 else objective(theta, 2)
    return None


def _at_bound(theta: FloatArray) -> bool:
    return bool(np.any(np.abs(theta) > _LOG_BOUND - 1e-3))


def _polish(
    neg: Objective, candidates: Sequence[FloatArray], max_iter: int, tol: float, who: str, messages: list[str]
) -> Any:
    """Run candidates to convergence in order; the first that converges, else ``None``."""
    for x0 in candidates:
        res = _minimize(neg, x0, max_iter=max_iter, tol=tol)
        grad_norm = float(np.max(np.abs(res.jac))) if np.all(np.isfinite(res.jac)) else np.inf
        ok = np.isfinite(res.fun) and (res.success or grad_norm < 1e-5)
        logger.debug("%s: from %s -> %s (%s, |grad| %.2e)", who, x0, res.x, res.message, grad_norm)
        if ok:
            return res
        messages.append(f"{res.message} (|grad| {grad_norm:.2e})")
    return None


def _stalled(neg: Objective, starts: Sequence[FloatArray], max_iter: int, tol: float) -> tuple[Any, str | None]:
    """When no start converges: the best end point where the line search stalled on
    a flat ridge (the likelihood still rising slowly towards the edge of the range,
    a degenerate fit that deserves a warning rather than an error), else ``None``.
    Running out of iterations stays an error."""
    ends = [_minimize(neg, np.asarray(s0, dtype=np.float64), max_iter=max_iter, tol=tol) for s0 in starts]
    stalled = [r for r in ends if r.status == 2 and np.isfinite(r.fun) and np.all(np.isfinite(r.jac))]
    if not stalled:
        return None, None
    best = min(stalled, key=lambda r: r.fun)
    grad = float(np.max(np.abs(best.jac)))
    if grad > 1e-3:
        return None, None
    return best, f"the optimizer stopped where the likelihood is nearly flat (largest gradient {grad:.2g})"


def _diagnose(
    theta: FloatArray, params: FloatArray, se: FloatArray, hessian_problem: str | None, names: Sequence[str]
) -> list[str]:
    """Plain-language reasons to doubt a fit (empty when there is none)."""
    out = []
    for j in np.flatnonzero(np.abs(theta) > _LOG_BOUND - 1e-3):
        out.append(f"{names[j]} ran to the edge of its range ({names[j]} = {params[j]:.3g})")
    if hessian_problem:
        out.append(hessian_problem)
    bad = [names[j] for j in range(se.size) if not np.isfinite(se[j])]
    if bad and not hessian_problem:
        out.append(f"the standard error of {', '.join(bad)} is not finite")
    with np.errstate(divide="ignore", invalid="ignore"):
        loose = [
            f"{names[j]} ({se[j] / params[j]:.3g} times its value)"
            for j in range(se.size)
            if np.isfinite(se[j]) and se[j] > _MAX_RELATIVE_SE * params[j]
        ]
    if loose:
        out.append("the data barely determine " + ", ".join(loose))
    return out


def _minimize(neg: Objective, start: FloatArray, *, max_iter: int, tol: float) -> Any:
    from scipy.optimize import minimize  # noqa: PLC0415 (loaded only by fits that need it)

    return minimize(
        neg,
        np.asarray(start, dtype=np.float64),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(start),
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-9, "maxcor": 20},
    )


def _delta_method_se(
    loglik_and_grad: Objective, theta: FloatArray, g0: FloatArray
) -> tuple[FloatArray, str | None]:
    """Standard errors of ``exp(theta)`` from the observed information, and what is
    wrong with the Hessian (``None`` when nothing is). ``g0`` is the gradient at
    ``theta``.

    The Hessian of the total log-likelihood in log space is taken by forward
    differences of the exact gradient (symmetrized); at the optimum the gradient is zero, so
    ``cov(p) = diag(p) cov(theta) diag(p)`` (delta method).
    """
    k = theta.size
    h = 1e-6
    hess = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        hess[:, j] = (loglik_and_grad(theta + step)[1] - g0) / h
    return _se_from_hessian(theta, hess)


def _se_from_hessian(theta: FloatArray, hess: FloatArray) -> tuple[FloatArray, str | None]:
    """Delta-method standard errors of ``exp(theta)`` from the Hessian of the total
    log-likelihood in ``theta`` (symmetrized), and what is wrong with it, if anything."""
    k = theta.size
    hess = 0.5 * (hess + hess.T)
    if not np.all(np.isfinite(hess)):
        return np.full(k, np.nan), "the Hessian is not finite; standard errors are not available"
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan), "the Hessian is singular; standard errors are not available"
    var = np.diag(cov)
    problem = None
    if np.any(var <= 0) or not np.all(np.isfinite(var)):
        problem = "the Hessian is not negative definite (the likelihood is flat or a saddle there)"
    with np.errstate(invalid="ignore"):
        return np.exp(theta) * np.sqrt(np.where(var > 0, var, np.nan)), problem


def start_points(base: Sequence[float], n_starts: int, random_state: Any) -> list[FloatArray]:
    """``n_starts`` log-parameter vectors: ``log(base)`` then random jitters of it."""
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif random_state is None or isinstance(random_state, (int, np.integer)):
        rng = np.random.RandomState(random_state)
    elif isinstance(random_state, np.random.RandomState):
        rng = random_state
    else:
        raise InputDataError(
            f"random_state must be None, an integer or a numpy random generator; got {type(random_state).__name__}."
        )
    first = np.log(np.asarray(base, dtype=np.float64))
    out = [first]
    for _ in range(max(n_starts, 1) - 1):
        out.append(first + rng.normal(0.0, 1.0, size=first.size))
    return out


def check_is_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's ``NotFittedError`` when ``estimator`` lacks ``attribute``."""
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError  # noqa: PLC0415 (only on this error path)

        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


class LogParamFitter:
    """Hyperparameters every cxlab.clv model shares (scikit-learn contract).

    ``n_starts`` starting points are screened and the best run to convergence
    (``max_iter`` iterations, tolerance ``tol``); ``random_state`` draws the
    starts.

    The estimator contract (``get_params``, ``set_params``, ``clone``,
    keyword-only hyperparameters stored unchanged) is implemented here rather
    than inherited from ``sklearn.base.BaseEstimator``: importing scikit-learn
    loads ``scipy.stats`` and takes about a second, several times a whole BG/NBD
    fit on a million customers. ``sklearn.base.clone``, pipelines and grid
    searches work on these estimators all the same.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, as scikit-learn's ``get_params`` (none is an estimator)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> LogParamFitter:
        """Set hyperparameters by name (scikit-learn's ``set_params``); returns ``self``."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k, inspect.Parameter.empty) != v]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        from sklearn.base import BaseEstimator  # noqa: PLC0415 (asked for by scikit-learn, already loaded then)

        return BaseEstimator.__sklearn_tags__(self)  # type: ignore[arg-type]

    def __init__(
        self,
        *,
        n_starts: int = 3,
        max_iter: int = 2000,
        tol: float = 1e-13,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _store_fit(self, result: FitResult, n_customers: float) -> None:
        """Set the fitted attributes (``params_``, ``log_likelihood_``, ...) from ``result``."""
        self.params_ = dict(zip(self._param_names, map(float, result.params), strict=True))
        self.log_likelihood_ = result.log_likelihood
        self.standard_errors_ = dict(zip(self._param_names, map(float, result.standard_errors), strict=True))
        self.n_customers_ = float(n_customers)
        self.n_iter_ = result.n_iter
        self.diagnostics_ = list(result.diagnostics)
