"""Layout of the output folder and conformance to the canonical schema."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from cxlab.schema import TABLES
from cxlab.synth.truth import CUSTOMER_TRUTH_SCHEMA, SURVEY_TRUTH_SCHEMA

from .conftest import N_CUSTOMERS, Generated

_TYPES = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}
PART_TABLES = ("customers", "orders", "events", "surveys", "contacts", "treatments")


def test_every_table_is_written_with_the_documented_layout(generated: Generated) -> None:
    out = generated.out
    for name in PART_TABLES:
        parts = sorted(p.name for p in (out / name).iterdir())
        assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"], name
    assert (out / "fx.parquet").is_file()
    for name in ("summary.json", "customers.parquet", "surveys.parquet"):
        assert (out / "truth" / name).is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_columns_and_types_follow_the_schema(generated: Generated) -> None:
    for name, table in TABLES.items():
        schema = generated.arrow(name).schema
        for column in table.columns:
            if name == "events" and column.name == "session_id":
                continue  # optional, not generated
            assert column.name in schema.names, (name, column.name)
            assert schema.field(column.name).type == _TYPES[column.type], (name, column.name)
        # canonical columns first, in schema order
        canonical = [c.name for c in table.columns if c.name in schema.names]
        assert schema.names[: len(canonical)] == canonical


def test_extra_columns(generated: Generated) -> None:
    customers = generated.arrow("customers").schema
    assert {"segment", "prime", "device", "age_band"} <= set(customers.names)
    assert customers.field("prime").type == pa.bool_()
    assert generated.arrow("orders").schema.field("carrier").type == pa.string()


def test_rows_reported_match_rows_written(generated: Generated) -> None:
    rows = generated.summary.rows
    for name in TABLES:
        assert rows[name] == generated.arrow(name).num_rows, name
    assert rows["customers"] == N_CUSTOMERS
    assert generated.truth["rows"] == rows


def test_truth_files_have_their_schemas(generated: Generated) -> None:
    truth = generated.out / "truth"
    assert pq.read_schema(truth / "customers.parquet").equals(CUSTOMER_TRUTH_SCHEMA)
    assert pq.read_schema(truth / "surveys.parquet").equals(SURVEY_TRUTH_SCHEMA)
    assert pq.read_metadata(truth / "customers.parquet").num_rows == N_CUSTOMERS
    assert pq.read_metadata(truth / "surveys.parquet").num_rows == generated.summary.rows["surveys"]


def test_summary_json_has_the_promised_keys(generated: Generated) -> None:
    t = generated.truth
    markets = list(t["marketplaces"])
    assert len(markets) >= 6
    assert len({v["continent"] for v in t["marketplaces"].values()}) >= 3
    for m in markets:
        assert set(t["bgnbd"][m]) == {"r", "alpha", "a", "b"}
        assert {"p", "q", "gamma", "currency"} <= set(t["gamma_gamma"][m])
        assert 0.0 < t["csat_invited"]["by_marketplace"][m] < 1.0
    assert 0.0 < t["csat_invited"]["overall"] < 1.0
    assert -100.0 <= t["nps_invited"]["overall"] <= 100.0
    assert t["drivers"][0] == "delay_days"
    assert t["drivers"] == ["delay_days", "returned", "contacts"]
    assert set(t["true_ate_revenue_30d_eur"]) == {"email", "coupon_10", "free_shipping", "call"}
    assert t["campaign"]["randomized"] is True
    assert t["random_state"] == generated.summary.random_state and t["start"] == "2024-01-01" and t["end"] == "2025-12-31"
