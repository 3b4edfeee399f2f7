"""A/B experiments on the CX metric catalog, on any engine.

:func:`analyze` measures every metric per unit over a window after the unit's
assignment (and over a pre-period before it), reduces the units to sufficient
statistics on the engine (units, sums, sums of squares and cross-products per
arm and segment), and finishes in numpy: lifts with Welch intervals, the delta
method for relative lifts and ratio metrics, CUPED, a sample-ratio check,
Holm or Benjamini-Hochberg adjustment and always-valid sequential intervals,
with GrowthBook's ``gbstats`` conventions. :func:`plan` gives the sample size
and duration to detect an effect. See ``docs/experiments.md``.
"""

from __future__ import annotations

from cxlab.experiments._analyze import COLUMNS, SRM_THRESHOLD, ExperimentResult, analyze, plan
from cxlab.experiments.metrics import OWN, ExperimentMetric, resolve_metrics
from cxlab.experiments.units import Assignment

__all__ = [
    "COLUMNS",
    "OWN",
    "SRM_THRESHOLD",
    "Assignment",
    "ExperimentMetric",
    "ExperimentResult",
    "analyze",
    "plan",
    "resolve_metrics",
]
