"""The ``exact`` solver: the whole allocation problem as one MIP, solved by HiGHS.

One binary variable per candidate row; one row "at most one action" per
customer; one row per finite right-hand side of every constraint family.
HiGHS (Huangfu and Hall 2018, via ``highspy``) runs branch and cut and
reports its incumbent, its dual bound and the relative gap between them.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np

from cxlab.exceptions import ConvergenceError, InfeasibleError
from cxlab.optimize.problem import Problem


@dataclass
class Solution:
    choice: np.ndarray
    objective: float
    bound: float
    status: str
    seconds: float
    iterations: int = 0


def _matrix(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Column-wise constraint matrix and row bounds of the MIP."""
    from scipy import sparse

    rows, cols = np.nonzero(problem.available)
    k = rows.size
    n = problem.shape[0]
    r_idx = [rows]
    c_idx = [np.arange(k)]
    vals = [np.ones(k)]
    lower = [np.full(n, -np.inf)]
    upper = [np.ones(n)]
    offset = n
    for f in problem.families:
        active = np.flatnonzero(f.active())
        if active.size == 0:
            continue
        row_of = np.full(f.size, -1)
        row_of[active] = offset + np.arange(active.size)
        target = row_of[f.cell_codes(rows, cols)]
        keep = target >= 0
        r_idx.append(target[keep])
        c_idx.append(np.flatnonzero(keep))
        vals.append(problem.weights(f, rows, cols)[keep])
        rhs = f.rhs[active]
        if f.sense == "<=":
            lower.append(np.full(active.size, -np.inf))
            upper.append(rhs)
        else:
            lower.append(rhs)
            upper.append(np.full(active.size, np.inf))
        offset += active.size
    mat = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))), shape=(offset, k)
    )
    mat.sort_indices()
    return mat.indptr, mat.indices, mat.data, np.concatenate(lower), np.concatenate(upper), offset


def _highs(highspy: Any) -> Any:
    """A Highs instance, without the copyright banner its constructor writes to
    file descriptor 1 (``output_flag`` is only read after construction): the
    banner would land in the middle of a CLI's output or a run's progress bar."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def solve_exact(
    problem: Problem, *, time_limit: float | None = None, mip_gap: float = 1e-9,
    progress: Callable[[float, float], None] | None = None,
) -> Solution:
    """Solve ``problem`` with HiGHS; raise InfeasibleError when no plan exists.

    ``progress(objective, bound)``, if given, is called whenever HiGHS's
    branch and cut reports (a new incumbent, or one of its frequent interrupt
    checks), with its incumbent's value (-inf before the first) and its dual
    bound (+inf before the first LP): a caller can log the gap over time.
    HiGHS calls nothing before branch and cut starts.
    """
    import highspy

    start = time.perf_counter()
    rows, cols = np.nonzero(problem.available)
    k = rows.size
    indptr, indices, data, lower, upper, n_rows = _matrix(problem)
    lp = highspy.HighsLp()
    lp.num_col_ = k
    lp.num_row_ = n_rows
    lp.col_cost_ = problem.value[rows, cols]
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    lp.row_lower_ = lower
    lp.row_upper_ = upper
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = indptr
    lp.a_matrix_.index_ = indices
    lp.a_matrix_.value_ = data
    lp.a_matrix_.num_col_ = k
    lp.a_matrix_.num_row_ = n_rows
    lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    h = _highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if progress is not None:
        def report(event: Any) -> None:
            out = event.data_out
            progress(float(out.mip_primal_bound), float(out.mip_dual_bound))

        h.cbMipImprovingSolution.subscribe(report)
        h.cbMipInterrupt.subscribe(report)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    if status == ms.kInfeasible:
        raise InfeasibleError(
            "allocate: no plan meets every constraint (HiGHS proved the problem infeasible): the minimum "
            "coverages cannot be met within the budgets and capacities together. Lower a minimum or raise a budget."
        )
    if info.primal_solution_status < 2:  # no feasible point found
        raise ConvergenceError(
            f"allocate: HiGHS found no feasible plan (status {h.modelStatusToString(status)}). "
            "Give a longer time limit or use solver='scalable'."
        )
    x = np.asarray(h.getSolution().col_value) > 0.5
    choice = np.full(problem.shape[0], -1, dtype=np.int64)
    choice[rows[x]] = cols[x]
    objective = problem.objective(choice)
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else objective
    label = "optimal" if status == ms.kOptimal else (
        "time_limit" if status == ms.kTimeLimit else h.modelStatusToString(status)
    )
    return Solution(choice, objective, max(bound, objective), label, time.perf_counter() - start,
                    int(info.mip_node_count))
