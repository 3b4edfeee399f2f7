"""Exports with one row per order line (``combine_lines``): an order is clean when
all its lines are, and becomes one row; nothing is lost on any engine."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxlab.io import DataConfig, load_dataset

CONFIG = DataConfig.model_validate({"reporting_currency": "GBP", "tables": {"orders": {"combine_lines": True}}})


@pytest.fixture(scope="module")
def lines_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lines")
    pd.DataFrame(
        {"customer_id": ["c1", "c2"], "marketplace": ["UK", "UK"], "signup_ts": ["2024-01-01", "2024-01-01"]}
    ).to_csv(root / "customers.csv", index=False)
    pd.DataFrame(
        {
            "order_id": ["A", "A", "A", "B", "B", "C", "C", "D"],
            "customer_id": ["c1", "c1", "c1", "c2", "c2", "c1", "c2", "c2"],
            "order_ts": ["2024-02-01 10:00", "2024-02-01 10:00", "2024-02-01 10:05", *["2024-02-01 10:00"] * 5],
            "amount": ["10", "5", "2.5", "3", "-1", "4", "4", "x"],
            "stock_code": ["p", "q", "r", "s", "t", "u", "v", "w"],
        }
    ).to_csv(root / "orders.csv", index=False)
    return root


def test_lines_make_orders_and_bad_lines_take_their_order_along(lines_dataset: Path, engine, tmp_path: Path) -> None:
    ds = load_dataset(lines_dataset, engine=engine, config=CONFIG, rejects_dir=tmp_path)
    report = json.loads((tmp_path / "validation.json").read_text())["tables"]["orders"]
    assert report["rows_in"] == 8 == report["rows_clean"] + report["rows_rejected"]
    assert report["reasons"] == {
        "inconsistent_order_lines": 2,  # C names two customers
        "negative_amount": 1,
        "rejected_sibling_line": 1,  # B's other line
        "unparseable:amount": 1,
    }
    assert report["orders_from_lines"] == 1
    orders = engine.to_pandas(ds.tables["orders"])
    assert orders[["order_id", "customer_id", "amount", "lines"]].to_dict("records") == [
        {"order_id": "A", "customer_id": "c1", "amount": 17.5, "lines": 3}
    ]
    assert orders["order_ts"].iloc[0] == pd.Timestamp("2024-02-01 10:00")  # the first line's time
    rejects = pd.read_parquet(tmp_path / "rejects" / "orders.parquet")
    assert sorted(rejects["stock_code"]) == ["s", "t", "u", "v", "w"]


def test_without_combine_lines_repeated_ids_are_duplicates(lines_dataset: Path) -> None:
    ds = load_dataset(lines_dataset, config=DataConfig(reporting_currency="GBP"))
    assert ds.report.tables["orders"].reasons["duplicate_key:order_id"] == 7  # A x3, B x2, C x2


def test_combine_lines_is_for_orders_only() -> None:
    with pytest.raises(ValueError, match="only orders have lines"):
        DataConfig.model_validate({"tables": {"surveys": {"combine_lines": True}}})
