"""The allocation problem in dense form, its constraints, and feasibility checks.

Candidates (one row per customer and action: ``value``, ``cost``, grouping
columns) become two ``(n_customers, n_actions)`` arrays plus *constraint
families*. A family is one kind of coupling constraint with one right-hand side
per group:

- ``budget``: total cost of the plan <= budget (one group);
- ``budget:COLUMN``: cost of the rows whose COLUMN is g <= budget of g;
- ``capacity``: rows chosen with action a <= capacity of a;
- ``coverage:COLUMN``: customers treated whose COLUMN is g >= minimum of g.

The problem is: choose at most one row per customer (x in {0, 1}) to maximize
the total value subject to every family. Both solvers use this form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cxlab.exceptions import InfeasibleError, InputDataError

#: Slack allowed when checking a plan against its constraints (rounding of sums).
TOLERANCE = 1e-7


@dataclass
class Family:
    """One kind of coupling constraint, one right-hand side per group.

    ``codes`` gives each (customer, action) cell its group (an int32 array of
    shape (n, m), or None when every cell is in group 0, or the action index
    for ``capacity``). ``weight`` is ``"cost"`` or ``"count"``; ``sense`` is
    ``"<="`` or ``">="``; ``rhs`` is ``inf`` (or ``-inf``) where a group has
    no constraint.
    """

    name: str
    weight: str
    sense: str
    rhs: np.ndarray
    labels: list[Any]
    codes: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.rhs.size)

    def active(self) -> np.ndarray:
        return np.isfinite(self.rhs)

    def label(self, g: int) -> str:
        if self.name == "budget":
            return "the total budget"
        if self.name == "capacity":
            return f"the capacity of action {self.labels[g]!r}"
        kind, column = self.name.split(":", 1)
        what = "budget" if kind == "budget" else "minimum coverage"
        return f"the {what} of {column}={self.labels[g]!r}"

    def cell_codes(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if self.codes is None:
            return np.zeros(rows.size, dtype=np.int64)
        if self.name == "capacity":
            return cols.astype(np.int64)
        return self.codes[rows, cols].astype(np.int64)


@dataclass
class Problem:
    """Dense allocation problem. ``value``/``cost`` are 0 where ``available`` is False."""

    customers: np.ndarray
    actions: list[str]
    value: np.ndarray
    cost: np.ndarray
    available: np.ndarray
    families: list[Family] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.value.shape  # type: ignore[return-value]

    def weights(self, family: Family, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if family.weight == "cost":
            return self.cost[rows, cols]
        return np.ones(rows.size)

    def usage(self, choice: np.ndarray) -> list[np.ndarray]:
        """Per family, the left-hand side of each group for ``choice`` (-1 = nothing)."""
        rows = np.flatnonzero(choice >= 0)
        cols = choice[rows]
        return [
            np.bincount(f.cell_codes(rows, cols), weights=self.weights(f, rows, cols), minlength=f.size)
            for f in self.families
        ]

    def objective(self, choice: np.ndarray) -> float:
        rows = np.flatnonzero(choice >= 0)
        return float(self.value[rows, choice[rows]].sum())

    def violations(self, choice: np.ndarray) -> list[str]:
        """Every constraint the plan breaks, as readable text (empty when feasible)."""
        out = []
        rows = np.flatnonzero(choice >= 0)
        if not self.available[rows, choice[rows]].all():
            out.append("a customer got an action that is not among its candidates")
        for f, used in zip(self.families, self.usage(choice), strict=True):
            for g in np.flatnonzero(f.active()):
                rhs = f.rhs[g]
                slack = TOLERANCE * max(1.0, abs(rhs))
                bad = used[g] > rhs + slack if f.sense == "<=" else used[g] < rhs - slack
                if bad:
                    out.append(f"{f.label(g)}: {used[g]:,.6g} against {rhs:,.6g}")
        return out


def _codes(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int32), list(uniques)


def _number(who: str, value: Any, *, integer: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as err:
        raise InputDataError(f"allocate: {who} must be a number; got {value!r}.") from err
    if not math.isfinite(x) or x < 0:
        raise InputDataError(f"allocate: {who} must be a finite number >= 0; got {value!r}.")
    if integer and x != int(x):
        raise InputDataError(f"allocate: {who} must be a whole number; got {value!r}.")
    return x


def build_problem(
    columns: Mapping[str, np.ndarray],
    *,
    budget: float | None,
    group_budgets: Mapping[str, Mapping[Any, float]],
    capacities: Mapping[str, float],
    min_coverage: Mapping[str, Mapping[Any, float]],
) -> Problem:
    """Dense problem from candidate columns (``customer_id, action, value, cost`` + groups)."""
    cust_codes, customers = _codes(columns["customer_id"])
    act_codes, actions = _codes(columns["action"])
    n, m = len(customers), len(actions)
    flat = cust_codes.astype(np.int64) * m + act_codes
    if np.unique(flat).size != flat.size:
        counts = np.bincount(flat, minlength=n * m)
        dup = np.flatnonzero(counts > 1)[:5]
        pairs = ", ".join(f"({customers[d // m]!r}, {actions[d % m]!r})" for d in dup)
        raise InputDataError(
            f"allocate: candidates must hold one row per customer and action; "
            f"{int((counts > 1).sum()):,} pairs repeat ({pairs}). Remove or add up the duplicates."
        )
    value = np.asarray(columns["value"], dtype=np.float64)
    cost = np.asarray(columns["cost"], dtype=np.float64)
    for name, arr in (("value", value), ("cost", cost)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputDataError(
                f"allocate: column {name!r} must hold finite numbers; {int(bad.sum()):,} rows do not "
                f"(rows {', '.join(map(str, np.flatnonzero(bad)[:5]))}). Drop or fill them."
            )
    if (cost < 0).any():
        raise InputDataError(
            f"allocate: column 'cost' must be >= 0; {int((cost < 0).sum()):,} rows are negative "
            f"(rows {', '.join(map(str, np.flatnonzero(cost < 0)[:5]))})."
        )
    dense_v = np.zeros((n, m))
    dense_c = np.zeros((n, m))
    avail = np.zeros((n, m), dtype=bool)
    dense_v[cust_codes, act_codes] = value
    dense_c[cust_codes, act_codes] = cost
    avail[cust_codes, act_codes] = True
    problem = Problem(np.asarray(customers, dtype=object), [str(a) for a in actions], dense_v, dense_c, avail)

    def group_family(kind: str, column: str, spec: Mapping[Any, float], weight: str, sense: str) -> Family:
        if column not in columns:
            raise InputDataError(
                f"allocate: {kind} by {column!r} needs a column {column!r} in the candidates; "
                f"they have {', '.join(sorted(columns))}."
            )
        codes, uniques = _codes(np.asarray(columns[column]).astype(str))
        labels = [str(u) for u in uniques]
        dense = np.full((n, m), -1, dtype=np.int32)
        dense[cust_codes, act_codes] = codes
        fill = np.inf if sense == "<=" else -np.inf
        rhs = np.full(len(labels), fill)
        index = {str(lab): g for g, lab in enumerate(labels)}
        for key, amount in spec.items():
            g = index.get(str(key))
            who = f"{kind} of {column}={key!r}"
            x = _number(who, amount, integer=(kind == "coverage"))
            if g is None:
                if kind == "coverage" and x > 0:
                    raise InfeasibleError(
                        f"allocate: {who} asks for {x:,.0f} customers but no candidate has {column}={key!r}."
                    )
                continue
            rhs[g] = x
        dense[~avail] = 0
        return Family(f"{kind}:{column}", weight, sense, rhs, labels, dense)

    if budget is not None:
        problem.families.append(Family("budget", "cost", "<=", np.array([_number("budget", budget)]), [None]))
    for column, spec in group_budgets.items():
        problem.families.append(group_family("budget", column, spec, "cost", "<="))
    if capacities:
        rhs = np.full(m, np.inf)
        index = {a: j for j, a in enumerate(problem.actions)}
        for action, cap in capacities.items():
            if str(action) not in index:
                raise InputDataError(
                    f"allocate: capacity given for action {action!r}, which no candidate has; "
                    f"actions are {', '.join(map(repr, problem.actions))}."
                )
            rhs[index[str(action)]] = _number(f"capacity of {action!r}", cap, integer=True)
        problem.families.append(Family("capacity", "count", "<=", rhs, problem.actions, np.zeros(1, np.int32)))
    for column, spec in min_coverage.items():
        problem.families.append(group_family("coverage", column, spec, "count", ">="))
    check_coverage(problem)
    return problem


def check_coverage(problem: Problem) -> None:
    """Raise InfeasibleError naming a coverage minimum that no plan can meet.

    Coverage is the only kind of constraint that can make the problem
    infeasible (costs are >= 0, so treating nobody meets every other one).
    Checked here: enough customers in the group, and the cheapest way to cover
    the group fits the total budget, the group's own budgets and the capacities
    taken one at a time. Combinations are left to the solver.
    """
    covers = [f for f in problem.families if f.name.startswith("coverage:")]
    if not covers:
        return
    big = np.where(problem.available, problem.cost, np.inf)
    cheapest = big.min(axis=1)
    for f in covers:
        codes = f.codes[np.arange(problem.shape[0]), np.argmin(big, axis=1)]  # type: ignore[index]
        for g in np.flatnonzero(f.active()):
            need = int(f.rhs[g])
            members = np.flatnonzero(codes == g)
            if members.size < need:
                raise InfeasibleError(
                    f"allocate: {f.label(g)} asks for {need:,} customers but only {members.size:,} "
                    "have candidates in that group. Lower the minimum."
                )
            if need == 0:
                continue
            spend = float(np.sort(cheapest[members])[:need].sum())
            for other in problem.families:
                if other.sense != "<=" or other.weight != "cost":
                    continue
                if other.name == "budget":
                    limit, scope = other.rhs[0], other.label(0)
                else:
                    inside = np.unique(other.codes[members, np.argmin(big[members], axis=1)])  # type: ignore[index]
                    if inside.size != 1:
                        continue
                    limit, scope = other.rhs[inside[0]], other.label(int(inside[0]))
                if spend > limit * (1 + TOLERANCE):
                    raise InfeasibleError(
                        f"allocate: {f.label(g)} ({need:,} customers) costs at least {spend:,.2f}, more than "
                        f"{scope} ({limit:,.2f}). Raise that budget or lower the minimum."
                    )
            caps = next((o for o in problem.families if o.name == "capacity"), None)
            if caps is not None:
                total_cap = float(np.where(problem.available[members].any(axis=0), caps.rhs, 0).sum())
                if total_cap < need:
                    raise InfeasibleError(
                        f"allocate: {f.label(g)} asks for {need:,} customers but the action capacities "
                        f"allow at most {total_cap:,.0f}. Raise a capacity or lower the minimum."
                    )
