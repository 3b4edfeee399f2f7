"""cxlab.experiments.stats against GrowthBook's gbstats 0.8.0 (fixture from bench/gbstats_oracle.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cxlab.experiments.stats import arm_stats, compare, srm_p_value

FIXTURE = json.loads((Path(__file__).parents[1] / "data" / "gbstats_fixture.json").read_text())
TOL = 1e-6


def _arm(kind: str, a: dict):  # noqa: ANN202
    """Our variables: y[, d][, pre]; sums and cross-products as the engine gives them."""
    if kind == "ratio":
        s = [a["sum_y"], a["sum_d"]]
        q = [[a["sum_yy"], a["sum_yd"]], [a["sum_yd"], a["sum_dd"]]]
    elif kind.endswith("cuped"):
        s = [a["sum_y"], a["sum_x"]]
        q = [[a["sum_yy"], a["sum_xy"]], [a["sum_xy"], a["sum_xx"]]]
    else:
        s, q = [a["sum_y"]], [[a["sum_yy"]]]
    return arm_stats(a["n"], s, q)


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: c["name"])
def test_matches_gbstats(case: dict) -> None:
    kind = case["kind"]
    binary = (0, 1) if kind.startswith("proportion") else ()
    res = compare(
        _arm(kind, case["control"]), _arm(kind, case["treatment"]),
        ratio=kind == "ratio", binary=binary, sequential=bool(case.get("sequential")),
    )
    gb_abs, gb_rel = case["gbstats"]["absolute"], case["gbstats"]["relative"]
    ours_abs = [res.lift, res.lift_ci_low, res.lift_ci_high, res.p_value, res.lift_se]
    ours_rel = [res.rel_lift, res.rel_lift_ci_low, res.rel_lift_ci_high, res.rel_p_value, res.rel_lift_se]
    for ours, gb in ((ours_abs, gb_abs), (ours_rel, gb_rel)):
        want = [gb["expected"], gb["ci_low"], gb["ci_high"], gb["p_value"], gb["stddev"]]
        np.testing.assert_allclose(np.concatenate(ours), want, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(res.mean_control, gb_abs["unadjusted_mean_control"], rtol=TOL)
    np.testing.assert_allclose(res.mean_arm, gb_abs["unadjusted_mean_treatment"], rtol=TOL)
    np.testing.assert_allclose(res.dof, gb_abs["dof"], rtol=TOL)
    if kind.endswith("cuped"):
        np.testing.assert_allclose(res.theta[:, 0], gb_abs["theta"], rtol=TOL)
        assert res.variance_reduction[0] > 0.0  # the pre-period is correlated by construction


def test_cases_cover_mean_ratio_cuped_and_sequential() -> None:
    kinds = {(c["kind"], bool(c.get("sequential"))) for c in FIXTURE["cases"]}
    assert {("mean", False), ("mean_cuped", False), ("ratio", False), ("mean", True)} <= kinds
    assert FIXTURE["gbstats_version"] == "0.8.0"


@pytest.mark.parametrize("case", FIXTURE["srm"], ids=lambda c: str(c["users"]))
def test_srm_matches_gbstats(case: dict) -> None:
    assert srm_p_value(case["users"], case["weights"]) == pytest.approx(case["gbstats_p_value"], abs=1e-12)
