"""Monitoring on a hand-made shop export, bad input, PELT, engines and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.exceptions import InputDataError
from cxlab.io import load_config, load_dataset
from cxlab.metrics import METRICS
from cxlab.monitor import monitor, monitor_series, pelt, series_from_metrics

FIRST, LAST = dt.date(2023, 1, 2), dt.date(2024, 6, 30)
DROP_FROM = dt.date(2024, 4, 1)
CLOSED = {(12, 24), (12, 25), (12, 26), (1, 1)}


def _shop(root: Path, *, drop: bool) -> Path:
    """A small UK shop's export: closed on Saturdays and over Christmas, GBP only,
    its own column names and date format, a bad row or two; orders and surveys."""
    rng = np.random.default_rng(5)
    root.mkdir(parents=True, exist_ok=True)
    customers = [f"K{i:05d}" for i in range(3000)]
    pd.DataFrame({"Client": customers, "Country": "United Kingdom", "Since": "01/06/2022 10:00"}).to_csv(
        root / "clients.csv", index=False)
    orders, surveys = [], []
    day = FIRST
    while day <= LAST:
        closed = day.weekday() == 5 or (day.month, day.day) in CLOSED
        if not closed:
            mean = (30 if day.weekday() < 5 else 18) * (1 + 0.1 * (day - FIRST).days / 365)
            if drop and day >= DROP_FROM:
                mean *= 0.6
            for _ in range(rng.poisson(mean)):
                ref = f"INV{len(orders):06d}"
                when = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=int(rng.integers(0, 600)))
                orders.append((ref, customers[rng.integers(3000)], when.strftime("%d/%m/%Y %H:%M"),
                               f"{rng.gamma(2, 20):.2f}"))
                if rng.random() < 0.5:
                    answered = rng.random() < 0.6
                    good = rng.random() < 0.85
                    surveys.append((f"S{len(surveys):06d}", orders[-1][1], (when + dt.timedelta(days=2)).strftime("%d/%m/%Y %H:%M"),
                                    (when + dt.timedelta(days=3)).strftime("%d/%m/%Y %H:%M") if answered else "",
                                    (5 if good else 2) if answered else "", "csat5"))
        day += dt.timedelta(days=1)
    orders.append(("INV-BAD", customers[0], "31/02/2023 10:00", "12.00"))  # impossible date: rejected
    pd.DataFrame(orders, columns=["Invoice", "Client", "Placed", "Total GBP"]).to_csv(root / "sales.csv", index=False)
    pd.DataFrame(surveys, columns=["Ref", "Client", "Sent", "Answered", "Stars", "Form"]).to_csv(root / "feedback.csv", index=False)
    (root / "project.yaml").write_text(
        "data:\n"
        "  reporting_currency: GBP\n"
        "  tables:\n"
        "    customers:\n"
        "      path: clients.csv\n"
        "      columns: {customer_id: Client, marketplace: Country, signup_ts: Since}\n"
        "      values: {marketplace: {United Kingdom: UK}}\n"
        "      timestamp_format: '%d/%m/%Y %H:%M'\n"
        "    orders:\n"
        "      path: sales.csv\n"
        "      columns: {order_id: Invoice, customer_id: Client, order_ts: Placed, amount: Total GBP}\n"
        "      timestamp_format: '%d/%m/%Y %H:%M'\n"
        "      timezone: Europe/London\n"
        "    surveys:\n"
        "      path: feedback.csv\n"
        "      columns: {survey_id: Ref, customer_id: Client, sent_ts: Sent, responded_ts: Answered, score: Stars, scale: Form}\n"
        "      timestamp_format: '%d/%m/%Y %H:%M'\n"
        "      timezone: Europe/London\n",
        encoding="utf-8",
    )
    return root / "project.yaml"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("shop")
    return {"steady": _shop(root / "steady", drop=False), "drop": _shop(root / "drop", drop=True)}


def _load(project: Path, tmp: Path):
    return load_dataset(None, config=load_config(project), rejects_dir=tmp)


def test_shop_closed_days_raise_no_alarm(shop, tmp_path) -> None:
    ds = _load(shop["steady"], tmp_path)
    assert ds.report.tables["orders"].rows_rejected == 1
    result = monitor(ds.tables, metrics=["orders", "csat"], baseline="2023-01-02:2023-12-31",
                     methods=["ewma", "cusum", "shewhart"], marketplaces=ds.marketplaces,
                     reporting_currency="GBP", fx_currency="GBP")
    charts = result.charts[result.charts["metric"] == "orders"]
    dates = pd.to_datetime(charts["date"])
    saturday = dates.dt.weekday == 5
    christmas = dates.dt.strftime("%m-%d").isin(["12-24", "12-25", "12-26", "01-01"]) & ~saturday
    assert charts.loc[saturday, "closed"].all() and charts.loc[christmas, "closed"].all()
    assert charts.loc[saturday, "expected"].max() < 0.5  # zeros in their day-of-week pattern
    assert charts.loc[saturday | christmas, "alarm"].sum() == 0
    csat = result.charts[result.charts["metric"] == "csat"]
    no_answer = csat["value"].isna()
    assert no_answer.sum() > 30 and csat.loc[no_answer, "z"].isna().all()  # a rate: missing, not zero
    # A steady shop: at most a couple of false alarms over six months and three charts.
    assert len(result.alarms) <= 3


def test_shop_order_drop_is_found_with_its_start(shop, tmp_path) -> None:
    ds = _load(shop["drop"], tmp_path)
    result = monitor(ds.tables, metrics=["orders"], baseline="2023-01-02:2023-12-31",
                     methods=["ewma", "cusum"], marketplaces=ds.marketplaces, reporting_currency="GBP", fx_currency="GBP",
                     retrospective=True)
    for method in ("ewma", "cusum"):
        a = result.alarms[(result.alarms["method"] == method) & (result.alarms["direction"] == "down")]
        first = a.sort_values("alarm_date").iloc[0]
        assert DROP_FROM <= first["alarm_date"] <= DROP_FROM + dt.timedelta(days=7)
        assert abs((first["change_start"] - DROP_FROM).days) <= 3
        assert first["size"] == pytest.approx(-0.4 * 33, rel=0.35)  # orders a day, metric units
    cps = result.changepoints
    assert any(abs((d - DROP_FROM).days) <= 3 for d in cps["change_date"])


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["metric", "period_start", "segment", "value", "ci_low", "ci_high", "n",
                                       "numerator", "denominator"])


def _days(n: int) -> list[str]:
    return [str(np.datetime64("2024-01-01") + i) for i in range(n)]


def test_short_series_is_refused_with_the_need() -> None:
    rng = np.random.default_rng(0)
    rows = [("orders", d, "A", float(rng.poisson(20)), np.nan, np.nan, 20, 20.0, np.nan) for d in _days(40)]
    s = series_from_metrics(_frame(rows), by=["segment"], grain="day", catalog=METRICS, metrics=["orders"])
    res = monitor_series(s, baseline="2024-01-01:2024-01-20")
    assert res.alarms.empty and not res.series
    assert "needs at least 28" in res.skipped["reason"].iloc[0]


def test_missing_segment_and_constant_series_invent_no_alarm() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for d in _days(300):
        for seg in ("A", "B"):
            rows.append(("orders", d, seg, float(rng.poisson(30)), np.nan, np.nan, 30, 30.0, np.nan))
        rows.append(("csat", d, "A", 1.0, 1.0, 1.0, 10, 10.0, 10.0))  # every answer happy, only in A
    s = series_from_metrics(_frame(rows), by=["segment"], grain="day", catalog=METRICS, metrics=["orders", "csat"])
    res = monitor_series(s, baseline="2024-01-01:2024-06-30")
    reasons = dict(zip(zip(res.skipped["metric"], res.skipped["segment"]), res.skipped["reason"]))
    assert "no data in segment 'B'" in reasons[("csat", "B")]
    assert "constant" in reasons[("csat", "A")]
    assert set(res.alarms["metric"]) <= {"orders"}
    assert res.series == [("orders", "A"), ("orders", "B")]


def test_no_chartable_series_is_a_clear_error(shop, tmp_path) -> None:
    ds = _load(shop["steady"], tmp_path)
    with pytest.raises(InputDataError, match="no series can be charted.*needs at least 28"):
        monitor(ds.tables, metrics=["orders"], baseline="2023-01-02:2023-01-20", marketplaces=ds.marketplaces,
                reporting_currency="GBP", fx_currency="GBP")
    with pytest.raises(InputDataError, match="START:END"):
        monitor(ds.tables, metrics=["orders"], baseline="2023-01-02", marketplaces=ds.marketplaces)


def _optimal_partition(x: np.ndarray, beta: float, min_size: int) -> list[int]:
    """Brute-force dynamic programme over every last change point (no pruning)."""
    n = x.size
    s1, s2 = np.r_[0, np.cumsum(x)], np.r_[0, np.cumsum(x * x)]
    F = [-beta] + [np.inf] * n
    last = [0] * (n + 1)
    for t in range(min_size, n + 1):
        for tau in range(0, t - min_size + 1):
            if tau and tau < min_size:
                continue
            c = F[tau] + (s2[t] - s2[tau]) - (s1[t] - s1[tau]) ** 2 / (t - tau) + beta
            if c < F[t]:
                F[t], last[t] = c, tau
    cps, t = [], n
    while t > 0:
        t = last[t]
        if t:
            cps.append(t)
    return sorted(cps)


@pytest.mark.parametrize("seed", range(6))
def test_pelt_equals_optimal_partitioning(seed) -> None:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(m, 1, int(k)) for m, k in zip(rng.normal(0, 2, 4), rng.integers(10, 60, 4))])
    beta = 2 * np.log(x.size)
    assert pelt(x, penalty=beta, min_size=2) == _optimal_partition(x, beta, 2)
    assert pelt(rng.normal(size=200)) == []


def test_same_alarms_on_every_engine(engine_name, tmp_path_factory) -> None:
    from cxlab import synth

    root = tmp_path_factory.getbasetemp() / "monitor-engines"
    if not (root / "truth").exists():
        synth.generate(customers=6000, random_state=4, out=root, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31),
                       marketplaces=("DE", "US"), overwrite=True,
                       incidents=[synth.parse_incident("late_delivery:DE:2024-09-01:40:0.3")])
    results = {}
    for name in ("duckdb", engine_name):
        ds = load_dataset(root, engine=name)
        results[name] = monitor(ds.tables, metrics=["late_delivery_rate", "orders"], by=["marketplace"],
                                baseline="2024-02-01:2024-07-31", methods=["ewma", "cusum"],
                                marketplaces=ds.marketplaces)
    a, b = results["duckdb"].alarms, results[engine_name].alarms
    assert len(a) > 0
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-9)


runner = CliRunner()


def test_cli_writes_outputs_and_pages_on_recent_alarm(shop, tmp_path) -> None:
    out = tmp_path / "mon"
    args = ["monitor", "--config", str(shop["drop"]), "-m", "orders", "--baseline", "2023-01-02:2023-12-31",
            "--method", "cusum", "--out", str(out), "--fail-on-alarm", "--recent-days", "120"]
    res = runner.invoke(app, args)
    assert res.exit_code == 3, res.output
    alarms = pd.read_parquet(out / "alarms.parquet")
    assert {"metric", "segment", "alarm_date", "change_start", "direction", "size", "method"} <= set(alarms.columns)
    assert set(alarms["direction"]) <= {"up", "down"}
    charts = pd.read_parquet(out / "charts.parquet")
    assert {"expected", "lower", "upper", "statistic", "stat_limit", "alarm"} <= set(charts.columns)
    page = (out / "charts.html").read_text()
    # plotly.js inlined once (no script fetched from a CDN), one figure per series
    assert "<script src=" not in page and page.count("plotly.js v") == 1
    assert page.count('class="plotly-graph-div"') == 1
    quiet = runner.invoke(app, [*args[:-2], "--recent-days", "1", "--until", "2024-03-15"])
    assert quiet.exit_code == 0, quiet.output


@pytest.mark.parametrize(("extra", "needle"), [
    (["--baseline", "2023-13-01:2023-12-31"], "baseline"),
    (["--arl0", "370", "--false-alarms-per-year", "2"], "not both"),
    (["--arl0", "5"], "greater than or equal to 20"),
    (["--grain", "month"], "month"),
])
def test_cli_bad_options_exit_2(shop, tmp_path, extra, needle) -> None:
    res = runner.invoke(app, ["monitor", "--config", str(shop["steady"]), "-m", "orders", "--out",
                              str(tmp_path / "o"), *extra])
    assert res.exit_code == 2
    assert needle in res.output
