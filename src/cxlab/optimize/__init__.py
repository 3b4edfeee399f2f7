"""Budgeted action plans: who gets which action, with a certified optimality gap.

``allocate`` solves the problem exactly with HiGHS (``solver="exact"``) or at
millions of customers by Lagrangian relaxation (``solver="scalable"``), and
reports the plan's objective, an upper bound and the gap. See ``docs/optimize.md``.
"""

from cxlab.optimize.api import AUTO_EXACT_MAX_ROWS, Allocation, allocate
from cxlab.optimize.plan import plan_candidates, plan_summary, read_costs

__all__ = ["AUTO_EXACT_MAX_ROWS", "Allocation", "allocate", "plan_candidates", "plan_summary", "read_costs"]
