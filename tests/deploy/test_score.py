"""``cxlab score``: every customer / invitation scored in batches, the same on every engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.exports import write_cdnow_export
from cxlab.cli import app
from cxlab.features import invitation_features
from cxlab.io import load_dataset
from cxlab.satisfaction import load_models

from .conftest import cli

runner = CliRunner()


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(market: Path, models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """What the scores must be, computed another way on DuckDB.

    CLV: ``cxlab clv score`` (raw orders through clv.score_orders per group).
    Satisfaction: the loaded models' predictions on the collected invitation features.
    """
    tmp = tmp_path_factory.mktemp("ref")
    cli("clv", "score", str(market), "--model", str(models / "clv"), "--horizon", "26", "--out", str(tmp / "clv.parquet"))
    clv = pd.read_parquet(tmp / "clv.parquet")
    ds = load_dataset(market, engine="duckdb", rejects_dir=tmp / "rejects")
    frame = invitation_features(ds.tables, reporting_currency=ds.reporting_currency).collect().to_pandas()
    parts = []
    for scale, model in load_models(models / "sat").items():
        parts.append(frame[["survey_id", "order_id", "customer_id"]].assign(
            scale=scale, p_satisfied=model.predict_satisfied(frame), expected_score=model.expected_score(frame)))
    return {"clv": clv, "sat": pd.concat(parts, ignore_index=True)}


def test_score_is_the_same_on_every_engine(
    engine_name: str, market: Path, models: Path, reference: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    out = tmp_path / "clv"
    cli("score", str(market), "--model", str(models / "clv"), "--horizon", "26", "--engine", engine_name,
        "--batch-rows", "1000", "--out", str(out))
    got = _sorted(pd.read_parquet(out), ["customer_id"])
    want = _sorted(reference["clv"], ["customer_id"])
    assert len(got) == 1500 and got["customer_id"].is_unique  # every customer, once
    pd.testing.assert_frame_equal(got, want[got.columns], check_exact=False, rtol=1e-9)

    out = tmp_path / "sat"
    cli("score", str(market), "--model", str(models / "sat"), "--engine", engine_name, "--batch-rows", "1000",
        "--out", str(out))
    keys = ["survey_id", "scale"]
    got = _sorted(pd.read_parquet(out), keys)
    want = _sorted(reference["sat"], keys)
    assert set(got["scale"]) == {"csat5", "nps11"} and len(got) == len(want) > 1000  # several batches
    pd.testing.assert_frame_equal(got, want[got.columns], check_exact=False, rtol=1e-9)
    assert got["p_satisfied"].between(0, 1).all()


@pytest.fixture(scope="module")
def cdnow_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hand-made: CDNOW as a retailer's export (USD only, own column names, YYYYMMDD dates, a bad row)."""
    return write_cdnow_export(tmp_path_factory.mktemp("cdnow-score"), bad_row=True)


def test_score_on_a_hand_made_export(cdnow_export: Path, tmp_path: Path) -> None:
    config = str(cdnow_export / "project.yaml")
    cli("clv", "fit", "--config", config, "--observation-end", "1998-06-30", "--out", str(tmp_path / "m"))
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["kind"] == "clv.betageo" and meta["currency"] == "USD"
    cli("score", "--config", config, "--model", str(tmp_path / "m"), "--horizon", "39", "--out", str(tmp_path / "s"))
    cli("clv", "score", "--config", config, "--model", str(tmp_path / "m"), "--horizon", "39",
        "--out", str(tmp_path / "ref.parquet"))
    got = _sorted(pd.read_parquet(tmp_path / "s"), ["customer_id"])
    want = _sorted(pd.read_parquet(tmp_path / "ref.parquet"), ["customer_id"])
    assert len(got) == 2357
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    # Fader, Hardie & Lee (2005): 39-week forecasts sum to about the 1,788 repeat purchases seen
    # in weeks 40-78; fitted on all 78 weeks the forecast is of the same order.
    assert 1_000 < got["expected_purchases"].sum() < 2_500


def test_score_refuses_a_tampered_bundle_and_keeps_the_old_output(market: Path, models: Path, tmp_path: Path) -> None:
    import shutil

    bundle = tmp_path / "clv"
    shutil.copytree(models / "clv", bundle)
    out = tmp_path / "scores"
    cli("score", str(market), "--model", str(bundle), "--out", str(out))
    before = sorted(p.name for p in out.iterdir())
    params = next(bundle.glob("groups/*/params.json"))
    params.write_text(params.read_text().replace('"r": ', '"r": 1', 1))
    result = runner.invoke(app, ["score", str(market), "--model", str(bundle), "--out", str(out)])
    assert result.exit_code == 2
    assert "params.json: checksum does not match" in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == before
    result = runner.invoke(app, ["score", str(market), "--model", str(tmp_path / "nope"), "--out", str(out)])
    assert result.exit_code == 2 and "not a cxlab model bundle" in result.stderr


def test_horizon_is_bounded(market: Path, models: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(market), "--model", str(models / "clv"), "--horizon", "100000000000",
                                 "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert not (tmp_path / "s").exists()
    from cxlab.scoring import load_scorer
    from cxlab.exceptions import InputDataError

    scorer = load_scorer(models / "clv")
    with pytest.raises(InputDataError, match=r"horizon must be a whole number in \[1, 5,217\]"):
        scorer.check_horizon(5_218, 0.0)
    rows = pd.DataFrame({"frequency": [2.0], "recency": [30.0], "T": [50.0], "monetary_value": [40.0]})
    group = next(iter(scorer.model.parts))
    short, long = (scorer.predict(rows, horizon=h, group=group)["expected_purchases"].iloc[0] for h in (52, 5_217))
    assert 0 < short < long and np.isfinite(long)
