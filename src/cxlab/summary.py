"""A first look at a validated dataset: rows, rejects and headline figures."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pandas as pd

from cxlab.io import Dataset
from cxlab.money import with_reporting_rate
from cxlab.schema import SATISFIED_AT


def amount_in_reporting_currency(ds: Dataset) -> nw.LazyFrame:
    """Orders with ``amount_reporting``: amount converted through ``fx``.

    Validation already set aside orders whose currency has no rate, so every
    clean order converts; the reporting currency itself converts at 1.
    """
    orders = with_reporting_rate(ds.table("orders"), ds.tables.get("fx"), ds.reporting_currency, name="__rate")
    return orders.with_columns((nw.col("amount") * nw.col("__rate")).alias("amount_reporting")).drop("__rate")


def dataset_summary(ds: Dataset) -> dict[str, Any]:
    """Rows per table, rejects, and headline figures per marketplace."""
    customers = ds.table("customers").select("customer_id", "marketplace")
    orders = amount_in_reporting_currency(ds).join(customers, on="customer_id", how="left")
    per_market = (
        orders.group_by("marketplace")
        .agg(
            nw.len().alias("orders"),
            nw.col("customer_id").n_unique().alias("buyers"),
            nw.col("amount_reporting").sum().alias("revenue"),
        )
        .join(
            customers.group_by("marketplace").agg(nw.len().alias("customers")),
            on="marketplace",
            how="left",
        )
        .sort("marketplace")
        .collect()
        .to_pandas()
    )
    if "surveys" in ds.tables:
        surveys = ds.tables["surveys"].join(customers, on="customer_id", how="left")
        answered = ~nw.col("score").is_null()
        survey_stats = (
            surveys.with_columns(
                answered.cast(nw.Float64).alias("__responded"),
                nw.when(answered & (nw.col("scale") == "csat5"))
                .then((nw.col("score") >= SATISFIED_AT["csat5"]).cast(nw.Float64))
                .otherwise(nw.lit(None, nw.Float64))
                .alias("__satisfied"),
            )
            .group_by("marketplace")
            .agg(
                nw.len().alias("invited"),
                nw.col("__responded").mean().alias("response_rate"),
                nw.col("__satisfied").mean().alias("respondent_csat"),
            )
            .collect()
            .to_pandas()
        )
        per_market = per_market.merge(survey_stats, on="marketplace", how="left")
    columns = ["marketplace", "customers", "buyers", "orders", "revenue"]
    columns += [c for c in ("invited", "response_rate", "respondent_csat") if c in per_market]
    per_market = per_market[columns]
    return {
        "reporting_currency": ds.reporting_currency,
        "tables": {name: t.to_dict() for name, t in ds.report.tables.items()},
        "rows_rejected": ds.report.rows_rejected,
        "by_marketplace": per_market,
        "totals": {
            "customers": int(per_market["customers"].fillna(0).sum()),
            "orders": int(per_market["orders"].sum()),
            "revenue": float(per_market["revenue"].sum()),
        },
    }


def rows_table(ds: Dataset) -> pd.DataFrame:
    """Rows in, clean and rejected per table, as a small frame for reports."""
    return pd.DataFrame(
        [
            {
                "table": name,
                "rows_in": t.rows_in,
                "rows_clean": t.rows_clean,
                "rows_rejected": t.rows_rejected,
            }
            for name, t in ds.report.tables.items()
        ]
    )


def orders_in_context(ds: Dataset) -> nw.LazyFrame:
    """Orders with the customer's ``marketplace``, ``amount_reporting`` and ``local_ts``.

    ``local_ts`` is the order time on the marketplace's wall clock, so that a
    "purchase day" is the customer's day, not the UTC day.
    """
    from cxlab.engine import local_timestamp
    from cxlab.metrics.periods import timezone_expr

    customers = ds.table("customers").select("customer_id", "marketplace")
    codes = customers.select("marketplace").unique().collect().to_pandas()["marketplace"].tolist()
    orders = amount_in_reporting_currency(ds).join(customers, on="customer_id", how="inner")
    orders = orders.with_columns(timezone_expr(codes, ds.marketplaces).alias("__tz"))
    return local_timestamp(orders, "order_ts", "__tz", "local_ts").drop("__tz")
