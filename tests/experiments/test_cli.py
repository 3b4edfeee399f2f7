"""``cxlab experiment analyze|plan`` end to end: outputs, SRM, sequential, as-of, plan, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.engine import get_engine
from cxlab.experiments import COLUMNS, analyze

EXPORT = Path(__file__).parents[1] / "data" / "experiment_export"
PROJECT = str(EXPORT / "project.yaml")
runner = CliRunner()
BASE = ["experiment", "analyze", "--config", PROJECT, "--control", "Control", "--window-days", "14"]


def test_results_have_the_documented_columns(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    res = runner.invoke(app, [*BASE, "-m", "revenue", "-m", "conversion", "--correction", "bh", "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(out / "results.parquet")
    assert list(table.columns) == list(COLUMNS)
    assert table["segment"].isna().all() and len(table) == 2
    payload = json.loads((out / "results.json").read_text())
    assert payload["settings"]["correction"] == "bh"
    assert "Benjamini-Hochberg" in payload["settings"]["correction_statement"]
    assert payload["srm"]["failed"] is False and payload["results"][0]["metric"] == "revenue"
    assert "Benjamini-Hochberg" in res.output and "%" in res.output  # relative lifts read as percentages


def test_sequential_intervals_are_wider_and_as_of_cuts_the_data(tmp_path: Path) -> None:
    fixed = runner.invoke(app, [*BASE, "-m", "revenue", "--out", str(tmp_path / "a")])
    seq = runner.invoke(app, [*BASE, "-m", "revenue", "--sequential", "--out", str(tmp_path / "b")])
    early = runner.invoke(app, [*BASE, "-m", "revenue", "--sequential", "--as-of", "2025-06-05", "--out", str(tmp_path / "c")])
    assert fixed.exit_code == seq.exit_code == early.exit_code == 0, early.output
    f, s, e = (pd.read_parquet(tmp_path / d / "results.parquet").iloc[0] for d in "abc")
    assert s["lift"] == pytest.approx(f["lift"])
    assert s["lift_ci_high"] - s["lift_ci_low"] > f["lift_ci_high"] - f["lift_ci_low"]
    assert s["p_value"] >= f["p_value"] and bool(s["sequential"])
    # units exposed from 1 to 4 June only: days 1-4 of the 10 exposure days
    assign = pd.read_csv(EXPORT / "ab_assignments.csv")
    day = pd.to_datetime(assign["Exposed At"], format="%d/%m/%Y %H:%M").dt.day
    assert e["n"] + e["control_n"] == int((day < 5).sum())
    assert e["n"] + e["control_n"] < f["n"] + f["control_n"]


def test_srm_two_percent_removed_is_flagged_loudly(tmp_path: Path) -> None:
    """400,000 units, half in each arm; 2% of one arm's units lost -> p < 0.001, said in the output."""
    rng = np.random.default_rng(9)
    n = 400_000
    arm = np.where(rng.random(n) < 0.5, "control", "treatment")
    ids = np.char.add("u", np.arange(n).astype(str))
    lost = (arm == "treatment") & (rng.random(n) < 0.02)
    engine = get_engine("duckdb")
    ts = pd.Timestamp("2025-03-01")
    orders = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["u1", "u2"],
                           "order_ts": [ts + pd.Timedelta(days=2)] * 2, "amount": [10.0, 20.0]})
    results = []
    for keep in (np.ones(n, bool), ~lost):
        treatments = pd.DataFrame({"customer_id": ids[keep], "action": arm[keep], "assigned_ts": ts})
        tables = {"treatments": engine.from_pandas(treatments), "orders": engine.from_pandas(orders)}
        results.append(analyze(tables, metrics=["orders"], pre_days=0))
    intact, broken = results
    assert not intact.srm["failed"] and intact.srm["p_value"] > 0.001
    assert broken.srm["failed"] and broken.srm["p_value"] < 0.001
    assert (broken.table["srm_p_value"] < 0.001).all()
    assert any("SAMPLE RATIO MISMATCH" in w for w in broken.warnings)


def test_plan_prints_sample_size_and_duration() -> None:
    res = runner.invoke(app, ["experiment", "plan", "--config", PROJECT, "-m", "revenue", "-m", "conversion",
                              "--mde", "0.5", "--window-days", "14", "--as-of", "2025-06-01"])
    assert res.exit_code == 0, res.output
    assert "revenue" in res.output and "conversion" in res.output and "n per arm" in res.output
    assert "days" in res.output or "population too small" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "revenu"], "unknown metric 'revenu'"),
        (["-m", "stickiness"], "no value per unit"),
        (["-m", "revenue", "--control", "Kontrol"], "control arm 'Kontrol' not found"),
        (["-m", "revenue", "--covariate", "Tier"], "covariate 'Tier' must be numeric"),
        (["-m", "revenue", "--by", "Loyalty"], "column 'Loyalty' not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    cmd = [a for a in BASE if a not in ("--control", "Control")] if "--control" in args else BASE
    res = runner.invoke(app, [*cmd, *args, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_dataset_without_treatments_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    pd.DataFrame({"customer_id": ["a"], "marketplace": ["UK"], "signup_ts": [pd.Timestamp("2025-01-01")]}).to_parquet(data / "customers.parquet")
    pd.DataFrame({"order_id": ["o"], "customer_id": ["a"], "order_ts": [pd.Timestamp("2025-02-01")], "amount": [1.0]}).to_parquet(data / "orders.parquet")
    res = runner.invoke(app, ["experiment", "analyze", str(data), "-m", "revenue", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "assignment table 'treatments' is not in the dataset" in res.output


def test_own_assignment_table_without_times_and_a_unit_in_two_arms(tmp_path: Path) -> None:
    """A table the user names (own columns, no time: --start), one unit listed in both arms."""
    assign = pd.read_csv(EXPORT / "ab_assignments.csv")
    own = pd.DataFrame({"user": assign["Customer Ref"], "bucket": assign["Variant"].map({"Control": "A", "NewCheckout": "B"})})
    own = pd.concat([own, pd.DataFrame({"user": ["C-0001"], "bucket": ["B"]})])  # C-0001 is in A too
    path = tmp_path / "buckets.csv"
    own.to_csv(path, index=False)
    out = tmp_path / "exp"
    res = runner.invoke(app, ["experiment", "analyze", "--config", PROJECT, "-m", "orders", "--assignment", str(path),
                              "--unit-col", "user", "--arm-col", "bucket", "--assigned-col", "", "--start", "2025-06-01",
                              "--control", "A", "--window-days", "14", "--out", str(out)])
    assert res.exit_code == 0, res.output
    row = pd.read_parquet(out / "results.parquet").iloc[0]
    assert row["arm"] == "B" and row["n"] + row["control_n"] == 79  # 80 units, one left out
    payload = json.loads((out / "results.json").read_text())
    assert payload["warnings"] == ["1 unit was assigned to more than one arm and left out."]
