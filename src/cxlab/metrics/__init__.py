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

from typing import TYPE_CHECKING

from cxlab._lazy import lazy_exports
from cxlab.metrics.catalog import METRICS, Metric

if TYPE_CHECKING:
    from cxlab.metrics.cohorts import ACTIVITIES, compute_cohorts
    from cxlab.metrics.compute import compute_metrics
    from cxlab.metrics.periods import GRAINS
    from cxlab.metrics.spec import Condition, MetricSpec, load_spec, parse_spec

# Public name -> submodule. Loaded on first use (PEP 562), so that a module that needs the
# catalog only (the experiments) does not import the YAML spec's pydantic models and the
# period computation (about 0.3 s of start-up).
_HOME = {
    "ACTIVITIES": "cohorts",
    "compute_cohorts": "cohorts",
    "compute_metrics": "compute",
    "GRAINS": "periods",
    "Condition": "spec",
    "MetricSpec": "spec",
    "load_spec": "spec",
    "parse_spec": "spec",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())

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
