"""Meta-learners of the effect of several actions against a control, on LightGBM.

- :class:`TLearner`: one outcome model per arm; effect = mu_a(x) - mu_0(x).
- :class:`XLearner` (Kuenzel, Sekhon, Bickel and Yu 2019, PNAS 116(10), eq. 4-6):
  imputed effects y - mu_0(x) on the treated and mu_a(x) - y on the controls,
  one regression each, blended by the propensity g(x) = P(T=a | T in {0,a}, x).
- :class:`DRLearner` (Kennedy 2023, "Towards optimal doubly robust estimation
  of heterogeneous causal effects", EJS 17(2), eq. 6): cross-fitted outcome
  and propensity models give the AIPW pseudo-outcome
  mu_a - mu_0 + 1[T=a](y - mu_a)/e_a - 1[T=0](y - mu_0)/e_0, regressed on x.

Propensities are ``known`` (a randomized campaign: each arm's share of the
training rows) or ``estimated`` (a LightGBM multiclass model of the arm given
x, clipped to [0.01, 0.99]). Binary outcomes (only 0 and 1) get a binary
objective in the outcome models. Categorical columns become LightGBM
categoricals through codes learnt in ``fit`` (unseen levels -> missing).

Speed: the training rows are binned once (one ``lightgbm.Dataset`` of
float32 features); every model trains on a row subset of it with its own
labels and initial scores, so no model re-bins or copies the feature matrix.
Independent models (the arms' models, the X-learner's effect models, the
DR-learner's effect models) train side by side, one LightGBM thread each,
instead of one after the other on all threads: small LightGBM models scale
poorly over threads, and on a busy machine OpenMP's waiting threads burn the
cores other processes need.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from cxlab.exceptions import InputDataError

_CLIP = 0.01
#: Below this many rows a model trains on one thread unless n_jobs says otherwise.
_SMALL = 100_000
#: The arms' own trees on top of the shared baseline are small and strongly
#: regularized: they learn a smooth relative lift, not noise (leaves of at
#: least 1/20 of the arm's rows, L2 penalty, 3 leaves).
_CORRECTION: dict[str, Any] = {"lambda_l2": 100.0, "num_leaves": 3}
_CORRECTION_LEAF_SHARE = 20
#: Above this many rows the shared baseline trains on every row for fewer
#: rounds at a proportionally larger learning rate: a share s of the rounds at
#: learning rate lr / s (s = 1 / number of arms, or this many rows' worth,
#: whichever is larger). Its cost is that of s rounds' worth of histograms on
#: all rows, the same as training on a share s of the rows, but it needs no
#: prediction pass over the other rows (LightGBM keeps every training row's
#: score) and each tree sees every row. On the benchmark's 800,000 training
#: rows (5 arms: 25 rounds at 0.2 instead of 100 at 0.05 on a quarter of the
#: rows, then predicting the other three quarters) the held-out Qini stayed
#: (16.09 vs 16.08) and a T-learner fit + predict went from 3.7 to 2.5 s.
_BASELINE_ROWS = 200_000


def _encode(X: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> np.ndarray:
    """Features as one C-ordered float32 matrix (what LightGBM bins without a copy); categoricals as codes."""
    Z = np.empty((len(X), len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        col = X[name]
        if name in categories:
            if isinstance(col.dtype, pd.CategoricalDtype):
                # map the column's own levels to the fitted ones: no per-row string conversion
                levels = {v: i for i, v in enumerate(categories[name])}
                lookup = np.array([levels.get(str(v), -1) for v in col.cat.categories] + [-1], dtype=np.float32)
                codes = lookup[col.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1
            else:
                codes = pd.Categorical(col.astype("string").to_numpy(dtype=object, na_value=None),
                                       categories=categories[name]).codes.astype(np.float32)
            codes[codes < 0] = np.nan
            Z[:, j] = codes
        else:
            Z[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return Z


def _labels(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values as text, and each row's index among them (hashing, not a sort of the rows)."""
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    text = np.array([str(u) for u in uniques], dtype=str)
    labels, inverse = np.unique(text, return_inverse=True)  # values spelt alike (1 and '1') become one
    return labels, inverse.ravel()[codes]


def _levels(col: pd.Series) -> list[str]:
    """The distinct non-missing values of a column as sorted text (a Categorical's levels that occur)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        seen = np.bincount(codes[codes >= 0], minlength=len(col.cat.categories)) > 0
        return sorted({str(v) for v in col.cat.categories[seen]})
    return sorted(col.dropna().astype(str).unique().tolist())


class _Bins:
    """The training rows binned once; each model trains on a row subset with its own labels.

    LightGBM subsets share the parent's bin boundaries and copy only the
    binned rows (one byte per feature and row), never the raw features.
    """

    def __init__(self, Z: np.ndarray, y: np.ndarray, categorical: list[int]) -> None:
        import lightgbm as lgb

        self.Z = Z
        self.parent = lgb.Dataset(
            Z, y, categorical_feature=categorical or "auto", free_raw_data=True,
            params={"max_bin": 255, "feature_pre_filter": False, "verbosity": -1},
        ).construct()

    def data(self, rows: np.ndarray, *, label: np.ndarray | None = None, init_score: np.ndarray | None = None) -> Any:
        """A constructed Dataset of ``rows`` (sorted indices); labels default to the parent's."""
        data = self.parent.subset(np.asarray(rows, dtype=np.int32)).construct()
        if label is not None:
            data.set_label(label)
        if init_score is not None:
            data.set_init_score(init_score)
        return data


class _MetaLearner(BaseEstimator):
    """Shared machinery: encoding, LightGBM training, propensities, (de)serialization."""

    kind = "base"

    def __init__(
        self,
        *,
        control: str = "control",
        propensity: Literal["known", "estimated"] = "known",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        shared_baseline: bool = True,
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.control = control
        self.shared_baseline = shared_baseline
        self.propensity = propensity
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    # --- helpers ------------------------------------------------------------------

    def _params(self, objective: str) -> dict[str, Any]:
        return {
            "objective": objective, "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples, "seed": self.random_state, "verbosity": -1,
            "deterministic": True, "force_col_wise": True,
        }

    def _total_threads(self) -> int:
        if self.n_jobs is not None and self.n_jobs > 0:
            return int(self.n_jobs)
        return os.cpu_count() or 1

    def _threads(self, rows: int, side_by_side: int = 1) -> int:
        """LightGBM threads for one of ``side_by_side`` models training at once on ``rows`` rows each.

        OpenMP threads spin-wait; on small data one thread is faster (and far
        faster on a busy machine) than several.
        """
        if self.n_jobs is None and rows < _SMALL:
            return 1
        return max(1, self._total_threads() // max(side_by_side, 1))

    def _train(
        self, data: Any, objective: str = "regression", *, rounds: int | None = None, threads: int | None = None,
        keep: bool = False, **extra: Any,
    ) -> Any:
        import lightgbm as lgb

        params = {**self._params(objective), **extra,
                  "num_threads": threads if threads is not None else self._threads(data.num_data())}
        return lgb.train(params, data, num_boost_round=max(rounds or self.n_estimators, 1), keep_training_booster=keep)

    def _training_raw(self, booster: Any) -> np.ndarray:
        """Raw scores of a booster trained with ``keep=True`` on its own training rows, without predicting again.

        LightGBM keeps the training rows' scores; its public ``eval_train``
        hands them (on the outcome scale) to a metric function. The training
        data is released afterwards.
        """
        got: list[np.ndarray] = []

        def keep_scores(preds: np.ndarray, _data: Any) -> tuple[str, float, bool]:
            got.append(np.asarray(preds, dtype=np.float64))
            return "scores", 0.0, True

        booster.eval_train(feval=keep_scores)
        booster.free_dataset()
        p = got[0]
        if self.link_ == "logit":
            p = np.clip(p, 1e-15, 1 - 1e-15)
            return np.log(p / (1 - p))
        if self.link_ == "log":
            return np.log(np.maximum(p, 1e-300))
        return p

    def _train_side_by_side(self, jobs: list[tuple[Any, dict[str, Any]]]) -> list[Any]:
        """Train independent models at once: ``jobs`` are (Dataset, keyword arguments of :meth:`_train`)."""
        if not jobs:
            return []
        rows = max(data.num_data() for data, _ in jobs)
        workers = min(len(jobs), self._total_threads())
        if workers <= 1:
            return [self._train(data, threads=self._threads(rows), **kw) for data, kw in jobs]
        # waves of `workers` models; a last, smaller wave shares out all the threads
        # (5 models on 2 cores: 2 + 2 on one thread each, then 1 on two threads)
        out: list[Any] = []
        with ThreadPoolExecutor(max_workers=workers) as pool:  # LightGBM releases the GIL while it trains
            for start in range(0, len(jobs), workers):
                wave = jobs[start:start + workers]
                threads = self._threads(rows, len(wave))
                futures = [pool.submit(self._train, data, threads=threads, **kw) for data, kw in wave]
                out += [f.result() for f in futures]
        return out

    def _predict_raw(self, model: Any, Z: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(Z, raw_score=True, num_threads=self._threads(Z.shape[0])))

    def _validate(self, X: Any, treatment: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        if self.propensity not in ("known", "estimated"):
            raise InputDataError(f"{type(self).__name__}: propensity must be 'known' or 'estimated'; got {self.propensity!r}.")
        for name in ("n_estimators", "num_leaves", "min_child_samples"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or not 1 <= v <= 100_000:
                raise InputDataError(f"{type(self).__name__}: {name} must be an integer in [1, 100000]; got {v!r}.")
        if not 0 < float(self.learning_rate) <= 1:
            raise InputDataError(f"{type(self).__name__}: learning_rate must be in (0, 1]; got {self.learning_rate!r}.")
        X = pd.DataFrame(X)
        t = _labels(treatment)
        y = np.asarray(y, dtype=np.float64)
        if not (len(X) == t[1].size == y.size):
            raise InputDataError(f"{type(self).__name__}: X, treatment and y must have the same length; got "
                                 f"{len(X):,}, {t[1].size:,} and {y.size:,}.")
        if not np.isfinite(y).all():
            raise InputDataError(f"{type(self).__name__}: y must be finite; {int((~np.isfinite(y)).sum()):,} values are not.")
        arms, codes = t
        counts = np.bincount(codes, minlength=arms.size)
        if self.control not in arms:
            raise InputDataError(
                f"{type(self).__name__}: no row has the control action {self.control!r}; actions are "
                f"{', '.join(map(repr, arms[:10]))}. Name the control with control=... (--control)."
            )
        if arms.size < 2:
            raise InputDataError(f"{type(self).__name__}: needs the control and at least one action; got only {arms[0]!r}.")
        small = [f"{a!r} ({c})" for a, c in zip(arms, counts, strict=True) if c < 2 * self.min_child_samples]
        if small:
            raise InputDataError(
                f"{type(self).__name__}: each action needs at least {2 * self.min_child_samples} rows; "
                f"{', '.join(small[:5])} have fewer. Lower min_child_samples or drop the action."
            )
        return X, arms, codes, y

    def _setup(self, X: pd.DataFrame, arms: np.ndarray, codes: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Learn features, levels, arms and link; the encoded features and each row's arm index in :attr:`arms_`."""
        self.features_ = [str(c) for c in X.columns]
        self.categories_ = {
            str(c): _levels(X[c]) for c in X.columns
            if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
        }
        self.actions_ = [str(a) for a in arms if a != self.control]
        self.arms_ = [self.control, *self.actions_]
        arm = pd.Index(self.arms_).get_indexer(arms)[codes]
        self.binary_ = bool(((y == 0.0) | (y == 1.0)).all())
        self.link_ = "logit" if self.binary_ else ("log" if (y >= 0).all() and (y > 0).any() else "identity")
        self.arm_shares_ = (np.bincount(arm, minlength=len(self.arms_)) / arm.size).tolist()
        self.propensity_model_ = None
        return _encode(X, self.features_, self.categories_), arm

    def _arm_index(self, t: np.ndarray) -> np.ndarray:
        arm = pd.Index(self.arms_).get_indexer(np.asarray(t).astype(str))
        if (arm < 0).any():
            raise InputDataError(f"{type(self).__name__}: unknown actions "
                                 f"{', '.join(map(repr, np.unique(np.asarray(t)[arm < 0])[:5]))}; "
                                 f"the model knows {', '.join(map(repr, self.arms_))}.")
        return arm.astype(np.int64)

    def _fit_propensity(self, bins: _Bins, rows: np.ndarray, arm: np.ndarray) -> Any:
        data = bins.data(rows, label=arm[rows].astype(np.float64))
        return self._train(data, "multiclass", num_class=len(self.arms_))

    def _propensities(self, Z: np.ndarray, model: Any | None = None) -> np.ndarray:
        """P(arm | x), shape (n, n_arms)."""
        model = model if model is not None else getattr(self, "propensity_model_", None)
        if model is None:
            return np.tile(np.asarray(self.arm_shares_), (Z.shape[0], 1))
        p = np.asarray(model.predict(Z, num_threads=self._threads(Z.shape[0]))).reshape(Z.shape[0], len(self.arms_))
        return np.clip(p, _CLIP, 1 - _CLIP)

    def _link(self, raw: np.ndarray) -> np.ndarray:
        if self.link_ == "logit":
            return 1.0 / (1.0 + np.exp(-raw))
        if self.link_ == "log":
            return np.exp(raw)
        return raw

    def _mu(self, Z: np.ndarray, models: list[Any]) -> np.ndarray:
        """Expected outcome per arm: the shared baseline's raw score plus each arm's own trees."""
        base = self._predict_raw(models[0], Z) if self.shared_baseline else 0.0
        return self._link(np.column_stack([base + self._predict_raw(m, Z) for m in models[1:]]))

    def _fit_mu(self, bins: _Bins, rows: np.ndarray, arm: np.ndarray, y: np.ndarray) -> tuple[list[Any], np.ndarray]:
        """[baseline, model of arm 0, model of arm 1, ...] on training ``rows``, and the baseline's raw scores there.

        With ``shared_baseline`` one model of all rows (every arm) learns what
        the arms share, and each arm's model boosts on from its scores
        (LightGBM ``init_score``), learning only how that arm differs. The
        arms' difference then carries little of the baseline's estimation
        noise. Non-negative outcomes use a log link (Tweedie), so an arm's
        trees express a relative lift; 0/1 outcomes a logit link. The arms'
        models train side by side. Above :data:`_BASELINE_ROWS` rows the
        baseline trains on every row for a share of the rounds (one arm's
        worth of rows, at least :data:`_BASELINE_ROWS`) at a learning rate
        raised by the same factor.
        """
        objective = {"logit": "binary", "log": "tweedie", "identity": "regression"}[self.link_]
        arms = arm[rows]
        if not self.shared_baseline:
            jobs = [(bins.data(rows[arms == k]), {"objective": objective}) for k in range(len(self.arms_))]
            return [None, *self._train_side_by_side(jobs)], np.zeros(rows.size)
        share = min(1.0, max(1.0 / len(self.arms_), _BASELINE_ROWS / rows.size))
        pool = self._train(bins.data(rows), objective, keep=True, rounds=max(1, round(self.n_estimators * share)),
                           learning_rate=min(1.0, self.learning_rate / share))
        base = self._training_raw(pool)
        jobs = [
            (bins.data(rows[arms == k], init_score=base[arms == k]), {
                "objective": objective, "rounds": self.n_estimators // 2,
                "min_data_in_leaf": max(self.min_child_samples, int((arms == k).sum()) // _CORRECTION_LEAF_SHARE),
                **_CORRECTION,
            })
            for k in range(len(self.arms_))
        ]
        return [pool, *self._train_side_by_side(jobs)], base

    def _mu_at(self, Z: np.ndarray, base: np.ndarray, models: list[Any], k: int) -> np.ndarray:
        """Expected outcome under arm ``k`` on rows whose baseline raw score ``base`` is known."""
        return self._link(base + self._predict_raw(models[k + 1], Z))

    # --- public API ---------------------------------------------------------------

    def fit(self, X: Any, treatment: Any, y: Any) -> _MetaLearner:
        """Fit on features ``X`` (a DataFrame), the action of each row and its outcome ``y``."""
        X, arms, codes, y = self._validate(X, treatment, y)
        Z, arm = self._setup(X, arms, codes, y)
        bins = _Bins(Z, y, [i for i, f in enumerate(self.features_) if f in self.categories_])
        rows = np.arange(Z.shape[0])
        if self.propensity == "estimated":
            self.propensity_model_ = self._fit_propensity(bins, rows, arm)
        self._fit_models(bins, arm, y)
        return self

    def _fit_models(self, bins: _Bins, arm: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _effects(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "features_")
        X = pd.DataFrame(X)
        missing = [f for f in self.features_ if f not in X.columns]
        if missing:
            raise InputDataError(
                f"{type(self).__name__}: X lacks the feature columns {', '.join(missing[:5])} the model was fit on."
            )
        return _encode(X, self.features_, self.categories_)

    def predict(self, X: Any) -> np.ndarray:
        """Effect of each action in :attr:`actions_` against the control, shape (n, n_actions)."""
        return self._effects(self._check_X(X))

    def predict_outcomes(self, X: Any) -> np.ndarray:
        """Expected outcome under each arm in :attr:`arms_` (control first), shape (n, n_arms)."""
        return self._mu(self._check_X(X), self.mu_models_)

    def propensities(self, X: Any) -> np.ndarray:
        """P(arm | x) used by the learner, shape (n, n_arms)."""
        return self._propensities(self._check_X(X))

    # --- saving without pickle -----------------------------------------------------

    def _boosters(self) -> dict[str, Any]:
        out = {f"mu_{k}.txt": m for k, m in enumerate(self.mu_models_) if m is not None}
        if self.propensity_model_ is not None:
            out["propensity.txt"] = self.propensity_model_
        return out

    def to_files(self) -> tuple[dict[str, str], dict[str, Any]]:
        """LightGBM text models by safe file name, and the JSON metadata that ties them together."""
        check_is_fitted(self, "features_")
        files = {name: b.model_to_string() for name, b in self._boosters().items()}
        meta = {
            "learner": self.kind, "params": self.get_params(), "features": self.features_,
            "categories": self.categories_, "actions": self.actions_, "arms": self.arms_, "binary": self.binary_,
            "link": self.link_,
            "arm_shares": self.arm_shares_, "boosters": sorted(files),
        }
        return files, json.loads(json.dumps(meta))

    @classmethod
    def from_files(cls, files: dict[str, Any], metadata: dict[str, Any]) -> _MetaLearner:
        """Inverse of :meth:`to_files`; ``files`` maps names to ``lightgbm.Booster``."""
        model = cls(**metadata["params"])
        model.features_ = list(metadata["features"])
        model.categories_ = {k: list(v) for k, v in metadata["categories"].items()}
        model.actions_ = list(metadata["actions"])
        model.arms_ = list(metadata["arms"])
        model.binary_ = bool(metadata["binary"])
        model.link_ = str(metadata["link"])
        model.arm_shares_ = list(metadata["arm_shares"])
        model.propensity_model_ = files.get("propensity.txt")
        model._restore(files)
        return model

    def _restore(self, files: dict[str, Any]) -> None:
        self.mu_models_ = [files.get(f"mu_{k}.txt") for k in range(len(self.arms_) + 1)]


class TLearner(_MetaLearner):
    """One LightGBM outcome model per arm; effect = mu_a(x) - mu_0(x).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> t = rng.choice(["control", "mail"], size=2000)
    >>> y = X["x"].to_numpy() + (t == "mail") * (X["x"].to_numpy() > 0) + rng.normal(0, .1, 2000)
    >>> m = TLearner().fit(X, t, y)
    >>> tau = m.predict(pd.DataFrame({"x": [-1.0, 1.0]}))
    >>> bool(0.8 < tau[1, 0] - tau[0, 0] < 1.2)
    True
    """

    kind = "t"

    def _fit_models(self, bins: _Bins, arm: np.ndarray, y: np.ndarray) -> None:
        self.mu_models_ = self._fit_mu(bins, np.arange(arm.size), arm, y)[0]

    def _effects(self, Z: np.ndarray) -> np.ndarray:
        mu = self._mu(Z, self.mu_models_)
        return mu[:, 1:] - mu[:, :1]


class XLearner(_MetaLearner):
    """X-learner (Kuenzel et al. 2019): imputed effects on both sides, blended by the propensity."""

    kind = "x"

    def _fit_models(self, bins: _Bins, arm: np.ndarray, y: np.ndarray) -> None:
        self.mu_models_, base = self._fit_mu(bins, np.arange(arm.size), arm, y)
        # each outcome model predicts once, on the rows that need it: the
        # control's on the treated rows, each action's on the control rows
        control, treated = np.flatnonzero(arm == 0), np.flatnonzero(arm != 0)
        mu0 = self._mu_at(bins.Z[treated], base[treated], self.mu_models_, 0)
        Zc = bins.Z[control]
        jobs = []
        for k in range(1, len(self.arms_)):
            on = np.flatnonzero(arm == k)
            d1 = y[on] - mu0[np.searchsorted(treated, on)]
            d0 = self._mu_at(Zc, base[control], self.mu_models_, k) - y[control]
            jobs += [(bins.data(on, label=d1), {}), (bins.data(control, label=d0), {})]
        models = self._train_side_by_side(jobs)
        self.tau1_models_, self.tau0_models_ = models[0::2], models[1::2]

    def _effects(self, Z: np.ndarray) -> np.ndarray:
        e = self._propensities(Z)
        out = np.empty((Z.shape[0], len(self.actions_)))
        for k in range(1, len(self.arms_)):
            g = e[:, k] / (e[:, k] + e[:, 0])
            out[:, k - 1] = (g * self._predict_raw(self.tau0_models_[k - 1], Z)
                             + (1 - g) * self._predict_raw(self.tau1_models_[k - 1], Z))
        return out

    def _boosters(self) -> dict[str, Any]:
        out = super()._boosters()
        for k in range(len(self.actions_)):
            out[f"tau1_{k + 1}.txt"] = self.tau1_models_[k]
            out[f"tau0_{k + 1}.txt"] = self.tau0_models_[k]
        return out

    def _restore(self, files: dict[str, Any]) -> None:
        super()._restore(files)
        self.tau1_models_ = [files[f"tau1_{k + 1}.txt"] for k in range(len(self.actions_))]
        self.tau0_models_ = [files[f"tau0_{k + 1}.txt"] for k in range(len(self.actions_))]


class DRLearner(_MetaLearner):
    """DR-learner (Kennedy 2023): cross-fitted AIPW pseudo-outcomes regressed on x.

    ``n_folds`` folds (default 2) fit the outcome and propensity models used
    for the pseudo-outcomes of the other folds; :meth:`predict_outcomes`
    averages the fold models.
    """

    kind = "dr"

    def __init__(self, *, n_folds: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_folds = n_folds

    def _fit_models(self, bins: _Bins, arm: np.ndarray, y: np.ndarray) -> None:
        if not isinstance(self.n_folds, (int, np.integer)) or not 2 <= self.n_folds <= 10:
            raise InputDataError(f"DRLearner: n_folds must be an integer in [2, 10]; got {self.n_folds!r}.")
        rng = np.random.default_rng(self.random_state)
        fold = rng.integers(0, self.n_folds, size=arm.size)
        mu = np.empty((arm.size, len(self.arms_)))
        e = np.empty_like(mu)
        self.mu_folds_ = []
        for f in range(self.n_folds):
            train, held = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            models = self._fit_mu(bins, train, arm, y)[0]
            self.mu_folds_.append(models)
            Zh = bins.Z[held]
            mu[held] = self._mu(Zh, models)
            prop = self._fit_propensity(bins, train, arm) if self.propensity == "estimated" else None
            e[held] = self._propensities(Zh, prop)
        self.mu_models_ = self.mu_folds_[0]
        rows = np.arange(arm.size)
        resid = y - mu[rows, arm]
        jobs = []
        for k in range(1, len(self.arms_)):
            # the rows of this action and the control; within them the action's
            # propensity is g = e_k / (e_k + e_0) (0.5 for equal arms)
            keep = np.flatnonzero((arm == k) | (arm == 0))
            g = e[keep, k] / (e[keep, k] + e[keep, 0])
            on = arm[keep] == k
            psi = mu[keep, k] - mu[keep, 0] + np.where(on, resid[keep] / g, -resid[keep] / (1.0 - g))
            jobs.append((bins.data(keep, label=psi), {}))
        self.tau_models_ = self._train_side_by_side(jobs)

    def predict_outcomes(self, X: Any) -> np.ndarray:
        Z = self._check_X(X)
        return np.mean([self._mu(Z, models) for models in self.mu_folds_], axis=0)

    def _effects(self, Z: np.ndarray) -> np.ndarray:
        return np.column_stack([self._predict_raw(m, Z) for m in self.tau_models_])

    def _boosters(self) -> dict[str, Any]:
        out = {f"mu_{f}_{k}.txt": m for f, models in enumerate(self.mu_folds_) for k, m in enumerate(models)
               if m is not None}
        if self.propensity_model_ is not None:
            out["propensity.txt"] = self.propensity_model_
        out |= {f"tau_{k + 1}.txt": m for k, m in enumerate(self.tau_models_)}
        return out

    def _restore(self, files: dict[str, Any]) -> None:
        self.mu_folds_ = [
            [files.get(f"mu_{f}_{k}.txt") for k in range(len(self.arms_) + 1)] for f in range(self.n_folds)
        ]
        self.mu_models_ = self.mu_folds_[0]
        self.tau_models_ = [files[f"tau_{k + 1}.txt"] for k in range(len(self.actions_))]


LEARNERS: dict[str, type[_MetaLearner]] = {"t": TLearner, "x": XLearner, "dr": DRLearner}
