"""Whole flows: the demo (and, later, a project file) -> a run folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxlab.io import Dataset, load_dataset, write_json_atomic
from cxlab.report import Section, render_html
from cxlab.summary import dataset_summary, rows_table

log = logging.getLogger(__name__)


def _data_section(ds: Dataset, summary: dict[str, Any]) -> Section:
    totals = summary["totals"]
    lead = (
        f"{totals['customers']:,} customers placed {totals['orders']:,} orders worth "
        f"{totals['revenue']:,.0f} {ds.reporting_currency}. "
        f"Validation set aside {summary['rows_rejected']:,} rows."
    )
    return Section(
        "Data",
        lead=lead,
        tables=[
            ("Rows per table", rows_table(ds)),
            (f"Headline figures by marketplace (revenue in {ds.reporting_currency})", summary["by_marketplace"]),
        ],
        notes=["respondent_csat is the respondents' share of scores 4-5: biased when respondents differ from the rest."],
    )


DEMO_METRICS = ("csat", "nps", "response_rate", "late_delivery_rate", "active_customers", "revenue")


def _metrics_section(ds: Dataset, out: Path) -> Section:
    """Monthly headline metrics by marketplace, written to ``out/metrics.parquet``."""
    from cxlab.metrics import compute_metrics

    table = compute_metrics(
        ds.tables,
        metrics=list(DEMO_METRICS),
        grain="month",
        by=("marketplace",),
        currency=ds.reporting_currency,
        marketplaces=ds.marketplaces,
    )
    ds.engine.write_parquet(ds.engine.from_pandas(table), out / "metrics.parquet")
    overall = compute_metrics(
        ds.tables, metrics=list(DEMO_METRICS), grain="all", by=("marketplace",),
        currency=ds.reporting_currency, marketplaces=ds.marketplaces,
    )
    overall["value"] = [
        f"{v:.3g} [{lo:.3g}, {hi:.3g}]" if lo == lo else f"{v:,.0f}"
        for v, lo, hi in zip(overall["value"], overall["ci_low"], overall["ci_high"], strict=True)
    ]
    wide = overall.pivot(index="marketplace", columns="metric", values="value")
    wide = wide.reindex(columns=[m for m in DEMO_METRICS if m in wide.columns]).reset_index()
    months = table["period_start"].nunique()
    return Section(
        "Metrics",
        lead=(
            f"CX metrics by marketplace over the whole history, with 95% intervals (customers as "
            f"the unit); the monthly series ({months} months, local time, revenue in "
            f"{ds.reporting_currency}) is in metrics.parquet."
        ),
        tables=[("Whole history, by marketplace", wide)],
        notes=[
            "csat and nps here are the respondents' figures; see the satisfaction section for the "
            "non-response correction.",
        ],
    )


def _clv_section(ds: Dataset, out: Path, *, horizon_weeks: int = 52) -> Section:
    """BG/NBD + Gamma-Gamma per marketplace: a 26-week holdout check, then CLV."""
    import datetime as dt

    import narwhals as nw
    import pandas as pd

    from cxlab import clv
    from cxlab.bundle import fingerprint
    from cxlab.clv.persist import save_clv
    from cxlab.summary import orders_in_context

    orders = ds.engine.materialize(orders_in_context(ds))
    last = orders.select(nw.col("local_ts").max()).collect().item(0, 0).date()
    calibration_end = last - dt.timedelta(weeks=26)
    common = {"monetary_value_col": "amount_reporting", "day_col": "local_ts"}
    check = clv.fit_from_orders(
        orders.to_native(), observation_end=last, calibration_end=calibration_end, by="marketplace", **common
    )
    full = clv.fit_from_orders(orders.to_native(), observation_end=last, by="marketplace", **common)
    holdout_rows, value_rows, scores = [], [], []
    for checked, fitted in zip(check["groups"], full["groups"], strict=True):
        market = fitted["marketplace"]
        h = checked["holdout"]
        holdout_rows.append({
            "marketplace": market,
            "actual_repeat_purchases": h["actual_total"],
            "predicted": h["predicted_total"],
            "error_pct": 100 * (h["predicted_total"] / h["actual_total"] - 1) if h["actual_total"] else None,
        })
        scored = clv.score_orders(
            orders.filter(nw.col("marketplace") == market).to_native(), fitted["params"],
            observation_end=last, horizon=horizon_weeks, spend=fitted["spend"], **common,
        )
        scored.insert(1, "marketplace", market)
        scores.append(scored)
        p = fitted["params"]["params"]
        value_rows.append({
            "marketplace": market,
            "customers": len(scored),
            "mean_p_alive": scored["p_alive"].mean(),
            "expected_purchases": scored["expected_purchases"].mean(),
            "mean_clv": scored["clv"].mean(),
            "total_clv": scored["clv"].sum(),
            "r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"],
        })
    all_scores = pd.concat(scores, ignore_index=True)
    ds.engine.write_parquet(ds.engine.from_pandas(all_scores), out / "clv_scores.parquet")
    holdout = pd.DataFrame(holdout_rows)
    worst = holdout["error_pct"].abs().max()
    from cxlab.clv.churn import churn_risk

    churn = churn_risk(
        orders.to_native(),
        cutoff=last - dt.timedelta(days=90),
        horizon_days=90,
        events=ds.tables["events"].to_native() if "events" in ds.tables else None,
        contacts=ds.tables["contacts"].to_native() if "contacts" in ds.tables else None,
        monetary_value_col="amount_reporting",
    )
    churn_table = pd.DataFrame([
        {"score": "LightGBM on behaviour (recency, frequency, spend, events, contacts, deliveries, tenure)",
         "auc": churn.auc_lightgbm},
        {"score": "BG/NBD 1 - P(alive)", "auc": churn.auc_p_alive},
        {"score": "BG/NBD expected purchases in the window (lower = riskier)", "auc": churn.auc_bgnbd_expected},
    ])
    # The fitted model is a bundle (cxlab.clv.persist, as 'cxlab clv fit' writes it), scorable
    # with 'cxlab score' and servable with 'cxlab serve'; clv.json keeps the checks for the report.
    save_clv(out / "clv-model", full, metadata={
        "observation_end": last.isoformat(), "calibration_end": None, "currency": ds.reporting_currency,
        "training_data": fingerprint(orders.select("customer_id", "order_ts", "amount_reporting")),
    })
    write_json_atomic(out / "clv.json", {"calibration": check, "churn": churn.to_dict()})
    return Section(
        "Engagement and customer lifetime value",
        lead=(
            f"BG/NBD with Gamma-Gamma spend per marketplace. Fitted up to {calibration_end}, the model "
            f"forecast the repeat purchases of the next 26 weeks within {worst:.0f}% in every marketplace; "
            f"refitted on all data up to {last}, it gives each customer's P(alive) and "
            f"{horizon_weeks}-week CLV in {ds.reporting_currency} (clv_scores.parquet; the model bundle is clv-model/)."
        ),
        tables=[
            ("CLV and P(alive) by marketplace", pd.DataFrame(value_rows)),
            (f"Holdout check: repeat purchases {calibration_end} to {last}", holdout),
            (
                f"Churn risk: no purchase in the 90 days after {last - dt.timedelta(days=90)} "
                f"({churn.n_test:,} customers, {churn.churn_rate_test:.0%} churned), AUC on the same split",
                churn_table,
            ),
        ],
    )


def _satisfaction_section(ds: Dataset, out: Path) -> Section:
    """Naive vs non-response-corrected CSAT by marketplace, and the top drivers."""
    import pandas as pd

    from cxlab import satisfaction

    from cxlab.satisfaction.api import feature_frame

    invitations = feature_frame(ds.tables, reporting_currency=ds.reporting_currency)
    per_method = {
        method: satisfaction.estimate_population(invitations, method=method, by=("marketplace",), n_jobs=1)
        for method in ("naive", "aipw")
    }
    keys = ["marketplace", "scale"]
    naive = per_method["naive"][[*keys, "estimate", "n_invited", "n_responded"]].rename(
        columns={"estimate": "naive"}
    )
    aipw = per_method["aipw"][[*keys, "estimate", "ci_low", "ci_high"]].rename(columns={"estimate": "corrected"})
    table = naive.merge(aipw, on=keys, how="outer")
    table["shift"] = table["corrected"] - table["naive"]
    table = table[[*keys, "naive", "corrected", "ci_low", "ci_high", "shift", "n_invited", "n_responded"]]
    ds.engine.write_parquet(ds.engine.from_pandas(table), out / "satisfaction.parquet")
    evaluation = satisfaction.fit(ds.tables, out / "satisfaction-model", reporting_currency=ds.reporting_currency)
    top = satisfaction.drivers(out / "satisfaction-model", top=5)
    csat = table[table["scale"] == "csat5"]
    biggest = csat.loc[csat["shift"].abs().idxmax()] if len(csat) else None
    lead = "Survey respondents are not like the customers who stay silent. "
    if biggest is not None:
        lead += (
            f"Corrected for who responds (doubly robust AIPW, 5-fold cross-fitting), CSAT in "
            f"{biggest['marketplace']} is {biggest['corrected']:.1%} instead of the respondents' "
            f"{biggest['naive']:.1%}."
        )
    quality = "; ".join(
        f"{scale}: AUC {e['auc']:.2f}, calibration error {e['ece']:.3f}" for scale, e in evaluation["scales"].items()
    )
    return Section(
        "Satisfaction",
        lead=lead,
        tables=[
            ("CSAT (share 4-5) and NPS by marketplace: respondents (naive) vs all invited (corrected)", table),
            ("Top drivers of satisfaction", top[["scale", "rank", "label", "points", "sentence"]]),
        ],
        notes=[f"Predictive model held-out quality: {quality}."],
    )


def run_demo(
    *,
    customers: int,
    out: Path,
    engine: str = "duckdb",
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Generate ``customers`` customers into ``out/data``, analyse them, write ``out/report.html``."""
    from cxlab import synth

    say = progress or (lambda message: log.info(message))
    data_dir = out / "data"
    say(f"generating {customers:,} customers into {data_dir}")
    synth.generate(customers=customers, seed=seed, out=data_dir)
    say(f"validating on {engine}")
    ds = load_dataset(data_dir, engine=engine, rejects_dir=out / "validation")
    summary = dataset_summary(ds)
    sections = [_data_section(ds, summary)]
    say("computing metrics")
    sections.append(_metrics_section(ds, out))
    say("fitting engagement models and CLV")
    sections.append(_clv_section(ds, out))
    say("estimating satisfaction corrected for non-response, and its drivers")
    sections.append(_satisfaction_section(ds, out))
    write_json_atomic(
        out / "summary.json",
        {**summary, "by_marketplace": summary["by_marketplace"].to_dict(orient="records")},
    )
    report = render_html(
        "cxlab demo", sections, out / "report.html",
        subtitle=f"{customers:,} generated customers, seed {seed}, engine {engine}",
    )
    say(f"report written to {report}")
    return report
