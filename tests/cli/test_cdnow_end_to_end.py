"""Real data end to end: CDNOW transactions as a user's own export, mapped with a
project file, validated, summarized by the engine and fitted from the command line,
give the published BG/NBD results (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app

SAMPLE = Path(__file__).parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"
runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as an export would come: its own column names, dates as YYYYMMDD."""
    root = tmp_path_factory.mktemp("cdnow")
    raw = pd.read_csv(SAMPLE, sep=r"\s+", header=None, names=["cust", "sample_id", "date", "cds", "dollars"], dtype=str)
    raw.insert(0, "line", [f"L{i}" for i in range(len(raw))])
    raw.to_csv(root / "transactions.csv", index=False)
    first = raw.groupby("cust", as_index=False)["date"].min()
    first.assign(country="US").to_csv(root / "buyers.csv", index=False)
    (root / "project.yaml").write_text(
        "data:\n"
        "  reporting_currency: USD\n"
        "  marketplaces: {US: {timezone: UTC, currency: USD}}\n"
        "  tables:\n"
        "    customers:\n"
        "      path: buyers.csv\n"
        "      columns: {customer_id: cust, signup_ts: date, marketplace: country}\n"
        "      timestamp_format: '%Y%m%d'\n"
        "    orders:\n"
        "      path: transactions.csv\n"
        "      columns: {order_id: line, customer_id: cust, order_ts: date, amount: dollars}\n"
        "      timestamp_format: '%Y%m%d'\n"
    )
    return root


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
