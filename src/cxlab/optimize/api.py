"""``allocate``: who gets which action, under budgets, capacities and coverage minimums."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import narwhals as nw
import numpy as np

from cxlab.exceptions import CxlabError, InputDataError
from cxlab.optimize.exact import Solution, solve_exact
from cxlab.optimize.problem import Problem, build_problem
from cxlab.optimize.scalable import solve_scalable

#: ``solver="auto"`` uses the exact MIP up to this many candidate rows, else ``scalable``.
AUTO_EXACT_MAX_ROWS = 20_000
REQUIRED = ("customer_id", "action", "value", "cost")


@dataclass
class Allocation:
    """A plan and how good it is.

    Attributes
    ----------
    plan : frame
        ``customer_id, action, value, cost`` and the grouping columns, one row
        per treated customer, in the caller's frame kind.
    objective : float
        Total value of the plan.
    bound : float
        Upper bound on the best possible total value (HiGHS's dual bound, or
        the Lagrangian dual bound).
    gap : float
        ``(bound - objective) / |bound|``: the plan is certified within this
        share of the optimum.
    status : str
        ``optimal`` (gap within tolerance), ``feasible`` or ``time_limit``.
    seconds : float
    solver : str
        ``exact`` or ``scalable``.
    spend : dict
        Per constraint family, the amount used and the limit of each group.
    """

    plan: Any
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    solver: str
    spend: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    iterations: int = 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (no plan rows)."""
        return {
            "solver": self.solver, "status": self.status, "objective": self.objective, "bound": self.bound,
            "gap": self.gap, "seconds": self.seconds, "iterations": self.iterations,
            "customers_treated": int(len(self.plan)), "spend": self.spend,
        }


def _columns(candidates: Any, groups: set[str]) -> tuple[dict[str, np.ndarray], Any]:
    df = nw.from_native(candidates, eager_only=True)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputDataError(
            f"allocate: candidates need columns {', '.join(REQUIRED)}; missing {', '.join(missing)} "
            f"(they have {', '.join(df.columns)})."
        )
    out = {}
    for name in (*REQUIRED, *sorted(groups)):
        if name in df.columns:
            series = df[name]
            if name in ("value", "cost"):
                try:
                    out[name] = series.cast(nw.Float64).to_numpy()
                except Exception as err:  # noqa: BLE001 - any engine's cast error
                    raise InputDataError(f"allocate: column {name!r} must be numeric; got {series.dtype}.") from err
            else:
                out[name] = series.to_numpy()
    if len(out["customer_id"]) == 0:
        raise InputDataError("allocate: candidates is empty; give at least one customer and action.")
    return out, nw.get_native_namespace(df)


def _spend(problem: Problem, choice: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f, used in zip(problem.families, problem.usage(choice), strict=True):
        rows = []
        for g in range(f.size):
            limit = float(f.rhs[g]) if np.isfinite(f.rhs[g]) else None
            label = None if f.name == "budget" else str(f.labels[g])
            rows.append({"group": label, "used": float(used[g]), "limit": limit, "sense": f.sense})
        out[f.name] = rows
    return out


def allocate(
    candidates: Any,
    *,
    budget: float | None = None,
    group_budgets: Mapping[str, Mapping[Any, float]] | None = None,
    capacities: Mapping[str, float] | None = None,
    min_coverage: Mapping[str, Mapping[Any, float]] | None = None,
    solver: Literal["auto", "exact", "scalable"] = "auto",
    time_limit: float | None = None,
    gap_tolerance: float = 1e-4,
) -> Allocation:
    """Choose at most one action per customer to maximize total value under constraints.

    Parameters
    ----------
    candidates
        Any frame Narwhals reads eagerly (pandas, Polars, PyArrow): one row per
        customer and action with ``customer_id, action, value, cost`` and any
        grouping columns the constraints name. Leave out actions a customer may
        not get. ``cost`` must be >= 0; ``value`` may be negative.
    budget
        Total cost of the plan, at most.
    group_budgets
        ``{column: {group: amount}}``: cost of the plan within each group, at
        most (e.g. per marketplace). Groups not listed are unconstrained.
    capacities
        ``{action: n}``: customers who get that action, at most.
    min_coverage
        ``{column: {group: n}}``: customers treated in each group, at least.
    solver
        ``exact`` (HiGHS MIP, the reference), ``scalable`` (Lagrangian
        relaxation with a certified bound), or ``auto``: ``exact`` up to
        :data:`AUTO_EXACT_MAX_ROWS` candidate rows.
    time_limit
        Seconds for the solver (``exact``: HiGHS's limit, returning its best
        plan and gap; ``scalable``: stops the dual search).
    gap_tolerance
        ``scalable`` stops once its certified gap is at most this.

    Raises
    ------
    InfeasibleError
        No plan meets a minimum coverage; the message names it.
    InputDataError
        Missing columns, duplicate (customer, action) rows, negative costs,
        unknown actions or groups.
    """
    if solver not in ("auto", "exact", "scalable"):
        raise InputDataError(f"allocate: solver must be 'auto', 'exact' or 'scalable'; got {solver!r}.")
    if not 0 <= gap_tolerance < 1:
        raise InputDataError(f"allocate: gap_tolerance must be in [0, 1); got {gap_tolerance!r}.")
    if time_limit is not None and not 0 < time_limit <= 86_400:
        raise InputDataError(f"allocate: time_limit must be in (0, 86400] seconds; got {time_limit!r}.")
    group_budgets, capacities, min_coverage = group_budgets or {}, capacities or {}, min_coverage or {}
    start = time.perf_counter()
    columns, native = _columns(candidates, set(group_budgets) | set(min_coverage))
    problem = build_problem(
        columns, budget=budget, group_budgets=group_budgets, capacities=capacities, min_coverage=min_coverage
    )
    rows = int(problem.available.sum())
    chosen = solver if solver != "auto" else ("exact" if rows <= AUTO_EXACT_MAX_ROWS else "scalable")
    sol: Solution
    if chosen == "exact":
        sol = solve_exact(problem, time_limit=time_limit)
    else:
        sol = solve_scalable(problem, gap_tolerance=gap_tolerance, time_limit=time_limit)
    broken = problem.violations(sol.choice)
    if broken:  # a solver bug, never the user's input
        raise CxlabError(f"allocate: the {chosen} plan breaks {'; '.join(broken[:3])}. Please report this.")
    plan = _plan_frame(problem, sol.choice, columns, native)
    gap = max(sol.bound - sol.objective, 0.0) / max(abs(sol.bound), 1e-12)
    return Allocation(
        plan=plan, objective=sol.objective, bound=sol.bound, gap=gap, status=sol.status,
        seconds=time.perf_counter() - start, solver=chosen, spend=_spend(problem, sol.choice),
        iterations=sol.iterations,
    )


def _plan_frame(problem: Problem, choice: np.ndarray, columns: dict[str, np.ndarray], native: Any) -> Any:
    import pandas as pd

    rows = np.flatnonzero(choice >= 0)
    cols = choice[rows]
    data: dict[str, Any] = {
        "customer_id": problem.customers[rows].astype(str) if rows.size else np.array([], dtype=str),
        "action": np.asarray(problem.actions, dtype=object)[cols].astype(str) if rows.size else np.array([], dtype=str),
        "value": problem.value[rows, cols],
        "cost": problem.cost[rows, cols],
    }
    extra = [c for c in columns if c not in REQUIRED]
    if extra:
        key = pd.MultiIndex.from_arrays([columns["customer_id"], columns["action"]])
        pos = key.get_indexer(pd.MultiIndex.from_arrays([problem.customers[rows], np.asarray(problem.actions)[cols]]))
        for c in extra:
            data[c] = np.asarray(columns[c])[pos]
    return nw.from_dict(data, backend=native).to_native()
