"""``charts.html``: one interactive plotly chart per series, self-contained (plotly.js
embedded, no network at view time)."""

from __future__ import annotations

import html

import pandas as pd

from cxlab.monitor.api import MonitorResult


def _figure(chart: pd.DataFrame, alarms: pd.DataFrame, title: str):  # noqa: ANN202
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    method = chart["method"].iloc[0]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06,
                        subplot_titles=("value, baseline and band", f"{method} statistic and limits"))
    d = chart["date"]
    fig.add_trace(go.Scatter(x=d, y=chart["value"], mode="lines+markers", name="value",
                             marker={"size": 3}, line={"width": 1, "color": "#1f77b4"}), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=chart["expected"], mode="lines", name="baseline",
                             line={"color": "#555", "dash": "dash"}), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=chart["upper"], mode="lines", name="upper band",
                             line={"color": "#d62728", "width": 1}), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=chart["lower"], mode="lines", name="lower band",
                             line={"color": "#d62728", "width": 1}), 1, 1)
    fig.add_trace(go.Scatter(x=d, y=chart["statistic"], mode="lines", name=f"{method} statistic",
                             line={"color": "#2ca02c"}), 2, 1)
    for sign in (1, -1):
        fig.add_trace(go.Scatter(x=d, y=sign * chart["stat_limit"], mode="lines", showlegend=sign > 0,
                                 name="control limit", line={"color": "#d62728", "dash": "dot"}), 2, 1)
    if not alarms.empty:
        a = pd.to_datetime(alarms["alarm_date"])
        fig.add_trace(go.Scatter(
            x=a, y=alarms["value"], mode="markers", name="alarm",
            marker={"symbol": "x", "size": 10, "color": "#d62728"},
            text=[f"{r.direction} {r.size:+.4g} since {r.change_start} {r.rule}" for r in alarms.itertuples()],
            hoverinfo="text+x",
        ), 1, 1)
        starts = pd.to_datetime(alarms["change_start"])
        fig.add_trace(go.Scatter(
            x=starts, y=alarms["expected"], mode="markers", name="estimated start",
            marker={"symbol": "triangle-right", "size": 9, "color": "#ff7f0e"},
        ), 1, 1)
    fig.update_layout(title=title, height=520, margin={"l": 50, "r": 20, "t": 60, "b": 30},
                      legend={"orientation": "h"})
    return fig


def charts_html(result: MonitorResult, *, title: str = "cxlab monitor") -> str:
    """The whole page: one chart per series and method, plotly.js included once."""
    import plotly.io as pio

    parts = []
    first = True
    for (metric, segment, method), chart in result.charts.groupby(["metric", "segment", "method"], sort=False, observed=True):
        a = result.alarms
        mine = a[(a["metric"] == metric) & (a["segment"] == segment) & (a["method"] == method)]
        fig = _figure(chart, mine, f"{metric} / {segment} ({method}): {len(mine):,} alarm(s)")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=True if first else False))
        first = False
    skipped = "".join(
        f"<li>{html.escape(str(r.metric))} / {html.escape(str(r.segment))}: {html.escape(str(r.reason))}</li>"
        for r in result.skipped.itertuples()
    )
    limits = "".join(
        f"<li>{html.escape(m)}: limit {lim.limit:.4g}, parameter {lim.param:g}, in-control ARL "
        f"{lim.arl0_computed:,.0f} points</li>"
        for m, lim in result.limits.items()
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1><p>{len(result.series):,} series charted, "
        f"{len(result.alarms):,} alarm(s); in-control ARL {result.arl0:,.0f} points per series.</p>"
        f"<ul>{limits}</ul>"
        + (f"<h2>Not charted</h2><ul>{skipped}</ul>" if skipped else "")
        + "".join(parts)
        + "</body></html>"
    )
