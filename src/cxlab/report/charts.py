"""Views drawn with plotly (interactive, for the HTML reports)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cxlab.report.views import View

PALETTE = ("#2f6db5", "#e07b39", "#3a9a5b", "#c4474f", "#7a5cb0", "#8c6d46", "#d46fb0", "#6b6b6b", "#b5a32f",
           "#2fa3b5")


def _axis_format(unit: str, currency: str) -> dict[str, Any]:
    from cxlab.report.fmt import SYMBOLS

    if unit == "pct":
        return {"tickformat": ".0%"}
    if unit == "money":
        symbol = SYMBOLS.get(currency.upper(), "")
        return {"tickprefix": symbol, "tickformat": ",.0f", "ticksuffix": "" if symbol else f" {currency}"}
    return {"tickformat": ",.4~r"}


def _hover(unit: str, currency: str) -> str:
    from cxlab.report.fmt import SYMBOLS

    if unit == "pct":
        return "%{y:.1%}"
    if unit == "money":
        return SYMBOLS.get(currency.upper(), "") + "%{y:,.2f}"
    return "%{y:,.1f}"


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def figure(view: View, currency: str, *, height: int = 320) -> go.Figure:
    """The plotly figure of ``view``."""
    fig = go.Figure()
    d = view.data
    hover = _hover(view.unit, currency)
    if view.kind == "bars":
        for i, (name, part) in enumerate(d.groupby("series", sort=False)):
            err = None
            if "lo" in part and part["lo"].notna().any():
                err = {"type": "data", "symmetric": False, "array": (part["hi"] - part["y"]).to_numpy(),
                       "arrayminus": (part["y"] - part["lo"]).to_numpy(), "color": "#333", "thickness": 1.2}
            fig.add_bar(x=part["x"], y=part["y"], name=str(name), error_y=err, marker_color=PALETTE[i % 10],
                        hovertemplate=f"%{{x}}: {hover}<extra>{name}</extra>")
        fig.update_layout(barmode="group")
    elif view.kind == "lines":
        for i, (name, part) in enumerate(d.groupby("series", sort=True)):
            color = PALETTE[i % 10]
            if "lo" in part and part["lo"].notna().any():
                fig.add_scatter(x=part["x"], y=part["hi"], mode="lines", line={"width": 0}, showlegend=False,
                                hoverinfo="skip", legendgroup=str(name))
                fig.add_scatter(x=part["x"], y=part["lo"], mode="lines", line={"width": 0}, fill="tonexty",
                                fillcolor=_rgba(color, 0.15), showlegend=False, hoverinfo="skip",
                                legendgroup=str(name))
            fig.add_scatter(x=part["x"], y=part["y"], mode="lines+markers", name=str(name), legendgroup=str(name),
                            line={"color": color, "width": 2}, marker={"size": 4},
                            hovertemplate=f"%{{x}}: {hover}<extra>{name}</extra>")
    elif view.kind == "hbar":
        groups = d.groupby("series", sort=False) if "series" in d else [("", d)]
        for i, (name, part) in enumerate(groups):
            fig.add_bar(x=part["y"], y=part["x"], orientation="h", name=str(name), marker_color=PALETTE[i % 10],
                        hovertemplate=f"%{{y}}: {hover.replace('{y', '{x')}<extra>{name}</extra>")
        fig.update_yaxes(autorange="reversed")
        fig.update_layout(barmode="group")
    elif view.kind == "waterfall":
        fig.add_trace(go.Waterfall(
            x=d["x"], y=d["y"], measure=d["measure"], connector={"line": {"color": "#999"}},
            increasing={"marker": {"color": "#3a9a5b"}}, decreasing={"marker": {"color": "#c4474f"}},
            totals={"marker": {"color": "#2f6db5"}}, hovertemplate=f"%{{x}}: {hover}<extra></extra>",
        ))
    for name, (xs, ys) in view.marks.items():  # type: ignore[misc]
        fig.add_scatter(x=list(xs), y=list(ys), mode="lines", name=name, line={"color": "#888", "dash": "dash"})
    value_axis = _axis_format(view.unit, currency)
    if view.kind == "hbar":
        fig.update_xaxes(title=view.y_title, **value_axis)
    else:
        fig.update_yaxes(title=view.y_title, **value_axis)
        if view.x_title:
            fig.update_xaxes(title=view.x_title)
    fig.update_layout(
        height=height, margin={"l": 60, "r": 20, "t": 10, "b": 40}, template="plotly_white",
        legend={"orientation": "h", "y": -0.2}, font={"family": "system-ui, sans-serif", "size": 12},
        hoverlabel={"namelength": -1},
    )
    return fig


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON safe to put inside a ``<script>`` element."""
    import plotly.io as pio

    text = pio.to_json(fig, validate=False, pretty=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (embedded: no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


__all__ = ["figure", "figure_json", "plotly_js"]
