"""The executive deck: 6 to 10 slides with titles, charts as images (matplotlib + python-pptx)."""

from __future__ import annotations

import io

import numpy as np

from cxlab.report import fmt
from cxlab.report.data import RunData
from cxlab.report.views import View, exec_views

MAX_SLIDES = 10
PALETTE = ("#2f6db5", "#e07b39", "#3a9a5b", "#c4474f", "#7a5cb0", "#8c6d46", "#d46fb0", "#6b6b6b")


def _formatter(unit: str, currency: str):  # noqa: ANN202
    from matplotlib.ticker import FuncFormatter

    if unit == "pct":
        return FuncFormatter(lambda v, _: f"{100 * v:.0f}%")
    if unit == "money":
        return FuncFormatter(lambda v, _: fmt.money(v, currency, 0))
    return FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}")


def chart_png(view: View, currency: str) -> bytes:
    """The view drawn with matplotlib, as PNG bytes (no timestamp in the file)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.6), dpi=120)
    d = view.data
    try:
        if view.kind == "bars":
            series = list(dict.fromkeys(d["series"]))
            cats = list(dict.fromkeys(d["x"]))
            width = 0.8 / len(series)
            for i, name in enumerate(series):
                part = d[d["series"] == name].set_index("x").reindex(cats)
                pos = np.arange(len(cats)) + (i - (len(series) - 1) / 2) * width
                err = None
                if "lo" in part and part["lo"].notna().any():
                    err = np.vstack([(part["y"] - part["lo"]).to_numpy(), (part["hi"] - part["y"]).to_numpy()])
                ax.bar(pos, part["y"], width, yerr=err, label=name, color=PALETTE[i % 8], capsize=3)
            ax.set_xticks(np.arange(len(cats)), cats)
        elif view.kind == "lines":
            for i, (name, part) in enumerate(d.groupby("series", sort=True)):
                ax.plot(part["x"], part["y"], marker="o", markersize=3, label=name, color=PALETTE[i % 8])
                if "lo" in part and part["lo"].notna().any():
                    ax.fill_between(part["x"], part["lo"], part["hi"], alpha=0.15, color=PALETTE[i % 8])
        elif view.kind == "hbar":
            ax.barh(d["x"], d["y"], color=PALETTE[0])
            ax.invert_yaxis()
        elif view.kind == "waterfall":
            running, bottoms, heights, colors = 0.0, [], [], []
            for y, measure in zip(d["y"], d["measure"], strict=True):
                if measure == "total":
                    bottoms.append(0.0)
                    heights.append(y)
                    colors.append(PALETTE[0])
                    running = y
                else:
                    bottoms.append(running if y >= 0 else running + y)
                    heights.append(abs(y))
                    colors.append(PALETTE[2] if y >= 0 else PALETTE[3])
                    running += y
            ax.bar(d["x"], heights, bottom=bottoms, color=colors)
        value_axis = ax.xaxis if view.kind == "hbar" else ax.yaxis
        value_axis.set_major_formatter(_formatter(view.unit, currency))
        if view.kind != "hbar" and view.y_title:
            ax.set_ylabel(view.y_title)
        if view.x_title:
            ax.set_xlabel(view.x_title)
        if view.kind in ("bars", "lines") and d["series"].nunique() > 1:
            ax.legend(frameon=False, ncols=min(4, d["series"].nunique()), loc="upper center",
                      bbox_to_anchor=(0.5, -0.12))
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(fig)


def _title(slide, text: str) -> None:  # noqa: ANN001
    slide.shapes.title.text = text


def _text(slide, lines: list[str], top: float, size: int = 18) -> None:  # noqa: ANN001
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(0.6), Inches(top), Inches(12.1), Inches(5.5 - top + 1.5))
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.text = line
        p.font.size = Pt(size)


def render_deck(run: RunData) -> bytes:
    """The deck as .pptx bytes."""
    from pptx import Presentation
    from pptx.util import Inches

    from cxlab.report.executive import kpis, period_text, plan_block, skipped_block

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title_layout, only_title = prs.slide_layouts[0], prs.slide_layouts[5]

    slide = prs.slides.add_slide(title_layout)
    _title(slide, run.title)
    slide.placeholders[1].text = f"{run.name} · {period_text(run)} · amounts in {run.currency}"

    slide = prs.slides.add_slide(only_title)
    _title(slide, "The headlines")
    _text(slide, [f"{k['label']}: {k['value']} ({k['sub']})" for k in kpis(run)], 1.6, 22)

    plan = plan_block(run)
    skipped = skipped_block(run)
    fixed = 4 + (skipped is not None)  # title, headlines, plan, data (+ not covered)
    # the story first when not every chart fits: satisfaction, its drivers, value, then the rest
    priority = ["satisfaction_csat5", "drivers", "customer_value", "trend_csat", "trend_active_customers",
                "retention", "satisfaction_nps11"]
    chosen = sorted(exec_views(run), key=lambda v: priority.index(v.key) if v.key in priority else len(priority))
    keep = {v.key for v in chosen[: MAX_SLIDES - fixed]}
    views = [v for v in exec_views(run) if v.key in keep]
    for view in views:
        slide = prs.slides.add_slide(only_title)
        _title(slide, view.title)
        _text(slide, [view.takeaway], 1.3, 16)
        slide.shapes.add_picture(io.BytesIO(chart_png(view, run.currency)), Inches(0.9), Inches(2.1),
                                 width=Inches(11.5))

    slide = prs.slides.add_slide(only_title)
    _title(slide, plan.title)
    if plan.view is not None:
        _text(slide, [plan.takeaway], 1.3, 16)
        slide.shapes.add_picture(io.BytesIO(chart_png(plan.view, run.currency)), Inches(0.9), Inches(2.1),
                                 width=Inches(11.5))
    else:
        _text(slide, [plan.takeaway, *plan.paragraphs], 1.6, 18)

    if skipped is not None:
        slide = prs.slides.add_slide(only_title)
        _title(slide, skipped.title)
        _text(slide, skipped.paragraphs, 1.6, 16)

    slide = prs.slides.add_slide(only_title)
    _title(slide, "About the data")
    tables = run.manifest.get("tables", {})
    _text(slide, [f"{name}: {fmt.number(t['rows_clean'])} rows used, {fmt.number(t['rows_rejected'])} set aside"
                  for name, t in tables.items()] + ["Every estimate comes with a 95% interval; the technical "
                                                    "report explains the methods."], 1.6, 18)
    prs.core_properties.title = run.title
    prs.core_properties.author = "cxlab"
    import datetime as dt

    fixed_time = dt.datetime(2000, 1, 1)
    prs.core_properties.created = fixed_time
    prs.core_properties.modified = fixed_time
    prs.core_properties.last_modified_by = "cxlab"
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


__all__ = ["chart_png", "render_deck"]
