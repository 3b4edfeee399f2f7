"""The project file: validation names the key and the allowed values, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.exceptions import InputDataError
from cxlab.project import ProjectConfig, detect_dataset, load_project, project_template

DATA = Path(__file__).parent / "data"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "exports").mkdir(exist_ok=True)
    path = tmp_path / "project.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "words"), [
    ("data: {path: exports}\nsatisfaction: {methd: aipw}\n",
     ["satisfaction.methd", "unknown key", "method", "target", "folds"]),
    ("data: {path: exports}\nrepotrs: {}\n", ["repotrs", "unknown key", "reports", "engagement"]),
    ("data: {path: exports}\nengine: sqlite\n", ["engine", "'duckdb'", "'polars'", "'spark'", "sqlite"]),
    ("data: {path: exports}\nseed: lots\n", ["seed", "integer", "lots"]),
    ("data: {path: exports}\nsatisfaction: {method: magic}\n", ["satisfaction.method", "'aipw'", "'poststrat'"]),
    ("data: {path: exports}\nengagement: {horizon_weeks: 0}\n", ["engagement.horizon_weeks", "greater than or equal"]),
    ("data: {path: exports, tables: {orders: {colums: {}}}}\n", ["data.tables.orders.colums", "columns"]),
    ("data: {path: missing_folder}\n", ["data.path", "missing_folder", "does not exist"]),
    ("data: {tables: {orders: {path: nowhere.csv}}}\n", ["data.tables.orders.path", "nowhere.csv"]),
    ("data: {}\n", ["data.path", "data.tables.NAME.path"]),
    ("- just\n- a list\n", ["mapping"]),
])
def test_bad_project_file_names_the_key(tmp_path: Path, text: str, words: list[str]) -> None:
    with pytest.raises(InputDataError) as err:
        load_project(write(tmp_path, text))
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("text", [
    "data: {path: exports}\nplan: {budget: -5}\n",
    "data: {path: exports}\nmetrics: {grain: fortnight}\n",
    "data: {path: missing}\n",
])
def test_cli_exits_2_before_any_work(tmp_path: Path, text: str) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(write(tmp_path, text)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


def test_relative_paths_start_at_the_project_file(tmp_path: Path) -> None:
    config = load_project(write(tmp_path, "data:\n  path: exports\nmetrics: {definitions: m.yaml}\n")
                          if (tmp_path / "m.yaml").write_text("metrics: []\n") else tmp_path)
    assert config.data.path == (tmp_path / "exports").resolve()
    assert config.metrics.definitions == (tmp_path / "m.yaml").resolve()


def test_template_is_a_valid_project_with_every_section() -> None:
    raw = yaml.safe_load(project_template("exports", currency="GBP"))
    config = ProjectConfig.model_validate(raw)
    assert config.data.reporting_currency == "GBP"
    assert set(raw) == set(ProjectConfig.model_fields)


def test_detect_dataset_finds_tables_and_the_one_currency() -> None:
    tables, currency = detect_dataset(DATA / "orders_only")
    assert tables == ["customers", "orders"]
    assert currency == "USD"  # the customers' one marketplace (US); orders have no currency column


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text("name: mine\n")
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "project.yaml").read_text() == "name: mine\n"
