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
