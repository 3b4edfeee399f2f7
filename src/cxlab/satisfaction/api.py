"""What ``cxlab satisfaction fit|estimate|drivers`` call: tables in, results out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlab._frames import as_pandas
from cxlab.bundle import fingerprint
from cxlab.exceptions import InputDataError
from cxlab.features import invitation_features, order_features
from cxlab.satisfaction._design import feature_columns
from cxlab.satisfaction._drivers import explain_drivers
from cxlab.satisfaction._learners import LearnerName
from cxlab.satisfaction.model import SatisfactionModel
from cxlab.satisfaction.persist import explain_rows, load_models, save_models
from cxlab.satisfaction.population import Method, Target, estimate_population
from cxlab.schema import DEFAULT_REPORTING_CURRENCY, SCALES

logger = logging.getLogger(__name__)

#: Rows of invited orders kept with a model to explain its drivers later.
EXPLAIN_ROWS = 20_000


def _collect(lf: Any) -> pd.DataFrame:
    """Collect rows in a fixed order, so that folds and splits (and so the
    estimates) are the same on every engine, whatever order it returns rows in."""
    frame = as_pandas(lf, name="features", who="satisfaction")
    keys = [k for k in ("survey_id", "order_id", "customer_id") if k in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame


def fit(
    tables: Mapping[str, Any],
    out_dir: Path,
    *,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
    holdout: float = 0.2,
    random_state: int = 0,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Fit one :class:`SatisfactionModel` per survey scale and evaluate it.

    Answered invitations are split at random (by customer, so one customer's
    answers are never on both sides) into a fitting part and a held-out part of
    share ``holdout`` on which AUC, log-loss, Brier score, ECE and the calibration
    curve are measured. Writes one bundle to ``out_dir`` (see
    :mod:`cxlab.satisfaction.persist`): a model per scale, the rows kept to
    explain drivers, and ``evaluation.json``; staged, so an interrupted fit
    leaves the previous bundle.

    Returns
    -------
    dict
        ``{"scales": {scale: evaluation}, "reporting_currency": ...}``; each
        evaluation has ``n_train``, ``n_test``, ``auc``, ``log_loss``, ``brier``,
        ``ece``, ``calibration_curve`` and ``top_drivers``.
    """
    if not 0 < holdout < 1:
        raise InputDataError(f"satisfaction fit: holdout must lie in (0, 1); got {holdout}.")
    invitations = invitation_features(tables, reporting_currency=reporting_currency)
    training_data = fingerprint(invitations)
    frame = _collect(invitations)
    answered = frame.loc[frame["responded"]]
    if answered.empty:
        raise InputDataError(
            "satisfaction fit: the surveys table has no answered invitation "
            f"({len(frame):,} invitations, 0 scores); a model needs answers."
        )
    features = feature_columns(frame)
    models: dict[str, SatisfactionModel] = {}
    explain: dict[str, pd.DataFrame] = {}
    result: dict[str, Any] = {"reporting_currency": reporting_currency, "features": features, "scales": {}}
    for scale in sorted(s for s in answered["scale"].dropna().unique() if s in SCALES):
        rows = answered.loc[answered["scale"] == scale]
        customers = rows["customer_id"].unique()
        rng = np.random.default_rng(random_state)
        test_ids = set(customers[rng.random(len(customers)) < holdout])
        test = rows["customer_id"].isin(test_ids).to_numpy()
        model = SatisfactionModel(scale=scale, features=features, random_state=random_state, n_jobs=n_jobs)
        try:
            model.fit(rows.loc[~test], rows.loc[~test, "score"])
        except InputDataError as err:
            logger.warning("satisfaction fit: %s skipped: %s", scale, err)
            result["scales"][scale] = {"skipped": str(err)}
            continue
        evaluation = model.evaluate(rows.loc[test], rows.loc[test, "score"]) if test.any() else {}
        invited = frame.loc[frame["scale"] == scale]
        sample = invited.sample(min(len(invited), EXPLAIN_ROWS), random_state=random_state)
        top = explain_drivers(model, sample, top=5)
        evaluation |= {"n_train": int((~test).sum()), "n_test": int(test.sum()),
                       "top_drivers": top["sentence"].tolist()}
        models[scale], explain[scale] = model, sample[features]
        result["scales"][scale] = evaluation
    if not models:
        raise InputDataError(
            "satisfaction fit: no scale could be fitted ("
            + "; ".join(f"{k}: {v['skipped']}" for k, v in result["scales"].items()) + ")."
        )
    save_models(
        Path(out_dir), models, evaluation=result, explain=explain,
        metadata={"reporting_currency": reporting_currency, "training_data": training_data},
    )
    return result


def feature_frame(
    tables: Mapping[str, Any],
    target: Target = "invited",
    *,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
) -> pd.DataFrame:
    """The features :func:`estimate` works on, collected in a fixed row order.

    Build it once to run :func:`~cxlab.satisfaction.estimate_population` with
    several methods on the same rows.
    """
    build = invitation_features if target == "invited" else order_features
    return _collect(build(tables, reporting_currency=reporting_currency))


def estimate(
    tables: Mapping[str, Any],
    method: Method = "aipw",
    by: Sequence[str] = (),
    target: Target = "invited",
    *,
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY,
    learner: LearnerName = "lightgbm",
    folds: int = 5,
    random_state: int = 0,
    n_jobs: int | None = 1,
    return_balance: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Population satisfaction per segment from canonical tables.

    Builds :func:`~cxlab.features.invitation_features` (target ``invited``) or
    :func:`~cxlab.features.order_features` (target ``orders``) and calls
    :func:`~cxlab.satisfaction.estimate_population`; see there for the columns
    and for the covariate balance returned with ``return_balance=True``.
    """
    frame = feature_frame(tables, target, reporting_currency=reporting_currency)
    return estimate_population(  # type: ignore[call-overload]
        frame, method=method, by=by, target=target, learner=learner, folds=folds,
        random_state=random_state, n_jobs=n_jobs, return_balance=return_balance,
    )


def drivers(model_dir: Path, by: str | None = None, top: int = 5) -> pd.DataFrame:
    """Drivers of each scale's model in the bundle ``model_dir`` (written by :func:`fit`).

    Returns :func:`~cxlab.satisfaction.explain_drivers` for each scale,
    with a ``scale`` column first; ``drivers_text`` turns it into sentences.
    """
    from cxlab.satisfaction.persist import read

    bundle = read(Path(model_dir))
    tables = []
    for scale, model in load_models(bundle).items():
        sample = explain_rows(bundle, scale)
        if by is not None and by not in sample.columns:
            raise InputDataError(
                f"drivers: --by must be one of the model's features ({', '.join(model.features_[:12])}); got {by!r}."
            )
        tables.append(explain_drivers(model, sample, by=by, top=top).assign(scale=model.scale))
    out = pd.concat(tables, ignore_index=True)
    return out[["scale", *[c for c in out.columns if c != "scale"]]]
