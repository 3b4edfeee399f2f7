"""Real data end to end: CDNOW transactions as a user's own export, mapped with a
project file, validated, summarized by the engine and fitted from the command line,
give the published BG/NBD results (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.exports import write_cdnow_export
from cxlab.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as an export would come: its own column names, dates as YYYYMMDD."""
    return write_cdnow_export(tmp_path_factory.mktemp("cdnow"))


def test_cdnow_export_reproduces_the_published_bgnbd(export: Path, engine_name: str, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        ["clv", "fit", "--config", str(export / "project.yaml"), "--engine", engine_name,
         "--observation-end", "1998-06-30", "--calibration-end", "1997-09-30", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    params = json.loads((out / "params.json").read_text())
    assert params["n_customers"] == 2357
    assert params["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    published = {"r": 0.2426, "alpha": 4.4137, "a": 0.7930, "b": 2.4262}
    for name, value in published.items():
        assert params["params"][name] == pytest.approx(value, rel=5e-3), name
    spend = json.loads((out / "spend.json").read_text())
    assert spend["n_customers"] == 946
    assert spend["params"]["p"] == pytest.approx(6.25, rel=0.01)
