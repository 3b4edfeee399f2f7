"""``cxlab clv fit|score`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.bundle import group_dir, read_bundle
from cxlab.cli import app
from cxlab.synth import generate

runner = CliRunner()
CDNOW = Path(__file__).parent.parent / "data" / "cdnow" / "cdnow_customers_summary.csv"


def test_fit_on_cdnow_summary_reproduces_the_paper(tmp_path: Path) -> None:
    result = runner.invoke(app, ["clv", "fit", "--summary", str(CDNOW), "--model", "bgnbd", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    params = json.loads((tmp_path / "params.json").read_text())
    assert set(params) >= {"model", "params", "log_likelihood", "standard_errors", "n_customers"}
    assert params["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert params["params"]["r"] == pytest.approx(0.2426, rel=5e-3)
    assert params["n_customers"] == 2357
    assert read_bundle(tmp_path, kind="clv.betageo").metadata["training_data"]["rows"] == 2357


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clv") / "data"
    generate(customers=3000, random_state=11, out=out)
    return out


def test_fit_by_marketplace_with_holdout_then_score(data: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        ["clv", "fit", str(data), "--observation-end", "2025-12-31", "--calibration-end", "2025-06-30",
         "--by", "marketplace", "--out", str(model)],
    )
    assert result.exit_code == 0, result.output
    bundle = read_bundle(model, kind="clv.grouped")
    top = bundle.metadata
    assert top["by"] == "marketplace" and len(top["groups"]) == 7
    assert {g["value"]: g["dir"] for g in top["groups"]}["DE"] == group_dir("DE")
    assert sorted(p.name for p in (model / "groups").iterdir()) == sorted(group_dir(g["value"])[7:] for g in top["groups"])
    holdout = bundle.json(f"{group_dir('DE')}/holdout.json")
    assert holdout["actual_total"] > 0
    assert abs(holdout["predicted_total"] / holdout["actual_total"] - 1) < 0.35
    assert [row["label"] for row in holdout["by_frequency"]][-1] == "7+"

    scores = tmp_path / "scores.parquet"
    result = runner.invoke(app, ["clv", "score", str(data), "--model", str(model), "--horizon", "52", "--out", str(scores)])
    assert result.exit_code == 0, result.output
    df = pd.read_parquet(scores)
    assert list(df.columns) == ["customer_id", "marketplace", "p_alive", "expected_purchases", "expected_spend", "clv"]
    assert df["customer_id"].is_unique
    assert df["p_alive"].between(0, 1).all() and (df["clv"] >= 0).all()


def test_fit_needs_observation_end(data: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["clv", "fit", str(data), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--observation-end" in result.stderr


def test_degenerate_fit_is_written_with_a_plain_warning(tmp_path: Path) -> None:
    # a daily-grain summary where everyone buys every day and nobody leaves
    n = 200
    summary = pd.DataFrame({"frequency": [60] * n, "recency": [60.0] * n, "T": [61.0 + (i % 3) for i in range(n)]})
    summary.loc[::2, "frequency"] = 59
    path = tmp_path / "daily.csv"
    summary.to_csv(path, index=False)
    result = runner.invoke(
        app, ["clv", "fit", "--summary", str(path), "--time-unit", "D", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    params = json.loads((tmp_path / "m" / "params.json").read_text())
    assert params["time_unit"] == "D"
    assert params["diagnostics"] and "coarser time unit" in params["diagnostics"][-1]
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "coarser time unit" in warned[0]
    assert "FitWarning" not in result.stderr and "Traceback" not in result.output
