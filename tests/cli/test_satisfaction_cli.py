"""``cxlab satisfaction fit|estimate|drivers`` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.synth import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sat") / "data"
    generate(customers=4000, random_state=5, out=out)
    return out


def test_estimate_columns_and_ranges(data: Path) -> None:
    result = runner.invoke(app, ["satisfaction", "estimate", str(data), "--method", "ipw", "--by", "marketplace", "--format", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    assert list(df.columns)[:9] == ["marketplace", "scale", "method", "estimate", "ci_low", "ci_high", "n_invited", "n_responded", "effective_n"]
    csat = df[df["scale"] == "csat5"]
    nps = df[df["scale"] == "nps11"]
    assert csat["estimate"].between(0, 1).all() and nps["estimate"].between(-100, 100).all()
    assert (df["ci_low"] <= df["estimate"]).all() and (df["estimate"] <= df["ci_high"]).all()
    assert (df["n_responded"] <= df["n_invited"]).all()


def test_corrected_estimate_is_closer_to_the_truth_than_naive(data: Path) -> None:
    truth = json.loads((data / "truth" / "summary.json").read_text())["csat_invited"]["overall"]
    rows = {}
    for method in ("naive", "aipw"):
        result = runner.invoke(app, ["satisfaction", "estimate", str(data), "--method", method, "--format", "json"])
        assert result.exit_code == 0, result.output
        frame = pd.DataFrame(json.loads(result.stdout))
        rows[method] = frame.loc[frame["scale"] == "csat5", "estimate"].item()
    assert abs(rows["aipw"] - truth) < abs(rows["naive"] - truth)


def test_fit_then_drivers(data: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    result = runner.invoke(app, ["satisfaction", "fit", str(data), "--out", str(model)])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((model / "evaluation.json").read_text())
    assert evaluation["scales"]["csat5"]["auc"] > 0.6
    assert not list(model.rglob("*.pkl")) and not list(model.rglob("*.pickle"))
    result = runner.invoke(app, ["satisfaction", "drivers", str(model), "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "points of CSAT" in result.stdout
    result = runner.invoke(app, ["satisfaction", "drivers", str(model), "--by", "marketplace", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "marketplace" in pd.read_csv(io.StringIO(result.stdout)).columns


def test_bad_method_lists_choices(data: Path) -> None:
    result = runner.invoke(app, ["satisfaction", "estimate", str(data), "--method", "magic"])
    assert result.exit_code == 2
    assert "aipw" in result.output


def test_balance_improves_after_weighting(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "balance.csv"
    result = runner.invoke(app, ["satisfaction", "estimate", str(data), "--method", "ipw", "--balance", str(target)])
    assert result.exit_code == 0, result.output
    smd = pd.read_csv(target)
    assert {"scale", "covariate", "smd_before", "smd_after"} <= set(smd.columns)
    for _, part in smd.groupby("scale"):
        assert part["smd_after"].abs().max() < part["smd_before"].abs().max()
