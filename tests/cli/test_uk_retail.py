"""First contact with a real-shaped export: a GBP-only UK retailer, two tables.

The fixture (tests/data/uk_retail, written by hand, not by cxlab.synth) has the
shop's own column names, London wall-clock dates as ``dd/mm/yyyy HH:MM``,
float-looking customer ids, cancellations (``C...`` invoices with negative
totals) and invoices with no customer; its project file does not name a
reporting currency. Every command runs on it twice: mapped by the project file,
and as a canonical copy with ``--currency GBP`` and no project file. The
expected numbers are computed here from the raw CSV with the standard library.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app

RETAIL = Path(__file__).resolve().parents[1] / "data" / "uk_retail"
runner = CliRunner()


def _raw_invoices() -> list[dict[str, str]]:
    with (RETAIL / "invoices.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected() -> dict[str, object]:
    """Clean orders: a customer and a non-negative total; per month (London = UTC in Dec-Mar)."""
    rows = _raw_invoices()
    cancelled = {r["InvoiceNo"] for r in rows if r["CustomerID"].strip() and float(r["Total"]) < 0}
    no_customer = {r["InvoiceNo"] for r in rows if not r["CustomerID"].strip()}
    clean = [r for r in rows if r["InvoiceNo"] not in cancelled | no_customer]
    orders: dict[str, int] = defaultdict(int)
    revenue: dict[str, float] = defaultdict(float)
    buyers: dict[str, set[str]] = defaultdict(set)
    for r in clean:
        month = dt.datetime.strptime(r["InvoiceDate"], "%d/%m/%Y %H:%M").strftime("%Y-%m-01")
        orders[month] += 1
        revenue[month] += float(r["Total"])
        buyers[month].add(r["CustomerID"])
    return {
        "rows": len(rows),
        "cancelled": cancelled,
        "no_customer": no_customer,
        "orders": dict(orders),
        "revenue": dict(revenue),
        "active": {m: len(b) for m, b in buyers.items()},
    }


EXPECTED = _expected()


def _canonical_copy(root: Path) -> Path:
    """The same data under canonical names and ISO timestamps: no project file needed."""
    root.mkdir(parents=True, exist_ok=True)
    customers = pd.read_csv(RETAIL / "customers.csv", dtype=str)
    pd.DataFrame(
        {
            "customer_id": customers["CustomerID"],
            "marketplace": "UK",
            "signup_ts": pd.to_datetime(customers["FirstPurchase"], format="%d/%m/%Y %H:%M").dt.strftime("%Y-%m-%d %H:%M:%S"),
        }
    ).to_csv(root / "customers.csv", index=False)
    invoices = pd.read_csv(RETAIL / "invoices.csv", dtype=str, keep_default_na=False)
    pd.DataFrame(
        {
            "order_id": invoices["InvoiceNo"],
            "customer_id": invoices["CustomerID"],
            "order_ts": pd.to_datetime(invoices["InvoiceDate"], format="%d/%m/%Y %H:%M").dt.strftime("%Y-%m-%d %H:%M:%S"),
            "amount": invoices["Total"],
            "Country": invoices["Country"],
        }
    ).to_csv(root / "orders.csv", index=False)
    return root


@pytest.fixture(scope="module", params=["project-file", "currency-option"])
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """CLI arguments that name the data: the project file, or a canonical copy with --currency GBP."""
    if request.param == "project-file":
        return ["--config", str(RETAIL / "project.yaml")]
    return [str(_canonical_copy(tmp_path_factory.mktemp("canonical"))), "--currency", "GBP"]


def test_expected_numbers_are_not_trivial() -> None:
    assert EXPECTED["rows"] == 205
    assert len(EXPECTED["cancelled"]) == 4 and all(n.startswith("C") for n in EXPECTED["cancelled"])
    assert len(EXPECTED["no_customer"]) == 3
    assert len(EXPECTED["orders"]) == 4


def test_validate_rejects_exactly_the_cancellations_and_customerless_rows(source: list[str], tmp_path: Path) -> None:
    out = tmp_path / "validation"
    result = runner.invoke(app, ["validate", *source, "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "validation.json").read_text())
    assert report["reporting_currency"] == "GBP"
    assert set(report["absent"]) == {"events", "surveys", "contacts", "treatments", "fx"}
    orders = report["tables"]["orders"]
    assert orders["rows_in"] == EXPECTED["rows"]
    assert orders["rows_in"] == orders["rows_clean"] + orders["rows_rejected"]
    assert orders["reasons"] == {"negative_amount": 4, "null_key:customer_id": 3}
    assert report["tables"]["customers"]["rows_rejected"] == 0
    rejects = pd.read_parquet(out / "rejects" / "orders.parquet")
    by_reason = rejects.groupby("reject_reason")["order_id"].apply(set).to_dict()
    assert by_reason["negative_amount"] == EXPECTED["cancelled"]
    assert len(by_reason["null_key:customer_id"]) == 3
    assert not (out / "rejects" / "customers.parquet").exists()
    if "--currency" not in source:
        assert "reporting currency GBP: the one currency of the orders" in result.stderr
    assert "absent (optional): fx, events, surveys, contacts, treatments" in result.stderr


def test_metrics_match_hand_computed_numbers(source: list[str]) -> None:
    result = runner.invoke(
        app, ["metrics", *source, "-m", "orders", "-m", "revenue", "-m", "active_customers", "--grain", "month", "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    df = pd.read_csv(pd.io.common.StringIO(result.stdout))
    got = {(r.metric, r.period_start): r.value for r in df.itertuples()}
    for month, n in EXPECTED["orders"].items():
        assert got[("orders", month)] == n
        assert got[("revenue", month)] == pytest.approx(EXPECTED["revenue"][month], abs=1e-6)
        assert got[("active_customers", month)] == EXPECTED["active"][month]
    assert len(df) == 3 * len(EXPECTED["orders"])


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json", ".txt"])
def test_metrics_out_suffix_picks_the_format(suffix: str, tmp_path: Path) -> None:
    """``--out metrics.parquet`` without ``--format`` writes Parquet, not a text table under
    a Parquet name (as a first-time user types it); an unknown suffix gets the text table."""
    target = tmp_path / f"metrics{suffix}"
    args = ["metrics", "--config", str(RETAIL / "project.yaml"), "-m", "orders", "--grain", "month", "--out", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    read = {".parquet": pd.read_parquet, ".csv": pd.read_csv, ".json": lambda p: pd.read_json(p, orient="records")}
    if suffix in read:
        df = read[suffix](target)
        got = {str(r.period_start)[:10]: r.value for r in df.itertuples()}
        assert got == {month: n for month, n in EXPECTED["orders"].items()}
    else:
        assert target.read_text().split()[:3] == ["metric", "period_start", "value"]
    explicit = runner.invoke(app, [*args, "--format", "csv"])  # --format wins over the suffix
    assert explicit.exit_code == 0, explicit.output
    assert target.read_text().startswith("metric,period_start,value")


def test_cohorts_work_without_events(source: list[str]) -> None:
    result = runner.invoke(app, ["cohorts", *source, "-f", "csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(pd.io.common.StringIO(result.stdout))
    first = df[df["period_index"] == 0]
    assert first["cohort_size"].sum() == 40  # every customer has a clean order
    assert (first["retention_rate"] == 1.0).all()
    events = runner.invoke(app, ["cohorts", *source, "--activity", "events"])
    assert events.exit_code == 2
    assert "cohorts needs the 'events' table" in events.stderr and "Traceback" not in events.output


def test_clv_fit_and_score(source: list[str], tmp_path: Path) -> None:
    model = tmp_path / "model"
    fit = runner.invoke(app, ["clv", "fit", *source, "--observation-end", "2011-03-31", "--out", str(model)])
    assert fit.exit_code == 0, fit.output
    params = json.loads((model / "params.json").read_text())
    assert json.loads((model / "model.json").read_text())["currency"] == "GBP" and params["n_customers"] == 40
    scores = tmp_path / "scores.csv"
    score = runner.invoke(app, ["clv", "score", *source, "--model", str(model), "--horizon", "26", "--out", str(scores)])
    assert score.exit_code == 0, score.output
    df = pd.read_csv(scores, dtype={"customer_id": str})
    assert len(df) == 40 and df["customer_id"].is_unique
    assert df["p_alive"].between(0, 1).all()
    numeric = df.drop(columns="customer_id")
    assert numeric.notna().all().all() and (numeric >= 0).all().all()


def test_satisfaction_fit_names_the_missing_surveys_table(source: list[str], tmp_path: Path) -> None:
    out = tmp_path / "sat"
    result = runner.invoke(app, ["satisfaction", "fit", *source, "--out", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "satisfaction fit needs the 'surveys' table" in lines[0]
    assert not out.exists()
