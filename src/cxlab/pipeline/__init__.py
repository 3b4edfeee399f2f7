"""Whole flows: a project file -> a run folder (``cxlab run``), and the demo.

>>> from cxlab.pipeline import STAGES
>>> [s.name for s in STAGES][:3]
['validate', 'metrics', 'cohorts']
"""

from __future__ import annotations

from pathlib import Path

from cxlab.pipeline import stages as _stages  # noqa: F401  (registers the stages)
from cxlab.pipeline import stages_act as _stages_act  # noqa: F401
from cxlab.pipeline.registry import STAGES, Context, SkipStage, Stage, stage
from cxlab.pipeline.runner import Progress, StageFailed, run_project

__all__ = ["STAGES", "Context", "Progress", "SkipStage", "Stage", "StageFailed", "run_demo", "run_project", "stage"]


def run_demo(*, customers: int, out: Path, engine: str = "duckdb", seed: int = 7,
             progress: Progress | None = None) -> Path:
    """Generate ``customers`` customers into ``out/data``, write ``out/project.yaml``,
    run it into ``out/run`` and return the path of the executive report."""
    from cxlab import synth
    from cxlab._fs import atomic_write_text
    from cxlab.project import load_project, project_template

    progress = progress or Progress()
    out = Path(out)
    data = out / "data"
    progress.say(f"generating {customers:,} customers into {data}")
    synth.generate(customers=customers, random_state=seed, out=data, overwrite=True)
    text = project_template("data", currency="EUR").replace("name: my project", "name: cxlab demo")
    text = text.replace("seed: 0 ", f"seed: {seed} ").replace("engine: duckdb ", f"engine: {engine} ")
    text = text.replace("  # budget: 50000", "  budget: 50000").replace(
        "  # costs: {email: 0.1, coupon_10: 5, free_shipping: 3, call: 12}", "  costs: {email: 0.1, coupon_10: 5, free_shipping: 3, call: 12}")
    project_file = atomic_write_text(out / "project.yaml", text)
    project = load_project(project_file)
    run_project(project, out / "run", project_file=project_file, progress=progress)
    return out / "run" / "report" / "exec.html"
