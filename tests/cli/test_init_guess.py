"""``cxlab init`` proposes the mapping of a folder of raw exports (cxlab.io.guess).

The proposals are checked against what a person wrote by hand for the same exports
(tests/data/uk_retail/project.yaml) and by loading the data with them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.project import load_project

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"


def _init(folder: Path) -> tuple[Path, str]:
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    return folder / "project.yaml", " ".join(result.stderr.split())


def test_uk_retail_proposal_is_what_a_person_wrote(tmp_path: Path) -> None:
    for name in ("customers.csv", "invoices.csv"):
        shutil.copy(DATA / "uk_retail" / name, tmp_path / name)
    project, said = _init(tmp_path)
    guessed, written = load_project(project).data, load_project(DATA / "uk_retail" / "project.yaml").data
    for name in ("customers", "orders"):
        g, w = guessed.table(name), written.table(name)
        assert (g.path.name, g.columns, g.timestamp_format, g.timezone, g.values) == \
            (w.path.name, w.columns, w.timestamp_format, w.timezone, w.values), name
    assert guessed.reporting_currency == "GBP"  # the one marketplace's currency
    assert "orders: invoices.csv (InvoiceNo -> order_id" in said


def test_online_retail_lines_without_customers_load_as_proposed(tmp_path: Path) -> None:
    shutil.copy(DATA / "online_retail" / "online_retail.csv", tmp_path / "online_retail.csv")
    # an earlier run's output next to the export is no table (its clv.parquet has customer_id, marketplace)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text("{}")
    pd.DataFrame({"customer_id": ["1"], "marketplace": ["UK"]}).to_parquet(tmp_path / "run" / "clv.parquet")
    pd.DataFrame({"metric": ["orders"], "value": [1.0]}).to_parquet(tmp_path / "run" / "metrics.parquet")
    project, said = _init(tmp_path)
    text = project.read_text()
    assert "amount: Quantity * UnitPrice" in text and "combine_lines: true" in text and "from_orders: true" in text
    assert 'timestamp_format: "%m/%d/%Y %H:%M"' in text  # 12/23/2010: month first, no doubt
    assert "marketplace: {France: FR, United Kingdom: UK}" in text
    assert "check: the orders have no currency column" in text  # GBP and EUR marketplaces: said
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", "--config", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "validation.json").read_text())
    assert report["reporting_currency"] == "GBP"
    orders = report["tables"]["orders"]
    assert (orders["rows_in"], orders["rows_clean"], orders["rows_rejected"]) == (21, 13, 8)
    assert report["tables"]["customers"]["rows_clean"] == 6
    assert "customers: from the orders (Country -> marketplace)" in said


def test_day_and_month_both_possible_is_flagged_and_sorted_order_decides(tmp_path: Path) -> None:
    """Every day is 12 or less, so %d/%m and %m/%d both read every value; the rows are in
    time order only when read day first, so that one is chosen and the other named."""
    days = ["01/02/2024 10:00", "05/02/2024 11:00", "11/02/2024 09:30", "03/03/2024 08:00", "09/03/2024 12:00"]
    pd.DataFrame({"Order Number": [f"o{i}" for i in range(5)], "Customer": ["a", "b", "a", "c", "b"],
                  "Order Date": days, "Order Total": ["10,50", "3,20", "7,00", "1.234,00", "8,10"],
                  "Market": ["de", "de", "DE", "Atlantis", "Deutschland"]}).to_csv(tmp_path / "orders_export.csv", sep=";", index=False)
    project, said = _init(tmp_path)
    text = project.read_text()
    assert 'timestamp_format: "%d/%m/%Y %H:%M"   # check: %m/%d/%Y %H:%M reads every value too' in text
    assert 'csv: {decimal: ","}' in text
    assert "columns: {order_id: Order Number, customer_id: Customer, order_ts: Order Date, amount: Order Total}" in text
    assert "timezone: Europe/Berlin" in text  # every known value is DE
    assert "marketplace: {Deutschland: DE, de: DE}" in text
    assert '#   Atlantis: {timezone: ?, currency: ?}   # 1 row' in text
    assert "1 marketplace value(s) are no marketplace: Atlantis" in said
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", "--config", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "validation.json").read_text())
    assert report["tables"]["customers"]["reasons"] == {"unknown_marketplace": 1}  # Atlantis, kept with its reason
    assert report["tables"]["orders"]["rows_clean"] == 4 and report["reporting_currency"] == "EUR"


def test_transactions_without_an_order_id_are_named(tmp_path: Path) -> None:
    pd.DataFrame({"cust": ["1", "2"], "date": ["19970101", "19970102"], "dollars": ["9.5", "3"]}).to_csv(
        tmp_path / "transactions.csv", index=False)
    _, said = _init(tmp_path)
    assert "transactions.csv looks like orders but has no column for order_id" in said


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_canonical_folder_keeps_the_plain_template(suffix: str, tmp_path: Path) -> None:
    """Canonical tables (read from their headers or schemas only) need no mapping."""
    write = {".csv": lambda df, p: df.to_csv(p, index=False, sep=";"), ".parquet": lambda df, p: df.to_parquet(p)}[suffix]
    write(pd.DataFrame({"customer_id": ["a"], "marketplace": ["DE"], "signup_ts": ["2024-01-01"]}), tmp_path / f"customers{suffix}")
    write(pd.DataFrame({"order_id": ["o"], "customer_id": ["a"], "order_ts": ["2024-01-02"], "amount": [5.0]}),
          tmp_path / f"orders{suffix}")
    project, said = _init(tmp_path)
    assert "found tables: customers, orders; reporting currency EUR" in said
    assert load_project(project).data.tables == {}


def test_month_names_and_am_pm_are_recognized(tmp_path: Path) -> None:
    pd.DataFrame({"order_no": ["1", "2", "3"], "customer": ["a", "b", "a"],
                  "purchase_date": ["12/1/2010 8:26 PM", "12/23/2010 1:05 AM", "1/4/2011 11:59 AM"],
                  "total": ["$10.50", "$1,203.00", "$7"]}).to_csv(tmp_path / "sales.csv", index=False)
    pd.DataFrame({"customer": ["a", "b"], "country": ["US", "US"], "joined": ["Dec 1, 2010", "Nov 30, 2010"]}).to_csv(
        tmp_path / "customer_list.csv", index=False)
    project, _ = _init(tmp_path)
    data = load_project(project).data
    assert data.table("orders").timestamp_format == "%m/%d/%Y %I:%M %p"
    assert data.table("customers").timestamp_format == "%b %d, %Y"
    assert data.table("orders").timezone == "America/New_York" and data.reporting_currency == "USD"
    out = tmp_path / "v"
    result = runner.invoke(app, ["validate", "--config", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "validation.json").read_text())["tables"]
    assert report["orders"]["rows_clean"] == 3 and report["customers"]["rows_clean"] == 2
    assert "amount: total" in project.read_text() and 'decimal: ","' not in project.read_text()
