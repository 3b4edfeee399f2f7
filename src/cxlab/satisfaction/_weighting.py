"""Survey weights: raking, Kish effective sample size, covariate balance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlab.satisfaction._design import is_categorical


def strata(frame: pd.DataFrame, columns: Sequence[str], bins: int) -> list[np.ndarray]:
    """Integer level codes per column: categories as is, numbers in quantile bins."""
    out = []
    for name in columns:
        series = frame[name]
        if is_categorical(series):
            codes = pd.Categorical(series.astype("string").fillna("(missing)")).codes
        else:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(values)
            edges = np.unique(np.nanquantile(values, np.linspace(0, 1, bins + 1)[1:-1])) if ok.any() else []
            codes = np.where(ok, np.searchsorted(edges, values, side="right"), len(edges) + 1)
        out.append(np.asarray(codes, dtype=np.int64))
    return out


def rake(
    margins: list[np.ndarray],
    responded: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """Raking (iterative proportional fitting; Deming & Stephan 1940) weights.

    Respondents' weights are adjusted so that, for every margin, the weighted
    share of each level among respondents equals its share among all rows (the
    target population). With one margin this is post-stratification. Levels
    that no respondent holds cannot be matched; they are left out of their
    margin (the other levels are matched on the population that remains).

    Parameters
    ----------
    margins
        One integer code array per variable, each of length n (all rows).
    responded
        Boolean array of length n.

    Returns
    -------
    numpy.ndarray
        Weights for the respondents (in the order of ``np.flatnonzero(responded)``),
        scaled to sum to the population size.
    """
    n = len(responded)
    w = np.ones(int(responded.sum()))
    if len(w) == 0:
        return w
    targets = []
    for codes in margins:
        size = int(codes.max()) + 1
        pop = np.bincount(codes, minlength=size).astype(float)
        held = np.bincount(codes[responded], minlength=size) > 0
        pop[~held] = 0.0
        targets.append((codes[responded], pop / pop.sum()))
    for _ in range(max_iter):
        change = 0.0
        for codes, share in targets:
            current = np.bincount(codes, weights=w, minlength=len(share))
            current = current / current.sum()
            ratio = np.divide(share, current, out=np.ones_like(share), where=current > 0)
            w = w * ratio[codes]
            change = max(change, float(np.max(np.abs(ratio - 1))))
        if change < tol:
            break
    return w * n / w.sum()


def kish(weights: np.ndarray) -> float:
    """Kish (1965) effective sample size, (sum w)^2 / sum w^2."""
    total = float(np.sum(weights))
    squares = float(np.sum(np.square(weights)))
    return total * total / squares if squares > 0 else 0.0


def balance(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    responded: np.ndarray,
    weights: np.ndarray,
) -> pd.DataFrame:
    """Standardized mean differences of respondents vs the target population.

    For each covariate (each level of a categorical one), SMD = (mean among
    respondents - mean among all rows) / standard deviation among all rows,
    unweighted (``smd_before``) and with the respondents' ``weights``
    (``smd_after``). |SMD| < 0.1 is the usual mark of good balance
    (Austin 2011, *Multivariate Behavioral Research* 46(3)).

    Parameters
    ----------
    weights
        Weight of each respondent (length ``responded.sum()``).
    """
    rows = []
    for name in covariates:
        series = frame[name]
        if is_categorical(series):
            text = series.astype("string").fillna("(missing)")
            levels = text.value_counts().index[:20]
            columns = {f"{name}={lvl}": (text == lvl).to_numpy(dtype=float) for lvl in levels}
        else:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(values).all():  # nothing to balance (e.g. no delivery dates at all)
                continue
            columns = {name: np.where(np.isnan(values), np.nanmean(values), values)}
        for label, x in columns.items():
            sd = float(np.std(x))
            resp = x[responded]
            if sd == 0 or len(resp) == 0:
                continue
            target = float(np.mean(x))
            before = (float(np.mean(resp)) - target) / sd
            after = (float(np.average(resp, weights=weights)) - target) / sd
            rows.append({"covariate": label, "smd_before": before, "smd_after": after})
    return pd.DataFrame(rows, columns=["covariate", "smd_before", "smd_after"])
