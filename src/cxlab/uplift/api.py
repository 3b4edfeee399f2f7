"""Fit, evaluate, save and score uplift models on a dataset."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab import _fs
from cxlab.exceptions import InputDataError
from cxlab.uplift import _persist
from cxlab.uplift._data import OUTCOMES, Outcome, campaign_frame, scoring_frame
from cxlab.uplift.evaluate import evaluate_effects
from cxlab.uplift.learners import LEARNERS, _MetaLearner

logger = logging.getLogger(__name__)

_META_COLUMNS = ("customer_id", "action", "y", "_asof_s")


def _features(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in _META_COLUMNS]


def evaluate_model(model: _MetaLearner, frame: pd.DataFrame) -> dict[str, Any]:
    """Qini, AUUC, uplift@k per action and policy values of ``model`` on campaign rows ``frame``."""
    known = frame["action"].astype(str).isin(model.arms_).to_numpy()
    frame = frame.loc[known]
    X = frame[model.features_]
    arm = model._arm_index(frame["action"].astype(str).to_numpy())
    return evaluate_effects(
        model.predict(X), model.actions_, arm, frame["y"].to_numpy(dtype=np.float64),
        model.propensities(X), model.predict_outcomes(X),
    )


def fit(
    tables: Mapping[str, nw.LazyFrame],
    out: str | Path,
    *,
    outcome: Outcome = "conversion",
    window_days: float = 30.0,
    learner: Literal["t", "x", "dr"] = "t",
    control: str = "control",
    propensity: Literal["known", "estimated"] = "known",
    holdout: float = 0.3,
    reporting_currency: str = "EUR",
    random_state: int = 0,
    refit: bool = True,
    **params: Any,
) -> dict[str, Any]:
    """Fit an uplift model on the dataset's campaign and write it with ``evaluation.json``.

    The treated customers (``treatments``) are split at random: ``holdout`` of
    them evaluate the model fitted on the rest (Qini, AUUC, uplift@k, policy
    values with 95% intervals, see :mod:`cxlab.uplift.evaluate`); the saved
    model is the one evaluated. Features are as of each customer's
    ``assigned_ts``; the outcome is measured over ``window_days`` after it.

    Returns the evaluation (also written to ``out/evaluation.json``).
    """
    if learner not in LEARNERS:
        raise InputDataError(f"uplift: learner must be one of {', '.join(LEARNERS)}; got {learner!r}.")
    if not 0.05 <= holdout <= 0.5:
        raise InputDataError(f"uplift: holdout must be in [0.05, 0.5]; got {holdout!r}.")
    if not 0 < window_days <= 3650:
        raise InputDataError(f"uplift: window_days must be in (0, 3650]; got {window_days!r}.")
    frame = campaign_frame(tables, outcome=outcome, window_days=window_days, reporting_currency=reporting_currency)
    rng = np.random.default_rng(random_state)
    test = rng.random(len(frame)) < holdout
    feats = _features(frame)
    model = LEARNERS[learner](control=control, propensity=propensity, random_state=random_state, **params)
    train = frame.loc[~test]
    model.fit(train[feats], train["action"].astype(str).to_numpy(), train["y"].to_numpy(dtype=np.float64))
    evaluation = {
        "outcome": outcome, "window_days": window_days, "learner": learner, "control": control,
        "propensity": propensity, "reporting_currency": reporting_currency if outcome == "revenue" else None,
        "n_train": int((~test).sum()), "n_test": int(test.sum()),
        **evaluate_model(model, frame.loc[test]),
    }
    if refit:
        model.fit(frame[feats], frame["action"].astype(str).to_numpy(), frame["y"].to_numpy(dtype=np.float64))
    evaluation["refit_on_all"] = bool(refit)
    files, meta = model.to_files()
    meta |= {"outcome": outcome, "window_days": window_days, "reporting_currency": reporting_currency,
             "evaluation": evaluation}
    out = Path(out)
    _persist.save(out, files, meta, extra={"evaluation.json": evaluation})
    return evaluation


def load_model(path: str | Path) -> tuple[_MetaLearner, dict[str, Any]]:
    """The learner saved by :func:`fit` and its metadata."""
    boosters, meta = _persist.load(Path(path))
    kind = meta.get("learner")
    if kind not in LEARNERS:
        raise InputDataError(f"uplift: {path} holds learner {kind!r}; expected one of {', '.join(LEARNERS)}.")
    return LEARNERS[kind].from_files(boosters, meta), meta


def _asof_seconds(asof: str | dt.datetime | None) -> float | None:
    if asof is None:
        return None
    try:
        ts = pd.Timestamp(asof)
    except (ValueError, TypeError) as err:
        raise InputDataError(f"uplift score: asof must be a date or timestamp (2025-11-01); got {asof!r}.") from err
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return float(ts.value / 1e9)


def score(
    model: str | Path | _MetaLearner,
    tables: Mapping[str, nw.LazyFrame],
    *,
    asof: str | dt.datetime | None = None,
    reporting_currency: str = "EUR",
) -> pd.DataFrame:
    """``customer_id, action, effect``: every customer of ``customers`` times every action.

    Features are as of ``asof`` (default: just after the latest order or event
    in the data: what a campaign launched now knows). ``effect`` is in the
    model's outcome units (reporting currency for ``revenue``).
    """
    learner = load_model(model)[0] if not isinstance(model, _MetaLearner) else model
    frame = scoring_frame(tables, asof_s=_asof_seconds(asof), reporting_currency=reporting_currency)
    effects = learner.predict(frame[learner.features_])
    n, m = effects.shape
    return pd.DataFrame({
        "customer_id": np.repeat(frame["customer_id"].astype(str).to_numpy(), m),
        "action": np.tile(np.asarray(learner.actions_, dtype=object), n),
        "effect": effects.reshape(-1),
    })


def write_scores(scores: pd.DataFrame, path: Path) -> Path:
    """Write scores as Parquet (``.parquet``) or CSV, atomically."""
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(scores, preserve_index=False), sink)
        return _fs.atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return _fs.atomic_write_text(path, scores.to_csv(index=False))


__all__ = ["OUTCOMES", "evaluate_model", "fit", "load_model", "score", "write_scores"]
