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
    shutil.copy(EXPORT / "online_retail.csv", tmp_path / "online_retail.csv")
    key, _, value = mapping.partition(": ")
    text = PROJECT.read_text()
    text = text.replace("order_ts: InvoiceDate", f"order_ts: {value}") if key == "order_ts" else \
        text.replace("amount: Quantity * UnitPrice", f"amount: {value}")
    (tmp_path / "project.yaml").write_text(text)
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "project.yaml"), "--currency", "GBP", "--out", str(tmp_path / "v")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert needle in message and "data.tables.orders.columns" in message


def test_customers_come_from_the_orders(engine) -> None:
    """No customers table: one customer per CustomerID of any invoice line (a
    cancellation's customer too), signed up at their first line, marketplace recoded
    from the invoices' Country; lines without a customer make no customer."""
    from cxlab.io import load_dataset
    from cxlab.project import load_project

    ds = load_dataset(None, engine=engine, config=load_project(PROJECT).data, reporting_currency="GBP")
    report = ds.report.tables["customers"]
    assert (report.rows_in, report.rows_clean, report.rows_rejected) == (6, 6, 0)
    assert report.source.endswith("online_retail.csv (customers from the orders)")
    customers = engine.to_pandas(ds.tables["customers"]).set_index("customer_id").sort_index()
    assert customers["marketplace"].to_dict() == {
        "12583": "FR", "13047": "UK", "14527": "UK", "15311": "UK", "15987": "UK", "17850": "UK",
    }
    # London time in December is UTC
    assert customers.loc["14527", "signup_ts"] == pd.Timestamp("2010-12-01 09:41")  # its C invoice
    assert customers.loc["15987", "signup_ts"] == pd.Timestamp("2010-12-06 08:34")
    assert customers.loc["13047", "signup_ts"] == pd.Timestamp("2010-12-01 08:34")


def _project(tmp_path: Path, customers: str, extra: str = "") -> Path:
    shutil.copy(EXPORT / "online_retail.csv", tmp_path / "online_retail.csv")
    text = PROJECT.read_text()
    head, _, _ = text.partition("    customers:\n")
    (tmp_path / "project.yaml").write_text(head.replace("data:\n", f"data:\n{extra}") + customers)
    return tmp_path / "project.yaml"


def test_one_declared_marketplace_needs_no_column(tmp_path: Path) -> None:
    project = _project(tmp_path, "    customers: {from_orders: true}\n",
                       "  marketplaces: {UK: {timezone: Europe/London, currency: GBP}}\n")
    result = runner.invoke(app, ["validate", "--config", str(project), "--out", str(tmp_path / "v")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "v" / "validation.json").read_text())
    assert report["tables"]["customers"]["rows_clean"] == 6
    assert report["reporting_currency"] == "GBP"  # every customer is UK: one currency


@pytest.mark.parametrize(
    ("customers", "needle"),
    [
        ("    customers: {from_orders: true}\n", "needs each customer's marketplace"),
        ("    customers: {from_orders: true, columns: {marketplace: Land}}\n", "'Land', which is not a column of the orders"),
        ("    customers: {from_orders: true, path: c.csv}\n", "give no path"),
        ("", "from_orders: true"),  # no customers table and no from_orders: the error names the way out
    ],
)
def test_customers_from_orders_errors(customers: str, needle: str, tmp_path: Path) -> None:
    project = _project(tmp_path, customers)
    result = runner.invoke(app, ["validate", "--config", str(project), "--currency", "GBP", "--out", str(tmp_path / "v")])
    assert result.exit_code == 2, result.output
    assert needle in " ".join(result.stderr.split())


def test_run_on_the_export_skips_what_its_history_cannot_support(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`cxlab run` end to end: five weeks of invoices are too few for a control chart's
    baseline, so monitor is skipped with the reason (not a failed run); the rest runs."""
    project = _project(tmp_path, PROJECT.read_text().partition("    customers:\n")[1]
                       + PROJECT.read_text().partition("    customers:\n")[2], "  reporting_currency: GBP\n")
    project.write_text(project.read_text() + "window: {holdout_weeks: 2}\n")
    result = runner.invoke(app, ["run", str(project), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    # six customers: the doubtful fit is said once per marketplace, not hidden (and no raw Python warning)
    doubtful = [r.getMessage() for r in caplog.records if "fit is doubtful" in r.getMessage()]
    assert doubtful and all(m.startswith("engagement, marketplace ") for m in doubtful)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    status = {s["name"]: s for s in manifest["stages"]}
    assert {n: status[n]["status"] for n in ("validate", "metrics", "cohorts", "engagement", "reports")} == dict.fromkeys(
        ("validate", "metrics", "cohorts", "engagement", "reports"), "done")
    assert status["monitor"]["status"] == "skipped"
    assert "the baseline needs at least 8" in status["monitor"]["reason"]
    # every derived customer with a clean order: not 15311, whose one invoice was rejected
    assert sorted(pd.read_parquet(tmp_path / "run" / "clv.parquet")["customer_id"]) == ["12583", "13047", "14527", "15987", "17850"]
