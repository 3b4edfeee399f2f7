"""Amounts as spreadsheets and shop exports write them: currency signs, thousands
separators, a decimal comma; what cannot be read for sure is rejected, not guessed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlab.io import DataConfig, load_dataset

AMOUNTS = {
    "o1": ("£1,234.50", 1234.50), "o2": ("$12", 12.0), "o3": ("1,234", 1234.0), "o5": ("€ 7.00", 7.0),
    "o7": ("7.25 €", 7.25), "o9": (" 3.5 ", 3.5),
    "o4": ("12,5", "unparseable:amount"),  # a decimal comma in a decimal-point file: not 125
    "o6": ("-1,000.00", "negative_amount"),
    "o8": ("1,23,456", "unparseable:amount"),  # not thousands
}


def _write(root: Path, amounts: dict[str, str]) -> Path:
    pd.DataFrame({"customer_id": ["c1"], "marketplace": ["UK"], "signup_ts": ["2024-01-01"]}).to_csv(
        root / "customers.csv", index=False)
    pd.DataFrame({"order_id": list(amounts), "customer_id": "c1", "order_ts": "2024-01-02",
                  "amount": list(amounts.values())}).to_csv(root / "orders.csv", index=False)
    return root


def test_signs_and_thousands_are_read_and_the_doubtful_rejected(engine, tmp_path: Path) -> None:
    root = _write(tmp_path, {k: raw for k, (raw, _) in AMOUNTS.items()})
    ds = load_dataset(root, engine=engine, reporting_currency="GBP", rejects_dir=tmp_path / "v")
    clean = engine.to_pandas(ds.tables["orders"]).set_index("order_id")["amount"].to_dict()
    assert clean == pytest.approx({k: want for k, (_, want) in AMOUNTS.items() if isinstance(want, float)})
    rejects = pd.read_parquet(tmp_path / "v" / "rejects" / "orders.parquet").set_index("order_id")
    assert rejects["reject_reason"].to_dict() == {k: want for k, (_, want) in AMOUNTS.items() if isinstance(want, str)}
    assert rejects.loc["o4", "amount"] == "12,5"  # kept as it was written


def test_decimal_comma_with_points_grouping(tmp_path: Path) -> None:
    root = _write(tmp_path, {"o1": "1.234,50 €", "o2": "12,5", "o3": "€7"})
    config = DataConfig.model_validate({"tables": {"orders": {"csv": {"decimal": ","}}}})
    ds = load_dataset(root, config=config, reporting_currency="EUR")
    got = ds.tables["orders"].to_native().df().set_index("order_id")["amount"].to_dict()
    assert got == pytest.approx({"o1": 1234.5, "o2": 12.5, "o3": 7.0})
