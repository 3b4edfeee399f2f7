"""The Gamma-Gamma model of spend per transaction.

References
----------
P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research*
42(4), 415-430 (section "Spend per transaction").

B. G. S. Hardie and P. S. Fader (2013), "The Gamma-Gamma Model of Monetary
Value" (GG13 below).

Assumptions: the value of each transaction of a customer is
``Gamma(p, nu)``; ``nu ~ Gamma(q, gamma)`` across customers; spend is
independent of the purchase process (check the correlation of frequency and
monetary value before combining the two in a CLV).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.optimize  # noqa: F401  (the L-BFGS-B fit of this model; loaded with it, as any import)
from scipy.special import digamma, gammaln

from cxlab.clv._base import (
    check_is_fitted,
    LogParamFitter,
    FloatArray,
    check_sample_weight,
    fit_log_params,
    frame_columns,
    start_points,
)
from cxlab.exceptions import InputDataError

_COLUMNS = ("frequency", "monetary_value")


def _gg_rows(p: FloatArray, x: FloatArray, zbar: FloatArray, *, grad: bool) -> tuple[FloatArray, FloatArray | None]:
    """Log density of the mean spend ``zbar`` of ``x`` transactions (GG13, density of the sample mean)."""
    pp, q, g = p
    px = pp * x
    log_xz = np.log(g + x * zbar)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(zbar)
        + px * np.log(x)
        - (px + q) * log_xz
    )
    if not grad:
        return ll, None
    d_p = x * (digamma(px + q) - digamma(px) + np.log(zbar) + np.log(x) - log_xz)
    d_q = digamma(px + q) - digamma(q) + np.log(g) - log_xz
    d_g = q / g - (px + q) / (g + x * zbar)
    return ll, np.stack([d_p, d_q, d_g], axis=1)


class GammaGamma(LogParamFitter):
    """Gamma-Gamma model of the mean spend per repeat transaction.

    Fitted on customers with at least one repeat purchase (``frequency > 0``);
    rows with ``frequency == 0`` are ignored by ``fit``.

    Parameters
    ----------
    n_starts : int, default 3
        Optimizer starts (first at ``p = q = 1`` and ``gamma`` = mean spend; others
        random jitters), screened then polished as in :class:`BetaGeo`.
    max_iter : int, default 2000
        L-BFGS-B iteration limit per start.
    tol : float, default 1e-13
        Relative tolerance on the mean log-likelihood.
    random_state : int, numpy Generator or None, default 0
        Seed of the random starts.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "gamma"}``.
    log_likelihood_ : float
        Total log-likelihood of the mean spends of the repeat buyers.
    standard_errors_ : dict
        Standard errors from the observed information (delta method).
    n_customers_ : float
        Number (sum of weights) of repeat buyers used in the fit.
    diagnostics_ : list of str
        Why the fit is doubtful and what to try (empty for a sound fit); a
        non-empty list was also raised as a :class:`~cxlab.exceptions.FitWarning`.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    _advice: ClassVar[str] = (
        "Try a longer calibration window (more repeat purchases per customer), check the "
        "spends for outliers or a constant value, or use each customer's own mean spend."
    )

    def _read(self, X: Any) -> tuple[FloatArray, FloatArray]:
        cols = frame_columns(X, _COLUMNS, who="GammaGamma")
        x, m = cols["frequency"], cols["monetary_value"]
        bad = np.flatnonzero((x < 0) | ((x > 0) & (m <= 0)))
        if bad.size:
            raise InputDataError(
                f"GammaGamma: 'monetary_value' must be > 0 where 'frequency' > 0 and 'frequency' "
                f">= 0; {bad.size:,} rows break this (rows {', '.join(map(str, bad[:5]))}). "
                "Drop returns-only customers or floor their spend."
            )
        return x, m

    def fit(self, X: Any, y: None = None, *, sample_weight: Any = None) -> Self:
        """Fit on a frame with ``frequency`` and ``monetary_value`` (mean repeat spend).

        Parameters
        ----------
        X : dataframe
            One row per customer; rows with ``frequency == 0`` are skipped.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Non-negative weight per row.

        Warns
        -----
        FitWarning
            When the fit is doubtful; the reasons are kept in ``diagnostics_``.
        """
        x, m = self._read(X)
        w = check_sample_weight(sample_weight, x.size, who="GammaGamma")
        keep = (x > 0) & (w > 0)
        if keep.sum() < 3:
            raise InputDataError(
                f"GammaGamma: needs at least 3 customers with frequency > 0; got {int(keep.sum())}."
            )
        x, m, w = x[keep], m[keep], w[keep]

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            p = np.exp(theta)
            with np.errstate(all="ignore"):
                ll, g = _gg_rows(p, x, m, grad=True)
            assert g is not None
            return float(w @ ll), (w @ g) * p

        n_starts = self.n_starts
        if not isinstance(n_starts, int) or n_starts < 1:
            raise InputDataError(f"GammaGamma: n_starts must be an integer >= 1; got {n_starts!r}.")
        # start gamma at the scale of the data so that the first start is sensible
        base = (1.0, 1.0, float(np.average(m, weights=w)))
        result = fit_log_params(
            objective,
            start_points(base, n_starts, self.random_state),
            total_weight=float(w.sum()),
            max_iter=self.max_iter,
            tol=self.tol,
            who="GammaGamma",
            names=self._param_names,
            advice=self._advice,
        )
        self._store_fit(result, w.sum())
        return self

    def _p(self) -> FloatArray:
        check_is_fitted(self, "params_")
        return np.array([self.params_[k] for k in self._param_names])

    def score_samples(self, X: Any) -> FloatArray:
        """Per-row log density of the mean spend; ``nan`` where ``frequency == 0``."""
        p = self._p()
        x, m = self._read(X)
        out = np.full(x.size, np.nan)
        pos = x > 0
        out[pos] = _gg_rows(p, x[pos], m[pos], grad=False)[0]
        return out

    def expected_spend(self) -> float:
        """Population mean spend per transaction, ``p gamma / (q - 1)`` (``inf`` if q <= 1)."""
        p, q, g = self._p()
        return float(p * g / (q - 1.0)) if q > 1 else float("inf")

    def conditional_expected_spend(self, X: Any) -> FloatArray:
        """E[mean spend | x, zbar] (GG13, conditional expectation)::

            (q - 1) / (p x + q - 1) * p gamma / (q - 1) + p x / (p x + q - 1) * zbar

        a weighted average of the population mean and the customer's own mean;
        customers without repeat purchases get the population mean.
        """
        p, q, g = self._p()
        x, m = self._read(X)
        m = np.where(x > 0, m, 0.0)
        return np.asarray(p * (g + x * m) / (p * x + q - 1.0), dtype=np.float64)
