"""Population satisfaction corrected for survey non-response.

Most invited customers never answer, and those who answer differ from those
who do not. :func:`estimate_population` estimates the satisfaction of *all*
invited customers (or of all orders) per segment with four methods:

``naive``
    Respondents' mean: the usual "CSAT", biased when response depends on the
    experience.
``poststrat``
    Raking (iterative proportional fitting) of respondents onto the margins of
    the chosen covariates among all invited; post-stratification with a single
    covariate. Numeric covariates are cut in quantile bins.
``ipw``
    Inverse probability of response weighting (Horvitz & Thompson 1952) with the
    ratio (Hajek) form, i.e. stabilized weights P(R=1) / e(x), and response
    probabilities clipped below at ``clip``.
``aipw``
    Augmented IPW, doubly robust (Robins, Rotnitzky & Zhao 1994, *JASA* 89(427),
    846-866): consistent when either the response or the outcome model is right.
    Both nuisance models are cross-fitted over K folds (Chernozhukov et al. 2018).

Intervals are normal 95% intervals from the influence function: for ``aipw``
the empirical variance of psi_i = m(x_i) + R_i / e(x_i) (y_i - m(x_i)), for
``ipw`` and ``poststrat`` the linearization of the weighted ratio estimator
(weights taken as fixed, which is conservative for estimated propensities;
Lunceford & Davidian 2004). Kang & Schafer (2007, *Statistical Science* 22(4),
523-539) give the simulation used in the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from statistics import NormalDist
from typing import Any, Literal, get_args, overload

import numpy as np
import pandas as pd

from cxlab._checks import check_float, check_int
from cxlab._frames import as_pandas, require_columns, to_native_like
from cxlab.exceptions import InputDataError
from cxlab.satisfaction._design import encode, feature_columns
from cxlab.satisfaction._learners import LEARNERS, Learner, LearnerName, crossfit
from cxlab.satisfaction._outcomes import check_scores, outcome_for, outcome_values
from cxlab.satisfaction._weighting import balance, kish, rake, strata

logger = logging.getLogger(__name__)

Method = Literal["naive", "poststrat", "ipw", "aipw"]
Target = Literal["invited", "orders"]
METHODS: tuple[str, ...] = get_args(Method)
TARGETS: tuple[str, ...] = get_args(Target)

#: Output columns, in order, after the ``by`` columns.
COLUMNS: tuple[str, ...] = (
    "scale", "method", "target", "estimate", "ci_low", "ci_high", "std_error",
    "n_target", "n_invited", "n_responded", "effective_n", "reason",
)

_RANGES = {"csat5": (0.0, 1.0), "nps11": (-100.0, 100.0)}


def _check_args(
    frame: pd.DataFrame, method: str, target: str, by: Sequence[str],
    covariates: Sequence[str], folds: int, clip: float, level: float, outcome: str | None, bins: int = 5,
) -> None:
    who = "estimate_population"
    if method not in METHODS:
        raise InputDataError(f"{who}: method must be one of {', '.join(METHODS)}; got {method!r}.")
    if target not in TARGETS:
        raise InputDataError(f"{who}: target must be one of {', '.join(TARGETS)}; got {target!r}.")
    needed = list(by) + list(covariates) + ([outcome] if outcome else ["score"])
    if target == "orders":
        needed.append("invited")
    require_columns(
        frame.columns, needed, who=who, name="frame", hint="Build it with cxlab.features or rename the columns."
    )
    check_int(folds, name="folds", who=who, low=1, high=100)
    check_float(clip, name="clip", who=who, low=0.0, high=1.0, low_open=True, high_open=True)
    check_float(level, name="level", who=who, low=0.0, high=1.0, low_open=True, high_open=True)
    check_int(bins, name="bins", who=who, low=1, high=1_000)


def _prepare(frame: pd.DataFrame, target: str, outcome: str | None, by: Sequence[str]) -> pd.DataFrame:
    """Restrict to the target population and add ``_r`` (observed) and ``_scale``."""
    who = "estimate_population"
    frame = frame.reset_index(drop=True)
    invited = (
        frame["invited"].fillna(False).to_numpy(dtype=bool)
        if "invited" in frame.columns else np.ones(len(frame), dtype=bool)
    )
    if target == "invited":
        frame = frame.loc[invited].reset_index(drop=True)
        invited = invited[invited]
    value = frame[outcome] if outcome else frame["score"]
    observed = value.notna().to_numpy()
    if "responded" in frame.columns:
        flagged = frame["responded"].fillna(False).to_numpy(dtype=bool)
        bad = flagged & ~observed
        if bad.any():
            raise InputDataError(
                f"{who}: {int(bad.sum()):,} rows have responded=True but no "
                f"{'outcome' if outcome else 'score'}; give the score of every response."
            )
        observed = flagged
    observed &= invited
    frame = frame.assign(_r=observed, _invited=invited)
    if outcome:
        return frame.assign(_scale=outcome, _y=frame[outcome].astype(float))
    if "scale" not in frame.columns:
        raise InputDataError(
            f"{who}: the frame has no 'scale' column; each invitation needs its "
            "survey scale ('csat5' or 'nps11')."
        )
    check_scores(frame, who=who)
    scale = frame["scale"].astype("string")
    if scale.isna().any():
        scale = _impute_scale(frame, scale, by)
    y = np.zeros(len(frame))
    for name in scale.dropna().unique():
        rows = (scale == name).fillna(False).to_numpy() & observed
        y[rows] = outcome_values(frame.loc[rows, "score"].to_numpy(), str(name))
    return frame.assign(_scale=scale, _y=y)


def _impute_scale(frame: pd.DataFrame, scale: pd.Series, by: Sequence[str]) -> pd.Series:
    """Give rows without a survey (target ``orders``) the scale of their marketplace."""
    known = scale.dropna().unique()
    if len(known) == 1:
        return scale.fillna(known[0])
    key = "marketplace" if "marketplace" in frame.columns else (by[0] if by else None)
    if key is None:
        raise InputDataError(
            "estimate_population: rows without a survey cannot be given a scale: "
            f"several scales are present ({', '.join(map(str, known))}) and there is no "
            "'marketplace' column to tell which applies. Add 'marketplace' or 'scale'."
        )
    mode = (
        pd.DataFrame({"k": frame[key], "s": scale}).dropna()
        .groupby("k")["s"].agg(lambda s: s.value_counts().index[0])
    )
    filled = scale.fillna(frame[key].map(mode))
    lost = int(filled.isna().sum())
    if lost:
        logger.warning("%d rows have no scale and no survey in their %s; left out", lost, key)
    return filled


def _nuisance(
    sub: pd.DataFrame, covariates: Sequence[str], learner: Learner, folds: int,
    with_outcome: bool, continuous: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    r = sub["_r"].to_numpy()
    if r.all():
        return np.ones(len(sub)), sub["_y"].to_numpy() if with_outcome else None
    design = encode(sub, covariates, kind=learner.encoding)
    y = sub["_y"].to_numpy() if with_outcome else None
    return crossfit(learner, design, r, y, folds=folds, continuous=continuous)


def _summary(
    y: np.ndarray, r: np.ndarray, w: np.ndarray, psi: np.ndarray | None, method: str,
) -> tuple[float, float, float]:
    """Estimate, standard error and Kish n of one segment (``w`` per respondent)."""
    yr = y[r]
    n_r = len(yr)
    if psi is not None:
        est = float(psi.mean())
        se = float(psi.std(ddof=1) / np.sqrt(len(psi))) if len(psi) > 1 else np.nan
        return est, se, kish(w)
    if method == "naive":
        est = float(yr.mean())
        se = float(yr.std(ddof=1) / np.sqrt(n_r)) if n_r > 1 else np.nan
        return est, se, float(n_r)
    est = float(np.sum(w * yr) / np.sum(w))
    se = float(np.sqrt(np.sum(np.square(w * (yr - est)))) / np.sum(w)) if n_r > 1 else np.nan
    return est, se, kish(w)


def _reason(n_r: int, n: int, y: np.ndarray, r: np.ndarray) -> str | None:
    if n_r == 0:
        return "no respondents in this segment: no estimate"
    if n_r == 1:
        return "one respondent: no interval"
    if np.ptp(y[r]) == 0:
        return "every respondent gave the same answer: the interval has zero width"
    if n_r == n:
        return "everyone responded: no non-response to correct"
    return None


@overload
def estimate_population(
    frame: Any, *, method: Method = ..., by: Sequence[str] = ...,
    covariates: Sequence[str] | None = ..., target: Target = ..., outcome: str | None = ...,
    learner: LearnerName | Learner = ..., folds: int = ..., clip: float = ...,
    level: float = ..., bins: int = ..., random_state: int = ..., n_jobs: int | None = ...,
    return_balance: Literal[False] = ...,
) -> Any: ...


@overload
def estimate_population(
    frame: Any, *, method: Method = ..., by: Sequence[str] = ...,
    covariates: Sequence[str] | None = ..., target: Target = ..., outcome: str | None = ...,
    learner: LearnerName | Learner = ..., folds: int = ..., clip: float = ...,
    level: float = ..., bins: int = ..., random_state: int = ..., n_jobs: int | None = ...,
    return_balance: Literal[True],
) -> tuple[Any, Any]: ...


def estimate_population(
    frame: Any,
    *,
    method: Method = "aipw",
    by: Sequence[str] = (),
    covariates: Sequence[str] | None = None,
    target: Target = "invited",
    outcome: str | None = None,
    learner: LearnerName | Learner = "lightgbm",
    folds: int = 5,
    clip: float = 0.01,
    level: float = 0.95,
    bins: int = 5,
    random_state: int = 0,
    n_jobs: int | None = None,
    return_balance: bool = False,
) -> Any:
    """Estimate the satisfaction of a whole population from the part that answered.

    Parameters
    ----------
    frame
        One row per member of the population: an invitation (target
        ``invited``) or an order (target ``orders``, with a boolean ``invited``
        column). Columns: ``score`` (NaN for no answer), ``scale`` (``csat5`` or
        ``nps11``), optionally ``responded`` (default: score is not null), the
        ``by`` columns and the covariates. :func:`cxlab.features.invitation_features`
        and :func:`cxlab.features.order_features` build such frames.
    method
        ``naive``, ``poststrat``, ``ipw`` or ``aipw`` (default; see the module docs).
    by
        Segment columns (e.g. ``["marketplace"]``); one output row per segment and
        scale. ``ipw`` and ``aipw`` fit their models once on all rows, with the
        ``by`` columns added to the covariates, and average per segment;
        ``poststrat`` rakes within each segment.
    covariates
        Columns the response and outcome models (or raking margins) use. Default:
        every column except labels, ``*_id`` keys and timestamps.
    target
        ``invited`` (default): all invitations; ``orders``: all rows, where
        uninvited ones count as non-respondents and take the scale of their
        marketplace.
    outcome
        Name of a numeric column to average instead of deriving the outcome from
        ``score`` and ``scale`` (NaN where unobserved); the ``scale`` column of the
        result then holds this name and the estimate is a plain mean.
    learner
        ``"lightgbm"`` (default), ``"logistic"`` (logistic / linear regression), or
        a :class:`~cxlab.satisfaction._learners.Learner` with custom settings.
    folds
        Cross-fitting folds K for ``ipw`` and ``aipw`` (default 5; 1 fits and
        predicts on the same rows).
    clip
        Lower bound on response probabilities (default 0.01: no respondent stands
        for more than 100 invitations).
    level
        Confidence level of the interval (default 0.95).
    bins
        Quantile bins for numeric covariates in ``poststrat`` (default 5).
    random_state
        Seed of the fold assignment and of LightGBM.
    n_jobs
        Threads for LightGBM (default: LightGBM's own choice).
    return_balance
        Also return covariate balance: columns ``scale, covariate, smd_before,
        smd_after`` (standardized mean differences of respondents vs the target,
        before and after weighting).

    Returns
    -------
    dataframe
        In the caller's kind (pandas for pandas, Narwhals, DuckDB and Spark;
        Polars for Polars; PyArrow for PyArrow). Columns ``<by...>, scale, method, target, estimate, ci_low, ci_high,
        std_error, n_target, n_invited, n_responded, effective_n, reason``. The
        estimate is the share satisfied (score >= 4) in [0, 1] for csat5 and the
        NPS in [-100, 100] for nps11; intervals are clipped to that range.
        ``effective_n`` is Kish's effective number of respondents. ``reason`` is
        null for an ordinary estimate and otherwise says why the row is special:
        a segment without respondents has a NaN estimate and says so, a segment
        where everyone answered or where every answer is the same is estimated
        and flagged.

    Raises
    ------
    InputDataError
        Unknown method or target, missing columns, unknown scales, or scores
        outside their scale.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> happy = rng.random(4000) < 0.5             # half the invited are satisfied
    >>> answered = rng.random(4000) < np.where(happy, 0.6, 0.2)
    >>> frame = pd.DataFrame({
    ...     "delivery": np.where(happy, "on time", "late"), "scale": "csat5",
    ...     "score": np.where(answered, np.where(happy, 5.0, 2.0), np.nan)})
    >>> naive = estimate_population(frame, method="naive")
    >>> ipw = estimate_population(frame, method="ipw", learner="logistic")
    >>> [round(float(v), 2) for v in (happy.mean(), naive.estimate[0], ipw.estimate[0])]
    [0.51, 0.75, 0.51]
    """
    given, frame = frame, as_pandas(frame, name="frame", who="estimate_population")
    by = (by,) if isinstance(by, str) else tuple(by)
    covariates = list(covariates) if covariates is not None else feature_columns(frame, [*by, *([outcome] if outcome else [])])
    _check_args(frame, method, target, by, covariates, folds, clip, level, outcome, bins)
    if isinstance(learner, str):
        if learner not in LEARNERS:
            raise InputDataError(
                f"estimate_population: learner must be one of {', '.join(LEARNERS)}; got {learner!r}."
            )
        learner = Learner(name=learner, random_state=random_state, n_jobs=n_jobs)
    elif n_jobs is not None:
        learner = replace(learner, n_jobs=n_jobs)
    model_covariates = list(dict.fromkeys([*covariates, *by]))
    data = _prepare(frame, target, outcome, by)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    rows: list[dict[str, object]] = []
    balances: list[pd.DataFrame] = []
    for scale in sorted(data["_scale"].dropna().unique()):
        sub = data.loc[data["_scale"] == scale].reset_index(drop=True)
        out = outcome_for(str(scale)) if not outcome else None
        mult = out.multiplier if out else 1.0
        r = sub["_r"].to_numpy()
        y = sub["_y"].to_numpy()
        w_all = np.ones(len(sub))  # weight per row, read at respondents
        psi = None
        if method in ("ipw", "aipw") and r.any():
            e, m = _nuisance(
                sub, model_covariates, learner, folds, method == "aipw", outcome is not None
            )
            e = np.clip(e, clip, 1.0)
            w_all = r.mean() / e
            if method == "aipw" and m is not None:
                psi = m + np.where(r, (y - m) / e, 0.0)
        segments = sub.groupby(list(by), sort=True, dropna=False).indices if by else {(): np.arange(len(sub))}
        for key, idx in segments.items():
            key = key if isinstance(key, tuple) else (key,)
            rs, ys = r[idx], y[idx]
            n_r = int(rs.sum())
            record: dict[str, object] = dict(zip(by, key, strict=True))
            reason = _reason(n_r, len(idx), ys, rs)
            est = se = np.nan
            ess = 0.0
            if n_r:
                if method == "poststrat":
                    w_all[idx[rs]] = rake(strata(sub.iloc[idx], covariates, bins), rs)
                w = w_all[idx][rs]
                est, se, ess = _summary(ys, rs, w, psi[idx] if psi is not None else None, method)
            low, high = _RANGES.get(str(scale), (-np.inf, np.inf))
            record.update(
                scale=str(scale), method=method, target=target, estimate=est * mult,
                ci_low=max(low, (est - z * se) * mult) if np.isfinite(se) else np.nan,
                ci_high=min(high, (est + z * se) * mult) if np.isfinite(se) else np.nan,
                std_error=se * mult, n_target=len(idx),
                n_invited=int(sub["_invited"].to_numpy()[idx].sum()),
                n_responded=n_r, effective_n=ess, reason=reason,
            )
            rows.append(record)
        if return_balance and r.any():
            bal = balance(sub, covariates, r, w_all[r])
            balances.append(bal.assign(scale=str(scale)))
        logger.info("estimate_population: %s on %s, %d rows, %d respondents",
                    method, scale, len(sub), int(r.sum()))
    result = pd.DataFrame(rows, columns=[*by, *COLUMNS])
    if not return_balance:
        return to_native_like(result, given)
    bal_cols = ["scale", "covariate", "smd_before", "smd_after"]
    bal = pd.concat(balances, ignore_index=True)[bal_cols] if balances else pd.DataFrame(columns=bal_cols)
    return to_native_like(result, given), to_native_like(bal, given)
