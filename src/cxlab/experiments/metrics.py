"""Which metrics an experiment can analyse, as per-unit numerators and denominators.

An experiment metric is evaluated per unit (customer) over a window after the
unit's assignment. It reuses the metric catalog's data model
(:class:`cxlab.metrics.Metric`): the rows of a source are summed per unit into
*unit columns*, and the metric is ``y`` (a mean over units) or ``Σy / Σd`` (a
ratio metric, analysed by the delta method). Built-in:

- ``conversion``: share of units with at least one order (binary);
- ``orders``, ``revenue`` (reporting currency), ``visits`` (events of type
  ``visit``): means per unit;
- every catalog metric defined as a ratio of per-customer sums (``csat``,
  ``nps``, ``mean_score``, ``aov``, ``response_rate``, ``return_rate``, ...) as
  a ratio metric, and every catalog total (``orders``, ``revenue``) as a mean;
- user-defined YAML metrics (:func:`cxlab.metrics.load_spec`) of types
  ``proportion``, ``mean``, ``ratio``, ``nps`` (ratio metrics) and ``sum``,
  ``count`` (means per unit).

Metrics that are not sums over a customer's rows (distinct counts, active days,
stickiness, sign-ups) cannot be computed per unit and are refused with a
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import narwhals as nw

from cxlab.exceptions import InputDataError
from cxlab.metrics.catalog import METRICS, ORDERS, U, ExprFn, Metric, Source, UnitColumn

if TYPE_CHECKING:
    from cxlab.metrics.spec import MetricSpec

EVENTS = Source("events", "event_ts")

_VISITS = UnitColumn(
    "e_visits", EVENTS,
    lambda: nw.when(nw.col("event_type") == "visit").then(nw.lit(1.0)).otherwise(nw.lit(0.0)),
    columns=("event_type",),
)


@dataclass(frozen=True)
class ExperimentMetric:
    """A metric computable per unit: ``y`` per unit, or ``Σy / Σd`` over units.

    Attributes
    ----------
    name, description
    columns
        Unit columns (sums over the rows of a source) the metric reads.
    y, d
        Per-unit numerator and denominator over ``columns``; ``d`` is ``None``
        for a mean metric (the denominator is the number of units).
    scale
        Factor applied to values and absolute lifts (100 for NPS).
    binary
        ``y`` is 0/1 (variance ``p(1 - p)``, as gbstats' proportions).
    """

    name: str
    description: str
    columns: tuple[UnitColumn, ...]
    y: ExprFn
    d: ExprFn | None = None
    scale: float = 1.0
    binary: bool = False

    @property
    def ratio(self) -> bool:
        return self.d is not None


def _ind(expr: nw.Expr) -> nw.Expr:
    return nw.when(expr).then(nw.lit(1.0)).otherwise(nw.lit(0.0))


#: Metrics defined for experiments only (not period metrics of the catalog).
OWN: dict[str, ExperimentMetric] = {
    m.name: m
    for m in (
        ExperimentMetric(
            "conversion", "share of units with at least one order in the window",
            (U["o_n"],), lambda: _ind(nw.col("o_n") > 0), binary=True,
        ),
        ExperimentMetric(
            "visits", "events of type 'visit' per unit in the window", (_VISITS,),
            lambda: nw.col("e_visits"),
        ),
    )
}

_ORDERS_DESC = {
    "orders": "orders per unit in the window",
    "revenue": "revenue per unit in the window, reporting currency",
}


def _from_catalog(metric: Metric) -> ExperimentMetric:
    """An experiment metric from a catalog metric, or an error saying why not."""
    bad = [u.name for u in metric.columns if u.source.days or u.source.table == "customers"]
    if metric.kind == "distinct_count" or bad or metric.month_or_coarser:
        raise InputDataError(
            f"experiment metric {metric.name!r}: it is not a sum over a customer's rows "
            f"({metric.kind}), so it has no value per unit in a window. Use a metric such as "
            "conversion, orders, revenue, visits, csat or nps."
        )
    if metric.kind == "total":
        return ExperimentMetric(
            metric.name, _ORDERS_DESC.get(metric.name, f"{metric.description}, per unit"),
            metric.columns, metric.y, None, metric.scale,
        )
    return ExperimentMetric(
        metric.name, metric.description, metric.columns, metric.y, metric.x, metric.scale,
    )


def resolve_metrics(
    names: Sequence[str], spec: Sequence[MetricSpec] | None = None
) -> list[ExperimentMetric]:
    """The experiment metrics called ``names`` (built-in, catalog or ``spec``)."""
    user = {s.name: s for s in spec or ()}
    out: list[ExperimentMetric] = []
    if not names:
        raise InputDataError("experiment: name at least one metric (--metric), e.g. revenue or conversion.")
    for name in dict.fromkeys(names):
        if name in OWN:
            out.append(OWN[name])
        elif name in METRICS:
            out.append(_from_catalog(METRICS[name]))
        elif name in user:
            out.append(_from_catalog(user[name].to_metric()))
        else:
            known = sorted({*OWN, *METRICS, *user})
            raise InputDataError(
                f"experiment: unknown metric {name!r}; known metrics: {', '.join(known)}. "
                "Define your own in a YAML spec (--spec)."
            )
    return out


def sources(metrics: Sequence[ExperimentMetric]) -> dict[str, list[UnitColumn]]:
    """Unit columns of the metrics grouped by source key (one pass per source)."""
    out: dict[str, list[UnitColumn]] = {}
    for m in metrics:
        for u in m.columns:
            group = out.setdefault(u.source.key, [])
            if all(g.name != u.name for g in group):
                group.append(u)
    return out


__all__ = ["EVENTS", "ORDERS", "OWN", "ExperimentMetric", "resolve_metrics", "sources"]
