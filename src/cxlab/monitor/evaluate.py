"""Score alarms against known incidents (``truth/incidents.json`` of the generator)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd

#: Direction in which each generator incident moves its metric.
DIRECTION_OF = {"late_delivery": "up", "orders_drop": "down", "returns_rise": "up"}


def score_incidents(
    alarms: pd.DataFrame,
    incidents: Sequence[Mapping],
    *,
    grace_days: int = 0,
) -> pd.DataFrame:
    """One row per incident and method: detected, delay and start error.

    An incident (``kind, marketplace, start, end, metric`` as in
    ``truth/incidents.json``) is detected by a method when that method raised
    an alarm on the incident's metric in its marketplace, in the incident's
    direction, from ``start`` to ``end + grace_days``. ``delay_days`` counts
    from ``start`` to the first such alarm; ``start_error_days`` is its
    estimated ``change_start`` minus ``start``.
    """
    rows = []
    methods = sorted(alarms["method"].unique()) if not alarms.empty else []
    for inc in incidents:
        start = dt.date.fromisoformat(str(inc["start"]))
        end = dt.date.fromisoformat(str(inc["end"])) + dt.timedelta(days=grace_days)
        for method in methods:
            a = alarms[(alarms["method"] == method) & (alarms["metric"] == inc["metric"])
                       & (alarms["segment"] == inc["marketplace"])
                       & (alarms["direction"] == DIRECTION_OF[inc["kind"]])]
            dates = pd.to_datetime(a["alarm_date"]).dt.date
            hit = a[(dates >= start) & (dates <= end)].sort_values("alarm_date")
            first = hit.iloc[0] if len(hit) else None
            rows.append({
                **{k: inc[k] for k in ("kind", "marketplace", "metric", "size")},
                "start": start,
                "method": method,
                "detected": first is not None,
                "delay_days": (pd.Timestamp(first["alarm_date"]).date() - start).days if first is not None else None,
                "start_error_days": (pd.Timestamp(first["change_start"]).date() - start).days if first is not None else None,
            })
    return pd.DataFrame(rows)

