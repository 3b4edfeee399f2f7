"""From uplift scores to a plan: candidates with costs, and a plan's summary by group."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlab.exceptions import InputDataError


def read_costs(path: str | Path) -> dict[str, float]:
    """Cost per action from YAML: ``{action: cost}``, or the same under a ``costs:`` key."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InputDataError(f"costs: {path} could not be read as YAML ({err}).") from err
    if isinstance(raw, dict) and isinstance(raw.get("costs"), dict):
        raw = raw["costs"]
    if not isinstance(raw, dict) or not raw:
        raise InputDataError(f"costs: {path} must map each action to its cost, e.g. 'coupon_10: 5.0'; got {raw!r:.80}.")
    out = {}
    for action, cost in raw.items():
        try:
            value = float(cost)
        except (TypeError, ValueError) as err:
            raise InputDataError(f"costs: {path}: the cost of {action!r} must be a number; got {cost!r}.") from err
        if not math.isfinite(value) or value < 0:
            raise InputDataError(f"costs: {path}: the cost of {action!r} must be a finite number >= 0; got {cost!r}.")
        out[str(action)] = value
    return out


def plan_candidates(
    scores: pd.DataFrame,
    costs: Mapping[str, float],
    *,
    margin: float = 1.0,
    attributes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidates for :func:`cxlab.optimize.allocate` from uplift ``scores``.

    ``value = effect * margin`` (e.g. the effect on revenue times the gross
    margin), ``cost`` from ``costs``. Actions without a cost are an error, so
    nothing is planned at a silent cost of 0. ``attributes`` (``customer_id``
    plus grouping columns such as ``marketplace``) are joined on.
    """
    if not 0 < margin <= 1000:
        raise InputDataError(f"plan: margin must be in (0, 1000]; got {margin!r}.")
    actions = sorted(scores["action"].astype(str).unique())
    missing = [a for a in actions if a not in costs]
    if missing:
        raise InputDataError(
            f"plan: the costs file gives no cost for {', '.join(map(repr, missing))}; the model's actions are "
            f"{', '.join(map(repr, actions))}. Add them to the costs file."
        )
    out = scores[["customer_id", "action"]].copy()
    out["value"] = scores["effect"].to_numpy(dtype=np.float64) * margin
    out["cost"] = out["action"].map(costs).astype(np.float64)
    if attributes is not None:
        out = out.merge(attributes, on="customer_id", how="left")
    return out


def plan_summary(plan: Any, *, by: str = "marketplace", value_name: str = "incremental_value") -> pd.DataFrame:
    """Who gets what: per group and action, customers, incremental value, cost and ROI.

    ``plan`` is :attr:`Allocation.plan` (``customer_id, action, value, cost``
    and ``by``). ROI = (value - cost) / cost (empty when the cost is 0). A
    ``total`` row per group and an overall total follow.
    """
    import narwhals as nw

    df = nw.from_native(plan, eager_only=True).to_pandas()
    if by not in df.columns:
        df[by] = "all"
    rows = (
        df.groupby([by, "action"], sort=True)
        .agg(customers=("customer_id", "size"), value=("value", "sum"), cost=("cost", "sum"))
        .reset_index()
    )
    per_group = df.groupby(by, sort=True).agg(
        customers=("customer_id", "size"), value=("value", "sum"), cost=("cost", "sum")).reset_index()
    per_group["action"] = "total"
    overall = pd.DataFrame([{by: "total", "action": "total", "customers": len(df),
                             "value": float(df["value"].sum()), "cost": float(df["cost"].sum())}])
    out = pd.concat([rows, per_group, overall], ignore_index=True)
    out["roi"] = np.where(out["cost"] > 0, (out["value"] - out["cost"]) / out["cost"].where(out["cost"] > 0), np.nan)
    out = out.rename(columns={"value": value_name})
    return out[[by, "action", "customers", value_name, "cost", "roi"]]
