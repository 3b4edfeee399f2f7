"""Report sections for monitoring, experiments, uplift and the plan.

Each function reads the results those stages wrote in the run folder; when a
stage did not run, the section says why and what would enable it.
"""

from __future__ import annotations

from cxlab.report.data import RunData
from cxlab.report.html import Block

#: Stage -> (section title, anchor, what enables it in plain words).
OPTIONAL = {
    "monitor": ("Control charts and alarms", "monitor",
                "the monitor stage with monitor.metrics in the project file"),
    "experiments": ("Experiments", "experiments",
                    "a treatments table (randomized assignments) and the experiments stage"),
    "uplift": ("Uplift of retention actions", "uplift",
               "a treatments table (a randomized campaign log) and the uplift stage"),
    "plan": ("Optimization: plan, bound and gap", "plan",
             "uplift results and a budget with action costs (plan.budget, plan.costs)"),
}


#: Core stages whose science sections say why they are absent.
CORE = {
    "satisfaction": ("Satisfaction", "satisfaction", "a surveys table (invitations, with a score when answered)"),
    "engagement": ("Engagement models", "engagement", "an orders table"),
}


def missing(run: RunData, name: str) -> Block:
    """A section saying why stage ``name`` has no results and what would enable it."""
    title, anchor, needs = {**OPTIONAL, **CORE}[name]
    record = run.stage(name)
    if record is None:
        text = f"Not part of this run. It needs {needs}."
    elif record["status"] == "skipped":
        text = f"Skipped: {record['reason']}. To enable: {record['enable']}."
    else:
        text = f"Failed: {record.get('error', '')}."
    return Block(title, anchor=anchor, paragraphs=[text])


def science_extra(run: RunData) -> list[Block]:
    """Science sections of the optional stages, in run order."""
    return [missing(run, name) for name in OPTIONAL]


def science_references(run: RunData) -> list[str]:
    """References of the optional stages that ran."""
    return []


def exec_extra(run: RunData) -> list[Block]:
    """Executive blocks of the optional stages (alarms, experiment results)."""
    return []


def exec_plan(run: RunData) -> Block | None:
    """The executive plan block (a waterfall of value and cost), when the run has a plan."""
    return None
