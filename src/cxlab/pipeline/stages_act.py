"""Stages that watch and act: monitoring, experiments, uplift and the plan.

Each calls its library (:mod:`cxlab.monitor`, :mod:`cxlab.experiments`,
:mod:`cxlab.uplift`, :mod:`cxlab.optimize`) and writes Parquet outputs plus a
small ``results/NAME.json`` for the reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from cxlab.exceptions import InputDataError
from cxlab.pipeline.registry import TABLE_WORDS, Context, SkipStage, stage
from cxlab.pipeline.stages import observation_end


def _computable(ds: Any, names: list[str]) -> tuple[list[str], list[str]]:
    """(metrics these tables and columns can compute, tables the others need)."""
    from cxlab.metrics import METRICS
    from cxlab.metrics.catalog import required_columns

    columns = {t: set(lf.collect_schema().names()) for t, lf in ds.tables.items()}
    ok, missing = [], []
    for name in names:
        metric = METRICS.get(name)
        need = required_columns(metric) if metric is not None else {}
        absent = [t for t in need if t not in columns]
        if metric is not None and not absent and all(cols <= columns[t] for t, cols in need.items()):
            ok.append(name)
        missing += absent
    return ok, sorted(set(missing))


@stage("monitor", "Watch the metrics for unusual changes", section="monitor", needs=("customers",))
def monitor(ctx: Context) -> dict[str, Any]:
    from cxlab.monitor import NoSeriesError
    from cxlab.monitor import monitor as run_monitor

    ds, cfg = ctx.data, ctx.project.monitor
    metrics, missing = _computable(ds, cfg.metrics)
    if not metrics:
        if missing:
            words = " or ".join(TABLE_WORDS.get(t, t) for t in missing)
            raise SkipStage(f"none of the metrics to watch ({', '.join(cfg.metrics)}) can be computed: the data "
                            f"has no {words} table", f"add a {', '.join(missing)} table or name other "
                            "monitor.metrics", missing)
        raise SkipStage(f"none of the metrics to watch ({', '.join(cfg.metrics)}) can be computed from the "
                        "columns the data has", "name other monitor.metrics (e.g. orders, active_customers)")
    until = _last_complete(observation_end(ctx), cfg.grain)  # a cut-off last week is not a drop
    try:
        result = run_monitor(ds.tables, metrics=metrics, grain=cfg.grain, by=tuple(cfg.by), methods=("ewma",),
                             false_alarms_per_year=cfg.false_alarms_per_year, reporting_currency=ds.reporting_currency,
                             marketplaces=ds.marketplaces, since=ctx.project.window.start, until=until)
    except NoSeriesError as err:  # too little history is a property of the data, not a failed run
        raise SkipStage(str(err).removeprefix("monitor: "),
                        "a longer history for each series (the reason says how much the baseline needs)") from err
    ctx.write_frame("alarms", result.alarms)
    ctx.write_frame("monitor", result.charts)
    ctx.write_json("results/monitor.json", {
        "metrics": metrics, "grain": cfg.grain, "by": cfg.by, "method": "ewma", "until": until,
        "false_alarms_per_year": cfg.false_alarms_per_year,
        "limits": {k: getattr(v, "__dict__", str(v)) for k, v in result.limits.items()},
        "skipped": result.skipped.to_dict(orient="records"),
        "not_computable": [m for m in cfg.metrics if m not in metrics],
    })
    return {"series": int(result.charts[["metric", "segment"]].drop_duplicates().shape[0]),
            "alarms": len(result.alarms)}


def _last_complete(last: dt.date, grain: str) -> dt.date:
    """The last day of the last complete period up to ``last`` (ISO weeks end on Sunday)."""
    if grain == "week":
        return last - dt.timedelta(days=(last.weekday() + 1) % 7)
    return last


@stage("experiments", "Measure what tested changes did", section="experiments",
       needs=("customers", "orders", "treatments"))
def experiments(ctx: Context) -> dict[str, Any]:
    from cxlab.experiments import analyze

    ds, cfg = ctx.data, ctx.project.experiments
    result = analyze(ds, metrics=cfg.metrics, control=cfg.control, window_days=cfg.window_days,
                     reporting_currency=ds.reporting_currency)
    ctx.write_frame("experiments", result.table)
    summary = result.to_dict()
    summary.pop("results", None)
    ctx.write_json("results/experiments.json", summary)
    return {"rows": len(result.table), "srm_failed": bool(result.srm.get("failed"))}


UPLIFT_HOLDOUT = 0.3


@stage("uplift", "Estimate what each retention action adds, customer by customer", section="uplift",
       needs=("customers", "orders", "treatments"))
def uplift(ctx: Context) -> dict[str, Any]:
    from cxlab import uplift as up
    from cxlab.uplift.evaluate import qini_curve

    ds, cfg = ctx.data, ctx.project.uplift
    model_dir = ctx.out / "models" / "uplift"
    common = {"outcome": cfg.outcome, "window_days": cfg.window_days, "reporting_currency": ds.reporting_currency}
    # refit=False: the saved model is the one evaluated, so its Qini curves on the same held-out split are honest
    try:
        evaluation = up.fit(ds.tables, model_dir, control=cfg.control, holdout=UPLIFT_HOLDOUT,
                            random_state=ctx.seed, refit=False, **common)
    except InputDataError as err:  # e.g. too few customers per action: not a failure of the run
        raise SkipStage(f"the campaign log cannot support it: {err}",
                        "a larger randomized campaign (more customers per action)") from err
    model, _ = up.load_model(model_dir)
    frame = up.campaign_frame(ds.tables, **common)
    test = np.random.default_rng(ctx.seed).random(len(frame)) < UPLIFT_HOLDOUT  # the split of up.fit
    held = frame.loc[test]
    effects = model.predict(held[model.features_])
    actions = [str(a) for a in model.actions_]
    arm = held["action"].astype(str).to_numpy()
    curves = []
    for k, action in enumerate(actions):
        keep = (arm == cfg.control) | (arm == action)
        grid, q = qini_curve(effects[keep, k], arm[keep] == action, held["y"].to_numpy(dtype=float)[keep])
        curves.append(pd.DataFrame({"action": action, "fraction": grid, "qini": q}))
    ctx.write_frame("qini", pd.concat(curves, ignore_index=True))
    scores = up.score(model, ds.tables, reporting_currency=ds.reporting_currency)
    ctx.write_frame("effects", scores.sort_values(["customer_id", "action"], kind="stable"))
    ctx.write_json("results/uplift.json", evaluation)
    ctx.shared["effects"] = scores
    ctx.shared["uplift_evaluation"] = evaluation
    return {"actions": actions, "customers_scored": int(scores["customer_id"].nunique())}


def _wants_plan(project: Any) -> str | None:
    if project.plan.budget is None:
        return "the project file gives no budget (plan.budget) and action costs (plan.costs)"
    return None


@stage("plan", "Choose who gets which action within the budget", section="plan", after=("uplift",),
       wanted=_wants_plan)
def plan(ctx: Context) -> dict[str, Any]:
    from cxlab.optimize import allocate
    from cxlab.optimize.plan import plan_candidates, plan_summary

    ds, cfg = ctx.data, ctx.project.plan
    scores = ctx.shared["effects"]
    customers = ds.table("customers").select("customer_id", "marketplace").collect().to_pandas()
    candidates = plan_candidates(scores, cfg.costs, margin=cfg.margin, attributes=customers)
    # The plan maximizes the net gain (value - cost): an action expected to bring less than it costs is
    # never recommended, and the budget caps the spend.
    gross = candidates.set_index(["customer_id", "action"])["value"]
    net = candidates.assign(value=candidates["value"] - candidates["cost"])
    net = net[net["value"] > 0]
    if net.empty:
        raise SkipStage("no action is expected to bring more than it costs for any customer",
                        "lower the costs (plan.costs) or raise the margin (plan.margin)")
    result = allocate(net, budget=cfg.budget, capacities=cfg.capacity or None)
    chosen = result.plan if isinstance(result.plan, pd.DataFrame) else pd.DataFrame(result.plan)
    chosen = chosen.rename(columns={"value": "net_value"})
    chosen["value"] = gross.reindex(pd.MultiIndex.from_frame(chosen[["customer_id", "action"]])).to_numpy()
    chosen = chosen.sort_values(["customer_id"], kind="stable").reset_index(drop=True)
    ctx.write_frame("plan", chosen)
    summary = plan_summary(chosen)
    ctx.write_frame("plan_summary", summary)
    value, cost = float(chosen["value"].sum()), float(chosen["cost"].sum())
    uncertainty = _value_interval(ctx, chosen)
    ctx.write_json("results/plan.json", {
        "budget": cfg.budget, "margin": cfg.margin, "costs": cfg.costs, "capacity": cfg.capacity,
        "customers": len(chosen), "value": value, "cost": cost,
        "roi": (value - cost) / cost if cost > 0 else None,
        "value_ci": uncertainty, "roi_ci": [(v - cost) / cost for v in uncertainty] if uncertainty and cost > 0
        else None,
        "objective": result.objective, "objective_is": "net gain (value - cost)", "bound": result.bound, "gap": result.gap, "status": result.status,
        "solver": result.solver, "seconds": result.seconds,
        "currency": ds.reporting_currency, "outcome": ctx.project.uplift.outcome,
    })
    return {"customers": len(chosen), "gap": result.gap, "status": result.status}


def _value_interval(ctx: Context, chosen: pd.DataFrame) -> list[float] | None:
    """95% interval of the plan's incremental value, from the held-out check of the uplift model.

    The doubly robust gain of the model's own targeting policy on held-out
    customers has a 95% interval; its relative width is carried over to the
    plan's predicted value (the plan targets by the same predicted effects).
    """
    evaluation = ctx.shared.get("uplift_evaluation") or {}
    gain = evaluation.get("policy", {}).get("dr_gain") or evaluation.get("policy", {}).get("ipw_gain")
    if not gain or gain.get("value") is None:
        return None
    est, lo, hi = gain["value"], gain.get("ci_low"), gain.get("ci_high")
    if lo is None or hi is None or est <= 0:
        return None
    value = float(chosen["value"].sum())
    return [value * lo / est, value * hi / est]
