"""User-defined metrics from YAML, and retention cohorts."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from cxlab.engine import get_engine
from cxlab.exceptions import InputDataError
from cxlab.metrics import compute_cohorts, compute_metrics, load_spec
from tests.metrics.helpers import on_engine
from tests.metrics.reference import local, period

SPEC = """
metrics:
  - name: books_share
    type: proportion
    table: orders
    success: [{column: category, op: "==", value: books}]
  - name: toy_orders
    type: count
    table: orders
    filters: [{column: category, op: in, value: [toys]}]
  - name: mean_amount_returned
    type: mean
    table: orders
    column: amount
    filters: [{column: returned, op: "==", value: true}]
  - name: nps_again
    type: nps
    table: surveys
    timestamp: responded_ts
    column: score
    filters: [{column: scale, op: "==", value: nps11}]
  - name: surveyed_customers
    type: distinct_count
    table: surveys
    column: customer_id
  - name: amount_total
    type: sum
    table: orders
    column: amount
"""


def test_spec_metrics(tmp_path, pandas_tables) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    tables = on_engine(get_engine("duckdb"), pandas_tables)
    got = compute_metrics(tables, grain="all", spec=path).set_index("metric")
    o, s = pandas_tables["orders"], pandas_tables["surveys"]
    assert got.loc["books_share", "value"] == pytest.approx((o["category"] == "books").mean())
    assert got.loc["toy_orders", "value"] == (o["category"] == "toys").sum()
    ret = o[o["returned"].fillna(False).astype(bool)]
    assert got.loc["mean_amount_returned", "value"] == pytest.approx(ret["amount"].mean())
    assert got.loc["nps_again", ["value", "ci_low", "ci_high"]].tolist() == pytest.approx(
        got.loc["nps", ["value", "ci_low", "ci_high"]].tolist()
    )
    assert got.loc["surveyed_customers", "value"] == s["customer_id"].nunique()
    assert got.loc["amount_total", "value"] == pytest.approx(o["amount"].sum())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- {name: a, type: median, table: orders}", "metric 'a': field 'type'"),
        ("- {name: a, type: mean, table: orders}", "metric 'a'.*needs field 'column'"),
        ("- {name: csat, type: count, table: orders}", "built-in"),
        ("- {name: a, type: count, table: orders, filters: [{column: x, op: like, value: 1}]}",
         "metric 'a': field 'filters.0.op'"),
        ("- {name: a, type: count, table: orders, filters: [{column: x, op: in, value: 1}]}",
         "non-empty list"),
        ("- {name: a, type: count, table: orders, timestamp: amount}", "not a timestamp"),
        ("- {name: a, type: count, table: orders}\n- {name: a, type: count, table: orders}",
         "defined twice"),
        ("name: a", "expected a list"),
    ],
)
def test_bad_spec_names_metric_and_field(tmp_path, body, message) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(body))
    with pytest.raises(InputDataError, match=message):
        load_spec(path)


def _cohort_reference(tables, activity: str) -> pd.DataFrame:
    cust = tables["customers"][["customer_id", "marketplace"]]
    frames = []
    for name, ts in (("orders", "order_ts"), ("events", "event_ts")):
        d = tables[name].merge(cust, on="customer_id")
        d["p"] = pd.to_datetime(period(local(d[ts], d["marketplace"]), "month"))
        frames.append(d[["customer_id", "p"]].assign(src=name))
    first = frames[0].groupby("customer_id")["p"].min().rename("cohort")
    act = pd.concat(frames if activity == "any" else frames[:1]).drop_duplicates(["customer_id", "p"])
    act = act.join(first, on="customer_id")
    act = act[act["p"] >= act["cohort"]]
    act["k"] = (act["p"].dt.year - act["cohort"].dt.year) * 12 + act["p"].dt.month - act["cohort"].dt.month
    kept = act.groupby(["cohort", "k"]).size()
    return kept


@pytest.mark.parametrize("activity", ["orders", "any"])
def test_cohorts_match_reference(activity, pandas_tables) -> None:
    tables = on_engine(get_engine("polars"), pandas_tables)
    got = compute_cohorts(tables, activity=activity)
    want = _cohort_reference(pandas_tables, activity)
    sizes = got[got["period_index"] == 0].set_index("cohort_start")["cohort_size"]
    first = pandas_tables["orders"].groupby("customer_id").size()
    assert sizes.sum() == len(first)
    g = got.set_index([pd.to_datetime(got["cohort_start"]), got["period_index"]])["retained"]
    assert (g[g > 0].sort_index() == want.reindex(g[g > 0].index)).all()
    assert g.sum() == want.sum()
    if activity == "orders":
        assert np.all(got.loc[got["period_index"] == 0, "retention_rate"] == 1.0)


def test_cohorts_by_marketplace_on_engine(engine, pandas_tables) -> None:
    got = compute_cohorts(on_engine(engine, pandas_tables), by=["marketplace"], grain="week")
    assert list(got.columns) == ["cohort_start", "marketplace", "period_index", "cohort_size",
                                 "retained", "retention_rate"]
    assert (pd.to_datetime(got["cohort_start"]).dt.weekday == 0).all()
    assert got["retention_rate"].between(0, 1).all()
    with pytest.raises(InputDataError, match="valid choices"):
        compute_cohorts(on_engine(engine, pandas_tables), by=["category"])
