"""Generator incidents: parsing, truth file, effects, and untouched output elsewhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cxlab import synth
from cxlab.exceptions import InputDataError

KW = {"customers": 4000, "start": date(2024, 1, 1), "end": date(2024, 12, 31), "marketplaces": ("DE", "FR")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("incidents")
    out = {}
    for name, incidents in {
        "clean": (),
        "late": ("late_delivery:DE:2024-06-01:60:0.5",),
        "drop": ("orders_drop:FR:2024-06-01:60:0.5", "returns_rise:DE:2024-06-01:60:0.3"),
    }.items():
        synth.generate(random_state=3, out=root / name, incidents=[synth.parse_incident(t) for t in incidents], **KW)
        out[name] = root / name
    return out


def _orders(path: Path):
    orders = pq.read_table(path / "orders").to_pandas()
    customers = pq.read_table(path / "customers").to_pandas()
    orders = orders.merge(customers[["customer_id", "marketplace"]], on="customer_id")
    orders["in_window"] = (orders["order_ts"] >= "2024-06-01") & (orders["order_ts"] < "2024-07-31")
    orders["late"] = orders["delivered_ts"] > orders["promised_ts"]
    return orders


def test_no_incident_writes_no_truth_file_and_is_deterministic(runs, tmp_path) -> None:
    assert not (runs["clean"] / "truth" / "incidents.json").exists()
    synth.generate(random_state=3, out=tmp_path / "again", **KW)
    for table in ("orders", "surveys", "customers"):
        a = (runs["clean"] / table / "part-00000.parquet").read_bytes()
        assert a == (tmp_path / "again" / table / "part-00000.parquet").read_bytes()


def test_late_delivery_raises_late_rate_only_there_and_lowers_csat(runs) -> None:
    clean, late = _orders(runs["clean"]), _orders(runs["late"])
    # Same orders (same draws): only lateness changes, only in DE during the window.
    assert clean["order_id"].tolist() == late["order_id"].tolist()
    hit = (late["marketplace"] == "DE") & late["in_window"]
    assert (clean.loc[~hit, "delivered_ts"].fillna(0).eq(late.loc[~hit, "delivered_ts"].fillna(0))).all()
    rise = late.loc[hit, "late"].mean() - clean.loc[hit, "late"].mean()
    assert rise == pytest.approx(0.5, abs=0.06)
    truth = json.loads((runs["late"] / "truth" / "incidents.json").read_text())["incidents"]
    assert truth == [{"kind": "late_delivery", "marketplace": "DE", "start": "2024-06-01", "end": "2024-07-30",
                      "days": 60, "size": 0.5, "metric": "late_delivery_rate",
                      "size_unit": "added probability per order"}]
    s_clean = pq.read_table(runs["clean"] / "truth" / "surveys.parquet").to_pandas()
    s_late = pq.read_table(runs["late"] / "truth" / "surveys.parquet").to_pandas()
    assert s_late.loc[s_late["marketplace"] == "DE", "p_satisfied"].mean() < \
        s_clean.loc[s_clean["marketplace"] == "DE", "p_satisfied"].mean() - 0.01


def test_orders_drop_and_returns_rise(runs) -> None:
    clean, drop = _orders(runs["clean"]), _orders(runs["drop"])
    fr = lambda o: o[(o["marketplace"] == "FR") & o["in_window"]]  # noqa: E731
    assert len(fr(drop)) / len(fr(clean)) == pytest.approx(0.5, abs=0.08)
    de = lambda o: o[(o["marketplace"] == "DE") & o["in_window"]]  # noqa: E731
    assert de(drop)["returned"].mean() > de(clean)["returned"].mean() + 0.2


@pytest.mark.parametrize(("text", "needle"), [
    ("late_delivery:DE:2024-06-01:14", "KIND:MARKETPLACE:START:DAYS:SIZE"),
    ("late_delivery:DE:June:14:0.2", "KIND:MARKETPLACE"),
    ("fire:DE:2024-06-01:14:0.2", "kind must be one of"),
    ("late_delivery:XX:2024-06-01:14:0.2", "marketplace must be one of"),
    ("late_delivery:DE:2024-06-01:14:1.5", r"SIZE must lie in \(0, 1\]"),
    ("late_delivery:DE:2030-06-01:14:0.2", "START must lie in the window"),
])
def test_bad_incidents_are_refused(text, needle, tmp_path) -> None:
    with pytest.raises(InputDataError, match=needle):
        synth.generate(random_state=1, out=tmp_path / "x", incidents=[synth.parse_incident(text)], **KW)


def test_cli_generate_with_incident(tmp_path) -> None:
    from typer.testing import CliRunner

    from cxlab.cli import app

    runner = CliRunner()
    args = ["generate", "-n", "500", "--seed", "2", "--start", "2024-01-01", "--end", "2024-06-30",
            "--marketplaces", "DE,FR", "--out", str(tmp_path / "d")]
    ok = runner.invoke(app, [*args, "--incident", "orders_drop:FR:2024-03-01:10:0.5"])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "d" / "truth" / "incidents.json").read_text())["incidents"][0]["kind"] == "orders_drop"
    bad = runner.invoke(app, [*args, "--incident", "orders_drop:FR:2024-03-01"])
    assert bad.exit_code == 2 and "KIND:MARKETPLACE:START:DAYS:SIZE" in bad.output
