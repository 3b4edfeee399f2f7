"""Report sections for monitoring, experiments, uplift and the plan.

Each function reads the results those stages wrote in the run folder; when a
stage did not run, the section says why and what would enable it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cxlab.report import fmt
from cxlab.report.data import RunData
from cxlab.report.html import Block, Table
from cxlab.report.views import View

#: Stage -> (section title, anchor, what enables it in plain words).
OPTIONAL = {
    "monitor": ("Control charts and alarms", "monitor",
                "the monitor stage with monitor.metrics in the project file"),
    "experiments": ("Experiments", "experiments",
                    "a treatments table (randomized assignments) and the experiments stage"),
    "uplift": ("Uplift of retention actions", "uplift",
               "a treatments table (a randomized campaign log) and the uplift stage"),
    "plan": ("Optimization: plan, bound and gap", "plan",
             "uplift results and a budget with action costs (plan.budget, plan.costs)"),
}
#: Core stages whose science sections say why they are absent.
CORE = {
    "satisfaction": ("Satisfaction", "satisfaction", "a surveys table (invitations, with a score when answered)"),
    "engagement": ("Engagement models", "engagement", "an orders table"),
}

REFERENCES = {
    "monitor": "Control charts: EWMA (Roberts 1959; Lucas & Saccucci 1990) with limits solved from the in-control "
               "average run length for the requested false-alarm rate; robust baselines with level, trend and "
               "day of week; change start as the last time the chart statistic left zero (Page 1954).",
    "experiments": "Welch intervals and the delta method for relative lifts and ratio metrics (Deng et al. 2018); "
                   "CUPED (Deng, Xu, Kohavi & Walker 2013); sample-ratio mismatch by a chi-square test "
                   "(Fabijan et al. 2019); Holm (1979) adjustment; GrowthBook gbstats conventions.",
    "uplift": "Meta-learners (Kunzel et al. 2019, T- and X-learner; Kennedy 2020, DR-learner) on LightGBM; Qini "
              "curve and coefficient (Radcliffe 2007); policy value by inverse probability weighting and doubly "
              "robust estimation (Dudik, Langford & Li 2011).",
    "plan": "Assignment of at most one action per customer under a budget and capacities: exact mixed-integer "
            "program (HiGHS; Huangfu & Hall 2018) or Lagrangian relaxation with a certified dual bound (Fisher "
            "1981).",
}


def missing(run: RunData, name: str) -> Block:
    """A section saying why stage ``name`` has no results and what would enable it."""
    title, anchor, needs = {**OPTIONAL, **CORE}[name]
    record = run.stage(name)
    if record is None:
        text = f"Not part of this run. It needs {needs}."
    elif record["status"] == "skipped":
        text = f"Skipped: {record['reason']}. To enable: {record['enable']}."
    else:
        text = f"Failed: {record.get('error', '')}."
    return Block(title, anchor=anchor, paragraphs=[text])


# --- monitoring ----------------------------------------------------------------------------


def _alarm_series(run: RunData) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    charts, alarms = run.frame("monitor"), run.frame("alarms")
    if charts is None or alarms is None:
        return None
    return charts, alarms


def control_chart(run: RunData, metric: str, segment: str) -> View:
    charts = run.frame("monitor")
    assert charts is not None
    part = charts[(charts["metric"] == metric) & (charts["segment"].astype(str) == segment)]
    part = part[~part["closed"].astype(bool)] if "closed" in part else part
    data = pd.concat([
        pd.DataFrame({"x": pd.to_datetime(part["date"]), "y": part["value"], "lo": part["lower"],
                      "hi": part["upper"], "series": "Value (band: control limits)"}),
        pd.DataFrame({"x": pd.to_datetime(part["date"]), "y": part["expected"], "lo": np.nan, "hi": np.nan,
                      "series": "Expected"}),
    ], ignore_index=True)
    unit = "pct" if metric in fmt.SHARES else "money" if metric in fmt.MONEY else "number"
    return View(f"control_{metric}_{segment}", f"{fmt.label(metric)}, {segment}", "", "lines", data, unit,  # type: ignore[arg-type]
                y_title=fmt.label(metric))


def _alarm_sentence(row: dict[str, Any], currency: str, grain: str | None = None) -> str:
    metric = str(row["metric"])
    if metric in fmt.SHARES:
        size = fmt.points(abs(row["size"])).lstrip("+")
    elif metric in fmt.MONEY:
        size = fmt.money(abs(row["size"]), currency)
    else:
        size = fmt.number(abs(row["size"]), 0 if abs(row["size"]) >= 10 else 1)
        if grain in ("day", "week"):
            size += f" a {grain}"
    return (f"{fmt.label(row['metric'])} in {row['segment']} went {row['direction']} by {size} "
            f"from about {str(row['change_start'])[:10]} (noticed {str(row['alarm_date'])[:10]}).")


def exec_alarms(run: RunData) -> Block | None:
    found = _alarm_series(run)
    if found is None:
        return None
    _, alarms = found
    res = run.results.get("monitor", {})
    if alarms.empty:
        return Block("Unusual changes", takeaway=(
            f"No unusual change in the {len(res.get('metrics', []))} metrics watched; at most "
            f"{res.get('false_alarms_per_year', 1):g} false alarm per year and series is expected."))
    ordered = alarms.assign(when=pd.to_datetime(alarms["alarm_date"])).sort_values("when")
    last = ordered.iloc[-1]
    recent = ordered[ordered["when"] > last["when"] - pd.Timedelta(weeks=8)]
    view = control_chart(run, str(last["metric"]), str(last["segment"]))
    view.takeaway = _alarm_sentence(last.to_dict(), run.currency, res.get("grain"))
    view.note = "The band shows the range expected without a change."
    return Block("Unusual changes", takeaway=(
        f"{len(recent)} unusual change{'s' if len(recent) != 1 else ''} in the last eight weeks "
        f"({len(alarms)} over the whole period); the latest: " + view.takeaway[0].lower() + view.takeaway[1:]),
        view=view)


def science_monitor(run: RunData) -> Block:
    found = _alarm_series(run)
    if found is None:
        return missing(run, "monitor")
    charts, alarms = found
    res = run.results.get("monitor", {})
    views = []
    for row in alarms.drop_duplicates(["metric", "segment"]).head(3).to_dict(orient="records"):
        v = control_chart(run, str(row["metric"]), str(row["segment"]))
        v.takeaway = f"Alarm: {_alarm_sentence(row, run.currency, res.get('grain'))}"
        views.append(v)
    shown = alarms.sort_values("alarm_date", ascending=False).head(25)
    rows = [[fmt.label(str(r["metric"])), str(r["segment"]), str(r["alarm_date"])[:10], str(r["change_start"])[:10],
             str(r["direction"]), f"{r['size']:.4g}", str(r["method"])] for r in shown.to_dict(orient="records")]
    series = charts[["metric", "segment"]].drop_duplicates()
    return Block(
        "Control charts and alarms", anchor="monitor", view=views[0] if views else None, more=views[1:],
        takeaway=(f"{len(series)} series ({', '.join(res.get('metrics', []))} per {', '.join(res.get('by', []))}, "
                  f"{res.get('grain')}) charted with EWMA at {res.get('false_alarms_per_year', 1):g} false alarm "
                  f"per series-year; {len(alarms)} alarms."),
        tables=[Table(["Metric", "Segment", "Alarm", "Change start", "Direction", "Size", "Method"], rows or
                      [["–", "no alarm", "", "", "", "", ""]],
                      f"Alarms, latest first ({len(shown)} of {len(alarms)}; all in alarms.parquet)")],
        note="; ".join(f"{r['metric']} / {r['segment']}: {r['reason']}" for r in res.get("skipped", [])[:10]))


# --- experiments ---------------------------------------------------------------------------


def _experiment_view(run: RunData) -> View | None:
    table = run.frame("experiments")
    if table is None or table.empty:
        return None
    metric = "revenue" if (table["metric"] == "revenue").any() else str(table["metric"].iloc[0])
    rows = table[(table["metric"] == metric) & table["rel_lift"].notna()]
    if "segment" in rows:
        rows = rows[rows["segment"].isna() | (rows["segment"].astype(str).isin(["all", "", "None"]))] \
            if rows["segment"].nunique() > 1 else rows
    if rows.empty:
        return None
    data = pd.DataFrame({"x": rows["arm"].astype(str), "y": rows["rel_lift"], "lo": rows["rel_lift_ci_low"],
                         "hi": rows["rel_lift_ci_high"], "series": f"Change in {fmt.label(metric).lower()}"})
    best = rows.loc[rows["rel_lift"].idxmax()]
    sure = "clearly" if bool(best["significant"]) else "possibly, but not clearly,"
    takeaway = (f"{best['arm']} {sure} changed {fmt.label(metric).lower()} per customer by "
                f"{fmt.pct(best['rel_lift'])} (between {fmt.pct(best['rel_lift_ci_low'])} and "
                f"{fmt.pct(best['rel_lift_ci_high'])}).")
    return View("experiments", f"Tested actions: change in {fmt.label(metric).lower()}", takeaway, "bars", data,
                "pct", y_title="Change against no action", note="Bars show 95% intervals.")


def science_experiments(run: RunData) -> Block:
    table = run.frame("experiments")
    res = run.results.get("experiments")
    if table is None or res is None:
        return missing(run, "experiments")
    rows = [[str(r["metric"]), str(r["arm"]), str(r["segment"]) if pd.notna(r["segment"]) else "all",
             fmt.number(r["n"]), f"{r['lift']:.4g} ({r['lift_ci_low']:.4g} to {r['lift_ci_high']:.4g})",
             fmt.pct(r["rel_lift"]) if pd.notna(r["rel_lift"]) else "–",
             f"{r['p_value_adjusted']:.3g}" if pd.notna(r["p_value_adjusted"]) else "–",
             fmt.pct(r["variance_reduction"]) if pd.notna(r["variance_reduction"]) else "–"]
            for r in table.to_dict(orient="records")]
    srm = res.get("srm", {})
    srm_text = (f"Sample-ratio check: p = {srm.get('p_value', float('nan')):.3g}"
                f"{' (FAILED: ' + str(srm.get('message')) + ')' if srm.get('failed') else ' (passed)'}.")
    settings = res.get("settings", {})
    return Block("Experiments", anchor="experiments", view=_experiment_view(run),
                 takeaway=f"Arms against {settings.get('control', 'control')}, outcomes over "
                          f"{settings.get('window_days', '?')} days after assignment; CUPED on the pre-period.",
                 paragraphs=[srm_text, *res.get("warnings", [])],
                 tables=[Table(["Metric", "Arm", "Segment", "Units", "Lift (95% CI)", "Relative", "p (Holm)",
                                "CUPED variance reduction"], rows)])


# --- uplift and plan -----------------------------------------------------------------------


def science_uplift(run: RunData) -> Block:
    res, qini = run.results.get("uplift"), run.frame("qini")
    if res is None or qini is None:
        return missing(run, "uplift")
    data = pd.DataFrame({"x": qini["fraction"], "y": qini["qini"], "series": qini["action"].astype(str),
                         "lo": np.nan, "hi": np.nan})
    view = View("qini", "Qini curves on held-out customers", "Targeting by predicted effect, most responsive first: "
                "the higher a curve above the straight line to its end, the better the ranking.", "lines", data,
                "number", x_title="Share of customers targeted", y_title="Incremental outcome per treated customer")
    rows = []
    for action, a in res.get("actions", {}).items():
        rows.append([action, fmt.number(a["n_treated"]), fmt.number(a["n_control"]), f"{a['ate']:.4g}",
                     f"{a['qini']:.4g}", f"{a['auuc']:.4g}", f"{a['uplift_at'].get('10%', float('nan')):.4g}"])
    policy = res.get("policy", {})
    gain = policy.get("dr_gain") or policy.get("ipw_gain") or {}
    text = (f"Learner {res.get('learner')}, outcome {res.get('outcome')} over {res.get('window_days')} days; "
            f"{fmt.number(res.get('n_train'))} customers to fit, {fmt.number(res.get('n_test'))} held out.")
    if gain:
        text += (f" Targeting policy gain per customer (doubly robust): {gain['value']:.4g} "
                 f"({gain['ci_low']:.4g} to {gain['ci_high']:.4g}), treating {fmt.pct(policy.get('share_treated'))}.")
    return Block("Uplift of retention actions", anchor="uplift", view=view, paragraphs=[text], tables=[Table(
        ["Action", "Treated", "Control", "Average effect", "Qini coefficient", "AUUC", "Uplift at 10%"], rows)])


def _plan_view(run: RunData) -> View | None:
    res, summary = run.results.get("plan"), run.frame("plan_summary")
    if res is None or summary is None:
        return None
    per_action = summary[(summary.iloc[:, 0] == "total") & (summary["action"] != "total")] \
        if (summary.iloc[:, 0] == "total").any() else summary[summary["action"] != "total"]
    if per_action.empty:
        per_action = summary[summary["action"] != "total"].groupby("action", as_index=False)[
            ["incremental_value", "cost"]].sum()
    steps = [(f"Extra from {a}", float(v), "relative") for a, v in zip(per_action["action"],
                                                                       per_action["incremental_value"], strict=True)]
    steps.append(("Cost of the actions", -float(res["cost"]), "relative"))
    steps.append(("Net gain", float(res["value"] - res["cost"]), "total"))
    data = pd.DataFrame(steps, columns=["x", "y", "measure"])
    money = res.get("outcome") == "revenue"
    roi = res.get("roi")
    band = res.get("roi_ci")
    takeaway = (f"Spending {fmt.money(res['cost'], run.currency)} on {fmt.number(res['customers'])} customers is "
                f"expected to bring {fmt.money(res['value'], run.currency) if money else fmt.number(res['value'])} "
                "of extra " + ("revenue" if money else str(res.get("outcome"))))
    if roi is not None:
        takeaway += f": a return of {fmt.pct(roi, 0)} on the spend"
        if band:
            takeaway += f" (likely between {fmt.pct(band[0], 0)} and {fmt.pct(band[1], 0)})"
    return View("plan", "Recommended plan: value and cost", takeaway + ".", "waterfall", data,
                "money" if money else "number", y_title=run.currency if money else str(res.get("outcome")))


def exec_plan(run: RunData) -> Block | None:
    view = _plan_view(run)
    if view is None:
        return None
    summary = run.frame("plan_summary")
    assert summary is not None
    rows = summary[(summary["action"] != "total") & (summary.iloc[:, 0] != "total")]
    lines = [f"{a}: {fmt.number(n)} customers" for a, n in
             rows.groupby("action")["customers"].sum().sort_values(ascending=False).items()]
    return Block("Recommended plan", takeaway=view.takeaway, view=view, paragraphs=["Who gets what: "
                 + "; ".join(lines) + "."] if lines else [])


def science_plan(run: RunData) -> Block:
    res = run.results.get("plan")
    if res is None:
        return missing(run, "plan")
    view = _plan_view(run)
    summary = run.frame("plan_summary")
    rows = [] if summary is None else [
        [str(r[summary.columns[0]]), str(r["action"]), fmt.number(r["customers"]),
         fmt.money(r["incremental_value"], run.currency), fmt.money(r["cost"], run.currency),
         fmt.pct(r["roi"], 0) if pd.notna(r["roi"]) else "–"] for r in summary.to_dict(orient="records")]
    bound = (f"Solver {res['solver']} ({res['status']}, {res['seconds']:.1f} s): objective {res['objective']:.6g}, "
             f"upper bound {res['bound']:.6g}, certified gap {fmt.pct(res['gap'], 3)}.")
    ci = res.get("value_ci")
    unc = ("Value interval: the relative 95% interval of the held-out doubly robust policy gain, applied to the "
           f"plan's predicted value: {ci[0]:.6g} to {ci[1]:.6g}." if ci else "No interval: the held-out policy "
           "gain has none.")
    return Block("Optimization: plan, bound and gap", anchor="plan", view=view, paragraphs=[bound, unc],
                 tables=[Table(["Group", "Action", "Customers", "Incremental value", "Cost", "Return"], rows)])


def science_extra(run: RunData) -> list[Block]:
    """Science sections of the optional stages, in run order."""
    return [science_monitor(run), science_experiments(run), science_uplift(run), science_plan(run)]


def science_references(run: RunData) -> list[str]:
    """References of the optional stages that ran."""
    return [f"{name}: {text}" for name, text in REFERENCES.items() if run.ran(name)]


def exec_extra(run: RunData) -> list[Block]:
    """Executive blocks of the optional stages (alarms, experiment results)."""
    blocks = []
    alarms = exec_alarms(run)
    if alarms is not None:
        blocks.append(alarms)
    view = _experiment_view(run)
    if view is not None:
        blocks.append(Block(view.title, takeaway=view.takeaway, view=view))
    return blocks
