"""Common estimator code of the buy-till-you-die purchase models (BG/NBD, Pareto/NBD)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

import numpy as np
from cxlab.clv._base import (
    LogParamFitter,
    NewtonObjective,
    RFM_COLUMNS,
    FitResult,
    FloatArray,
    Tuples,
    check_rfm,
    check_is_fitted,
    check_sample_weight,
    distinct_rfm,
    fit_log_params,
    frame_columns,
    start_points,
)
from cxlab.exceptions import InputDataError

logger = logging.getLogger(__name__)


def gamma_rate_moments(tuples: Tuples) -> tuple[float, float]:
    """Moment estimates of ``(r, alpha)``, the Gamma mixing distribution of the
    purchase rates, from the weighted mean and variance of ``x / T``.

    ``E[x/T] = r/alpha`` and ``Var(x/T) = r/alpha**2 + E[lambda/T]`` (Gamma
    heterogeneity plus Poisson noise), ignoring dropout; the variance is kept
    at least a tenth of the squared mean (``r <= 10``). Only a starting point.
    """
    seen = tuples.T > 0  # a customer first seen on the last day tells nothing about rates
    if not np.any(seen):
        return 1.0, 1.0
    big_t, w = tuples.T[seen], tuples.weight[seen]
    w = w / w.sum()
    rate = tuples.x[seen] / big_t
    # elementwise sums, not ``@``: BLAS threads on a busy machine cost more than the work
    mean = max(float(np.sum(w * rate)), 1e-6)
    var = float(np.sum(w * (rate - mean) ** 2)) - float(np.sum(w * rate / big_t))
    var = max(var, 0.1 * mean * mean)
    return mean * mean / var, mean / var


class PurchaseModel(LogParamFitter):
    """Base class: fitting and scoring on ``frequency, recency, T`` frames.

    Subclasses give ``_param_names``, ``_start`` (moment estimates), ``_advice`` and ``_rows``, the
    per-row log-likelihood and its gradient in the natural parameters.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _advice: ClassVar[str] = ""

    # -- to implement ---------------------------------------------------------------
    @staticmethod
    def _start(tuples: Tuples) -> tuple[float, ...]:
        """Moment estimates of the parameters: the first start of the optimizer."""
        raise NotImplementedError

    @staticmethod
    def _prepare(x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray) -> Any:
        """Index structures reused by every likelihood evaluation of one fit."""
        return None

    def _total(
        self, p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray, prep: Any
    ) -> tuple[float, FloatArray]:
        """Weighted total log-likelihood and its gradient in the natural parameters
        (the L-BFGS-B objective): by default :attr:`_total_to_order` to first order."""
        if self._total_to_order is None:
            raise NotImplementedError
        total, grad, _ = self._total_to_order(p, x, t_x, big_t, w, prep, 1)
        return total, grad

    #: Models with an exact Hessian set this to a function of
    #: ``(p, x, t_x, big_t, w, prep, order)`` returning the total and, up to
    #: ``order`` (0, 1 or 2), its gradient and Hessian in the natural parameters;
    #: they are then fitted by Newton's method (see :func:`fit_log_params`).
    #: A model without one overrides :meth:`_total`.
    _total_to_order: Any = None

    #: Whether a model with :attr:`_total_to_order` is fitted by Newton's method
    #: (False: by L-BFGS-B on the gradient alone, as the tests compare).
    _newton_fit: ClassVar[bool] = True

    #: Whether :meth:`_total` calls BLAS (matrix products); models whose sums go
    #: through einsum set it False and are fitted without a BLAS thread limit.
    _total_uses_blas: ClassVar[bool] = True

    @staticmethod
    def _rows(
        p: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray, *, grad: bool, prep: Any = None
    ) -> tuple[FloatArray, FloatArray | None]:
        raise NotImplementedError

    # -- fitting --------------------------------------------------------------------
    def _read(self, X: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
        who = type(self).__name__
        cols = frame_columns(X, RFM_COLUMNS, who=who)
        check_rfm(cols, who=who)
        return cols["frequency"], cols["recency"], cols["T"]

    def fit(self, X: Any, y: None = None, *, sample_weight: Any = None) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        X : dataframe
            One row per customer (or per distinct tuple, with counts in
            ``sample_weight``) with columns ``frequency`` (repeat purchases),
            ``recency`` (time of the last repeat purchase since the first
            purchase) and ``T`` (time since the first purchase), all in one time
            unit (weeks in the papers). pandas, Polars, DuckDB, PySpark or any
            frame Narwhals reads.
        y : None
            Ignored; present for the scikit-learn API.
        sample_weight : array-like of shape (n_rows,), optional
            Non-negative weights, e.g. the number of customers sharing a tuple.

        Returns
        -------
        self
            With ``params_``, ``log_likelihood_``, ``standard_errors_``,
            ``n_customers_``, ``n_iter_`` and ``diagnostics_`` set.

        Warns
        -----
        FitWarning
            When the fit is doubtful (a parameter at the edge of its range, a
            singular Hessian, a standard error that is not finite); the reasons
            and what to try are also kept in ``diagnostics_``.
        """
        who = type(self).__name__
        if not isinstance(self.n_starts, int) or self.n_starts < 1:
            raise InputDataError(f"{who}: n_starts must be an integer >= 1; got {self.n_starts!r}.")
        cols = frame_columns(X, RFM_COLUMNS, who=who, as_float=False)
        x, t_x, big_t = cols["frequency"], cols["recency"], cols["T"]
        # without weights the rows are counted (no array of ones to build)
        w = None if sample_weight is None else check_sample_weight(sample_weight, x.size, who=who)
        tuples = distinct_rfm(x, t_x, big_t, w)
        # the contract holds row by row iff it holds on the distinct tuples (fewer to check);
        # rows of weight 0 are not in the tuples, so then the rows themselves are checked
        if w is None or np.all(w):
            try:
                check_rfm({"frequency": tuples.x, "recency": tuples.t_x, "T": tuples.T}, who=who)
            except InputDataError:
                check_rfm({k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}, who=who)  # names the rows
                raise
        else:
            check_rfm({k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}, who=who)
        logger.info("%s: fitting on %d distinct tuples from %d rows", who, tuples.x.size, x.size)
        result = self._fit_tuples(tuples)
        self._store_fit(result, x.size if w is None else w.sum())
        return self

    def _fit_tuples(self, tuples: Tuples) -> FitResult:
        prep = self._prepare(tuples.x, tuples.t_x, tuples.T, tuples.weight)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            p = np.exp(theta)
            with np.errstate(all="ignore"):
                total, g = self._total(p, tuples.x, tuples.t_x, tuples.T, tuples.weight, prep)
            grad_log = g * p
            if not np.all(np.isfinite(grad_log)):
                return -np.inf, np.zeros_like(theta)
            return total, grad_log

        newton: NewtonObjective | None = None
        if self._total_to_order is not None and self._newton_fit:
            to_order = self._total_to_order

            def newton(theta: FloatArray, order: int) -> tuple[float, FloatArray | None, FloatArray | None]:
                # log-parameters: grad_theta = p g, hess_theta = diag(p) H diag(p) + diag(p g)
                p = np.exp(theta)
                with np.errstate(all="ignore"):
                    total, g, h = to_order(p, tuples.x, tuples.t_x, tuples.T, tuples.weight, prep, order)
                if g is None:
                    return total, None, None
                g = g * p
                return total, g, None if h is None else h * np.outer(p, p) + np.diag(g)

        starts = start_points(self._start(tuples), self.n_starts, self.random_state)
        return fit_log_params(
            objective,
            starts,
            newton=newton,
            total_weight=float(tuples.weight.sum()),
            max_iter=self.max_iter,
            tol=self.tol,
            who=type(self).__name__,
            names=self._param_names,
            advice=self._advice,
            blas=self._total_uses_blas,
        )

    # -- scoring --------------------------------------------------------------------
    def _p(self) -> FloatArray:
        check_is_fitted(self, "params_")
        return np.array([self.params_[k] for k in self._param_names])

    def score_samples(self, X: Any) -> FloatArray:
        """Per-row log-likelihood at the fitted parameters (papers' scale).

        Their sum over the rows used in ``fit`` is ``log_likelihood_``.
        """
        p = self._p()
        x, t_x, big_t = self._read(X)
        return self._rows(p, x, t_x, big_t, grad=False)[0]

    def log_likelihood(self, X: Any, *, sample_weight: Any = None) -> float:
        """Total (weighted) log-likelihood of ``X`` at the fitted parameters."""
        ll = self.score_samples(X)
        w = check_sample_weight(sample_weight, ll.size, who=type(self).__name__)
        return float(w @ ll)

    def log_likelihood_at(self, params: dict[str, float], X: Any, *, sample_weight: Any = None) -> float:
        """Total log-likelihood of ``X`` at arbitrary ``params`` (for comparisons).

        Does not need a fitted model; used e.g. to score another library's
        estimates with this likelihood.
        """
        p = np.array([float(params[k]) for k in self._param_names])
        x, t_x, big_t = self._read(X)
        w = check_sample_weight(sample_weight, x.size, who=type(self).__name__)
        tuples = distinct_rfm(x, t_x, big_t, w)
        ll = self._rows(p, tuples.x, tuples.t_x, tuples.T, grad=False)[0]
        return float(tuples.weight @ ll)

    def _rfm(self, X: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
        check_is_fitted(self, "params_")
        return self._read(X)
