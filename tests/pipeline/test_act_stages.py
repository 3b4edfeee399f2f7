"""Monitoring, experiments, uplift and the plan as stages of a run (generated data with a campaign)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation

from cxlab import synth
from cxlab.pipeline import run_project
from cxlab.project import ProjectConfig


@pytest.fixture(scope="session")
def campaign_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("campaign")
    synth.generate(customers=3000, random_state=5, out=root / "data")
    project = ProjectConfig.model_validate({
        "name": "campaign", "seed": 1, "data": {"path": str(root / "data")},
        "satisfaction": {"folds": 2}, "monitor": {"metrics": ["orders", "late_delivery_rate"], "grain": "week"},
        "experiments": {"metrics": ["revenue", "conversion"]},
        "plan": {"budget": 300, "costs": {"email": 0.1, "coupon_10": 5, "free_shipping": 3, "call": 12}},
    })
    run_project(project, root / "run")
    return root / "run"


def test_every_stage_runs_on_data_with_a_campaign(campaign_run: Path) -> None:
    m = json.loads((campaign_run / "manifest.json").read_text())
    assert [s["name"] for s in m["stages"] if s["status"] == "done"] == [
        "validate", "metrics", "cohorts", "monitor", "experiments", "engagement", "satisfaction", "uplift",
        "plan", "reports"]
    for name in ("alarms", "monitor", "experiments", "effects", "qini", "plan", "plan_summary"):
        assert (campaign_run / f"{name}.parquet").is_file(), name


def test_plan_keeps_the_budget_and_reports_bound_and_gap(campaign_run: Path) -> None:
    plan = pd.read_parquet(campaign_run / "plan.parquet")
    result = json.loads((campaign_run / "results" / "plan.json").read_text())
    assert plan["cost"].sum() <= 300 + 1e-6
    assert plan["customer_id"].is_unique
    assert (plan["value"] > plan["cost"]).all()  # never an action expected to bring less than it costs
    assert result["bound"] >= result["objective"] - 1e-6 and 0 <= result["gap"] < 0.05
    assert result["cost"] == pytest.approx(plan["cost"].sum())


def test_reports_show_alarms_experiments_qini_and_the_plan(campaign_run: Path) -> None:
    exec_html = (campaign_run / "report" / "exec.html").read_text()
    assert "Recommended plan: value and cost" in exec_html and '"waterfall"' in exec_html
    assert "Tested actions" in exec_html and "Unusual changes" in exec_html
    science = (campaign_run / "report" / "science.html").read_text()
    for text in ("Qini curves on held-out customers", "Sample-ratio check", "CUPED variance reduction",
                 "certified gap", "Control charts and alarms", "Kunzel et al. 2019"):
        assert text in science, text
    deck = Presentation(str(campaign_run / "report" / "deck.pptx"))
    assert 6 <= len(deck.slides) <= 10
    assert any(s.shapes.title.text == "Recommended plan" for s in deck.slides)



def test_exec_report_with_every_section_has_no_jargon(campaign_run: Path, jargon_in: Callable) -> None:
    assert jargon_in((campaign_run / "report" / "exec.html").read_text()) == []
    deck = " ".join(shape.text_frame.text for slide in Presentation(str(campaign_run / "report" / "deck.pptx")).slides
                    for shape in slide.shapes if shape.has_text_frame)
    assert jargon_in(deck) == []
