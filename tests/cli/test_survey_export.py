"""A survey tool's export (tests/data/survey_export, written by hand): one row per
invitation, the answer as a label ("Very satisfied" ... "Very dissatisfied", one padded
with blanks, one not on the scale), blank when the customer did not answer, UK dates,
customer ids written "12468" where the shop's export writes "12468.0"; customers and
orders from the UK retail export.

Hand-computed: January 15 invitations, 8 answers, 3 of them satisfied (4 or 5); February
16 clean invitations (R1033 ' Satisfied ' counts), 11 answers, 9 satisfied; set aside:
R1030 (no such customer), R1031 (answered before it was sent), R1032 ('Excellent!!').
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app

runner = CliRunner()
PROJECT = Path(__file__).resolve().parents[1] / "data" / "survey_export" / "project.yaml"


def test_invitations_are_validated_with_their_reasons(engine_name: str, tmp_path: Path) -> None:
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", "--config", str(PROJECT), "--engine", engine_name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    surveys = json.loads((out / "validation.json").read_text())["tables"]["surveys"]
    assert (surveys["rows_in"], surveys["rows_clean"]) == (34, 31)
    assert surveys["reasons"] == {"orphan_customer_id": 1, "response_before_invitation": 1, "unparseable:score": 1}
    rejects = pd.read_parquet(out / "rejects" / "surveys.parquet").set_index("survey_id")
    assert rejects["reject_reason"].to_dict() == {
        "R1030": "orphan_customer_id", "R1031": "response_before_invitation", "R1032": "unparseable:score",
    }
    assert rejects.loc["R1032", "Channel"] == "email"  # extra columns kept with the row


def test_csat_and_response_rate_match_hand_counts() -> None:
    result = runner.invoke(app, ["metrics", "--config", str(PROJECT), "-m", "csat", "-m", "response_rate",
                                 "--grain", "month", "-f", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    got = {(r.metric, r.period_start): (r.numerator, r.denominator) for r in df.itertuples()}
    assert got == {
        ("csat", "2011-01-01"): (3, 8), ("csat", "2011-02-01"): (9, 11),
        ("response_rate", "2011-01-01"): (8, 15), ("response_rate", "2011-02-01"): (11, 16),
    }


def test_population_satisfaction_runs_on_a_small_real_shaped_export() -> None:
    rows = {}
    for method in ("naive", "aipw"):
        result = runner.invoke(app, ["satisfaction", "estimate", "--config", str(PROJECT), "--method", method, "-f", "csv"])
        assert result.exit_code == 0, result.output
        rows[method] = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    naive, aipw = rows["naive"], rows["aipw"]
    assert (naive["n_invited"], naive["n_responded"]) == (31, 19)
    assert naive["estimate"] == pytest.approx(12 / 19)
    assert 0 <= aipw["ci_low"] <= aipw["estimate"] <= aipw["ci_high"] <= 1
