"""What ``cxlab satisfaction fit|estimate|drivers`` call: tables in, results out."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlab._frames import as_pandas
from cxlab._fs import atomic_write_text
from cxlab.exceptions import InputDataError
from cxlab.features import invitation_features, order_features
from cxlab.satisfaction._design import feature_columns
from cxlab.satisfaction._drivers import explain_drivers
from cxlab.satisfaction._learners import LearnerName
from cxlab.satisfaction.model import SatisfactionModel
from cxlab.satisfaction.persist import load_model, save_model
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
    curve are measured. Writes ``out_dir/SCALE/{model.txt, score_model.txt,
    metadata.json, explain.parquet}`` and ``out_dir/evaluation.json``.

    Returns
    -------
    dict
        ``{"scales": {scale: evaluation}, "reporting_currency": ...}``; each
        evaluation has ``n_train``, ``n_test``, ``auc``, ``log_loss``, ``brier``,
        ``ece``, ``calibration_curve`` and ``top_drivers``.
    """
    if not 0 < holdout < 1:
        raise InputDataError(f"satisfaction fit: holdout must lie in (0, 1); got {holdout}.")
    frame = _collect(invitation_features(tables, reporting_currency=reporting_currency))
    answered = frame.loc[frame["responded"]]
    if answered.empty:
        raise InputDataError(
            "satisfaction fit: the surveys table has no answered invitation "
            f"({len(frame):,} invitations, 0 scores); a model needs answers."
        )
    features = feature_columns(frame)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
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
        folder = save_model(model, out_dir / scale, extra={"evaluation": evaluation})
        sample[features].to_parquet(folder / "explain.parquet", index=False)
        result["scales"][scale] = evaluation
    atomic_write_text(out_dir / "evaluation.json", json.dumps(result, indent=2, default=float))
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
    """Drivers of each saved model in ``model_dir`` (written by :func:`fit`).

    Returns :func:`~cxlab.satisfaction.explain_drivers` for each scale,
    with a ``scale`` column first; ``drivers_text`` turns it into sentences.
    """
    model_dir = Path(model_dir)
    folders = sorted(p.parent for p in model_dir.glob("*/metadata.json"))
    if not folders:
        raise InputDataError(
            f"{model_dir}: no saved satisfaction model; run 'cxlab satisfaction fit DATA --out {model_dir}'."
        )
    tables = []
    for folder in folders:
        model = load_model(folder)
        sample = pd.read_parquet(folder / "explain.parquet")
        if by is not None and by not in sample.columns:
            raise InputDataError(
                f"drivers: --by must be one of the model's features ({', '.join(model.features_[:12])}); got {by!r}."
            )
        tables.append(explain_drivers(model, sample, by=by, top=top).assign(scale=model.scale))
    out = pd.concat(tables, ignore_index=True)
    return out[["scale", *[c for c in out.columns if c != "scale"]]]
