"""Process control: control charts on metric series, with a false-alarm rate the user sets.

:func:`monitor` computes catalog metrics per day or week and segment, fits a
robust baseline (level, trend, day of week) on a training period, standardizes
each point by its own sampling error, and runs EWMA, two-sided CUSUM or
Shewhart charts (with Western Electric rules) whose limits are solved from the
requested in-control ARL (:mod:`cxlab.monitor.arl`). Alarms carry the
estimated start of the change; :func:`pelt` finds change points in the whole
history. See ``docs/monitor.md``.
"""

from __future__ import annotations

from cxlab.monitor.api import MonitorResult, NoSeriesError, monitor, monitor_series, parse_baseline
from cxlab.monitor.arl import METHODS, Limits, arl0_for_rate, limits_for
from cxlab.monitor.charts import simulate_run_lengths
from cxlab.monitor._pelt import pelt
from cxlab.monitor.series import SeriesSet, series_from_metrics

__all__ = [
    "METHODS",
    "Limits",
    "MonitorResult",
    "NoSeriesError",
    "SeriesSet",
    "arl0_for_rate",
    "limits_for",
    "monitor",
    "monitor_series",
    "parse_baseline",
    "pelt",
    "series_from_metrics",
    "simulate_run_lengths",
]
