"""The stages of ``cxlab run``, in order. Each is a small function over the library.

Outputs (in the run folder): ``rejects/`` and ``validation.json`` (validate),
``metrics.parquet`` + ``metrics_total.parquet`` (metrics), ``cohorts.parquet``,
``clv.parquet`` + ``models/clv/`` + ``results/engagement.json`` (engagement),
``satisfaction.parquet`` + ``population.parquet`` + ``drivers.parquet`` +
``models/satisfaction/`` + ``results/satisfaction.json`` (satisfaction), and
``report/`` (reports). Monitoring, experiments, uplift and the plan add theirs.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from pathlib import Path
from typing import Any

from cxlab.exceptions import FitWarning, InputDataError
from cxlab.pipeline.registry import Context, stage

log = logging.getLogger(__name__)

@stage("validate", "Check the data and set aside bad rows")
def validate(ctx: Context) -> dict[str, Any]:
    from cxlab.io import load_dataset
    from cxlab.pipeline.runner import fingerprint

    cfg = ctx.project.data
    ds = load_dataset(cfg.path, engine=ctx.project.engine, config=cfg, rejects_dir=ctx.out, progress=ctx.say)
    ctx.ds = ds
    (ctx.out / "rejects").mkdir(exist_ok=True)  # always there; empty when no row was set aside
    inputs = {}
    for name, table in ds.report.tables.items():
        source = Path(table.source)
        if source.exists():
            inputs[name] = fingerprint(source)
    ctx.shared["inputs"] = inputs
    ctx.shared["tables"] = {name: t.to_dict() for name, t in ds.report.tables.items()}
    from cxlab.summary import dataset_summary

    summary = dataset_summary(ds)
    summary["by_marketplace"] = summary["by_marketplace"].to_dict(orient="records")
    summary["tables_present"] = sorted(ds.tables)
    ctx.write_json("results/data.json", summary)
    return {"tables": sorted(ds.tables), "rows_rejected": ds.report.rows_rejected,
            "reporting_currency": ds.reporting_currency}


def _window(ctx: Context) -> dict[str, Any]:
    w = ctx.project.window
    return {"since": w.start, "until": w.end}


@stage("metrics", "Compute the satisfaction and engagement metrics", section="metrics", needs=("customers",))
def metrics(ctx: Context) -> dict[str, Any]:
    from cxlab.metrics import compute_metrics

    ds, cfg = ctx.data, ctx.project.metrics
    common = {"reporting_currency": ds.reporting_currency, "marketplaces": ds.marketplaces,
              "spec": cfg.definitions, "by": tuple(cfg.by), **_window(ctx)}
    names = cfg.names  # None: every metric the tables allow
    series = compute_metrics(ds.tables, metrics=names, grain=cfg.grain, **common)
    total = compute_metrics(ds.tables, metrics=names, grain="all", **common)
    ctx.write_frame("metrics", series)
    ctx.write_frame("metrics_total", total)
    return {"metrics": sorted(set(series["metric"])), "rows": len(series), "grain": cfg.grain}


@stage("cohorts", "Measure how many customers come back", section="cohorts", needs=("customers", "orders"))
def cohorts(ctx: Context) -> dict[str, Any]:
    from cxlab.metrics import compute_cohorts

    ds = ctx.data
    table = compute_cohorts(ds.tables, grain=ctx.project.cohorts.grain, by=("marketplace",),
                            marketplaces=ds.marketplaces)
    ctx.write_frame("cohorts", table)
    return {"cohorts": int(table["cohort_start"].nunique()), "rows": len(table)}


def _orders(ctx: Context) -> Any:
    """Orders with marketplace, reporting-currency amount and local time (materialized once)."""
    if "orders_in_context" not in ctx.shared:
        from cxlab.summary import orders_in_context

        ds = ctx.data
        ctx.shared["orders_in_context"] = ds.engine.materialize(orders_in_context(ds))
    return ctx.shared["orders_in_context"]


def observation_end(ctx: Context) -> dt.date:
    import narwhals as nw

    if ctx.project.window.end is not None:
        return ctx.project.window.end
    last = _orders(ctx).select(nw.col("local_ts").max()).collect().item(0, 0)
    return last.date()


@stage("engagement", "Forecast purchases, customer value and churn risk", section="engagement",
       needs=("customers", "orders"))
def engagement(ctx: Context) -> dict[str, Any]:
    import narwhals as nw
    import pandas as pd

    from cxlab import clv
    from cxlab.clv.api import doubt_text
    from cxlab.bundle import fingerprint
    from cxlab.clv.churn import churn_risk
    from cxlab.clv.persist import save_clv

    ds, cfg = ctx.data, ctx.project.engagement
    orders = _orders(ctx)
    if ctx.project.window.start is not None:
        orders = orders.filter(nw.col("local_ts") >= dt.datetime.combine(ctx.project.window.start, dt.time()))
    last = observation_end(ctx)
    calibration_end = last - dt.timedelta(weeks=ctx.project.window.holdout_weeks)
    common = {"monetary_value_col": "amount_reporting", "day_col": "local_ts", "model": cfg.model}
    by = cfg.by
    native = orders.to_native()
    with warnings.catch_warnings():  # said once per group below, from the fitted models' diagnostics
        warnings.simplefilter("ignore", FitWarning)
        checked = clv.fit_from_orders(native, observation_end=last, calibration_end=calibration_end, by=by, **common)
        fitted = clv.fit_from_orders(native, observation_end=last, by=by, **common)
    pairs = (zip(checked["groups"], fitted["groups"], strict=True) if by
             else [({by: None, **checked}, {by: None, **fitted})])
    groups, scores = [], []
    for check, fit in pairs:
        value = fit.get(by) if by else None
        part = orders.filter(nw.col(by) == value) if by else orders
        scored = clv.score_orders(part.to_native(), fit["params"], observation_end=last,
                                  horizon=cfg.horizon_weeks, time_unit="W", spend=fit["spend"], monetary_value_col="amount_reporting",
                                  day_col="local_ts")
        scored.insert(1, "marketplace", value if by else "all")
        scores.append(scored)
        groups.append({"marketplace": value if by else "all", "params": fit["params"], "spend": fit["spend"],
                       "holdout": check["holdout"]})
        for part_name, model in (("purchase", fit["params"]), ("spend", fit["spend"])):
            if model and (doubt := doubt_text(model.get("diagnostics"))):
                log.warning("engagement, %s: the %s model (%s): %s", f"{by} {value}" if by else "all customers",
                            part_name, model.get("model"), doubt)
    # the model as a bundle (checked folder, no pickle): 'cxlab score' and 'cxlab serve' read it
    save_clv(ctx.out / "models" / "clv", fitted, metadata={
        "observation_end": last.isoformat(), "calibration_end": None, "currency": ds.reporting_currency,
        "training_data": fingerprint(orders.select("customer_id", "order_ts", "amount_reporting")),
    })
    table = pd.concat(scores, ignore_index=True).sort_values(["marketplace", "customer_id"], kind="stable")
    ctx.write_frame("clv", table)
    result: dict[str, Any] = {"model": cfg.model, "observation_end": last, "calibration_end": calibration_end,
                              "horizon_weeks": cfg.horizon_weeks, "currency": ds.reporting_currency,
                              "groups": groups}
    try:
        churn = churn_risk(native, cutoff=last - dt.timedelta(days=cfg.churn_days), horizon_days=cfg.churn_days,
                           events=ds.tables["events"].to_native() if "events" in ds.tables else None,
                           contacts=ds.tables["contacts"].to_native() if "contacts" in ds.tables else None,
                           monetary_value_col="amount_reporting", random_state=ctx.seed)
    except InputDataError as err:  # e.g. too little history for the split: say so, keep the rest
        result["churn"] = {"skipped": str(err)}
    else:
        result["churn"] = churn.to_dict() | {"cutoff": last - dt.timedelta(days=cfg.churn_days),
                                              "horizon_days": cfg.churn_days}
        ctx.write_frame("churn", churn.scores.sort_values("customer_id", kind="stable"))
    ctx.write_json("results/engagement.json", result)
    return {"customers_scored": len(table), "groups": len(groups), "churn": "skipped" not in result["churn"]}


@stage("satisfaction", "Estimate satisfaction of all customers, not only those who answered",
       section="satisfaction", needs=("customers", "orders", "surveys"))
def satisfaction(ctx: Context) -> dict[str, Any]:
    import pandas as pd

    from cxlab import satisfaction as sat
    from cxlab.satisfaction.api import feature_frame
    from cxlab.satisfaction.persist import load_models

    ds, cfg = ctx.data, ctx.project.satisfaction
    frame = feature_frame(ds.tables, cfg.target, reporting_currency=ds.reporting_currency)
    by = tuple(cfg.by)
    naive = sat.estimate_population(frame, method="naive", by=by, target=cfg.target)
    corrected, balance = sat.estimate_population(
        frame, method=cfg.method, by=by, target=cfg.target, folds=cfg.folds, random_state=ctx.seed, n_jobs=1,
        return_balance=True,
    )
    ctx.write_frame("population", pd.concat([naive, corrected], ignore_index=True))
    model_dir = ctx.out / "models" / "satisfaction"
    evaluation = sat.fit(ds.tables, model_dir, reporting_currency=ds.reporting_currency, random_state=ctx.seed)
    drivers = sat.drivers(model_dir, top=5)
    ctx.write_frame("drivers", drivers)
    invited = feature_frame(ds.tables, "invited", reporting_currency=ds.reporting_currency)
    scored = []
    for scale, model in sorted(load_models(model_dir).items()):
        rows = invited.loc[invited["scale"] == scale]
        keys = [c for c in ("survey_id", "order_id", "customer_id", "marketplace", "scale", "responded") if c in rows]
        part = rows[keys].copy()
        part["p_satisfied"] = model.predict_satisfied(rows)
        scored.append(part)
    if scored:
        ctx.write_frame("satisfaction", pd.concat(scored, ignore_index=True))
    ctx.write_json("results/satisfaction.json", {
        "method": cfg.method, "target": cfg.target, "by": list(by), "folds": cfg.folds,
        "evaluation": evaluation, "balance": balance.to_dict(orient="records"),
    })
    return {"segments": len(corrected), "scales": sorted(evaluation["scales"])}


@stage("reports", "Write the executive report, the technical report and the deck")
def reports(ctx: Context) -> dict[str, Any]:
    from cxlab.report import write_reports

    manifest = ctx.shared["manifest"]
    written = write_reports(ctx.root, ctx.out / "report", manifest=manifest,
                            audiences=tuple(ctx.project.reports.audiences))
    return {"reports": [p.name for p in written]}
