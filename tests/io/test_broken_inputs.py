"""A corpus of broken inputs: each is fatal (exit 2, one clear message) or rejected
with the right reason, and rows in = clean + rejected always holds."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.exceptions import InputDataError
from cxlab.io import DataConfig, load_dataset

NOW = dt.datetime(2026, 1, 1)


def base_tables() -> dict[str, pd.DataFrame]:
    ts = pd.Timestamp
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": ["c1", "c2", "c3", "c4"],
                "marketplace": ["DE", "JP", "US", "UK"],
                "signup_ts": [ts("2024-01-01 10:00")] * 4,
                "segment": ["a", "b", "a", "c"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3", "o4", "o5"],
                "customer_id": ["c1", "c1", "c2", "c3", "c4"],
                "order_ts": [ts("2024-02-01 10:00")] * 5,
                "amount": [10.0, 20.0, 1500.0, 30.0, 12.5],
                "currency": ["EUR", "EUR", "JPY", "USD", "GBP"],
                "delivered_ts": [ts("2024-02-03 10:00")] * 5,
            }
        ),
        "surveys": pd.DataFrame(
            {
                "survey_id": ["s1", "s2", "s3"],
                "customer_id": ["c1", "c2", "c3"],
                "order_id": ["o1", "o3", "o4"],
                "sent_ts": [ts("2024-02-05 10:00")] * 3,
                "responded_ts": [ts("2024-02-06 10:00"), None, ts("2024-02-07 10:00")],
                "score": [5.0, None, 9.0],
                "scale": ["csat5", "csat5", "nps11"],
            }
        ),
        "treatments": pd.DataFrame(
            {
                "customer_id": ["c1", "c2"],
                "action": ["email", "control"],
                "assigned_ts": [ts("2024-03-01")] * 2,
                "cost": [0.1, 0.0],
            }
        ),
        "fx": pd.DataFrame({"currency": ["JPY", "USD", "GBP"], "rate": [0.0062, 0.92, 1.17]}),
    }


def write(tables: dict[str, pd.DataFrame], root: Path, csv: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if name in csv:
            df.to_csv(root / f"{name}.csv", index=False)
        else:
            df.to_parquet(root / f"{name}.parquet", index=False)
    return root


def edit(name: str, column: str, row: int, value: object) -> Callable[[dict], None]:
    def apply(tables: dict[str, pd.DataFrame]) -> None:
        df = tables[name]
        if df[column].dtype.kind in "Mf" and not isinstance(value, type(df[column].iloc[0])):
            df[column] = df[column].astype(object)
        df.loc[row, column] = value

    return apply


# (id, change to the base tables, csv tables, {table: {reason: count}})
REJECT_CASES = [
    ("null_customer_id", edit("orders", "customer_id", 1, None), (), {"orders": {"null_key:customer_id": 1}}),
    ("duplicate_order_id", edit("orders", "order_id", 1, "o1"), (), {"orders": {"duplicate_key:order_id": 2}, "surveys": {"orphan_order_id": 1}}),
    ("negative_amount", edit("orders", "amount", 1, -5.0), (), {"orders": {"negative_amount": 1}}),
    ("before_1990", edit("orders", "order_ts", 1, pd.Timestamp("1989-12-31")), (), {"orders": {"timestamp_before_1990:order_ts": 1}}),
    ("in_future", edit("orders", "order_ts", 1, pd.Timestamp("2031-01-01")), (), {"orders": {"timestamp_in_future:order_ts": 1}}),
    ("delivered_before_ordered", edit("orders", "delivered_ts", 1, pd.Timestamp("2024-01-15")), (), {"orders": {"delivered_before_ordered": 1}}),
    ("csat_out_of_scale", edit("surveys", "score", 0, 6.0), (), {"surveys": {"score_out_of_scale": 1}}),
    ("nps_out_of_scale", edit("surveys", "score", 2, 11.0), (), {"surveys": {"score_out_of_scale": 1}}),
    ("fractional_score", edit("surveys", "score", 0, 3.5), (), {"surveys": {"score_out_of_scale": 1}}),
    ("unknown_scale", edit("surveys", "scale", 0, "csat7"), (), {"surveys": {"unknown_scale": 1}}),
    ("response_before_invitation", edit("surveys", "responded_ts", 0, pd.Timestamp("2024-02-01")), (), {"surveys": {"response_before_invitation": 1}}),
    ("orphan_customer", edit("orders", "customer_id", 4, "c99"), (), {"orders": {"orphan_customer_id": 1}}),
    ("orphan_order_in_survey", edit("surveys", "order_id", 0, "o99"), (), {"surveys": {"orphan_order_id": 1}}),
    ("unknown_currency", edit("orders", "currency", 1, "CHF"), (), {"orders": {"unknown_currency": 1}}),
    ("unknown_marketplace", edit("customers", "marketplace", 3, "ZZ"), (), {"customers": {"unknown_marketplace": 1}, "orders": {"orphan_customer_id": 1}}),
    ("negative_cost", edit("treatments", "cost", 0, -1.0), (), {"treatments": {"negative_amount": 1}}),
    ("nonpositive_fx_rate", edit("fx", "rate", 0, 0.0), (), {"fx": {"nonpositive_rate": 1}, "orders": {"unknown_currency": 1}, "surveys": {"orphan_order_id": 1}}),
    ("duplicate_customer_cascades", edit("customers", "customer_id", 1, "c1"), (), {"customers": {"duplicate_key:customer_id": 2}, "orders": {"orphan_customer_id": 3}, "surveys": {"orphan_customer_id": 2}, "treatments": {"orphan_customer_id": 2}}),
    ("one_unparseable_timestamp", edit("orders", "order_ts", 1, "31/02/2024 xx"), ("orders",), {"orders": {"unparseable:order_ts": 1}}),
    ("one_unparseable_amount", edit("orders", "amount", 1, "12 EUR"), ("orders",), {"orders": {"unparseable:amount": 1}}),
    ("null_survey_key", edit("surveys", "survey_id", 1, None), (), {"surveys": {"null_key:survey_id": 1}}),
]


@pytest.mark.parametrize(("change", "csv", "expected"), [c[1:] for c in REJECT_CASES], ids=[c[0] for c in REJECT_CASES])
def test_row_problems_are_rejected_with_their_reason(tmp_path: Path, change, csv, expected) -> None:
    tables = base_tables()
    change(tables)
    root = write(tables, tmp_path / "data", csv)
    ds = load_dataset(root, engine="duckdb", rejects_dir=tmp_path / "out", now=NOW)
    report = json.loads((tmp_path / "out" / "validation.json").read_text())
    for name, t in report["tables"].items():
        assert t["rows_in"] == t["rows_clean"] + t["rows_rejected"], name
        assert t["reasons"] == expected.get(name, {}), name
        rejects = tmp_path / "out" / "rejects" / f"{name}.parquet"
        if t["rows_rejected"]:
            frame = pd.read_parquet(rejects)
            assert len(frame) == t["rows_rejected"]
            assert frame["reject_reason"].value_counts().to_dict() == t["reasons"]
        else:
            assert not rejects.exists()
    assert ds.report.rows_rejected == sum(sum(r.values()) for r in expected.values())


def test_rejected_rows_keep_their_original_values(tmp_path: Path) -> None:
    tables = base_tables()
    edit("orders", "order_ts", 1, "31/02/2024 xx")(tables)
    root = write(tables, tmp_path / "data", ("orders",))
    load_dataset(root, rejects_dir=tmp_path / "out", now=NOW)
    rejected = pd.read_parquet(tmp_path / "out" / "rejects" / "orders.parquet")
    assert rejected.loc[0, "order_ts"] == "31/02/2024 xx"
    assert rejected.loc[0, "order_id"] == "o2"


def _missing_table(name: str) -> Callable[[dict], None]:
    return lambda tables: tables.pop(name)


def _drop_column(table: str, column: str) -> Callable[[dict], None]:
    return lambda tables: tables.__setitem__(table, tables[table].drop(columns=[column]))


def _all_values(table: str, column: str, value: object) -> Callable[[dict], None]:
    def apply(tables: dict) -> None:
        tables[table][column] = value

    return apply


FATAL_CASES = [
    ("no_customers_table", _missing_table("customers"), (), ["'customers'", "customers.parquet"]),
    ("no_orders_table", _missing_table("orders"), (), ["'orders'", "found"]),
    ("no_amount_column", _drop_column("orders", "amount"), (), ["orders.parquet", "'amount'", "found 'order_id'"]),
    ("no_marketplace_column", _drop_column("customers", "marketplace"), ("customers",), ["customers.csv", "'marketplace'"]),
    ("no_survey_sent_ts", _drop_column("surveys", "sent_ts"), (), ["surveys.parquet", "'sent_ts'"]),
    ("order_ts_never_a_timestamp", _all_values("orders", "order_ts", "yesterday"), ("orders",), ["orders.csv", "'order_ts' must be a timestamp", "timestamp_format"]),
    ("amount_never_a_number", _all_values("orders", "amount", "ten euros"), ("orders",), ["orders.csv", "'amount' must be a float"]),
    ("signup_ts_numbers", _all_values("customers", "signup_ts", 12345), (), ["customers.parquet", "'signup_ts' must be a timestamp"]),
]


@pytest.mark.parametrize(("change", "csv", "needles"), [c[1:] for c in FATAL_CASES], ids=[c[0] for c in FATAL_CASES])
def test_fatal_problems_exit_2_with_one_clear_message(tmp_path: Path, change, csv, needles) -> None:
    tables = base_tables()
    change(tables)
    root = write(tables, tmp_path / "data", csv)
    result = CliRunner().invoke(app, ["validate", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in message
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "validation.json").exists()


def test_empty_file_is_fatal(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    (root / "orders.parquet").unlink()
    (root / "orders.csv").write_text("")
    with pytest.raises(InputDataError, match=r"orders\.csv: file is empty"):
        load_dataset(root, now=NOW)


def test_corrupt_parquet_is_fatal(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    (root / "orders.parquet").write_bytes(b"PAR1 this is not parquet at all")
    with pytest.raises(InputDataError, match=r"orders\.parquet: cannot read as Parquet"):
        load_dataset(root, now=NOW)


def test_dataset_that_is_a_file_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputDataError, match="expected a dataset folder"):
        load_dataset(path)


def test_header_only_optional_table_has_zero_rows(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    (root / "surveys.parquet").unlink()
    (root / "contacts.csv").write_text("contact_id,customer_id,contact_ts\n")
    ds = load_dataset(root, now=NOW)
    assert ds.report.tables["contacts"].rows_in == 0


def test_semicolon_cp1252_csv_with_decimal_comma(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    (root / "customers.parquet").unlink()
    text = "customer_id;marketplace;signup_ts;segment\nc1;DE;2024-01-01;Café\nc2;JP;2024-01-01;b\nc3;US;2024-01-01;a\nc4;UK;2024-01-01;é\n"
    (root / "customers.csv").write_bytes(text.encode("cp1252"))
    (root / "orders.parquet").unlink()
    (root / "surveys.parquet").unlink()  # it refers to orders this test drops
    orders = "order_id;customer_id;order_ts;amount;currency\no1;c1;2024-02-01;1.234,50;EUR\n"
    (root / "orders.csv").write_text(orders)
    config = DataConfig.model_validate({"tables": {"orders": {"csv": {"decimal": ","}}}})
    ds = load_dataset(root, config=config, now=NOW)
    customers = ds.engine.to_pandas(ds.tables["customers"]).set_index("customer_id")
    assert customers.loc["c1", "segment"] == "Café"
    assert ds.engine.to_pandas(ds.tables["orders"])["amount"].tolist() == [1234.5]
    assert ds.report.rows_rejected == 0


def test_blank_padded_and_float_ids_still_join(tmp_path: Path) -> None:
    tables = base_tables()
    tables["customers"]["customer_id"] = [12346.0, 2.0, 3.0, 4.0]
    tables["orders"]["customer_id"] = [" 12346 ", "12346", "2", "3", "4"]
    tables["surveys"]["customer_id"] = ["12346", "2", "3"]
    tables["treatments"]["customer_id"] = ["12346", "2"]
    root = write(tables, tmp_path / "data", ("orders",))
    ds = load_dataset(root, now=NOW)
    assert ds.report.rows_rejected == 0
    orders = ds.engine.to_pandas(ds.tables["orders"])
    assert sorted(orders["customer_id"].unique()) == ["12346", "2", "3", "4"]


def test_column_mapping_formats_and_zones(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    (root / "orders.parquet").unlink()
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "invoices.csv").write_text(
        "InvoiceNo,CustomerID,InvoiceDate,Total,Country\n"
        "536365,c1,01/12/2024 08:26,15.30,United Kingdom\n"
        "536366,c2,01/12/2024 23:30,1000,Japan\n"
    )
    project = tmp_path / "project.yaml"
    project.write_text(
        "data:\n"
        "  tables:\n"
        "    orders:\n"
        "      path: exports/invoices.csv\n"
        "      columns: {order_id: InvoiceNo, customer_id: CustomerID, order_ts: InvoiceDate, amount: Total}\n"
        "      timestamp_format: '%d/%m/%Y %H:%M'\n"
        "      timezone: Asia/Tokyo\n"
    )
    from cxlab.io import load_config

    ds = load_dataset(root, config=load_config(project), now=NOW)
    orders = ds.engine.to_pandas(ds.tables["orders"]).set_index("order_id")
    # 23:30 in Tokyo is 14:30 UTC; the extra column is kept.
    assert orders.loc["536366", "order_ts"] == pd.Timestamp("2024-12-01 14:30")
    assert orders.loc["536365", "Country"] == "United Kingdom"
    # no currency column: each order takes its marketplace's currency
    assert orders.loc["536366", "currency"] == "JPY"


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("data:\n  tables:\n    purchases: {}\n", "unknown table 'purchases'"),
        ("data:\n  tables:\n    orders:\n      columns: {order_date: Date}\n", "'order_date' is not a canonical column"),
        ("data:\n  tables:\n    orders:\n      csv: {delimiter: ';;'}\n", "delimiter must be one character"),
    ],
)
def test_bad_project_file_is_rejected_before_reading(tmp_path: Path, yaml_text: str, needle: str) -> None:
    from cxlab.io import load_config

    project = tmp_path / "project.yaml"
    project.write_text(yaml_text)
    with pytest.raises(InputDataError, match=needle):
        load_config(project)


def test_mapped_column_that_does_not_exist(tmp_path: Path) -> None:
    root = write(base_tables(), tmp_path / "data")
    config = DataConfig.model_validate({"tables": {"orders": {"columns": {"amount": "Total"}}}})
    with pytest.raises(InputDataError, match=r"column 'Total' mapped to orders\.amount does not exist"):
        load_dataset(root, config=config)
