"""Render sections of results into one self-contained HTML file (Jinja2, autoescaped)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from cxlab import __version__


@dataclass
class Section:
    """One part of a report: a title, a lead sentence, tables and notes.

    ``tables`` holds ``(caption, pandas.DataFrame)`` pairs; numbers are formatted
    for reading, not for re-use (the JSON and Parquet outputs are for that).
    """

    title: str
    lead: str = ""
    tables: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value)


def render_html(title: str, sections: list[Section], path: Path, *, subtitle: str = "") -> Path:
    """Write the report to ``path`` atomically and return the path."""
    from cxlab.io import write_text_atomic

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cxlab.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _fmt
    html = env.get_template("report.html.j2").render(
        title=title,
        subtitle=subtitle,
        sections=[
            {
                "title": s.title,
                "lead": s.lead,
                "notes": s.notes,
                "tables": [
                    {"caption": caption, "columns": list(df.columns), "rows": df.itertuples(index=False)}
                    for caption, df in s.tables
                ],
            }
            for s in sections
        ],
        version=__version__,
    )
    return write_text_atomic(path, html)
