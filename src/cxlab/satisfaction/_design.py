"""Turning a frame of covariates into model inputs, once per estimate.

Two encodings, one per learner family:

- ``tree``: a float matrix where each categorical column holds integer codes
  (LightGBM's native categorical handling), missing values kept as NaN;
- ``linear``: numeric columns standardized with a missing-value indicator and
  mean imputation, categorical columns one-hot encoded (the most frequent
  ``max_levels`` levels; the rest pooled into one level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

#: Categorical levels kept per column before pooling the rest into "(other)".
MAX_LEVELS = 50

#: Columns of a feature frame that are labels or keys, never model inputs or
#: covariates (besides every ``*_id`` key and ``*_ts`` / datetime column).
NOT_FEATURES: frozenset[str] = frozenset({
    "survey_id", "customer_id", "order_id", "sent_ts", "responded_ts", "asof_ts",
    "scale", "score", "responded", "invited", "satisfied",
})


def feature_columns(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """Model inputs of a feature frame: every column but labels, keys,
    timestamps and ``exclude``. The one rule for the satisfaction model's
    features and the population estimators' covariates."""
    return [
        str(c) for c in frame.columns
        if c not in NOT_FEATURES and c not in exclude and not str(c).endswith(("_id", "_ts"))
        and not ptypes.is_datetime64_any_dtype(frame[c])
    ]


@dataclass(frozen=True)
class Design:
    """Encoded covariates.

    Attributes
    ----------
    matrix
        ``(n, p)`` float array.
    names
        Column names of ``matrix``.
    categorical
        Indices of columns holding category codes (``tree`` encoding only).
    """

    matrix: np.ndarray
    names: tuple[str, ...]
    categorical: tuple[int, ...]


def is_categorical(series: pd.Series) -> bool:
    """True for strings, categories and booleans-as-objects."""
    return not (ptypes.is_numeric_dtype(series) or ptypes.is_bool_dtype(series))


def _levels(series: pd.Series, max_levels: int) -> list[str]:
    counts = series.astype("string").value_counts()
    return [str(v) for v in counts.index[:max_levels]]


def encode(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    kind: str,
    max_levels: int = MAX_LEVELS,
) -> Design:
    """Encode ``covariates`` of ``frame`` for a ``"tree"`` or ``"linear"`` learner."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    categorical: list[int] = []
    for name in covariates:
        series = frame[name]
        if is_categorical(series):
            levels = _levels(series, max_levels)
            text = series.astype("string")
            codes = pd.Categorical(text, categories=levels).codes.astype(float)
            other = text.notna().to_numpy() & (codes < 0)
            if kind == "tree":
                codes[codes < 0] = np.nan
                codes[other] = len(levels)
                categorical.append(len(columns))
                columns.append(codes)
                names.append(name)
            else:
                for j, level in enumerate(levels[1:], start=1):
                    columns.append((codes == j).astype(float))
                    names.append(f"{name}={level}")
                if other.any():
                    columns.append(other.astype(float))
                    names.append(f"{name}=(other)")
                if series.isna().any():
                    columns.append(series.isna().to_numpy().astype(float))
                    names.append(f"{name}=(missing)")
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        if kind == "tree":
            columns.append(values)
            names.append(name)
            continue
        missing = np.isnan(values)
        mean = float(np.nanmean(values)) if (~missing).any() else 0.0
        filled = np.where(missing, mean, values)
        sd = float(filled.std())
        columns.append((filled - mean) / sd if sd > 0 else filled - mean)
        names.append(name)
        if missing.any():
            columns.append(missing.astype(float))
            names.append(f"{name}=(missing)")
    n = len(frame)
    matrix = np.column_stack(columns) if columns else np.zeros((n, 0))
    return Design(matrix, tuple(names), tuple(categorical))
