"""Predicted satisfaction: a calibrated LightGBM model of P(satisfied).

:class:`SatisfactionModel` predicts, for an order or invitation described by
:mod:`cxlab.features`, the probability that the customer is satisfied
(csat5 score >= 4; an nps11 promoter, score >= 9) and the expected score. Two
gradient-boosted models (Ke et al. 2017, LightGBM) are fit on respondents: a
binary one for satisfaction and a least-squares one for the score. The
probabilities are calibrated by isotonic regression (Zadrozny & Elkan 2002)
fit on out-of-fold predictions, so calibration is learned on data the model
did not see. Optional monotone constraints encode known directions (a longer
delay never raises satisfaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from cxlab._checks import check_float, check_int
from cxlab._frames import as_pandas, require_columns, to_native_like
from cxlab.exceptions import InputDataError
from cxlab.satisfaction._design import feature_columns, is_categorical
from cxlab.satisfaction._learners import fold_ids
from cxlab.satisfaction._metrics import evaluate_probabilities
from cxlab.satisfaction._outcomes import satisfied
from cxlab.schema import SCALES

logger = logging.getLogger(__name__)

#: Known directions: -1 = a larger value never raises satisfaction.
DEFAULT_MONOTONE: dict[str, int] = {
    "delay_days": -1, "late": -1, "days_late": -1, "returned": -1, "contacts": -1,
}

class SatisfactionModel(BaseEstimator):
    """Calibrated P(satisfied) and expected score, with LightGBM inside.

    Parameters
    ----------
    scale
        Survey scale of the scores given to :meth:`fit`: ``"csat5"`` (satisfied
        = score >= 4) or ``"nps11"`` (promoter = score >= 9).
    features
        Columns of ``X`` to use. Default: every column except labels, ``*_id``
        keys and timestamps (see :func:`~cxlab.satisfaction._design.feature_columns`).
    monotone
        ``"default"`` applies :data:`DEFAULT_MONOTONE` to the features present,
        ``None`` no constraint, or a mapping feature -> -1 / +1.
    n_estimators, learning_rate, num_leaves, min_child_samples
        LightGBM settings. The defaults (200 trees, rate 0.05, 4 leaves, 200
        rows per leaf, or a twentieth of the training rows when that is fewer) favour smooth, well-ranked probabilities over fitting
        every interaction: satisfaction answers are noisy, and on generated
        data (100,000 customers, bench/bench_satisfaction.py --parts model)
        15 leaves of 50 rows gave a held-out AUC 0.021 below that of the true
        probabilities, 4 leaves of 200 rows 0.012 below.
    calibration_folds
        Folds of the out-of-fold predictions on which the isotonic calibration
        is learned (default 5; 0 or 1 disables calibration).
    random_state
        Seed of LightGBM and of the fold assignment.
    n_jobs
        LightGBM threads when fitting and predicting (default 1: predictable on
        shared machines; LightGBM's default of every core costs a single-row
        prediction a hundredfold on a busy machine).

    Attributes
    ----------
    features_ : list of str
    categories_ : dict of str to list of str
        Levels of each categorical feature, in code order.
    booster_ : lightgbm.Booster
        Binary model of satisfaction (log-odds).
    score_booster_ : lightgbm.Booster
        Least-squares model of the score.
    calibration_ : dict with ``x`` and ``y`` lists, or None
        Isotonic map from raw to calibrated probability.
    base_rate_ : float
        Share satisfied in the training answers.
    """

    def __init__(
        self,
        *,
        scale: Literal["csat5", "nps11"] = "csat5",
        features: Sequence[str] | None = None,
        monotone: Literal["default"] | Mapping[str, int] | None = "default",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 4,
        min_child_samples: int = 200,
        calibration_folds: int = 5,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.scale = scale
        self.features = features
        self.monotone = monotone
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- encoding ---------------------------------------------------------------

    def _check_params(self) -> None:
        """Bounds of the hyperparameters, checked at fit (scikit-learn style)."""
        who = "SatisfactionModel"
        check_int(self.n_estimators, name="n_estimators", who=who, low=1, high=100_000)
        check_float(self.learning_rate, name="learning_rate", who=who, low=0.0, high=1.0, low_open=True)
        check_int(self.num_leaves, name="num_leaves", who=who, low=2, high=131_072)
        check_int(self.min_child_samples, name="min_child_samples", who=who, low=1, high=10_000_000)
        check_int(self.calibration_folds, name="calibration_folds", who=who, low=0, high=100)
        check_int(self.random_state, name="random_state", who=who, low=0, high=2**31 - 1)
        check_int(self.n_jobs, name="n_jobs", who=who, low=-1, high=1_024)

    def _matrix(self, X: Any) -> np.ndarray:
        X = as_pandas(X, name="X", who="SatisfactionModel")
        require_columns(
            X.columns, self.features_, who="SatisfactionModel", name="X (the features the model was fit with)",
            hint="Build X with the same cxlab.features call.",
        )
        cols = []
        for name in self.features_:
            if name in self.categories_:
                codes = pd.Categorical(X[name].astype("string"), categories=self.categories_[name]).codes
                cols.append(np.where(codes < 0, np.nan, codes).astype(float))
            else:
                cols.append(X[name].to_numpy(dtype=float, na_value=np.nan))
        return np.column_stack(cols) if cols else np.zeros((len(X), 0))

    def record_encoder(self) -> Callable[[Sequence[Mapping[str, Any]]], np.ndarray]:
        """A function from rows given as mappings (JSON-like values) to the model's float matrix.

        The same matrix as :meth:`_matrix` of a frame of those rows (``None`` is
        missing, ``True`` is 1, a level the model has not seen is missing), built
        without pandas from level-to-code dicts computed here once: for serving
        small requests, where building a frame costs a hundred times the
        prediction. A row lacking a feature raises ``KeyError``.
        """
        check_is_fitted(self, "booster_")
        plan = [(j, name, {level: float(code) for code, level in enumerate(self.categories_[name])}
                 if name in self.categories_ else None) for j, name in enumerate(self.features_)]
        nan = float("nan")

        def encode(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
            x = np.empty((len(records), len(plan)))
            for i, record in enumerate(records):
                out = x[i]
                for j, name, codes in plan:
                    value = record[name]
                    if value is None:
                        out[j] = nan
                    elif codes is not None:
                        out[j] = codes.get(value if isinstance(value, str) else str(value), nan)
                    else:
                        out[j] = float(value)
            return x

        return encode

    def predict_satisfied_and_score_matrix(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_satisfied_and_score` of an encoded matrix (see :meth:`record_encoder`)."""
        return self._p_satisfied(x), self._score(x)

    def _params(self, objective: str, constraints: list[int], n_rows: int) -> dict[str, Any]:
        # Leaves of min_child_samples rows, but never so large that a small
        # training set (a calibration fold of a few hundred answers) cannot split.
        min_leaf = min(self.min_child_samples, max(20, n_rows // 20))
        params: dict[str, Any] = {
            "objective": objective, "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_data_in_leaf": min_leaf,
            "verbosity": -1, "seed": self.random_state, "deterministic": True,
            "force_row_wise": True, "num_threads": self.n_jobs,
        }
        if any(constraints):
            params["monotone_constraints"] = constraints
            params["monotone_constraints_method"] = "advanced"
        return params

    def _train(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, objective: str) -> Any:
        import lightgbm as lgb

        cat = [i for i, f in enumerate(self.features_) if f in self.categories_]
        constraints = [int(self.monotone_.get(f, 0)) for f in self.features_]
        data = lgb.Dataset(x, label=y, weight=w, categorical_feature=cat or "auto",
                           feature_name=[f"f{i}" for i in range(x.shape[1])], free_raw_data=True)
        params = self._params(objective, constraints, len(y))
        return lgb.train(params, data, num_boost_round=self.n_estimators)

    # -- fitting ----------------------------------------------------------------

    def fit(self, X: Any, y: Any, *, sample_weight: Any = None) -> Self:
        """Fit on answered invitations.

        Parameters
        ----------
        X
            Feature frame (e.g. rows of :func:`cxlab.features.invitation_features`
            with a score).
        y
            Scores on ``scale`` (no missing values).
        sample_weight
            Optional weights per row (e.g. inverse response probabilities, to
            fit the invited population rather than respondents).
        """
        if self.scale not in SCALES:
            raise InputDataError(f"SatisfactionModel: scale must be one of {', '.join(SCALES)}; got {self.scale!r}.")
        X = as_pandas(X, name="X", who="SatisfactionModel.fit")
        self._check_params()
        scores = np.asarray(y, dtype=float)
        low, high = SCALES[self.scale]
        if len(scores) != len(X) or np.isnan(scores).any() or ((scores < low) | (scores > high)).any():
            raise InputDataError(
                f"SatisfactionModel.fit: y must hold one {self.scale} score ({low}-{high}) per row of X, "
                "with no missing value; fit on respondents only."
            )
        label = satisfied(scores, self.scale)
        if len(np.unique(label)) < 2:
            raise InputDataError(
                "SatisfactionModel.fit: every answer is on the same side of the satisfied "
                f"threshold ({len(label):,} answers); a model of P(satisfied) needs both."
            )
        self.features_ = list(self.features) if self.features is not None else feature_columns(X)
        self.categories_ = {
            f: [str(v) for v in X[f].astype("string").dropna().unique()]
            for f in self.features_ if is_categorical(X[f])
        }
        mono = DEFAULT_MONOTONE if self.monotone == "default" else (self.monotone or {})
        self.monotone_ = {f: int(v) for f, v in mono.items() if f in self.features_ and f not in self.categories_}
        x = self._matrix(X)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.calibration_ = None
        if self.calibration_folds > 1:
            raw = np.empty(len(x))
            ids = fold_ids(len(x), self.calibration_folds, self.random_state)
            for k in range(self.calibration_folds):
                tr, te = ids != k, ids == k
                booster = self._train(x[tr], label[tr], None if w is None else w[tr], "binary")
                raw[te] = booster.predict(x[te])
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, label, sample_weight=w)
            self.calibration_ = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
        self.booster_ = self._train(x, label, w, "binary")
        self.score_booster_ = self._train(x, scores, w, "regression")
        self.base_rate_ = float(np.average(label, weights=w))
        self.n_features_in_ = len(self.features_)
        logger.info("SatisfactionModel: fit on %d answers, %d features", len(x), len(self.features_))
        return self

    # -- prediction -------------------------------------------------------------

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.calibration_ is None:
            return raw
        return np.interp(raw, self.calibration_["x"], self.calibration_["y"])

    def _p_satisfied(self, x: np.ndarray) -> np.ndarray:
        return self._calibrate(np.asarray(self.booster_.predict(x, num_threads=self.n_jobs)))

    def _score(self, x: np.ndarray) -> np.ndarray:
        low, high = SCALES[self.scale]
        return np.clip(self.score_booster_.predict(x, num_threads=self.n_jobs), low, high)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` array: P(not satisfied), P(satisfied), calibrated."""
        check_is_fitted(self, "booster_")
        p = self._p_satisfied(self._matrix(X))
        return np.column_stack([1 - p, p])

    def predict_satisfied(self, X: Any) -> np.ndarray:
        """Calibrated P(satisfied) per row."""
        return self.predict_proba(X)[:, 1]

    def predict(self, X: Any) -> np.ndarray:
        """1 where P(satisfied) >= 0.5, else 0."""
        return (self.predict_satisfied(X) >= 0.5).astype(int)

    def expected_score(self, X: Any) -> np.ndarray:
        """Expected score on the model's scale, clipped to its range."""
        check_is_fitted(self, "score_booster_")
        return self._score(self._matrix(X))

    def predict_satisfied_and_score(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_satisfied` and :meth:`expected_score`, encoding ``X`` once (for serving)."""
        check_is_fitted(self, "score_booster_")
        x = self._matrix(X)
        return self._p_satisfied(x), self._score(x)

    def contributions(self, X: Any) -> Any:
        """SHAP values (Lundberg et al. 2020, TreeSHAP) of the raw log-odds per feature.

        Columns: one per feature plus ``bias`` (the expected log-odds); the row
        sums equal the uncalibrated log-odds. In the caller's kind (see
        :mod:`cxlab._frames`). Computed by LightGBM
        (``pred_contrib=True``), no extra dependency.
        """
        check_is_fitted(self, "booster_")
        frame = as_pandas(X, name="X", who="SatisfactionModel.contributions")
        values = np.asarray(self.booster_.predict(self._matrix(frame), pred_contrib=True))
        return to_native_like(pd.DataFrame(values, columns=[*self.features_, "bias"], index=frame.index), X)

    def evaluate(self, X: Any, y: Any, *, bins: int = 10) -> dict[str, object]:
        """AUC, log-loss, Brier score, ECE and calibration curve on held-out answers."""
        label = satisfied(np.asarray(y, dtype=float), self.scale)
        return evaluate_probabilities(label, self.predict_satisfied(X), bins)
