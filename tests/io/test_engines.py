"""Validation gives the same report, clean rows and rejects on every engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from cxlab.io import load_dataset

from .test_broken_inputs import REJECT_CASES, base_tables, write

NOW = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def messy_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base tables with a dozen problems at once, half of the tables as CSV."""
    tables = base_tables()
    tables = {name: pd.concat([df] * 3, ignore_index=True) for name, df in tables.items()}
    for i, df in tables.items():  # unique keys again, then break some of them
        for key in ("order_id", "survey_id", "customer_id"):
            if key in df and i in ("orders", "surveys", "customers") and key == {"orders": "order_id", "surveys": "survey_id", "customers": "customer_id"}[i]:
                df[key] = [f"{v}_{n // (len(df) // 3)}" for n, v in enumerate(df[key])]
    tables["orders"]["customer_id"] = [f"{c}_{n // 5}" for n, c in enumerate(tables["orders"]["customer_id"])]
    tables["surveys"]["customer_id"] = [f"{c}_{n // 3}" for n, c in enumerate(tables["surveys"]["customer_id"])]
    tables["surveys"]["order_id"] = [f"{c}_{n // 3}" for n, c in enumerate(tables["surveys"]["order_id"])]
    tables["treatments"]["customer_id"] = [f"{c}_0" for c in tables["treatments"]["customer_id"]]
    for _, change, _, _ in REJECT_CASES:
        change(tables)
    return write(tables, tmp_path_factory.mktemp("messy") / "data", csv=("orders", "customers"))


def test_validation_is_identical_on_every_engine(messy_dataset: Path, engine, tmp_path: Path) -> None:
    ds = load_dataset(messy_dataset, engine=engine, rejects_dir=tmp_path, now=NOW)
    report = json.loads((tmp_path / "validation.json").read_text())
    reference_dir = messy_dataset.parent / "reference"
    if not (reference_dir / "validation.json").exists():
        load_dataset(messy_dataset, engine="duckdb", rejects_dir=reference_dir, now=NOW)
    expected = json.loads((reference_dir / "validation.json").read_text())
    assert report == expected
    assert report["rows_rejected"] > 10
    for name, t in report["tables"].items():
        assert t["rows_in"] == t["rows_clean"] + t["rows_rejected"]
        clean = ds.engine.to_pandas(ds.tables[name])
        assert len(clean) == t["rows_clean"]
        if t["rows_rejected"]:
            got = pd.read_parquet(tmp_path / "rejects" / f"{name}.parquet")
            want = pd.read_parquet(reference_dir / "rejects" / f"{name}.parquet")
            key = [c for c in got.columns if c != "reject_reason"]
            got = got.astype(str).sort_values(key).reset_index(drop=True)
            want = want.astype(str).sort_values(key).reset_index(drop=True)
            pd.testing.assert_frame_equal(got, want)
