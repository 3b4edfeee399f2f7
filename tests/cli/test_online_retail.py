"""The Online Retail export as it comes (tests/data/online_retail, written by hand in the
shape of the UCI "Online Retail" file): one row per invoice line with Quantity and
UnitPrice but no line total, US dates without zero padding (``12/1/2010 8:26``),
cancellations as ``C`` invoices with negative quantities, lines without a customer,
a non-number quantity, and a UK shop selling to France in GBP with no currency column.

Hand-computed: 21 lines; clean invoices (lines summed as Quantity x UnitPrice):
December 536365 57.64, 536366 11.10, 536367 66.68, 536370 144.00, 537226 17.70,
539993 43.30 (6 orders, 340.42 GBP, customers 17850 13047 12583 15987); January
540002 13.20, 540010 27.04 (2 orders, 40.24 GBP).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app

runner = CliRunner()
EXPORT = Path(__file__).resolve().parents[1] / "data" / "online_retail"
PROJECT = EXPORT / "project.yaml"
REJECTED = {
    ("C536379", "-1 * 27.5", "negative_amount"),
    ("C540003", "-24 * 0.55", "negative_amount"),
    ("536381", "-2 * 7.95", "negative_amount"),
    ("536381", "12 * 1.06", "rejected_sibling_line"),
    ("536414", "56 * 0", "null_key:customer_id"),
    ("536544", "1 * 2.51", "null_key:customer_id"),
    ("536544", "2 * 2.51", "null_key:customer_id"),
    ("540001", "twelve * 1.45", "unparseable:amount"),
}


def test_lines_priced_as_quantity_times_unit_price_on_every_engine(engine_name: str, tmp_path: Path) -> None:
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", "--config", str(PROJECT), "--currency", "GBP", "--engine", engine_name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    orders = json.loads((out / "validation.json").read_text())["tables"]["orders"]
    assert (orders["rows_in"], orders["rows_clean"], orders["rows_rejected"]) == (21, 13, 8)
    rejects = pd.read_parquet(out / "rejects" / "orders.parquet")
    # the amount as read ('A * B'), and the factors kept as they were
    assert set(zip(rejects["order_id"], rejects["amount"], rejects["reject_reason"])) == REJECTED
    assert {"Quantity", "UnitPrice", "StockCode", "Description"} <= set(rejects.columns)


def test_metrics_match_hand_computed_invoices() -> None:
    result = runner.invoke(app, ["metrics", "--config", str(PROJECT), "--currency", "GBP", "-m", "orders", "-m", "revenue",
                                 "-m", "active_customers", "--grain", "month", "-f", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(io.StringIO(result.stdout))
    got = {(r.metric, r.period_start): r.value for r in df.itertuples()}
    assert got == pytest.approx({
        ("orders", "2010-12-01"): 6, ("orders", "2011-01-01"): 2,
        ("revenue", "2010-12-01"): 340.42, ("revenue", "2011-01-01"): 40.24,
        ("active_customers", "2010-12-01"): 4, ("active_customers", "2011-01-01"): 2,
    })


def test_one_currency_shop_selling_abroad_needs_its_currency_named(tmp_path: Path) -> None:
    """No currency column, no fx: French customers' orders would be EUR by their
    marketplace, so without --currency the run stops and says how to name it."""
    result = runner.invoke(app, ["validate", "--config", str(PROJECT), "--out", str(tmp_path / "v")])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "GBP (" in message and "EUR (" in message  # counted in lines, before they are combined
    assert "no currency column" in message and "--currency" in message
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ("order_ts: Quantity * UnitPrice", "is a timestamp, not a number"),
        ("amount: Quantity * Price", "'Price' is not one"),
        ("amount: Quantity * UnitPrice * 2", "names two columns"),
    ],
)
def test_bad_products_say_what_is_wrong(mapping: str, needle: str, tmp_path: Path) -> None:
    for name in ("online_retail.csv", "customers.csv"):
        shutil.copy(EXPORT / name, tmp_path / name)
    key, _, value = mapping.partition(": ")
    text = PROJECT.read_text()
    text = text.replace("order_ts: InvoiceDate", f"order_ts: {value}") if key == "order_ts" else \
        text.replace("amount: Quantity * UnitPrice", f"amount: {value}")
    (tmp_path / "project.yaml").write_text(text)
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "project.yaml"), "--currency", "GBP", "--out", str(tmp_path / "v")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert needle in message and "data.tables.orders.columns" in message
