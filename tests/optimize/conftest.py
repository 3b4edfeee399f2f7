"""Random allocation instances and an independent checker of plans."""

from __future__ import annotations

import numpy as np
import pandas as pd


def instance(n: int, m: int, seed: int, *, groups: int = 3, drop: float = 0.0) -> pd.DataFrame:
    """``n`` customers x ``m`` actions with values, costs and a marketplace per customer."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "customer_id": np.repeat([f"c{i:05d}" for i in range(n)], m),
        "action": np.tile([f"a{j}" for j in range(m)], n),
    })
    df["cost"] = np.round(rng.uniform(0.5, 5.0, len(df)), 2)
    df["value"] = np.round(rng.normal(1.0, 2.0, len(df)) + 0.6 * df["cost"], 3)
    df["marketplace"] = np.repeat(rng.choice([f"M{g}" for g in range(groups)], n), m)
    if drop:
        df = df[rng.random(len(df)) >= drop].reset_index(drop=True)
    return df


def check_plan(plan: pd.DataFrame, candidates: pd.DataFrame, *, budget=None, group_budgets=None,
               capacities=None, min_coverage=None) -> None:
    """Assert every constraint on the plan, recomputed from its rows (tolerance 1e-9 relative)."""
    assert plan["customer_id"].is_unique, "a customer got two actions"
    keys = set(zip(candidates["customer_id"], candidates["action"], strict=True))
    assert all(k in keys for k in zip(plan["customer_id"], plan["action"], strict=True))
    merged = plan[["customer_id", "action"]].merge(candidates, on=["customer_id", "action"])
    tol = 1e-9
    if budget is not None:
        assert merged["cost"].sum() <= budget * (1 + tol) + tol
    for column, spec in (group_budgets or {}).items():
        spent = merged.groupby(column)["cost"].sum()
        for g, amount in spec.items():
            assert spent.get(g, 0.0) <= amount * (1 + tol) + tol, (column, g)
    for action, cap in (capacities or {}).items():
        assert (merged["action"] == action).sum() <= cap
    for column, spec in (min_coverage or {}).items():
        count = merged.groupby(column).size()
        for g, need in spec.items():
            assert count.get(g, 0) >= need, (column, g)
