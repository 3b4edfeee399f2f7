"""CX metrics by period and segment, with honest confidence intervals.

The catalog (:data:`METRICS`) covers satisfaction (CSAT, mean score, NPS,
response rate), operations (late delivery, return and contact rates), commerce
(orders, revenue, AOV, repeat purchase rate) and engagement (active and new
customers, orders per active customer, stickiness). :func:`compute_metrics`
computes any of them, plus user-defined metrics from a YAML spec
(:func:`load_spec`), on DuckDB, Polars or Spark through Narwhals, in each
marketplace's local time and one reporting currency. :func:`compute_cohorts`
gives retention cohorts. See ``docs/metrics.md``.
"""

from __future__ import annotations

from cxlab.metrics.catalog import METRICS, Metric
from cxlab.metrics.cohorts import ACTIVITIES, compute_cohorts
from cxlab.metrics.compute import compute_metrics
from cxlab.metrics.periods import GRAINS
from cxlab.metrics.spec import Condition, MetricSpec, load_spec, parse_spec

__all__ = [
    "ACTIVITIES",
    "GRAINS",
    "METRICS",
    "Condition",
    "Metric",
    "MetricSpec",
    "compute_cohorts",
    "compute_metrics",
    "load_spec",
    "parse_spec",
]
