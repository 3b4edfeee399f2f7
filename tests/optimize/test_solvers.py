"""Exact vs an independent MIP and brute force; scalable within its gap; constraints; monotonicity."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from cxlab.optimize import allocate
from tests.optimize.conftest import check_plan, instance


def milp_reference(cands: pd.DataFrame, *, budget=None, group_budgets=None, capacities=None,
                   min_coverage=None) -> float:
    """The full MIP written directly from the rows, solved by scipy's HiGHS."""
    k = len(cands)
    rows: list[tuple[np.ndarray, float, float]] = []
    for _cid, idx in cands.groupby("customer_id").indices.items():
        a = np.zeros(k)
        a[idx] = 1
        rows.append((a, -np.inf, 1))
    cost = cands["cost"].to_numpy()
    if budget is not None:
        rows.append((cost, -np.inf, budget))
    for col, spec in (group_budgets or {}).items():
        for g, amount in spec.items():
            rows.append((np.where(cands[col] == g, cost, 0.0), -np.inf, amount))
    for action, cap in (capacities or {}).items():
        rows.append(((cands["action"] == action).to_numpy(float), -np.inf, cap))
    for col, spec in (min_coverage or {}).items():
        for g, need in spec.items():
            rows.append(((cands[col] == g).to_numpy(float), need, np.inf))
    a = lil_matrix((len(rows), k))
    for i, (r, _, _) in enumerate(rows):
        a[i] = r
    res = milp(-cands["value"].to_numpy(), integrality=np.ones(k), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a.tocsr(), [r[1] for r in rows], [r[2] for r in rows]),
               options={"mip_rel_gap": 0})
    assert res.success, res.message
    return -res.fun


def brute_force(cands: pd.DataFrame, budget: float) -> float:
    """Every assignment of at most one action per customer (tiny instances)."""
    per = [g.reset_index(drop=True) for _, g in cands.groupby("customer_id")]
    best = 0.0
    for pick in itertools.product(*[range(-1, len(g)) for g in per]):
        cost = sum(per[i]["cost"][j] for i, j in enumerate(pick) if j >= 0)
        if cost <= budget + 1e-12:
            best = max(best, sum(per[i]["value"][j] for i, j in enumerate(pick) if j >= 0))
    return best


@st.composite
def problems(draw):
    n = draw(st.integers(3, 14))
    m = draw(st.integers(1, 3))
    cands = instance(n, m, draw(st.integers(0, 10_000)), groups=draw(st.integers(1, 3)),
                     drop=draw(st.sampled_from([0.0, 0.2])))
    if cands.empty:
        cands = instance(n, m, 1)
    total = float(cands.groupby("customer_id")["cost"].min().sum())
    kw: dict = {"budget": round(total * draw(st.floats(0.05, 1.2)), 2)}
    if draw(st.booleans()):
        g = sorted(cands["marketplace"].unique())[0]
        kw["group_budgets"] = {"marketplace": {g: round(total * draw(st.floats(0.0, 0.5)), 2)}}
    if draw(st.booleans()):
        kw["capacities"] = {"a0": draw(st.integers(0, n))}
    if draw(st.booleans()):
        g = sorted(cands["marketplace"].unique())[-1]
        members = cands.loc[cands["marketplace"] == g, "customer_id"].nunique()
        kw["min_coverage"] = {"marketplace": {g: draw(st.integers(0, min(2, members)))}}
        kw["budget"] = max(kw["budget"], round(total, 2))  # keep it feasible
        kw.pop("group_budgets", None)
        kw.pop("capacities", None)
    return cands, kw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_exact_matches_the_full_mip_and_scalable_is_within_its_gap(problem) -> None:
    cands, kw = problem
    reference = milp_reference(cands, **kw)
    exact = allocate(cands, solver="exact", **kw)
    assert exact.objective == pytest.approx(reference, abs=1e-6)
    assert exact.status == "optimal"
    check_plan(exact.plan, cands, **kw)
    scal = allocate(cands, solver="scalable", **kw)
    check_plan(scal.plan, cands, **kw)
    assert scal.objective <= exact.objective + 1e-6
    assert scal.bound >= exact.objective - 1e-6  # a valid upper bound ...
    assert exact.objective - scal.objective <= scal.gap * abs(scal.bound) + 1e-6  # ... so within its gap
    assert scal.objective == pytest.approx(float(scal.plan["value"].sum()), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 5), frac=st.floats(0.0, 1.5))
def test_exact_matches_brute_force(seed: int, n: int, frac: float) -> None:
    cands = instance(n, 2, seed)
    budget = float(cands["cost"].sum()) * frac / 2
    assert allocate(cands, budget=budget, solver="exact").objective == pytest.approx(brute_force(cands, budget), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), b1=st.floats(0.0, 60.0), extra=st.floats(0.0, 60.0))
def test_a_larger_budget_never_lowers_the_objective(seed: int, b1: float, extra: float) -> None:
    cands = instance(12, 3, seed)
    caps = {"a1": 3}
    small = allocate(cands, budget=b1, capacities=caps, solver="exact")
    large = allocate(cands, budget=b1 + extra, capacities=caps, solver="exact")
    assert large.objective >= small.objective - 1e-9


def test_exact_reports_its_progress_and_ends_on_the_plan_it_returns() -> None:
    from cxlab.optimize.exact import solve_exact
    from cxlab.optimize.problem import build_problem

    cands = instance(300, 4, 7)
    columns = {c: cands[c].to_numpy() for c in cands.columns}
    problem = build_problem(columns, budget=0.3 * float(cands["cost"].sum()) / 4, group_budgets={},
                            capacities={"a1": 20}, min_coverage={})
    seen: list[tuple[float, float]] = []
    solution = solve_exact(problem, progress=lambda objective, bound: seen.append((objective, bound)))
    assert seen, "HiGHS's branch and cut reported nothing"
    objectives = [o for o, _ in seen if np.isfinite(o)]
    assert objectives == sorted(objectives)  # incumbents only improve (maximization)
    assert objectives[-1] == pytest.approx(solution.objective, rel=1e-9)
    assert all(b >= solution.objective - 1e-6 for _, b in seen)  # the dual bound never cuts off the optimum
    assert solve_exact(problem).objective == pytest.approx(solution.objective, rel=1e-9)


@pytest.mark.parametrize("warm_start", [False, True])
def test_scalable_gap_on_20k_customers_with_group_budgets_and_a_capacity(warm_start, monkeypatch) -> None:
    if warm_start:  # the large-problem path: multipliers from a 5,000-customer sample first
        from cxlab.optimize import scalable

        monkeypatch.setattr(scalable, "SAMPLE_ABOVE", 10_000)
        monkeypatch.setattr(scalable, "SAMPLE_SIZE", 5_000)
    n = 20_000
    cands = instance(n, 4, 3, groups=7)
    groups = sorted(cands["marketplace"].unique())
    total = float(cands.groupby("customer_id")["cost"].min().sum())
    kw = {
        "budget": total * 0.3,
        "group_budgets": {"marketplace": {g: total * 0.3 / 7 * (0.6 + 0.1 * i) for i, g in enumerate(groups)}},
        "capacities": {"a2": n // 20},
    }
    res = allocate(cands, solver="scalable", **kw)
    check_plan(res.plan, cands, **kw)
    # the reported gap is what the plan and the bound say, and it is small
    assert res.gap == pytest.approx((res.bound - res.objective) / abs(res.bound), rel=1e-9, abs=1e-12)
    assert res.gap <= 1e-3
    # the bound is a true upper bound: not below the LP relaxation of the full problem
    lp = _lp_relaxation(cands, **kw)
    assert res.bound >= lp - 1e-6 * abs(lp)
    assert res.objective <= lp + 1e-6 * abs(lp)
    assert res.bound - lp <= 1e-3 * abs(lp)


def _lp_relaxation(cands: pd.DataFrame, *, budget, group_budgets, capacities) -> float:
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    k = len(cands)
    cust = pd.factorize(cands["customer_id"])[0]
    one = csr_matrix((np.ones(k), (cust, np.arange(k))))
    cost = cands["cost"].to_numpy()
    rows = [cost]
    rhs = [budget]
    for col, spec in group_budgets.items():
        for g, amount in spec.items():
            rows.append(np.where(cands[col] == g, cost, 0.0))
            rhs.append(amount)
    for action, cap in capacities.items():
        rows.append((cands["action"] == action).to_numpy(float))
        rhs.append(cap)
    a = vstack([one, csr_matrix(np.array(rows))])
    b = np.r_[np.ones(one.shape[0]), rhs]
    res = linprog(-cands["value"].to_numpy(), A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    assert res.status == 0
    return -res.fun
