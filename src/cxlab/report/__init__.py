"""Self-contained HTML reports rendered from computed results (never queries)."""

from __future__ import annotations

from cxlab.report.html import Section, render_html

__all__ = ["Section", "render_html"]
