"""Write a monitoring run: alarms.parquet, charts.parquet, charts.html, summary.json."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cxlab import _fs
from cxlab.monitor.api import MonitorResult
from cxlab.monitor.html import charts_html


def _parquet(df: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
    path.write_bytes(sink.getvalue().to_pybytes())


def recent_alarms(result: MonitorResult, days: int) -> pd.DataFrame:
    """Alarms dated within the last ``days`` days of the charted history."""
    if result.alarms.empty or result.charts.empty:
        return result.alarms.iloc[0:0]
    last = pd.Timestamp(result.charts["date"].max()).date()
    cutoff = last - dt.timedelta(days=days - 1)
    return result.alarms[pd.to_datetime(result.alarms["alarm_date"]).dt.date >= cutoff]


def write_monitor(result: MonitorResult, out: Path, *, title: str = "cxlab monitor") -> Path:
    """Write the run to folder ``out`` (replaced whole, atomically)."""
    with _fs.staged_dir(Path(out)) as tmp:
        _parquet(result.alarms, tmp / "alarms.parquet")
        _parquet(result.charts, tmp / "charts.parquet")
        if result.changepoints is not None:
            _parquet(result.changepoints, tmp / "changepoints.parquet")
        (tmp / "charts.html").write_text(charts_html(result, title=title), encoding="utf-8")
        _fs.atomic_write_json(tmp / "summary.json", {
            "arl0_per_series": result.arl0,
            "series_charted": len(result.series),
            "alarms": len(result.alarms),
            "limits": {m: vars(lim) for m, lim in result.limits.items()},
            "skipped": result.skipped.to_dict(orient="records"),
        })
    return Path(out)
