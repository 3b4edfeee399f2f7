"""Hand-made exports shared by several tests: CDNOW as a retailer's CSV export, and the
UK retailer's invoices under canonical names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
CDNOW_SAMPLE = DATA / "cdnow" / "CDNOW_sample.txt"
RETAIL = DATA / "uk_retail"

_CDNOW_PROJECT = (
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


def write_cdnow_export(root: Path, *, bad_row: bool = False) -> Path:
    """CDNOW's sample as an export would come (own column names, YYYYMMDD dates, USD),
    with ``project.yaml`` mapping it; ``bad_row`` adds one unparseable line."""
    raw = pd.read_csv(CDNOW_SAMPLE, sep=r"\s+", header=None, names=["cust", "sample_id", "date", "cds", "dollars"], dtype=str)
    raw.insert(0, "line", [f"L{i}" for i in range(len(raw))])
    lines = raw
    if bad_row:
        bad = {"line": "LBAD", "cust": "00001", "sample_id": "1", "date": "not-a-date", "cds": "1", "dollars": "x"}
        lines = pd.concat([raw, pd.DataFrame([bad])])
    lines.to_csv(root / "transactions.csv", index=False)
    raw.groupby("cust", as_index=False)["date"].min().assign(country="US").to_csv(root / "buyers.csv", index=False)
    (root / "project.yaml").write_text(_CDNOW_PROJECT)
    return root


def retail_orders() -> pd.DataFrame:
    """The UK retailer's invoices under canonical names and types (bad rows kept)."""
    invoices = pd.read_csv(RETAIL / "invoices.csv", dtype=str, keep_default_na=False)
    return pd.DataFrame(
        {
            "order_id": invoices["InvoiceNo"],
            "customer_id": invoices["CustomerID"].replace("", None),
            "order_ts": pd.to_datetime(invoices["InvoiceDate"], format="%d/%m/%Y %H:%M"),
            "amount": invoices["Total"].str.strip().astype(float),
        }
    )
