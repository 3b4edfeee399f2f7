"""``cxlab metrics`` and ``cxlab cohorts`` from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.synth import generate

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("m") / "data"
    generate(customers=2000, random_state=3, out=out)
    return out


def test_metrics_csv_has_the_tidy_columns(data: Path) -> None:
    result = runner.invoke(app, ["metrics", str(data), "-m", "csat", "-m", "revenue", "--by", "marketplace", "--grain", "quarter", "--format", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    assert list(df.columns) == ["metric", "period_start", "marketplace", "value", "ci_low", "ci_high", "n", "numerator", "denominator"]
    assert set(df["metric"]) == {"csat", "revenue"}
    csat = df[df["metric"] == "csat"]
    assert csat.loc[csat["n"] == 1, "ci_low"].isna().all()  # one customer: no interval
    csat = csat[csat["n"] >= 2]
    assert ((csat["ci_low"] <= csat["value"]) & (csat["value"] <= csat["ci_high"])).all()
    assert df.loc[df["metric"] == "revenue", "ci_low"].isna().all()


def test_metrics_parquet_needs_out_and_writes_file(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "m.parquet"
    result = runner.invoke(app, ["metrics", str(data), "-m", "orders", "--grain", "all", "--format", "parquet", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(target)["value"].iloc[0] > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-m", "happiness"], "valid metrics: csat"),
        (["--grain", "fortnight"], "day, week, month, quarter, year, all"),
        (["--by", "shoe_size"], "valid choices"),
    ],
)
def test_bad_values_exit_2_and_list_the_choices(data: Path, args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["metrics", str(data), *args])
    assert result.exit_code == 2
    assert needle in " ".join(result.stderr.split())


def test_bad_spec_fails_before_reading_data(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("metrics:\n  - name: big_orders\n    type: proportion\n    table: orders\n")
    result = runner.invoke(app, ["metrics", str(tmp_path / "no-such-data"), "--spec", str(spec)])
    assert result.exit_code == 2
    assert "big_orders" in result.stderr


def test_list_shows_definitions() -> None:
    result = runner.invoke(app, ["metrics", "--list", "--format", "csv"])
    assert result.exit_code == 0
    listing = pd.read_csv(io.StringIO(result.stdout))
    assert {"csat", "nps", "stickiness"} <= set(listing["metric"])


def test_cohorts(data: Path) -> None:
    result = runner.invoke(app, ["cohorts", str(data), "--grain", "month", "--format", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    first = df[df["period_index"] == 0]
    assert (first["retention_rate"] == 1.0).all()
    assert (df["retained"] <= df["cohort_size"]).all()


def test_sampling_view_gives_totals_an_interval(data: Path) -> None:
    args = ["metrics", str(data), "-m", "revenue", "-m", "orders", "--grain", "all", "--format", "csv"]
    plain = pd.read_csv(io.StringIO(runner.invoke(app, args).stdout))
    result = runner.invoke(app, [*args, "--sampling-view"])
    assert result.exit_code == 0, result.output
    sampled = pd.read_csv(io.StringIO(result.stdout))
    assert plain["ci_low"].isna().all()
    assert np.allclose(sampled["value"], plain["value"], rtol=1e-12)
    assert ((sampled["ci_low"] < sampled["value"]) & (sampled["value"] < sampled["ci_high"])).all()
