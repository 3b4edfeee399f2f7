"""Series of metric values on a regular date axis, from :func:`cxlab.metrics.compute_metrics`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from cxlab.exceptions import InputDataError
from cxlab.metrics.catalog import Metric

#: How a metric's sampling error is modelled (see :mod:`cxlab.monitor.baseline`).
KIND_OF = {
    "proportion": "proportion",
    "customer_share": "proportion",
    "ratio": "mean",
    "nps": "mean",
    "total": "count",
    "distinct_count": "count",
}
#: Points per year of each grain (for --false-alarms-per-year).
POINTS_PER_YEAR = {"day": 365.25, "week": 365.25 / 7.0}
#: Label of the segment when no --by is given.
ALL = "all"


@dataclass(frozen=True)
class SeriesSet:
    """Series x time arrays of one grain on one shared date axis.

    Attributes
    ----------
    keys
        ``(metric, segment)`` per series.
    kinds
        ``count``, ``level``, ``proportion`` or ``mean`` per series.
    dates
        The axis (``datetime64[D]``): every day (or ISO week start) from the
        first to the last period of the data.
    value, n, se
        Value in metric units (NaN: no point), the answers / customers behind
        it, and its standard error (``mean`` metrics; NaN elsewhere).
    has_row
        Whether the metric computation gave a row (counts: a day with no row
        is a day with zero, often a closed day).
    grain
        ``day`` or ``week``.
    """

    keys: list[tuple[str, str]]
    kinds: list[str]
    dates: np.ndarray
    value: np.ndarray
    n: np.ndarray
    se: np.ndarray
    has_row: np.ndarray
    grain: str

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def weekday(self) -> np.ndarray | None:
        """Day of week (0 = Monday) of each date, for daily series."""
        if self.grain != "day":
            return None
        return ((self.dates.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


def segment_label(row: Sequence[object]) -> str:
    """One text label for a segment from its ``by`` values."""
    return " / ".join("(missing)" if v is None or v != v else str(v) for v in row) or ALL


def series_from_metrics(
    frame: pd.DataFrame,
    *,
    by: Sequence[str],
    grain: str,
    catalog: Mapping[str, Metric],
    metrics: Sequence[str],
) -> SeriesSet:
    """Pivot a :func:`~cxlab.metrics.compute_metrics` result into a :class:`SeriesSet`.

    Every segment seen for any metric gets a series for every metric, so a
    metric with no data in a segment shows up (and is reported, not charted).
    """
    if grain not in POINTS_PER_YEAR:
        raise InputDataError(f"grain: monitoring works at grain day or week; got {grain!r}.")
    frame = frame[frame["metric"].isin(list(metrics))]
    if frame.empty:
        raise InputDataError(
            f"monitor: the metrics {', '.join(metrics)} have no data in the chosen window; "
            "check the dataset's tables and the --since/--until dates."
        )
    df = frame.reset_index(drop=True)
    day = pd.to_datetime(df["period_start"]).to_numpy().astype("datetime64[D]")
    step = np.timedelta64(1 if grain == "day" else 7, "D")
    first, last = day.min(), day.max()
    dates = np.arange(first, last + step, step).astype("datetime64[D]")
    df["_segment"] = [segment_label(r) for r in df[list(by)].itertuples(index=False)] if by else ALL
    segments = sorted(df["_segment"].unique())
    keys = [(m, s) for m in metrics for s in segments]
    pos = {k: i for i, k in enumerate(keys)}
    S, T = len(keys), dates.size
    value = np.full((S, T), np.nan)
    n = np.zeros((S, T))
    se = np.full((S, T), np.nan)
    has_row = np.zeros((S, T), dtype=bool)
    row = df[["metric", "_segment"]].apply(tuple, axis=1).map(pos).to_numpy(dtype=np.int64)
    col = ((day - first) // step).astype(np.int64)
    value[row, col] = df["value"].to_numpy(dtype=float)
    n[row, col] = np.where(df["denominator"].notna(), df["denominator"], df["n"]).astype(float)
    half = (df["ci_high"] - df["ci_low"]).to_numpy(dtype=float) / 2.0
    dof = np.maximum(df["n"].to_numpy(dtype=float) - 1.0, 1.0)
    se[row, col] = half / student_t.ppf(0.975, dof)
    has_row[row, col] = True
    kinds = []
    for i, (m, _) in enumerate(keys):
        kind = KIND_OF[catalog[m].kind]
        if kind == "count":
            observed = value[i][has_row[i]]
            if observed.size and not np.allclose(observed, np.round(observed)):
                kind = "level"  # a sum of money: no Poisson error
            value[i] = np.where(has_row[i], value[i], 0.0)
        kinds.append(kind)
    return SeriesSet(keys, kinds, dates, value, n, se, has_row, grain)
