"""Reports from a run folder: ``exec.html``, ``science.html`` and ``deck.pptx``.

Reports read only the run folder (manifest, Parquet outputs, ``results/*.json``);
they never query data. HTML reports are single self-contained files (plotly.js
and every chart's data embedded, Jinja2 templates with autoescape); the deck is
a python-pptx file with matplotlib charts as images.

>>> from cxlab.report import REPORTS
>>> sorted(REPORTS)
['deck.pptx', 'exec.html', 'science.html']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from cxlab._fs import atomic_write_bytes
from cxlab.exceptions import InputDataError
from cxlab.report.data import RunData, load_run

Audience = Literal["exec", "science"]
Format = Literal["html", "pptx"]

#: File name of each report in ``RUN_DIR/report/``, by (audience, format).
REPORTS = {"exec.html": ("exec", "html"), "science.html": ("science", "html"), "deck.pptx": ("exec", "pptx")}


def render_report(run: RunData, audience: Audience = "exec", fmt: Format = "html") -> bytes:
    """One report as bytes: ``exec`` or ``science`` in ``html``; ``exec`` in ``pptx``."""
    if audience not in ("exec", "science"):
        raise InputDataError(f"report: audience must be exec or science; got {audience!r}.")
    if fmt not in ("html", "pptx"):
        raise InputDataError(f"report: format must be html or pptx; got {fmt!r}.")
    if fmt == "pptx":
        if audience != "exec":
            raise InputDataError("report: the deck (pptx) is for the exec audience; use --format html for science.")
        from cxlab.report.deck import render_deck

        return render_deck(run)
    if audience == "exec":
        from cxlab.report.executive import render_exec

        return render_exec(run).encode("utf-8")
    from cxlab.report.science import render_science

    return render_science(run).encode("utf-8")


def write_report(run_dir: Path, out: Path, *, audience: Audience = "exec", fmt: Format = "html") -> Path:
    """Render one report of the run folder ``run_dir`` into ``out`` (atomically)."""
    return atomic_write_bytes(Path(out), render_report(load_run(Path(run_dir)), audience, fmt))


def write_reports(run_dir: Path, out_dir: Path, *, manifest: dict[str, Any] | None = None,
                  audiences: tuple[str, ...] = ("exec", "science", "deck")) -> list[Path]:
    """Write the reports the project asks for into ``out_dir``; return their paths."""
    run = load_run(Path(run_dir), manifest)
    written = []
    for name, (audience, fmt) in REPORTS.items():
        key = "deck" if fmt == "pptx" else audience
        if key in audiences:
            written.append(atomic_write_bytes(Path(out_dir) / name, render_report(run, audience, fmt)))  # type: ignore[arg-type]
    return written


__all__ = ["REPORTS", "RunData", "load_run", "render_report", "write_report", "write_reports"]
