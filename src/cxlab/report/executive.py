"""The executive report: one or two screens, charts first, plain words."""

from __future__ import annotations

from typing import Any

import numpy as np

from cxlab.report import fmt
from cxlab.report.data import RunData
from cxlab.report.html import Block, render
from cxlab.report.views import View, exec_views


def _weighted(pop: Any, scale: str) -> float | None:
    rows = pop[(pop["scale"] == scale) & (pop["method"] != "naive") & pop["estimate"].notna()]
    if rows.empty:
        return None
    return float(np.average(rows["estimate"], weights=rows["n_target"]))


def kpis(run: RunData) -> list[dict[str, str]]:
    """Headline figures: customers, satisfaction, engagement, value, plan."""
    out = []
    data = run.results.get("data", {})
    totals = data.get("totals")
    if totals:
        out.append({"label": "Customers", "value": fmt.number(totals["customers"]),
                    "sub": f"{fmt.number(totals['orders'])} orders, {fmt.money(totals['revenue'], run.currency)}"})
    pop = run.frame("population")
    if pop is not None:
        csat = _weighted(pop, "csat5")
        if csat is not None:
            out.append({"label": "Satisfied customers", "value": fmt.pct(csat),
                        "sub": "all customers, not only those who answer surveys"})
        nps = _weighted(pop, "nps11")
        if nps is not None:
            out.append({"label": "Net Promoter Score", "value": fmt.number(nps, 0),
                        "sub": "from -100 to +100, all customers"})
    clv = run.frame("clv")
    eng = run.results.get("engagement")
    if clv is not None and eng is not None and not clv.empty:
        out.append({"label": "Customers likely to buy again", "value": fmt.pct(clv["p_alive"].mean(), 0),
                    "sub": f"of {fmt.number(len(clv))} who have ordered"})
        out.append({"label": f"Expected spend, next {eng['horizon_weeks']} weeks",
                    "value": fmt.money(clv["clv"].sum(), run.currency), "sub": "from today's customers"})
    plan = run.results.get("plan")
    if plan:
        out.append({"label": "Plan return on spend", "value": fmt.pct(plan.get("roi"), 0),
                    "sub": f"{fmt.money(plan.get('value'), run.currency)} for {fmt.money(plan.get('cost'), run.currency)}"})
    return out


def plan_block(run: RunData) -> Block:
    """The recommended plan, or what would make one."""
    from cxlab.report import sections

    built = sections.exec_plan(run)
    if built is not None:
        return built
    why = [s for s in run.skipped() if s["name"] in ("uplift", "plan")]
    reason = (f"{why[0]['reason'][0].upper()}{why[0]['reason'][1:]}; to get one: {why[0]['enable']}."
              if why else "This run did not build a plan.")
    return Block("Recommended plan", takeaway="No action plan in this run.", paragraphs=[
        reason,
        "A plan needs a randomized campaign log (a treatments table: who was offered which action, "
        "chosen at random) and a budget with the cost of each action in the project file (plan.budget, plan.costs).",
    ])


def skipped_block(run: RunData) -> Block | None:
    skipped = run.skipped()
    if not skipped:
        return None
    lines = [f"{s['title']}: not done, because {s['reason']}. To include it: {s['enable']}." for s in skipped]
    return Block("Not covered in this report", paragraphs=lines)


def exec_blocks(run: RunData) -> list[Block]:
    from cxlab.report import sections

    views: list[View] = exec_views(run)
    blocks = [Block(v.title, takeaway=v.takeaway, view=v) for v in views]
    blocks += sections.exec_extra(run)
    blocks.append(plan_block(run))
    skipped = skipped_block(run)
    if skipped is not None:
        blocks.append(skipped)
    return blocks


def period_text(run: RunData) -> str:
    eng = run.results.get("engagement")
    metrics = run.frame("metrics")
    if metrics is not None and metrics["period_start"].notna().any():
        periods = sorted(metrics["period_start"].dropna().unique())
        import pandas as pd

        return f"{pd.Timestamp(periods[0]):%B %Y} to {pd.Timestamp(periods[-1]):%B %Y}"
    if eng:
        return f"up to {eng['observation_end']}"
    return ""


def render_exec(run: RunData) -> str:
    """HTML text of the executive report."""
    when = period_text(run)
    subtitle = f"{run.name}" + (f" · {when}" if when else "") + f" · amounts in {run.currency}"
    return render("exec.html.j2", exec_blocks(run), currency=run.currency, height=240,
                  title=run.title, subtitle=subtitle, kpis=kpis(run),
                  footer="Figures come with 95% intervals where they are estimates. "
                         "The companion technical report explains how each was obtained.")
