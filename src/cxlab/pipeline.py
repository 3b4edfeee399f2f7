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
