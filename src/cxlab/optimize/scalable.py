"""The ``scalable`` solver: Lagrangian relaxation, a cutting-plane dual search, primal repair.

Relaxing every coupling constraint (budgets, capacities, coverage) with
multipliers ``lam >= 0`` leaves one independent choice per customer:

    L(lam) = sum_i max(0, max_j [v_ij - sum_k lam_k a_kij]) + sum_k lam_k b_k

(``a_kij`` is the cost or 1 in constraint k, negated for ">=" rows). For any
``lam``, ``L(lam)`` is an upper bound on the best plan (weak duality), and its
minimum equals the LP relaxation's optimum (Geoffrion 1974). ``L`` is convex
and piecewise linear in a handful of multipliers, so it is minimized by
Kelley's cutting-plane method (Kelley 1960) kept inside a box trust region
around the best point (the box-step method of Marsten, Hogan and Blankenship
1975): every evaluation is one vectorized argmax over the customers and
gives a cut. The plan of the relaxation is then repaired into an exactly
feasible plan (drop the least valuable choices from every broken constraint,
fill coverage gaps, then greedily fill the slack), and its gap to the best
bound is reported. With many customers and few constraints the LP optimum has
at most as many fractional customers as coupling constraints, so the gap is
tiny.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxlab.exceptions import ConvergenceError
from cxlab.optimize.exact import Solution
from cxlab.optimize.problem import Family, Problem

logger = logging.getLogger(__name__)


@dataclass
class _Eval:
    lam: list[np.ndarray]
    value: float
    grad: list[np.ndarray]
    choice: np.ndarray
    reduced: np.ndarray


def _sign(f: Family) -> float:
    return 1.0 if f.sense == "<=" else -1.0


def _penalty(problem: Problem, lam: list[np.ndarray]) -> np.ndarray:
    """sum_k lam_k a_kij for every cell (n, m)."""
    n, m = problem.shape
    per_cost = np.zeros((n, m))
    per_count = np.zeros((n, m))
    for f, mult in zip(problem.families, lam, strict=True):
        if not mult.any():
            continue
        s = _sign(f)
        target = per_cost if f.weight == "cost" else per_count
        if f.codes is None:
            target += s * mult[0]
        elif f.name == "capacity":
            target += s * mult[None, :]
        else:
            target += s * mult[f.codes]
    return per_cost * problem.cost + per_count


def _evaluate(problem: Problem, lam: list[np.ndarray]) -> _Eval:
    reduced = problem.value - _penalty(problem, lam)
    reduced[~problem.available] = -np.inf
    best_j = np.argmax(reduced, axis=1)
    best = reduced[np.arange(reduced.shape[0]), best_j]
    choice = np.where(best > 0, best_j, -1)
    value = float(np.maximum(best, 0).sum())
    grad = []
    for f, mult, used in zip(problem.families, lam, problem.usage(choice), strict=True):
        active = f.active()
        rhs = np.where(active, f.rhs, 0.0)
        value += _sign(f) * float((mult * rhs).sum())
        grad.append(np.where(active, _sign(f) * (rhs - used), 0.0))
    return _Eval(lam, value, grad, choice, reduced)


def _flat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _split(vec: np.ndarray, problem: Problem) -> list[np.ndarray]:
    out, start = [], 0
    for f in problem.families:
        out.append(np.where(f.active(), vec[start:start + f.size], 0.0))
        start += f.size
    return out


def _scales(problem: Problem) -> np.ndarray:
    """Typical size of each multiplier: value per unit of cost, or value per customer."""
    pos = problem.available & (problem.value > 0)
    v = problem.value[pos]
    c = problem.cost[pos]
    per_unit = float(np.quantile(v[c > 0] / c[c > 0], 0.9)) if (c > 0).any() else 1.0
    per_customer = float(np.quantile(np.abs(v), 0.9)) if v.size else 1.0
    parts = [
        np.full(f.size, max(per_unit, 1e-9) if f.weight == "cost" else max(per_customer, 1e-9))
        for f in problem.families
    ]
    return _flat(parts)


# --- primal repair -------------------------------------------------------------


def _group_cumsum(codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Running sum of ``weights`` within each code, in the given order."""
    order = np.argsort(codes, kind="stable")
    cs = np.cumsum(weights[order])
    sorted_codes = codes[order]
    first = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    base = np.where(first, cs - weights[order], 0.0)
    base = np.maximum.accumulate(np.where(first, base, -np.inf))
    out = np.empty_like(cs)
    out[order] = cs - base
    return out


def _slack(problem: Problem, choice: np.ndarray) -> list[np.ndarray]:
    out = []
    for f, used in zip(problem.families, problem.usage(choice), strict=True):
        out.append(np.where(f.active(), f.rhs - used, np.inf) if f.sense == "<=" else np.full(f.size, np.inf))
    return out


def _fill(
    problem: Problem, choice: np.ndarray, rows: np.ndarray, cols: np.ndarray, key: np.ndarray,
    extra: tuple[Family, np.ndarray] | None = None, rounds: int = 40,
) -> None:
    """Add cells (best ``key`` first) to unassigned customers while every ``<=`` constraint holds.

    ``extra`` adds a temporary count limit per group of a family (coverage deficits).
    """
    for _ in range(rounds):
        free = choice[rows] < 0
        rows, cols, key = rows[free], cols[free], key[free]
        if rows.size == 0:
            return
        slack = _slack(problem, choice)
        fits = np.ones(rows.size, dtype=bool)
        for f, s in zip(problem.families, slack, strict=True):
            if f.sense == "<=":
                fits &= problem.weights(f, rows, cols) <= s[f.cell_codes(rows, cols)] + 1e-12
        if extra is not None:
            fits &= extra[1][extra[0].cell_codes(rows, cols)] >= 1
        rows, cols, key = rows[fits], cols[fits], key[fits]
        if rows.size == 0:
            return
        order = np.lexsort((-key, rows))  # best cell of each customer first
        first = np.r_[True, rows[order][1:] != rows[order][:-1]]
        pick = order[first]
        pick = pick[np.argsort(-key[pick], kind="stable")]
        pr, pc = rows[pick], cols[pick]
        ok = np.ones(pick.size, dtype=bool)
        for f, s in zip(problem.families, slack, strict=True):
            if f.sense != "<=" or not np.isfinite(s).any():
                continue
            codes = f.cell_codes(pr, pc)
            ok &= _group_cumsum(codes, problem.weights(f, pr, pc)) <= s[codes] + 1e-9
        if extra is not None:
            codes = extra[0].cell_codes(pr, pc)
            ok &= _group_cumsum(codes, np.ones(pr.size)) <= extra[1][codes]
        if not ok.any():
            ok[:] = False
            ok[0] = True  # the first one fits on its own (checked above)
        choice[pr[ok]] = pc[ok]
        if extra is not None:
            extra[1][:] -= np.bincount(extra[0].cell_codes(pr[ok], pc[ok]), minlength=extra[1].size)


def _remove(problem: Problem, choice: np.ndarray, protect: np.ndarray) -> None:
    """Drop the least valuable choices (per unit used) from every broken ``<=`` constraint."""
    for _ in range(len(problem.families) * 4 + 4):
        broken = False
        for f, used in zip(problem.families, problem.usage(choice), strict=True):
            if f.sense != "<=":
                continue
            excess = used - f.rhs
            for g in np.flatnonzero(excess > 1e-9 * np.maximum(1.0, np.abs(f.rhs))):
                broken = True
                rows = np.flatnonzero(choice >= 0)
                cols = choice[rows]
                inside = f.cell_codes(rows, cols) == g
                rows, cols = rows[inside], cols[inside]
                w = problem.weights(f, rows, cols)
                keep = w > 0
                rows, cols, w = rows[keep], cols[keep], w[keep]
                density = problem.value[rows, cols] / w + np.where(protect[rows], 1e18, 0.0)
                order = np.argsort(density, kind="stable")
                cum = np.cumsum(w[order])
                k = int(np.searchsorted(cum, excess[g] - 1e-12)) + 1
                choice[rows[order[:k]]] = -1
        if not broken:
            return


def repair(problem: Problem, choice: np.ndarray, reduced: np.ndarray) -> np.ndarray | None:
    """An exactly feasible plan near ``choice``, or None when coverage could not be met."""
    choice = choice.copy()
    covers = [f for f in problem.families if f.sense == ">="]
    protect = np.zeros(choice.size, dtype=bool)
    for f, used in zip(problem.families, problem.usage(choice), strict=True):
        if f.sense == ">=":
            tight = used <= f.rhs
            rows = np.flatnonzero(choice >= 0)
            protect[rows[tight[f.cell_codes(rows, choice[rows])]]] = True
    _remove(problem, choice, protect)
    all_rows, all_cols = np.nonzero(problem.available)
    for f in covers:
        deficit = np.maximum(f.rhs - problem.usage(choice)[problem.families.index(f)], 0)
        deficit = np.where(np.isfinite(deficit), np.ceil(deficit - 1e-9), 0)
        if deficit.any():
            in_need = deficit[f.cell_codes(all_rows, all_cols)] > 0
            r, c = all_rows[in_need], all_cols[in_need]
            _fill(problem, choice, r, c, reduced[r, c], extra=(f, deficit.copy()))
    for f, used in zip(problem.families, problem.usage(choice), strict=True):
        if f.sense == ">=" and (used < f.rhs - 1e-9).any():
            return None
    good = problem.value[all_rows, all_cols] > 0
    r, c = all_rows[good], all_cols[good]
    _fill(problem, choice, r, c, reduced[r, c])
    return choice


# --- dual search -----------------------------------------------------------------


def _budget_start(problem: Problem) -> list[np.ndarray]:
    """Multipliers with only the total budget priced, by bisection on its own constraint."""
    lam = [np.zeros(f.size) for f in problem.families]
    idx = next((k for k, f in enumerate(problem.families) if f.name == "budget"), None)
    if idx is None:
        return lam
    lo, hi = 0.0, float(_scales(problem).max()) * 4 + 1.0
    budget = problem.families[idx].rhs[0]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lam[idx][0] = mid
        ev = _evaluate(problem, lam)
        if problem.usage(ev.choice)[idx][0] > budget:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-6 * hi:
            break
    lam[idx][0] = hi
    return lam


#: Above this many customers the dual search starts from the multipliers of a sample.
SAMPLE_ABOVE = 100_000
SAMPLE_SIZE = 50_000


def _sample(problem: Problem, size: int, seed: int = 0) -> Problem:
    """A random subset of customers with every right-hand side scaled to its share."""
    n = problem.shape[0]
    rows = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    share = size / n
    fams = [
        Family(f.name, f.weight, f.sense, f.rhs * share, f.labels,
               None if f.codes is None else (f.codes if f.name == "capacity" else f.codes[rows]))
        for f in problem.families
    ]
    return Problem(problem.customers[rows], problem.actions, problem.value[rows], problem.cost[rows],
                   problem.available[rows], fams)


def _warm_start(problem: Problem, time_limit: float | None) -> list[np.ndarray]:
    """Multipliers from the dual of a sample: the full search then starts close to its optimum."""
    if problem.shape[0] <= SAMPLE_ABOVE:
        return _budget_start(problem)
    sub = _sample(problem, SAMPLE_SIZE)
    lam = _budget_start(sub)
    return _dual_search(sub, lam, 1.0, max_iter=300, tol=1e-6, time_limit=time_limit)[0].lam


def _dual_search(
    problem: Problem, lam0: list[np.ndarray], radius: float, *, max_iter: int, tol: float,
    time_limit: float | None, consider: Any = None, gap: Any = None,
) -> tuple[_Eval, int]:
    """Kelley's cutting planes in a box trust region; returns the best point and the steps taken."""
    from scipy.optimize import linprog

    start = time.perf_counter()
    active = _flat([f.active() for f in problem.families]).astype(bool)
    dim = active.size
    scale = _scales(problem)
    center = _evaluate(problem, lam0)
    if consider is not None:
        consider(center)
    cuts_g: list[np.ndarray] = [_flat(center.grad)]
    cuts_b: list[float] = [center.value - float(_flat(center.grad) @ _flat(center.lam))]
    it = last_repair = 0
    for it in range(1, max_iter + 1):
        if not active.any() or (gap is not None and gap(center.value) <= tol):
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
        c_lam = _flat(center.lam)
        lo = np.where(active, np.maximum(0.0, c_lam - radius * scale), 0.0)
        hi = np.where(active, c_lam + radius * scale, 0.0)
        a_ub = np.column_stack([np.array(cuts_g), -np.ones(len(cuts_g))])
        res = linprog(
            np.r_[np.zeros(dim), 1.0], A_ub=a_ub, b_ub=-np.array(cuts_b),
            bounds=list(zip(lo, hi, strict=True)) + [(None, None)], method="highs",
        )
        if res.status != 0:
            break
        trial = _evaluate(problem, _split(res.x[:dim], problem))
        cuts_g.append(_flat(trial.grad))
        cuts_b.append(trial.value - float(cuts_g[-1] @ _flat(trial.lam)))
        predicted = center.value - float(res.x[-1])
        if trial.value < center.value - 0.1 * max(predicted, 0.0):
            on_edge = np.any(np.isclose(res.x[:dim], hi) & active) or np.any(np.isclose(res.x[:dim], lo) & (lo > 0))
            center = trial
            radius = radius * 2.0 if on_edge else radius
        else:
            radius = max(radius * 0.5, 1e-9)
        # Repairing costs a few argmax passes: do it when the dual has (nearly)
        # converged, and now and then.
        settled = predicted <= 0.5 * tol * max(abs(center.value), 1e-12)
        if consider is not None and center is trial and ((settled and it - last_repair >= 10) or it - last_repair >= 40):
            consider(center)
            last_repair = it
        if predicted <= 1e-12 * max(1.0, abs(center.value)) or (consider is None and settled):
            break
    return center, it


def solve_scalable(
    problem: Problem, *, gap_tolerance: float = 1e-4, max_iter: int = 300, time_limit: float | None = None,
) -> Solution:
    """Plan, bound and gap by Lagrangian relaxation; see the module docstring."""
    start = time.perf_counter()
    best_plan: np.ndarray | None = None
    best_obj = -np.inf

    def consider(ev: _Eval) -> None:
        nonlocal best_plan, best_obj
        plan = repair(problem, ev.choice, ev.reduced)
        if plan is not None:
            obj = problem.objective(plan)
            if obj > best_obj:
                best_plan, best_obj = plan, obj

    warm = problem.shape[0] > SAMPLE_ABOVE
    lam0 = _warm_start(problem, time_limit)
    center, it = _dual_search(
        problem, lam0, 0.05 if warm else 1.0, max_iter=max_iter, tol=gap_tolerance,
        time_limit=None if time_limit is None else max(time_limit - (time.perf_counter() - start), 1.0),
        consider=consider, gap=lambda bound: _gap(best_obj, bound),
    )
    consider(center)
    if best_plan is None:
        raise ConvergenceError(
            "allocate: the scalable solver could not repair its plan into one that meets the minimum "
            "coverage constraints. Use solver='exact', or lower the minimums."
        )
    bound = max(center.value, best_obj)
    seconds = time.perf_counter() - start
    status = "optimal" if _gap(best_obj, bound) <= gap_tolerance else "feasible"
    logger.info("scalable: %d dual steps, gap %.2e, %.1f s", it, _gap(best_obj, bound), seconds)
    return Solution(best_plan, best_obj, bound, status, seconds, it)


def _gap(objective: float, bound: float) -> float:
    if not np.isfinite(objective):
        return np.inf
    return max(bound - objective, 0.0) / max(abs(bound), 1e-12)
