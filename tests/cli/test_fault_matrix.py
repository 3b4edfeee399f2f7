"""The fault matrix: bad files, values, project files, options and outputs through the CLI.

Each case ends one of two ways:

- ``Fail(code, needle)``: exit 1 or 2, exactly one ``error:`` line on stderr that
  contains ``needle``, and nothing written to ``--out`` (an existing output is
  left as it was);
- ``Ok(reasons)``: exit 0, every bad row rejected with its reason (checked by
  running ``validate`` on the same data: rows in = clean + rejected, and the
  reasons and counts given), no NaN or inf in the output.

Never a traceback without ``--debug``. Adding a case is one line in CASES.
Paths in arguments: ``{data}`` the dataset folder, ``{out}`` the output path,
``{tmp}`` the case's scratch folder.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.exports import retail_orders
from cxlab.cli import app

runner = CliRunner()
TS = pd.Timestamp


# --------------------------------------------------------------------------- data


def base() -> dict[str, pd.DataFrame]:
    """Six UK customers, ten GBP orders; no optional tables."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": [f"c{i}" for i in range(1, 7)],
                "marketplace": ["UK"] * 6,
                "signup_ts": [TS("2024-01-02 09:00")] * 6,
                "segment": ["a", "b", "a", "b", "a", "b"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": [f"o{i}" for i in range(1, 11)],
                "customer_id": ["c1", "c1", "c2", "c3", "c3", "c3", "c4", "c5", "c6", "c6"],
                "order_ts": [TS(f"2024-0{1 + i % 3}-1{i % 9} 12:00") for i in range(10)],
                "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0],
                "currency": ["GBP"] * 10,
            }
        ),
    }


SURVEYS = pd.DataFrame(
    {
        "survey_id": ["s1", "s2", "s3", "s4"],
        "customer_id": ["c1", "c2", "c3", "c4"],
        "sent_ts": [TS("2024-02-01 10:00")] * 4,
        "responded_ts": [TS("2024-02-02 10:00")] * 3 + [pd.NaT],
        "score": [5.0, 4.0, 2.0, None],
    }
)


def write(tables: dict[str, pd.DataFrame], root: Path, csv: tuple[str, ...] = ()) -> None:
    """Parquet (NaN kept as NaN in orders and fx, as numpy writers do) or CSV files."""
    root.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if name in csv:
            df.to_csv(root / f"{name}.csv", index=False)
            continue
        table = pa.Table.from_pandas(df, preserve_index=False)
        if name in ("orders", "fx"):
            for i, col in enumerate(table.column_names):
                if df[col].dtype.kind == "f":
                    table = table.set_column(i, col, pa.array(df[col].to_numpy(), from_pandas=False))
        pq.write_table(table, root / f"{name}.parquet")


Setup = Callable[[Path], None]


def data(change: Callable[[dict[str, pd.DataFrame]], Any] | None = None, csv: tuple[str, ...] = (), **extra: pd.DataFrame) -> Setup:
    """A dataset: the base tables, changed in place by ``change``, plus ``extra`` tables."""

    def setup(root: Path) -> None:
        tables = {**base(), **{k: v.copy() for k, v in extra.items()}}
        if change is not None:
            change(tables)
        write(tables, root, csv)

    return setup


def cell(table: str, column: str, row: int, value: Any) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        df = tables[table]
        if not isinstance(value, float) or df[column].dtype.kind != "f":
            df[column] = df[column].astype(object)
        df.loc[row, column] = value

    return change


def column(table: str, name: str, values: Any) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        tables[table][name] = values

    return change


def drop(table: str, name: str | None = None) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        if name is None:
            del tables[table]
        else:
            tables[table] = tables[table].drop(columns=name)

    return change


def then(*setups: Setup | Callable[[Path], Any]) -> Setup:
    def setup(root: Path) -> None:
        for s in setups:
            s(root)

    return setup


def file(name: str, content: bytes | str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.write_bytes if isinstance(content, bytes) else target.write_text)(content)

    return setup


def remove(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).unlink()


def project(text: str) -> Callable[[Path], None]:
    return file("../project.yaml", text)


def parquet_bytes_of_orders(root: Path) -> bytes:
    return (root / "orders.parquet").read_bytes()


def move(src: str, dst: str) -> Callable[[Path], None]:
    return lambda root: (root / src).rename(root / dst)


def truncate(name: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        raw = (root / name).read_bytes()
        (root / name).write_bytes(raw[: len(raw) // 2])

    return setup


RETAIL = Path(__file__).resolve().parents[1] / "data" / "uk_retail"


def retail(segments: tuple[str, ...]) -> Setup:
    """The hand-made UK retailer under canonical names, customers given ``segments`` in turn."""

    def setup(root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        customers = pd.read_csv(RETAIL / "customers.csv", dtype=str)
        pd.DataFrame(
            {
                "customer_id": customers["CustomerID"],
                "marketplace": "UK",
                "signup_ts": pd.to_datetime(customers["FirstPurchase"], format="%d/%m/%Y %H:%M"),
                "segment": [segments[i % len(segments)] for i in range(len(customers))],
            }
        ).to_parquet(root / "customers.parquet", index=False)
        retail_orders().to_parquet(root / "orders.parquet", index=False)

    return setup


RETAIL_REJECTS = {"orders": {"negative_amount": 4, "null_key:customer_id": 3}}


def fx(**rates: float) -> pd.DataFrame:
    return pd.DataFrame({"currency": list(rates), "rate": list(rates.values())})


# ------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Fail:
    code: int
    needle: str


@dataclass(frozen=True)
class Ok:
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    stderr: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    args: tuple[str, ...]
    expect: Fail | Ok
    patch: Callable[[pytest.MonkeyPatch, Path], None] | None = None
    #: A previous output at --out that a failure must leave untouched.
    previous: bool = False


VALIDATE = ("validate", "{data}", "--out", "{out}")
METRICS = ("metrics", "{data}", "-m", "orders", "-m", "revenue", "-f", "csv", "--out", "{out}")


def c(id: str, setup: Setup, args: tuple[str, ...], expect: Fail | Ok, **kw: Any) -> pytest.param:
    return pytest.param(Case(id, setup, args, expect, **kw), id=id)


def enospc(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    mp.setattr(Path, "write_bytes", full)


def erofs(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    real_mkdir = Path.mkdir

    def read_only(self: Path, *a: Any, **k: Any) -> None:
        if str(self).startswith(str(tmp / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real_mkdir(self, *a, **k)

    mp.setattr(Path, "mkdir", read_only)


def interrupt_while_writing(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    from cxlab.engine import _base

    def stop(self: Any, lf: Any, path: Path) -> None:
        raise KeyboardInterrupt

    mp.setattr(_base.Engine, "write_parquet", stop)


def garbled_row(root: Path) -> None:
    text = (root / "orders.csv").read_text()
    (root / "orders.csv").write_text(text + 'o99,"c1,2024-01-01\n')


P = project
CASES = [
    # --- files: missing, empty, zero-byte, corrupt, confused
    c("dataset_missing", lambda root: None, ("validate", "{tmp}/nope", "--out", "{out}"), Fail(2, "does not exist")),
    c("dataset_is_a_file", file("../file.txt", "x"), ("validate", "{tmp}/file.txt", "--out", "{out}"), Fail(2, "got a file")),
    c("no_orders_table", data(drop("orders")), VALIDATE, Fail(2, "no 'orders' table")),
    c("no_customers_table", data(drop("customers")), METRICS, Fail(2, "no 'customers' table")),
    c("zero_byte_csv", then(data(drop("orders")), file("orders.csv", b"")), METRICS, Fail(2, "file is empty")),
    c("zero_byte_parquet", then(data(drop("orders")), file("orders.parquet", b"")), METRICS, Fail(2, "file is empty")),
    c("header_only_orders", then(data(drop("orders")), file("orders.csv", "order_id,customer_id,order_ts,amount\n")), METRICS, Fail(2, "has no rows")),
    c("corrupt_parquet", then(data(drop("orders")), file("orders.parquet", b"PAR1" + bytes(range(256)) * 4 + b"PAR1")), METRICS, Fail(2, "cannot read as Parquet")),
    c("truncated_parquet", then(data(), truncate("orders.parquet")), METRICS, Fail(2, "cannot read as Parquet")),
    c("csv_named_parquet", then(data(drop("orders")), file("orders.parquet", "order_id,customer_id,order_ts,amount\no1,c1,2024-01-01,5\n")), METRICS, Fail(2, "name it .csv")),
    c("parquet_named_csv", then(data(), move("orders.parquet", "orders.csv")), METRICS, Fail(2, "rename it to .parquet")),
    c("two_files_one_table", then(data(), file("orders.csv", "order_id,customer_id,order_ts,amount\n")), METRICS, Fail(2, "given twice")),
    c("empty_table_folder", then(data(drop("orders")), lambda root: (root / "orders").mkdir()), METRICS, Fail(2, "holds no .parquet")),
    c("binary_garbage_csv", then(data(drop("orders")), file("orders.csv", bytes(range(1, 256)) * 8)), METRICS, Fail(2, "orders")),
    c("unbalanced_quote_csv", then(data(csv=("orders",)), garbled_row), VALIDATE, Fail(2, "cannot parse as CSV")),
    # --- columns
    c("missing_required_column", data(drop("orders", "amount")), METRICS, Fail(2, "missing required column(s) 'amount'")),
    c("mistyped_amount_column", data(column("orders", "amount", ["ten"] * 10), csv=("orders",)), METRICS, Fail(2, "column 'amount' must be a float")),
    c("mistyped_timestamp_column", data(column("orders", "order_ts", ["soon"] * 10), csv=("orders",)), METRICS, Fail(2, "column 'order_ts' must be a timestamp")),
    c("one_unparseable_amount", data(cell("orders", "amount", 2, "12 GBP"), csv=("orders",)), METRICS, Ok({"orders": {"unparseable:amount": 1}})),
    c("duplicate_column_name", then(data(drop("orders")), file("orders.csv", "order_id,customer_id,order_ts,amount,amount\no1,c1,2024-01-01,5,6\n")), METRICS, Fail(2, "occurs more than once")),
    c("bracket_column_name", data(column("orders", "[red]note[/red]", ["x"] * 10)), METRICS, Ok()),
    # --- keys
    c("duplicate_order_id", data(cell("orders", "order_id", 1, "o1")), METRICS, Ok({"orders": {"duplicate_key:order_id": 2}})),
    c("null_order_id", data(cell("orders", "order_id", 3, None)), METRICS, Ok({"orders": {"null_key:order_id": 1}})),
    c("null_customer_id", data(cell("orders", "customer_id", 3, None)), METRICS, Ok({"orders": {"null_key:customer_id": 1}})),
    c("duplicate_customer_id", data(cell("customers", "customer_id", 1, "c1")), METRICS, Ok({"customers": {"duplicate_key:customer_id": 2}, "orders": {"orphan_customer_id": 3}})),
    c("orphan_customer", data(cell("orders", "customer_id", 9, "c99")), METRICS, Ok({"orders": {"orphan_customer_id": 1}})),
    c("path_like_id_value", data(cell("orders", "customer_id", 0, "../../etc/passwd")), VALIDATE, Ok({"orders": {"orphan_customer_id": 1}})),
    # --- amounts
    c("nan_amount", data(cell("orders", "amount", 4, float("nan"))), METRICS, Ok({"orders": {"non_finite:amount": 1}})),
    c("inf_amount", data(cell("orders", "amount", 4, float("inf"))), METRICS, Ok({"orders": {"non_finite:amount": 1}})),
    c("minus_inf_amount", data(cell("orders", "amount", 4, float("-inf"))), METRICS, Ok({"orders": {"non_finite:amount": 1}})),
    c("inf_text_in_csv", data(cell("orders", "amount", 4, "inf"), csv=("orders",)), METRICS, Ok({"orders": {"non_finite:amount": 1}})),
    c("negative_amount", data(cell("orders", "amount", 4, -50.0)), METRICS, Ok({"orders": {"negative_amount": 1}})),
    c("overflowing_amounts", data(column("orders", "amount", [1.7e308] * 10)), METRICS, Fail(1, "infinite values")),
    c("more_than_half_rejected", data(column("orders", "amount", [-1.0] * 6 + [5.0] * 4)), METRICS, Ok({"orders": {"negative_amount": 6}}, stderr="top reasons: negative_amount 6")),
    c("all_rows_rejected", data(column("orders", "amount", [-1.0] * 10)), METRICS, Fail(2, "all 10 rows of table 'orders' were set aside")),
    c("all_rows_rejected_validate_writes_report", data(column("orders", "amount", [-1.0] * 10)), ("validate", "{data}", "--out", "{tmp}/report"), Fail(2, "top reasons: negative_amount 10")),
    # --- dates
    c("order_in_1900", data(cell("orders", "order_ts", 1, TS("1900-01-01"))), METRICS, Ok({"orders": {"timestamp_before_1990:order_ts": 1}})),
    c("order_in_2999", data(cell("orders", "order_ts", 1, "2999-01-01 00:00:00"), csv=("orders",)), METRICS, Ok({"orders": {"timestamp_in_future:order_ts": 1}})),
    c("signup_in_1900", data(cell("customers", "signup_ts", 5, TS("1900-01-01"))), METRICS, Ok({"customers": {"timestamp_before_1990:signup_ts": 1}, "orders": {"orphan_customer_id": 2}})),
    c("mixed_time_zones", data(column("orders", "order_ts", ["2024-01-10T12:00:00+01:00", "2024-01-10T12:00:00Z", "2024-01-10 12:00:00", "2024-02-10T23:30:00-05:00"] + ["2024-03-01 08:00"] * 6), csv=("orders",)), METRICS, Ok()),
    # --- currencies
    c("unknown_currency_with_fx", data(cell("orders", "currency", 2, "XYZ"), fx=fx(GBP=1.0, EUR=0.85)), METRICS, Ok({"orders": {"unknown_currency": 1}})),
    c("mixed_currencies_no_fx", data(cell("orders", "currency", 2, "USD")), METRICS, Fail(2, "USD (1 orders)")),
    c("mixed_currencies_no_fx_with_option", data(cell("orders", "currency", 2, "USD")), (*METRICS, "--currency", "GBP"), Fail(2, "no fx table")),
    c("currency_option_not_a_code", data(), (*METRICS, "--currency", "pounds"), Fail(2, "three-letter ISO 4217")),
    c("currency_option_other_than_data", data(), (*METRICS, "--currency", "EUR"), Fail(2, "reporting currency is EUR")),
    c("one_foreign_currency_resolved", data(column("orders", "currency", ["USD"] * 10)), METRICS, Ok(stderr="reporting currency USD")),
    c("lowercase_currency", data(column("orders", "currency", ["gbp"] * 10)), METRICS, Ok()),
    c("fx_rate_nan", data(cell("orders", "currency", 2, "EUR"), fx=fx(EUR=float("nan"), GBP=1.0)), METRICS, Ok({"fx": {"non_finite:rate": 1}, "orders": {"unknown_currency": 1}})),
    c("fx_rate_zero", data(cell("orders", "currency", 2, "EUR"), fx=fx(EUR=0.0, GBP=1.0)), METRICS, Ok({"fx": {"nonpositive_rate": 1}, "orders": {"unknown_currency": 1}})),
    c("fx_in_other_base_lacking_reporting", data(cell("orders", "currency", 2, "EUR"), fx=fx(EUR=1.0, USD=0.9)), (*METRICS, "--currency", "GBP"), Fail(2, "fx has no rate for GBP")),
    # --- partial data sets
    c("cohorts_without_events", data(), ("cohorts", "{data}", "-f", "csv", "--out", "{out}"), Ok()),
    c("cohorts_events_activity_without_events", data(), ("cohorts", "{data}", "--activity", "events", "--out", "{out}"), Fail(2, "cohorts needs the 'events' table")),
    c("satisfaction_without_surveys", data(), ("satisfaction", "fit", "{data}", "--out", "{out}"), Fail(2, "needs the 'surveys' table")),
    c("metric_needs_missing_table", data(), ("metrics", "{data}", "-m", "csat", "--out", "{out}"), Fail(2, "needs table 'surveys' (survey invitations and answers)")),
    c("surveys_without_scale", data(surveys=SURVEYS), ("metrics", "{data}", "-m", "csat", "-f", "csv", "--out", "{out}"), Ok()),
    c("only_required_tables_validate", data(), VALIDATE, Ok()),
    # --- project files
    c("project_malformed_yaml", then(data(), P("data: [unclosed\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "cannot read the project file")),
    c("project_is_a_list", then(data(), P("- a\n- b\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "must be a mapping")),
    c("project_unknown_table", then(data(), P("data:\n  tables:\n    invoices: {}\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "unknown table 'invoices'")),
    c("project_unknown_key", then(data(), P("data:\n  colour: blue\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "data.colour")),
    c("project_mistyped_format", then(data(), P("data:\n  tables:\n    orders: {timestamp_format: 5}\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "timestamp_format")),
    c("project_bad_time_zone", then(data(), P("data:\n  tables:\n    orders: {timezone: Mars/Olympus}\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "not a known IANA time zone")),
    c("project_bad_marketplace_zone", then(data(), P("data:\n  marketplaces:\n    UK: {timezone: 'Europe/[x]', currency: GBP}\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "Europe/[x]")),
    c("project_mapped_column_missing", then(data(), P("data:\n  tables:\n    orders: {columns: {amount: Total}}\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "'Total' mapped to orders.amount does not exist")),
    c("project_bad_currency", then(data(), P("data:\n  reporting_currency: 12\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "reporting_currency")),
    c("project_not_utf8", then(data(), file("../project.yaml", b"data:\n  path: \xff\xfe\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "cannot read the project file")),
    c("project_empty", then(data(), P("")), (*METRICS, "--config", "{tmp}/project.yaml"), Ok()),
    c("project_bad_default_scale", then(data(), P("data:\n  default_scale: stars\n")), (*METRICS, "--config", "{tmp}/project.yaml"), Fail(2, "default_scale")),
    # --- names and specs
    c("unknown_engine", data(), (*METRICS, "--engine", "pandas"), Fail(2, "'pandas' is not one of")),
    c("unknown_metric", data(), ("metrics", "{data}", "-m", "happiness", "--out", "{out}"), Fail(2, "metric 'happiness' is not known")),
    c("unknown_grain", data(), (*METRICS, "--grain", "fortnight"), Fail(2, "grain must be one of")),
    c("spec_filter_wrong_type", then(data(), file("../spec.yaml", "- {name: big, type: count, table: orders, filters: [{column: amount, op: '>', value: lots}]}\n")), ("metrics", "{data}", "--spec", "{tmp}/spec.yaml", "-m", "big", "--out", "{out}"), Fail(2, "filters[0].value")),
    c("spec_filter_bad_timestamp", then(data(), file("../spec.yaml", "- {name: late, type: count, table: orders, filters: [{column: order_ts, op: '>', value: yesterday}]}\n")), ("metrics", "{data}", "--spec", "{tmp}/spec.yaml", "-m", "late", "--out", "{out}"), Fail(2, "not an ISO timestamp")),
    c("spec_filter_unknown_column", then(data(), file("../spec.yaml", "- {name: vip, type: count, table: orders, filters: [{column: tier, op: '==', value: gold}]}\n")), ("metrics", "{data}", "--spec", "{tmp}/spec.yaml", "-m", "vip", "--out", "{out}"), Fail(2, "tier")),
    c("empty_summary_file", file("../summary.csv", ""), ("clv", "fit", "--summary", "{tmp}/summary.csv", "--out", "{out}"), Fail(2, "cannot read the summary")),
    c("header_only_summary_file", file("../summary.csv", "frequency,recency,T\n"), ("clv", "fit", "--summary", "{tmp}/summary.csv", "--out", "{out}"), Fail(2, "no rows")),
    # --- out-of-range options
    c("horizon_too_long", data(), ("clv", "score", "{data}", "--model", "{tmp}", "--horizon", "100000000000"), Fail(2, "--horizon")),
    c("horizon_zero", data(), ("clv", "score", "{data}", "--model", "{tmp}", "--horizon", "0"), Fail(2, "--horizon")),
    c("discount_rate_negative", data(), ("clv", "score", "{data}", "--model", "{tmp}", "--horizon", "4", "--discount-rate", "-1"), Fail(2, "--discount-rate")),
    c("customers_zero", lambda root: None, ("generate", "--customers", "0", "--out", "{out}"), Fail(2, "--customers")),
    c("customers_huge", lambda root: None, ("generate", "--customers", "10000000000", "--out", "{out}"), Fail(2, "--customers")),
    c("seed_negative", lambda root: None, ("generate", "--seed", "-1", "--out", "{out}"), Fail(2, "--seed")),
    c("folds_out_of_range", data(surveys=SURVEYS), ("satisfaction", "estimate", "{data}", "--folds", "100", "--out", "{out}"), Fail(2, "--folds")),
    c("since_after_until", data(), (*METRICS, "--since", "2024-03-01", "--until", "2024-01-01"), Fail(2, "is after --until")),
    c("window_without_data", data(), (*METRICS, "--since", "2020-01-01", "--until", "2020-02-01"), Fail(1, "the result is empty")),
    c("calibration_after_observation", data(), ("clv", "fit", "{data}", "--observation-end", "2024-03-01", "--calibration-end", "2024-06-01", "--out", "{out}"), Fail(2, "must come before")),
    # --- outputs
    c("out_parent_is_a_file", then(data(), file("../blocker", "x")), ("metrics", "{data}", "-m", "orders", "-f", "csv", "--out", "{tmp}/blocker/m.csv"), Fail(1, "blocker")),
    c("out_is_a_folder", then(data(), lambda root: (root.parent / "outdir").mkdir()), ("metrics", "{data}", "-m", "orders", "-f", "csv", "--out", "{tmp}/outdir"), Fail(2, "outdir")),
    c("validate_out_is_a_file", then(data(), file("../report", "x")), ("validate", "{data}", "--out", "{tmp}/report"), Fail(2, "report")),
    c("validate_out_foreign_folder", then(data(), file("../mine/notes.txt", "keep me")), ("validate", "{data}", "--out", "{tmp}/mine"), Fail(2, "not a cxlab validation report")),
    c("disk_full", data(), METRICS, Fail(1, "No space left on device"), patch=enospc),
    c("read_only_out", data(), ("validate", "{data}", "--out", "{tmp}/ro/report"), Fail(1, "Read-only file system"), patch=erofs),
    c("interrupted_validate_keeps_old_report", data(cell("orders", "amount", 1, -1.0)), VALIDATE, Fail(130, "interrupted"), patch=interrupt_while_writing, previous=True),
    # --- brackets and ../ in paths and values
    c("brackets_in_missing_path", lambda root: None, ("validate", "{tmp}/[bold]x[/bold]", "--out", "{out}"), Fail(2, "[bold]x[/bold]")),
    c("brackets_in_value", data(cell("customers", "marketplace", 0, "[red]ZZ[/red]")), VALIDATE, Ok({"customers": {"unknown_marketplace": 1}, "orders": {"orphan_customer_id": 2}})),
    c("dotdot_in_out_path", data(), ("metrics", "{data}", "-m", "orders", "-f", "csv", "--out", "{tmp}/a/../m.csv"), Ok()),
    c("by_values_look_like_paths", retail(("../../escaped", "/tmp/abs")), ("clv", "fit", "{data}", "--observation-end", "2011-03-31", "--by", "segment", "--out", "{out}"), Ok(RETAIL_REJECTS)),
    c("by_values_with_brackets_in_metrics", retail(("[red]a[/red]", "..")), ("metrics", "{data}", "-m", "orders", "--by", "segment", "-f", "csv", "--out", "{out}"), Ok(RETAIL_REJECTS)),
    c("two_validates_into_one_out", data(cell("orders", "amount", 1, -1.0)), VALIDATE, Ok({"orders": {"negative_amount": 1}}), previous=True),
    c("two_fits_into_one_out", retail(("a", "b")), ("clv", "fit", "{data}", "--observation-end", "2011-03-31", "--out", "{tmp}/out"), Ok(RETAIL_REJECTS), previous=True),
    c("brackets_in_unknown_metric", data(), ("metrics", "{data}", "-m", "[x]", "--out", "{out}"), Fail(2, "'[x]'")),
]


# ------------------------------------------------------------------------- runner

_BAD_NUMBER = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|-inf|Infinity)(?![A-Za-z])")


def _args(case: Case, root: Path, out: Path) -> list[str]:
    return [a.format(data=root, out=out, tmp=root.parent) for a in case.args]


def _snapshot(path: Path) -> dict[str, bytes] | None:
    if not path.exists():
        return None
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _out_of(case: Case, root: Path, out: Path) -> Path:
    args = _args(case, root, out)
    return Path(args[args.index("--out") + 1]) if "--out" in args else out


def _check_report(root: Path, reasons: dict[str, dict[str, int]], report_dir: Path | None, extra: dict[str, Any]) -> None:
    """rows in = clean + rejected for every table, with exactly the reasons expected."""
    if report_dir is not None:  # the command was validate: check what it wrote
        tables = json.loads((report_dir / "validation.json").read_text())["tables"]
        for name, t in tables.items():
            if t["rows_rejected"]:
                rejects = pd.read_parquet(report_dir / "rejects" / f"{name}.parquet")
                assert len(rejects) == t["rows_rejected"] and rejects["reject_reason"].notna().all()
    else:
        from cxlab.io import load_config, load_dataset

        config = load_config(Path(extra["config"])) if "config" in extra else None
        ds = load_dataset(root, config=config, reporting_currency=extra.get("currency"))
        tables = {name: t.to_dict() for name, t in ds.report.tables.items()}
    for name, t in tables.items():
        assert t["rows_in"] == t["rows_clean"] + t["rows_rejected"], name
        assert t["reasons"] == reasons.get(name, {}), (name, t["reasons"])
    assert set(reasons) <= set(tables)


def _check_output(path: Path) -> None:
    if not path.exists() or path.is_dir():
        return
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        numeric = df.select_dtypes("number").to_numpy(dtype=float)
        assert np.isfinite(numeric[~np.isnan(numeric)]).all()
        return
    text = path.read_text()
    assert text.strip(), "an empty output was written"
    assert not _BAD_NUMBER.search(text), text[:500]


def run_case(case: Case, tmp: Path, monkeypatch: pytest.MonkeyPatch, engine: str = "duckdb") -> None:
    root = tmp / "data"
    case.setup(root)
    out = tmp / "out.csv" if case.args[0] != "validate" else tmp / "out"
    args = _args(case, root, out)
    if "--engine" not in args and args[0] in ("validate", "metrics", "cohorts"):
        args += ["--engine", engine]
    target = _out_of(case, root, out)
    if case.previous:  # an earlier complete run at --out
        again = args if args[0] != "validate" or case.patch is None else ["validate", str(root), "--out", str(target)]
        if args[0] == "clv":  # a different earlier model: one per segment
            again = [*args, "--by", "segment"]
        first = runner.invoke(app, again)
        assert first.exit_code == 0, first.output
    before = _snapshot(target)
    tree_before = {p for p in tmp.rglob("*")}
    with monkeypatch.context() as mp:
        if case.patch is not None:
            case.patch(mp, tmp)
        result = runner.invoke(app, args)
    output = result.output + (result.stderr or "")
    assert "Traceback" not in output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), repr(result.exception)
    leftovers = [p.name for p in target.parent.glob(f".{target.name}.*")] if target.parent.exists() else []
    assert not leftovers, leftovers
    real = target.resolve()
    escaped = [p for p in set(tmp.rglob("*")) - tree_before if p.is_file() and real != p.resolve() and real not in p.resolve().parents]
    assert not escaped, f"written outside --out: {escaped}"
    if isinstance(case.expect, Fail):
        assert result.exit_code == case.expect.code, output
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert case.expect.needle in errors[0], errors[0]
        if case.id != "all_rows_rejected_validate_writes_report":
            assert _snapshot(target) == before, "a failed run changed --out"
        return
    assert result.exit_code == 0, output
    assert case.expect.stderr in result.stderr
    _check_output(target)
    if case.previous and target.is_dir():  # the second run replaced the first whole
        names = {p.name for p in target.iterdir()}
        assert names <= {"validation.json", "rejects", "model.json", "SHA256SUMS", "params.json", "spend.json", "holdout.json", "groups"}, names
    options = {args[i - 1].lstrip("-"): a for i, a in enumerate(args) if i and args[i - 1] in ("--currency", "--config")}
    _check_report(root, case.expect.reasons, target if args[0] == "validate" else None, options)


def test_the_matrix_is_large_and_one_line_per_case() -> None:
    assert len(CASES) >= 60
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES)
def test_fault(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_case(case, tmp_path, monkeypatch)


POLARS = {"nan_amount", "mixed_currencies_no_fx", "surveys_without_scale"}


@pytest.mark.parametrize("case", [p for p in CASES if p.id in POLARS])
def test_fault_on_polars(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_case(case, tmp_path, monkeypatch, engine="polars")
