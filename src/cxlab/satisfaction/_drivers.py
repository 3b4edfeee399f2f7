"""Drivers of satisfaction from SHAP values, in words a non-specialist can read.

Each feature's contribution to a prediction (TreeSHAP, Lundberg et al. 2020,
computed by LightGBM) is turned into probability points: the change in
P(satisfied) when the contribution is removed from the row's log-odds. The
ranking uses the mean absolute contribution; the direction says whether a
larger value raises or lowers satisfaction; ``points`` is the average change in
the satisfied share (CSAT, or the promoter share for nps11) that the feature
causes in the segment, summed over rows where it lowers satisfaction (``points_lost``,
negative: how much lower CSAT is than if those customers had the average
experience of that feature) or raises it (``points_gained``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlab._frames import as_pandas, to_native_like
from cxlab.exceptions import InputDataError
from cxlab.satisfaction.model import SatisfactionModel

#: Plain-language names of the standard features.
LABELS: dict[str, str] = {
    "delay_days": "delivery delays", "late": "late deliveries", "days_late": "days late",
    "returned": "returns", "contacts": "customer-service contacts about the order",
    "contacts_around_order": "customer-service contacts around the order",
    "amount_reporting": "order value", "category": "product category",
    "prior_orders": "number of earlier orders", "days_since_prior_order": "time since the last order",
    "tenure_days": "customer tenure", "events_30d": "recent app and web activity",
    "marketplace": "marketplace", "delivered": "delivery before the survey",
}

DRIVER_COLUMNS: tuple[str, ...] = (
    "feature", "label", "importance", "direction", "points_lost", "points_gained", "points", "sentence",
)


def _direction(values: pd.Series, contrib: np.ndarray) -> str:
    if not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "depends on the value"
    x = values.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(x)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(contrib[ok]) == 0:
        return "no clear direction"
    r = float(np.corrcoef(x[ok], contrib[ok])[0, 1])
    if abs(r) < 0.1:
        return "no clear direction"
    return "higher lowers satisfaction" if r < 0 else "higher raises satisfaction"


def _points(contrib: pd.DataFrame, calibrated: np.ndarray) -> pd.DataFrame:
    """Probability-point effect of each feature per row (x100)."""
    logit = contrib.sum(axis=1).to_numpy()
    p_raw = 1 / (1 + np.exp(-logit))
    without = 1 / (1 + np.exp(-(logit[:, None] - contrib.to_numpy())))
    # Scale the raw effect by the calibration's local slope ratio (calibrated / raw).
    ratio = np.divide(calibrated, p_raw, out=np.ones_like(p_raw), where=p_raw > 0)
    return pd.DataFrame(100 * (p_raw[:, None] - without) * ratio[:, None],
                        columns=contrib.columns, index=contrib.index)


def explain_drivers(
    model: SatisfactionModel,
    X: Any,
    *,
    by: str | None = None,
    top: int = 5,
) -> Any:
    """Rank the drivers of satisfaction, overall or per segment.

    Parameters
    ----------
    model
        A fitted :class:`SatisfactionModel`.
    X
        Feature frame of the orders or invitations to explain (e.g. all
        invited): any frame (see :mod:`cxlab._frames`).
    by
        Segment column (e.g. ``"marketplace"``); None for one global ranking.
    top
        Drivers kept per segment.

    Returns
    -------
    dataframe
        In the caller's kind: ``[<by>], rank, feature, label, importance, direction, points_lost,
        points_gained, points, sentence``: ``importance`` is the mean absolute
        SHAP value (log-odds), ``points`` is ``points_lost`` (points of CSAT
        lost to the driver) unless it is negligible (> -0.05), then
        ``points_gained``; ``sentence`` e.g.
        ``"late deliveries: -8.1 points of CSAT in FR (higher lowers satisfaction)"``.
    """
    given, X = X, as_pandas(X, name="X", who="explain_drivers")
    if by is not None and by not in X.columns:
        raise InputDataError(
            f"explain_drivers: by must be a column of X ({', '.join(map(str, X.columns[:12]))}); got {by!r}."
        )
    contrib = model.contributions(X).drop(columns="bias")
    points = _points(model.contributions(X), model.predict_satisfied(X)).drop(columns="bias")
    measure = "CSAT" if model.scale == "csat5" else "promoter share"
    groups = X.groupby(by, sort=True, dropna=False).indices if by else {None: np.arange(len(X))}
    rows = []
    for key, idx in groups.items():
        c, p = contrib.iloc[idx], points.iloc[idx]
        importance = c.abs().mean().sort_values(ascending=False).head(top)
        for rank, (feature, value) in enumerate(importance.items(), start=1):
            lost = float(np.minimum(p[feature], 0).mean())
            gained = float(np.maximum(p[feature], 0).mean())
            net = lost if lost <= -0.05 else gained
            label = LABELS.get(str(feature), str(feature).replace("_", " "))
            direction = _direction(X[feature].iloc[idx], c[feature].to_numpy())
            where = f" in {key}" if by else ""
            rows.append({
                **({by: key} if by else {}), "rank": rank, "feature": feature, "label": label,
                "importance": float(value), "direction": direction, "points_lost": lost,
                "points_gained": gained, "points": net,
                "sentence": f"{label}: {net:+.1f} points of {measure}{where} ({direction})",
            })
    return to_native_like(pd.DataFrame(rows, columns=[*([by] if by else []), "rank", *DRIVER_COLUMNS]), given)


def drivers_text(table: pd.DataFrame) -> str:
    """The sentences of :func:`explain_drivers`, one per line."""
    return "\n".join(table["sentence"].tolist())


def top_features(model: SatisfactionModel, X: pd.DataFrame, k: int = 3) -> Sequence[str]:
    """The ``k`` features with the largest mean absolute contribution."""
    contrib = model.contributions(X).drop(columns="bias")
    return list(contrib.abs().mean().sort_values(ascending=False).index[:k])
