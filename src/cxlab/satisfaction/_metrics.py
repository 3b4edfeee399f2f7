"""Evaluation of probability predictions: discrimination and calibration."""

from __future__ import annotations

import numpy as np


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean prediction and observed rate in ``bins`` equal-count bins of ``p``."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            out.append({"mean_predicted": float(p[chunk].mean()),
                        "observed": float(y[chunk].mean()), "n": int(len(chunk))})
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE: count-weighted mean |observed - predicted| over equal-count bins
    (Naeini, Cooper & Hauskrecht 2015)."""
    curve = calibration_curve(y, p, bins)
    n = sum(b["n"] for b in curve)
    return float(sum(b["n"] * abs(b["observed"] - b["mean_predicted"]) for b in curve) / n)


def evaluate_probabilities(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, object]:
    """AUC, log-loss, Brier score, ECE and the calibration curve of ``p`` for 0/1 ``y``."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else None,
        "log_loss": float(log_loss(y, p, labels=[0.0, 1.0])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p, bins),
        "calibration_curve": calibration_curve(y, p, bins),
    }
