"""A shop's own A/B export (tests/data/experiment_export): CLI end to end, on every engine.

Three CSV files with the shop's column names, day-first dates, amounts with
thousands separators, one currency (GBP, no fx table) and rows the loader must
set aside. The oracle re-reads the CSV files with pandas, computes each unit's
revenue in the 14 days after its exposure, and runs scipy's Welch t-test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from cxlab.cli import app

EXPORT = Path(__file__).parents[1] / "data" / "experiment_export"
PROJECT = EXPORT / "project.yaml"
runner = CliRunner()
WINDOW = pd.Timedelta(days=14)


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    """Per-unit revenue, orders and pre-period revenue, computed independently with pandas."""
    fmt = "%d/%m/%Y %H:%M"
    cust = pd.read_csv(EXPORT / "shop_customers.csv", dtype=str)
    orders = pd.read_csv(EXPORT / "shop_orders.csv", dtype=str)
    assign = pd.read_csv(EXPORT / "ab_assignments.csv", dtype=str)
    orders["ts"] = pd.to_datetime(orders["Order Date"], format=fmt, errors="coerce")
    orders["amount"] = orders["Order Total"].str.replace(",", "").astype(float)
    dup = orders["Order No"].duplicated(keep=False)
    orders = orders[~dup & orders["ts"].notna() & (orders["amount"] >= 0) & orders["Customer Ref"].isin(cust["Customer Ref"])]
    assign["at"] = pd.to_datetime(assign["Exposed At"], format=fmt)
    m = orders.merge(assign, on="Customer Ref")
    post = m[(m["ts"] >= m["at"]) & (m["ts"] < m["at"] + WINDOW)]
    post = post.assign(big=(post["amount"] >= 50).astype(float))
    per = post.groupby("Customer Ref").agg(revenue=("amount", "sum"), orders=("amount", "size"), big=("big", "sum"))
    out = assign.set_index("Customer Ref").join(per).fillna({"revenue": 0.0, "orders": 0, "big": 0.0})
    return out.reset_index()


def _run(tmp_path: Path, *args: str) -> pd.DataFrame:
    out = tmp_path / "exp"
    result = runner.invoke(app, ["experiment", "analyze", "--config", str(PROJECT), "--control", "Control",
                                 "--window-days", "14", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    assert "Control" in result.output and "sample ratio as intended" in result.output
    payload = json.loads((out / "results.json").read_text())
    table = pd.read_parquet(out / "results.parquet")
    assert len(payload["results"]) == len(table)
    return table


def test_export_matches_pandas_and_scipy(units: pd.DataFrame, tmp_path: Path) -> None:
    table = _run(tmp_path, "-m", "revenue", "-m", "orders", "-m", "aov", "--pre-days", "0").set_index("metric")
    t = units[units["Variant"] == "NewCheckout"]
    c = units[units["Variant"] == "Control"]
    for metric in ("revenue", "orders"):
        row = table.loc[metric]
        welch = stats.ttest_ind(t[metric], c[metric], equal_var=False)
        low, high = welch.confidence_interval(0.95)
        assert (row["n"], row["control_n"]) == (len(t), len(c))
        assert row["mean"] == pytest.approx(t[metric].mean(), rel=1e-12)
        assert row["control_mean"] == pytest.approx(c[metric].mean(), rel=1e-12)
        assert row["lift"] == pytest.approx(t[metric].mean() - c[metric].mean(), rel=1e-9)
        assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
        assert (row["lift_ci_low"], row["lift_ci_high"]) == pytest.approx((low, high), rel=1e-9)
    # revenue per order: a ratio metric, the delta method on the unit totals
    aov = table.loc["aov"]
    assert aov["mean"] == pytest.approx(t["revenue"].sum() / t["orders"].sum(), rel=1e-12)
    assert aov["control_mean"] == pytest.approx(c["revenue"].sum() / c["orders"].sum(), rel=1e-12)
    assert aov["metric_type"] == "ratio" and np.isnan(table["segment"]).all() if table["segment"].dtype != object else table["segment"].isna().all()
    assert list(table["p_value_adjusted"]) == pytest.approx(
        list(np.minimum(1, np.maximum.accumulate(np.sort(table["p_value"]) * np.array([3, 2, 1])))[np.argsort(np.argsort(table["p_value"]))]),
    )


def test_export_with_cuped_segments_and_covariate(tmp_path: Path) -> None:
    args = ["-m", "revenue", "-m", "conversion", "-m", "aov", "--by", "Tier", "--covariate", "Tenure Months"]
    table = _run(tmp_path, *args)
    # every unit is in exactly one segment: the segments add up to the arms
    assert table.groupby("metric")["n"].sum().tolist() == [41, 41, 41]
    assert (table["variance_reduction"] > 0).all() and table["cuped"].all()
    assert set(table["segment"]) == {"Bronze", "Gold", "Silver", "silver "}  # messy values are kept apart


@pytest.fixture(scope="module")
def clean_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The export's validated tables as Parquet, and the DuckDB result on them."""
    from cxlab.io import load_config, load_dataset

    root = tmp_path_factory.mktemp("clean")
    ds = load_dataset(None, engine="duckdb", config=load_config(PROJECT))
    for name, lf in ds.tables.items():
        ds.engine.write_parquet(lf, root / f"{name}.parquet")
    return root, _analysis({n: ds.tables[n] for n in ds.tables}, ds.engine)


def _analysis(tables: dict, engine) -> pd.DataFrame:  # noqa: ANN001
    from cxlab.experiments import analyze

    return analyze(
        tables, metrics=["revenue", "conversion", "aov"], control="Control", window_days=14, pre_days=90,
        by="Tier", covariates=["Tenure Months"], reporting_currency="GBP", engine=engine,
    ).table


def test_same_results_on_every_engine(engine, clean_export) -> None:  # noqa: ANN001
    """CUPED with a covariate read from CSV text, segments, a ratio metric: DuckDB = Polars = Spark."""
    root, reference = clean_export
    tables = {p.stem: engine.read_parquet(p) for p in root.glob("*.parquet")}
    pd.testing.assert_frame_equal(_analysis(tables, engine), reference, rtol=1e-9, atol=1e-12)


def test_active_units_pass_equals_a_pass_over_every_unit(engine, clean_export) -> None:  # noqa: ANN001
    """The pass over units with rows in their windows, completed with the all-zero units, gives the
    statistics of a pass over every assigned unit: on every engine, with CUPED, a ratio metric and a
    metric whose value at zero is not 0."""
    import narwhals as nw

    from cxlab.experiments import units as U
    from cxlab.experiments.metrics import ExperimentMetric, resolve_metrics
    from cxlab.metrics.catalog import U as UNIT_COLUMNS
    from cxlab.schema import MARKETPLACES

    root, _ = clean_export
    tables = {p.stem: engine.read_parquet(p) for p in root.glob("*.parquet")}
    idle = ExperimentMetric(
        "idle", "1 without orders, else 0.5", (UNIT_COLUMNS["o_n"],),
        lambda: nw.when(nw.col("o_n") > 0).then(nw.lit(0.5)).otherwise(nw.lit(1.0)),
    )
    chosen = [*resolve_metrics(["revenue", "conversion", "aov"]), idle]
    assigned, _, _, _ = U.assignment_frame(tables, U.Assignment(), as_of=None)
    options = {"window_days": 14, "pre_days": 90, "as_of": None, "marketplaces": MARKETPLACES, "currency": "GBP"}
    stats = {}
    for active in (False, True):
        lf = U.unit_values(tables, assigned, chosen, active_only=active, **options)
        lf, variables = U.metric_variables(lf, chosen, pre=True)
        stats[active] = U.sufficient_statistics(lf, variables, segment=False)
    assert 0 < stats[True]["_n"].sum() < stats[False]["_n"].sum()  # some assigned units have no orders
    completed = U.add_inactive_units(stats[True], assigned, chosen, variables, pre=True)
    assert completed["s|idle__y"].sum() > 0
    pd.testing.assert_frame_equal(completed, stats[False], check_dtype=False, rtol=1e-9, atol=1e-9)


def test_yaml_metric_and_winsorization_match_pandas(units: pd.DataFrame, tmp_path: Path) -> None:
    """A user-defined metric (orders of 50 GBP or more per unit) and revenue capped at its 90% quantile."""
    spec = tmp_path / "metrics.yaml"
    spec.write_text(
        "metrics:\n"
        "  - name: big_orders\n"
        "    type: count\n"
        "    table: orders\n"
        "    filters: [{column: amount, op: '>=', value: 50}]\n"
    )
    table = _run(tmp_path, "-m", "big_orders", "-m", "revenue", "--spec", str(spec), "--pre-days", "0",
                 "--winsorize", "0.9").set_index("metric")
    payload = json.loads((tmp_path / "exp" / "results.json").read_text())
    cap = units["revenue"].quantile(0.9)  # linear interpolation, over all units
    assert payload["settings"]["winsorize_caps"]["revenue__y"] == pytest.approx(cap, rel=1e-9)
    capped = units.assign(revenue=units["revenue"].clip(upper=cap))
    t, c = (capped[capped["Variant"] == v] for v in ("NewCheckout", "Control"))
    welch = stats.ttest_ind(t["revenue"], c["revenue"], equal_var=False)
    assert table.loc["revenue", "mean"] == pytest.approx(t["revenue"].mean(), rel=1e-12)
    assert table.loc["revenue", "p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert table.loc["big_orders", "metric_type"] == "mean"
    assert 0 < units["big"].sum() < units["orders"].sum()  # the filter matters
    big_cap = units["big"].quantile(0.9)  # --winsorize caps every metric
    assert payload["settings"]["winsorize_caps"]["big_orders__y"] == pytest.approx(big_cap)
    capped = units.assign(big=units["big"].clip(upper=big_cap))
    t, c = (capped[capped["Variant"] == v] for v in ("NewCheckout", "Control"))
    assert table.loc["big_orders", "mean"] == pytest.approx(t["big"].mean(), rel=1e-12)
    assert table.loc["big_orders", "control_mean"] == pytest.approx(c["big"].mean(), rel=1e-12)
    welch = stats.ttest_ind(t["big"], c["big"], equal_var=False)
    assert table.loc["big_orders", "p_value"] == pytest.approx(welch.pvalue, rel=1e-9)


def test_many_arms_are_coded_by_lookup_as_by_comparisons(engine, monkeypatch) -> None:  # noqa: ANN001
    """In the engine an arm is its position in the sorted names: with more arms than
    ``CHAIN_ARMS`` by a lookup, else by a chain of comparisons. Both give the same results, the
    arms keep their names, a unit in two arms is left out, and the intended split is read from
    ``assignment_prob`` (per arm, averaged over its units)."""
    from cxlab.experiments import analyze
    from cxlab.experiments import units as U

    rng = np.random.default_rng(3)
    n, k = 4_000, 20
    names = [f"Arm {i:02d}" for i in range(k)]  # "Arm 00" sorts first: the control
    arm = rng.integers(0, k, n)
    at = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 10 * 86400, n), unit="s")
    treat = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "action": np.array(names)[arm],
                          "assigned_ts": at, "assignment_prob": 1.0 / k})
    twice = treat.iloc[[5]].assign(action=names[(arm[5] + 1) % k])  # c5 in a second arm
    m = 6_000
    owner = rng.integers(0, n, m)
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(m)], "customer_id": [f"c{i}" for i in owner],
                           "order_ts": (at[owner] + pd.to_timedelta(rng.uniform(-20, 20, m), unit="D")).floor("s"),
                           "amount": np.round(rng.lognormal(3, 1, m), 2), "currency": "USD"})
    tables = {"treatments": engine.from_pandas(pd.concat([treat, twice], ignore_index=True)),
              "orders": engine.from_pandas(orders)}

    def run() -> object:
        return analyze(tables, metrics=["revenue", "conversion"], control="Arm 00", window_days=7, pre_days=14,
                       reporting_currency="USD", engine=engine)

    lookup = run()
    monkeypatch.setattr(U, "CHAIN_ARMS", 100)
    chain = run()
    pd.testing.assert_frame_equal(lookup.table, chain.table)
    assert sorted(lookup.table["arm"].unique()) == names[1:]
    single = treat.drop(index=5)
    expected = single.groupby("action").size()
    assert lookup.srm["units"] == {a: int(expected[a]) for a in names}
    assert lookup.srm["expected_from"] == "assignment_prob"
    assert lookup.warnings[0] == "1 unit was assigned to more than one arm and left out."
    # revenue per unit of one arm, from pandas
    o = orders.merge(single[["customer_id", "action", "assigned_ts"]], on="customer_id")
    d = o["order_ts"] - o["assigned_ts"]
    post = o[(d >= pd.Timedelta(0)) & (d < pd.Timedelta(days=7))]
    rev = post.groupby("customer_id")["amount"].sum().reindex(single["customer_id"], fill_value=0.0)
    mean = rev.groupby(single.set_index("customer_id")["action"]).mean()
    row = lookup.table[(lookup.table["metric"] == "revenue") & (lookup.table["arm"] == "Arm 07")].iloc[0]
    assert row["mean"] == pytest.approx(mean["Arm 07"], rel=1e-9)
    assert row["control_mean"] == pytest.approx(mean["Arm 00"], rel=1e-9)
