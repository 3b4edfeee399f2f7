"""Render report blocks into one self-contained HTML file (Jinja2, autoescaped).

plotly.js and every figure's data are embedded: the file opens with no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from cxlab.report.charts import figure, figure_json, plotly_js
from cxlab.report.views import View


@dataclass
class Table:
    """A table already formatted for people: column headers and rows of strings."""

    columns: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Block:
    """One part of a report: a heading, a takeaway, a chart, tables, paragraphs."""

    title: str
    takeaway: str = ""
    view: View | None = None
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    note: str = ""
    #: Blocks of the science report carry an anchor for the table of contents.
    anchor: str = ""
    #: Preformatted text (configuration, commands).
    code: str = ""
    #: Extra views drawn after the first.
    more: list[View] = field(default_factory=list)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cxlab.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, blocks: list[Block], *, currency: str, height: int = 320, **context: Any) -> str:
    """HTML text of ``template`` with ``blocks``; charts get ids ``chart-1``, ``chart-2``, ..."""
    charts = []
    rendered = []
    for block in blocks:
        ids = []
        for view in [v for v in (block.view, *block.more) if v is not None]:
            chart_id = f"chart-{len(charts) + 1}"
            charts.append({"id": chart_id, "spec": Markup(figure_json(figure(view, currency, height=height)))})
            ids.append({"id": chart_id, "title": view.title, "takeaway": view.takeaway, "note": view.note})
        rendered.append({"block": block, "charts": ids})
    return _env().get_template(template).render(
        blocks=rendered, charts=charts, plotly_js=Markup(plotly_js()), **context,
    )
