"""allocate() on bad input and infeasible problems; ``cxlab optimize`` on a hand-made export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.exceptions import InfeasibleError, InputDataError
from cxlab.optimize import allocate
from cxlab.optimize.plan import plan_candidates, plan_summary, read_costs
from tests.optimize.conftest import check_plan, instance

DATA = Path(__file__).resolve().parent.parent / "data" / "optimize"
runner = CliRunner()


def test_infeasible_coverage_names_the_constraint() -> None:
    cands = instance(6, 2, 0, groups=2)
    g = sorted(cands["marketplace"].unique())[0]
    members = cands.loc[cands["marketplace"] == g, "customer_id"].nunique()
    with pytest.raises(InfeasibleError, match=f"minimum coverage of marketplace='{g}'"):
        allocate(cands, budget=100, min_coverage={"marketplace": {g: members + 1}})
    with pytest.raises(InfeasibleError, match="the total budget"):
        allocate(cands, budget=0.1, min_coverage={"marketplace": {g: 1}})


def test_coverage_is_met_when_it_costs_value() -> None:
    cands = instance(30, 2, 5, groups=3)
    cands["value"] = -cands["value"].abs() - 0.1  # nobody is worth treating ...
    g = sorted(cands["marketplace"].unique())[1]
    spec = {"marketplace": {g: 2}}
    for solver in ("exact", "scalable"):
        res = allocate(cands, budget=1000, min_coverage=spec, solver=solver)
        check_plan(res.plan, cands, budget=1000, min_coverage=spec)
        assert len(res.plan) == 2  # ... but two customers of the group must be


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="cost"), "missing cost"),
        (lambda d: pd.concat([d, d.head(1)]), "one row per customer and action"),
        (lambda d: d.assign(cost=-d["cost"]), "'cost' must be >= 0"),
        (lambda d: d.assign(value=float("nan")), "'value' must hold finite numbers"),
    ],
)
def test_bad_candidates(change, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        allocate(change(instance(4, 2, 0)), budget=10)


def test_bad_options() -> None:
    cands = instance(4, 2, 0)
    with pytest.raises(InputDataError, match="capacity given for action 'nope'"):
        allocate(cands, budget=10, capacities={"nope": 1})
    with pytest.raises(InputDataError, match="solver must be"):
        allocate(cands, budget=10, solver="fast")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="needs a column 'region'"):
        allocate(cands, budget=10, group_budgets={"region": {"x": 1}})
    with pytest.raises(InputDataError, match="budget must be a finite number"):
        allocate(cands, budget=-1)


def test_plan_keeps_the_callers_frame_kind() -> None:
    import polars as pl

    res = allocate(pl.from_pandas(instance(10, 2, 0)), budget=8, solver="exact")
    assert isinstance(res.plan, pl.DataFrame)
    assert set(res.plan.columns) == {"customer_id", "action", "value", "cost"}


def test_cli_optimize_on_a_hand_made_export(tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    result = runner.invoke(app, [
        "optimize", str(DATA / "candidates.csv"), "--budget", "30", "--budget-by",
        f"country={DATA / 'budget_by_country.csv'}", "--capacity", "callback=1", "--min-coverage",
        f"country={DATA / 'coverage_wales.csv'}", "--solver", "exact", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(out)
    cands = pd.read_csv(DATA / "candidates.csv")
    cands["customer_id"] = cands["customer_id"].str.strip()
    plan["customer_id"] = plan["customer_id"].str.strip()
    check_plan(plan, cands, budget=30, group_budgets={"country": {"GB-ENG": 17, "GB-SCT": 5}},
               capacities={"callback": 1}, min_coverage={"country": {"GB-WLS": 1}})
    # by hand: callback u-003 (14.00, ENG 12), voucher u-005 (3.30, SCT 5), a Welsh customer for coverage
    # (u-006 voucher 0.90 is the best Welsh option left) and u-001's voucher would break ENG's 17 (12 + 5 = 17 fits)
    assert plan.set_index("customer_id")["action"].to_dict() == {
        "u-003": "callback", "u-001": "voucher_5gbp", "u-005": "voucher_5gbp", "u-006": "voucher_5gbp",
    }
    summary = json.loads((tmp_path / "plan.summary.json").read_text())
    assert summary["objective"] == pytest.approx(14.0 + 4.2 + 3.3 + 0.9)
    assert summary["status"] == "optimal" and summary["gap"] == pytest.approx(0, abs=1e-9)
    assert "gap" in result.stdout and "budget:country GB-ENG: 17.00 of 17.00" in result.stdout


def test_cli_optimize_infeasible_exits_1_naming_the_constraint(tmp_path: Path) -> None:
    result = runner.invoke(app, [
        "optimize", str(DATA / "candidates.csv"), "--budget", "100",
        "--min-coverage", f"country={DATA / 'coverage_impossible.csv'}", "--out", str(tmp_path / "p.csv"),
    ])
    assert result.exit_code == 1
    assert "minimum coverage of country='GB-WLS'" in result.output
    assert not (tmp_path / "p.csv").exists()
    bad = runner.invoke(app, ["optimize", str(DATA / "candidates.csv"), "--budget", "10", "--capacity", "callback",
                              "--out", str(tmp_path / "p.csv")])
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.output


def test_costs_yaml_candidates_and_summary(tmp_path: Path) -> None:
    (tmp_path / "costs.yaml").write_text("costs:\n  mail: 0.5\n  call: 10\n")
    costs = read_costs(tmp_path / "costs.yaml")
    scores = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "action": ["mail", "call"] * 2,
                           "effect": [2.0, 30.0, 1.0, 5.0]})
    attrs = pd.DataFrame({"customer_id": ["a", "b"], "marketplace": ["UK", "US"]})
    cands = plan_candidates(scores, costs, margin=0.5, attributes=attrs)
    assert cands["value"].tolist() == [1.0, 15.0, 0.5, 2.5]
    res = allocate(cands, budget=10.5, solver="exact")
    summary = plan_summary(res.plan)
    total = summary[(summary["marketplace"] == "total")].iloc[0]
    assert total["customers"] == 2 and total["incremental_value"] == pytest.approx(15.5)
    assert total["roi"] == pytest.approx((15.5 - 10.5) / 10.5)
    (tmp_path / "bad.yaml").write_text("mail: 0.5\n")
    with pytest.raises(InputDataError, match="no cost for 'call'"):
        plan_candidates(scores, read_costs(tmp_path / "bad.yaml"))


def test_the_exact_solver_writes_nothing_to_the_terminal() -> None:
    """HiGHS prints a copyright banner when its first instance is built, to file
    descriptor 1 and before any option applies; a fresh process shows whether it leaks."""
    code = (
        "from tests.optimize.conftest import instance\n"
        "from cxlab.optimize import allocate\n"
        "allocate(instance(8, 2, 0), budget=6, solver='exact')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], check=True)
    assert done.stdout == ""
    assert "HiGHS" not in done.stderr
