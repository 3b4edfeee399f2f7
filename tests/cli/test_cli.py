"""The command line as a user meets it: exit codes, outputs, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlab import __version__
from cxlab.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"cxlab {__version__}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "data"
    result = runner.invoke(app, ["generate", "--customers", "3000", "--seed", "7", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_is_deterministic_and_complete(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = runner.invoke(app, ["generate", "--customers", "3000", "--seed", "7", "--out", str(again)])
    assert result.exit_code == 0
    assert _files(generated) == _files(again)
    names = {p.name.removesuffix(".parquet") for p in generated.iterdir()}
    assert {"customers", "orders", "events", "surveys", "contacts", "treatments", "fx", "truth"} <= names
    assert {p.name for p in (generated / "truth").iterdir()} >= {"summary.json", "customers.parquet", "surveys.parquet"}


def test_generated_data_validates_without_rejects(generated: Path, tmp_path: Path, engine_name: str) -> None:
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", str(generated), "--out", str(out), "--engine", engine_name])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "validation.json").read_text())
    assert report["rows_rejected"] == 0
    assert report["tables"]["customers"]["rows_in"] == 3000
    assert not (out / "rejects").exists() or not any((out / "rejects").iterdir())


def test_validate_reports_rejects_on_stderr_and_exits_0(generated: Path, tmp_path: Path) -> None:
    import shutil

    import pandas as pd

    data = tmp_path / "data"
    shutil.copytree(generated, data)
    part = next((data / "orders").glob("*.parquet"))
    orders = pd.read_parquet(part)
    orders.loc[orders.index[:3], "amount"] = -1.0
    orders.to_parquet(part, index=False)
    result = runner.invoke(app, ["validate", str(data), "--out", str(tmp_path / "v")])
    assert result.exit_code == 0
    assert "set aside" in result.stderr and "rejects" in result.stderr
    report = json.loads((tmp_path / "v" / "validation.json").read_text())
    assert report["tables"]["orders"]["reasons"]["negative_amount"] == 3


def test_missing_dataset_is_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.stderr.split())


def test_bad_engine_lists_choices(generated: Path) -> None:
    result = runner.invoke(app, ["validate", str(generated), "--engine", "pandas"])
    assert result.exit_code == 2
    assert "duckdb" in result.output and "spark" in result.output


def test_demo_writes_report_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--customers", "2000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = Path(result.stdout.strip().splitlines()[-1])
    assert report == out / "run" / "report" / "exec.html" and report.exists()
    html = report.read_text()
    assert "<script src=\"http" not in html
    manifest = json.loads((out / "run" / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["tables"]["customers"]["rows_in"] == 2000
    assert (out / "project.yaml").is_file() and (out / "run" / "report" / "deck.pptx").is_file()
    from cxlab.clv.persist import load_clv

    model = load_clv(out / "run" / "models" / "clv")  # the demo's CLV model is the same bundle 'clv fit' writes
    assert model.by == "marketplace" and len(model.parts) > 1
