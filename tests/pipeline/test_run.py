"""``cxlab run``: the run folder, its manifest, skipped stages, failures, determinism."""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation

from cxlab.exceptions import InputDataError
from cxlab.pipeline import STAGES, StageFailed, run_project
from cxlab.pipeline.registry import Stage
from cxlab.project import load_project

def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def test_hand_written_project_maps_other_column_names_end_to_end(shop_run: Path) -> None:
    m = manifest(shop_run)
    assert m["status"] == "done"
    registered = {s.name for s in STAGES}
    assert [s["name"] for s in m["stages"] if s["status"] == "done"] == [n for n in (
        "validate", "metrics", "cohorts", "monitor", "engagement", "satisfaction", "reports") if n in registered]
    for name in ("metrics", "metrics_total", "cohorts", "clv", "population", "satisfaction", "drivers"):
        assert len(pd.read_parquet(shop_run / f"{name}.parquet")) > 0, name
    clv = pd.read_parquet(shop_run / "clv.parquet")
    assert clv["customer_id"].str.startswith("C").all() and clv["p_alive"].between(0, 1).all()
    from cxlab.bundle import read_bundle
    from cxlab.clv.persist import load_clv

    assert read_bundle(shop_run / "models" / "satisfaction").kind == "satisfaction"
    assert read_bundle(shop_run / "models" / "clv").kind == "clv.grouped"
    load_clv(shop_run / "models" / "clv")  # verified and loadable: 'cxlab score' can use it
    for report in ("exec.html", "science.html", "deck.pptx"):
        assert (shop_run / "report" / report).stat().st_size > 10_000
    assert not [p for p in shop_run.rglob("*") if p.name.startswith(".")]  # no staging left


def test_manifest_records_inputs_rows_stages_and_seeds(shop_run: Path, shop_dir: Path) -> None:
    m = manifest(shop_run)
    assert m["config"]["data"]["tables"]["orders"]["columns"]["order_id"] == "InvoiceNo"
    assert m["seeds"]["project"] == 3 and m["versions"]["cxlab"] and m["versions"]["duckdb"]
    for name, t in m["tables"].items():
        assert t["rows_in"] == t["rows_clean"] + t["rows_rejected"], name
    orders = m["tables"]["orders"]
    assert orders["rows_in"] == 4552  # the CSV's data rows
    assert orders["reasons"] == {"duplicate_key:order_id": 2, "negative_amount": 2, "orphan_customer_id": 1}
    assert m["tables"]["surveys"]["reasons"]["score_out_of_scale"] == 1
    rejects = pd.read_parquet(shop_run / "rejects" / "orders.parquet")
    assert set(rejects["reject_reason"]) == set(orders["reasons"])
    import hashlib

    digest = hashlib.sha256((shop_dir / "invoices.csv").read_bytes()).hexdigest()
    assert m["inputs"]["orders"]["sha256"] == digest
    for s in m["stages"]:
        if s["status"] == "done":
            assert s["seconds"] >= 0 and s["peak_memory_mb"] > 0
        else:
            assert s["status"] == "skipped" and s["reason"] and s["enable"]


def test_orders_only_data_runs_what_it_can_and_says_why_not(orders_only_run: Path) -> None:
    m = manifest(orders_only_run)
    stages = {s["name"]: s for s in m["stages"]}
    assert m["config"]["data"]["reporting_currency"] == "USD"  # written by cxlab init
    for name in ("validate", "metrics", "cohorts", "engagement", "reports"):
        assert stages[name]["status"] == "done", name
    sat = stages["satisfaction"]
    assert sat["status"] == "skipped" and sat["missing_tables"] == ["surveys"]
    assert "surveys" in sat["reason"] and "surveys" in sat["enable"]
    exec_html = (orders_only_run / "report" / "exec.html").read_text()
    assert "Not covered in this report" in exec_html
    assert "the data has no surveys (invitations and answers) table" in exec_html
    science = (orders_only_run / "report" / "science.html").read_text()
    assert "add a surveys table" in science
    assert not (orders_only_run / "population.parquet").exists()


@pytest.mark.parametrize("run_name", ["shop_run", "orders_only_run"])
def test_exec_report_has_no_jargon(run_name: str, request: pytest.FixtureRequest, jargon_in: Callable) -> None:
    run = request.getfixturevalue(run_name)
    assert jargon_in((run / "report" / "exec.html").read_text()) == []
    deck = " ".join(shape.text_frame.text for slide in Presentation(str(run / "report" / "deck.pptx")).slides
                    for shape in slide.shapes if shape.has_text_frame)
    assert jargon_in(deck) == []


def test_jargon_check_can_fail(jargon_in: Callable) -> None:
    assert jargon_in("<p>Corrected with AIPW</p><script>var SHAP=1</script>") == ["AIPW"]


def test_exec_report_formats_numbers_for_people(shop_run: Path) -> None:
    text = re.sub(r"<script>.*?</script>", " ", (shop_run / "report" / "exec.html").read_text(), flags=re.S)
    assert "£" in text and "%" in text
    assert not re.search(r"\b0\.\d{4,}\b", re.sub(r'<script type="application/json".*?</script>', "", text,
                                                  flags=re.S))
    assert text.count('class="takeaway"') >= 5


@pytest.mark.parametrize("run_name", ["shop_run", "orders_only_run"])
def test_deck_has_6_to_10_slides_with_titles(run_name: str, request: pytest.FixtureRequest) -> None:
    deck = Presentation(str(request.getfixturevalue(run_name) / "report" / "deck.pptx"))
    assert 6 <= len(deck.slides) <= 10
    for slide in deck.slides:
        assert slide.shapes.title is not None and slide.shapes.title.text.strip()
    pictures = [s for slide in deck.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) >= 2


def test_science_report_sections(shop_run: Path) -> None:
    html = (shop_run / "report" / "science.html").read_text()
    for heading in ("Data and data quality", "Metric definitions", "Methods and references",
                    "Satisfaction model diagnostics", "Non-response correction", "Engagement models",
                    "Cumulative repeat purchases", "Control charts and alarms", "Experiments",
                    "Uplift of retention actions", "Optimization: plan, bound and gap", "How to reproduce",
                    "Effective n", "Fader, Hardie &amp; Lee 2005"):
        assert heading in html, heading


def _same(a: object, b: object, where: str) -> None:
    """Equal, numbers to 1e-9 relative: DuckDB sums floats on several threads, in any order."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), where
    else:
        assert a == b, where


def _rounded(html: str) -> str:
    return re.sub(r"\d+\.\d{6,}(e[-+]\d+)?", lambda m: f"{float(m.group(0)):.6g}", html)


def test_same_inputs_and_seed_give_the_same_outputs(shop_run: Path, shop_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run_project(load_project(shop_dir / "project.yaml"), again)
    files = sorted(p.relative_to(shop_run) for p in shop_run.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        a, b = shop_run / rel, again / rel
        if rel.suffix == ".parquet":
            left, right = pd.read_parquet(a), pd.read_parquet(b)
            if rel.parts[0] == "rejects":  # set aside rows come in the engine's order; the set is the same
                left, right = (f.sort_values(list(f.columns)).reset_index(drop=True) for f in (left, right))
            pd.testing.assert_frame_equal(left, right, rtol=1e-9)
        elif rel.name in ("model.json", "SHA256SUMS"):  # bundles record when they were written
            continue
        elif rel.suffix == ".json" and rel.name != "manifest.json":
            _same(json.loads(a.read_text()), json.loads(b.read_text()), str(rel))
        elif rel.name == "exec.html":
            assert _rounded(a.read_text()) == _rounded(b.read_text())
        elif rel.suffix == ".pptx":
            texts = [[[s.text_frame.text for s in slide.shapes if s.has_text_frame]
                      for slide in Presentation(str(p)).slides] for p in (a, b)]
            assert texts[0] == texts[1]
        elif rel.suffix in (".txt", ".csv"):
            assert a.read_bytes() == b.read_bytes(), rel
    first, second = manifest(shop_run), manifest(again)
    assert first["inputs"] == second["inputs"] and first["tables"] == second["tables"]
    assert first["config"] == second["config"]


def test_a_failing_stage_leaves_the_stages_done_and_a_clear_message(shop_dir: Path, tmp_path: Path) -> None:
    def broken(ctx: object) -> dict:
        (ctx.out / "half.parquet").write_bytes(b"PAR1 half")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    validate = next(s for s in STAGES if s.name == "validate")
    out = tmp_path / "run"
    with pytest.raises(StageFailed) as err:
        run_project(load_project(shop_dir / "project.yaml"), out, stages=[validate, Stage("boom", "Boom", broken)])
    assert "stage 'boom' failed: disk on fire" in str(err.value) and "Stages done: validate" in str(err.value)
    m = manifest(out)
    assert m["status"] == "failed"
    assert [(s["name"], s["status"]) for s in m["stages"]] == [("validate", "done"), ("boom", "failed")]
    assert (out / "validation.json").is_file() and (out / "rejects" / "orders.parquet").is_file()
    assert not (out / "half.parquet").exists()
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]


def test_unreadable_data_writes_nothing(shop_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "shop"
    shutil.copytree(shop_dir, broken)
    (broken / "invoices.csv").write_text("InvoiceNo,CustID\nINV1,C1\n")
    with pytest.raises(InputDataError, match="InvoiceDate|order_ts"):
        run_project(load_project(broken / "project.yaml"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_report_command_renders_each_audience_and_format(shop_run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cxlab.cli import app

    runner = CliRunner()
    science = tmp_path / "paper.html"
    result = runner.invoke(app, ["report", str(shop_run), "--audience", "science", "--out", str(science)])
    assert result.exit_code == 0, result.output
    assert str(science) in result.output and "How to reproduce" in science.read_text()
    deck = tmp_path / "board.pptx"
    assert runner.invoke(app, ["report", str(shop_run), "--format", "pptx", "--out", str(deck)]).exit_code == 0
    assert 6 <= len(Presentation(str(deck)).slides) <= 10
    bad = runner.invoke(app, ["report", str(shop_run), "--audience", "science", "--format", "pptx",
                              "--out", str(tmp_path / "x.pptx")])
    assert bad.exit_code == 2 and "exec audience" in bad.output
    not_a_run = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "y.html")])
    assert not_a_run.exit_code == 2 and "manifest.json" in not_a_run.output


def test_rejects_folder_is_there_when_nothing_was_rejected(orders_only_run: Path) -> None:
    m = manifest(orders_only_run)
    assert all(t["rows_rejected"] == 0 for t in m["tables"].values())
    assert (orders_only_run / "rejects").is_dir() and not list((orders_only_run / "rejects").iterdir())
