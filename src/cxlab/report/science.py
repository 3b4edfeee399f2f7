"""The scientific report: data quality, definitions, methods, diagnostics, reproduction."""

from __future__ import annotations

import pandas as pd
import yaml

from cxlab.report import fmt
from cxlab.report.data import RunData
from cxlab.report.html import Block, Table, render
from cxlab.report.views import View

REFERENCES = {
    "metrics": "Intervals: delta method for ratio metrics with the customer as the cluster (Deng, Knoblich & Lu "
               "2018, 'Applying the delta method in metric analytics', KDD); Wilson (1927) for customer shares.",
    "engagement": "Purchases: BG/NBD (Fader, Hardie & Lee 2005, 'Counting your customers the easy way', Marketing "
                  "Science 24(2)) or Pareto/NBD (Schmittlein, Morrison & Colombo 1987); spend: Gamma-Gamma (Fader, "
                  "Hardie & Lee 2005, 'RFM and CLV', JMR 42(4)); churn: LightGBM (Ke et al. 2017) on behaviour "
                  "with a time-based split.",
    "satisfaction": "Non-response: augmented inverse probability weighting with K-fold cross-fitting (Robins, "
                    "Rotnitzky & Zhao 1994; Chernozhukov et al. 2018, 'Double/debiased machine learning'); "
                    "effective sample size (Kish 1965); balance by standardized mean differences (Austin 2009). "
                    "Drivers: TreeSHAP (Lundberg et al. 2020) on a calibrated LightGBM classifier.",
    "cohorts": "Retention of first-order cohorts in marketplace local time.",
}


def _rows(frame: pd.DataFrame, formats: dict[str, object]) -> Table:
    columns = list(formats)
    rows = []
    for record in frame.to_dict(orient="records"):
        rows.append([f(record[c]) if callable(f) else str(record[c]) for c, f in formats.items()])  # type: ignore[operator]
    return Table([fmt.label(c) if c in fmt.LABELS else c.replace("_", " ").capitalize() for c in columns], rows)


def data_block(run: RunData) -> Block:
    tables = run.manifest.get("tables", {})
    rows = [[name, fmt.number(t["rows_in"]), fmt.number(t["rows_clean"]), fmt.number(t["rows_rejected"]),
             fmt.pct(t["rows_rejected"] / t["rows_in"]) if t["rows_in"] else "–"] for name, t in tables.items()]
    reasons = [[name, reason, fmt.number(n)] for name, t in tables.items() for reason, n in t["reasons"].items() if n]
    inputs = [[name, i["path"], i["sha256"][:16], fmt.number(i["bytes"])]
              for name, i in run.manifest.get("inputs", {}).items()]
    rejected = sum(t["rows_rejected"] for t in tables.values())
    return Block("Data and data quality", anchor="data",
                 takeaway=f"Validation set aside {fmt.number(rejected)} rows, each with its reason, in rejects/; "
                          "for every table rows in = clean + rejected.",
                 tables=[Table(["Table", "Rows in", "Clean", "Rejected", "Rejected share"], rows, "Rows per table"),
                         Table(["Table", "Reason", "Rows"], reasons or [["–", "no row rejected", "0"]],
                               "Reasons rows were set aside"),
                         Table(["Table", "File", "SHA-256 (first 16)", "Bytes"], inputs, "Input files")])


def metrics_block(run: RunData) -> Block | None:
    total = run.frame("metrics_total")
    if total is None:
        return None
    from cxlab.metrics import METRICS

    definitions = []
    for name in dict.fromkeys(total["metric"]):
        m = METRICS.get(name)
        definitions.append([name, fmt.label(name), m.description if m else "user-defined (metrics.definitions)",
                            m.kind if m else "spec"])
    cur = run.currency
    values = total.copy()
    values["segment"] = values["marketplace"].astype(str) if "marketplace" in values else "All"
    segments = sorted(values["segment"].unique())
    cells: dict[tuple[str, str], str] = {}
    for r in values.to_dict(orient="records"):
        text = fmt.metric_value(r["metric"], r["value"], cur)
        if pd.notna(r["ci_low"]):
            text += (f" ({fmt.metric_value(r['metric'], r['ci_low'], cur)} to "
                     f"{fmt.metric_value(r['metric'], r['ci_high'], cur)})")
        cells[(r["metric"], r["segment"])] = text
    rows = [[fmt.label(m), *(cells.get((m, seg), "–") for seg in segments)] for m in dict.fromkeys(values["metric"])]
    return Block("Metric definitions and whole-window values", anchor="metrics",
                 paragraphs=[REFERENCES["metrics"]],
                 tables=[Table(["Metric", "Name", "Definition", "Interval"], definitions, "Definitions"),
                         Table(["Metric", *segments], rows, "Whole window, with 95% intervals")])


def methods_block(run: RunData) -> Block:
    ran = [s["name"] for s in run.manifest.get("stages", []) if s["status"] == "done"]
    refs = [f"{name}: {REFERENCES[name]}" for name in ran if name in REFERENCES]
    from cxlab.report import sections

    refs += sections.science_references(run)
    return Block("Methods and references", anchor="methods", paragraphs=refs or ["No model stage ran."])


def satisfaction_blocks(run: RunData) -> list[Block]:
    res = run.results.get("satisfaction")
    pop = run.frame("population")
    if res is None or pop is None:
        return []
    curves, quality = [], []
    for scale, e in res["evaluation"]["scales"].items():
        if "skipped" in e:
            quality.append([fmt.label(scale), "–", "–", "–", "–", "–", e["skipped"]])
            continue
        quality.append([fmt.label(scale), fmt.number(e["auc"], 3), fmt.number(e["log_loss"], 3),
                        fmt.number(e["brier"], 3), fmt.number(e["ece"], 3), fmt.number(e["n_test"]), ""])
        for point in e["calibration_curve"]:
            curves.append({"x": point["mean_predicted"], "y": point["observed"], "series": fmt.label(scale)})
    calibration = View("calibration", "Calibration on held-out answers",
                       "Predicted and observed shares of satisfied answers agree along the diagonal.", "lines",
                       pd.DataFrame(curves).assign(lo=float("nan"), hi=float("nan")), "pct",
                       x_title="Predicted share satisfied", y_title="Observed share satisfied",
                       marks={"Perfect calibration": ([0, 1], [0, 1])}) if curves else None
    model = Block("Satisfaction model diagnostics", anchor="satisfaction-model", view=calibration,
                  takeaway="Held-out answers (split by customer) measure discrimination and calibration.",
                  tables=[Table(["Scale", "AUC", "Log loss", "Brier", "ECE", "Held-out answers", "Note"], quality)])
    corrected = pop[pop["method"] != "naive"].copy()
    naive = pop[pop["method"] == "naive"]
    keys = [c for c in res["by"] if c in pop.columns] + ["scale"]
    merged = corrected.merge(naive[[*keys, "estimate"]].rename(columns={"estimate": "naive"}), on=keys, how="left")

    def show(scale: str, v: float) -> str:
        return fmt.pct(v) if scale == "csat5" else fmt.number(v, 1)

    rows = [[*(str(r[k]) for k in keys), show(r["scale"], r["naive"]), show(r["scale"], r["estimate"]),
             f"{show(r['scale'], r['ci_low'])} to {show(r['scale'], r['ci_high'])}", fmt.number(r["n_invited"]),
             fmt.number(r["n_responded"]), fmt.number(r["effective_n"]), r["reason"] or ""]
            for r in merged.to_dict(orient="records")]
    balance = pd.DataFrame(res["balance"])
    bal_view = None
    if not balance.empty:
        b = balance.assign(size=balance["smd_before"].abs()).sort_values("size", ascending=False)
        b = b.drop_duplicates("covariate").head(12)
        long = pd.concat([
            pd.DataFrame({"x": b["covariate"], "y": b["smd_before"].abs(), "series": "Respondents as they are"}),
            pd.DataFrame({"x": b["covariate"], "y": b["smd_after"].abs(), "series": "After weighting"}),
        ])
        worst = float(b["smd_after"].abs().max())
        bal_view = View("balance", "Covariate balance of respondents vs all invited",
                        f"After weighting the largest absolute standardized mean difference is {worst:.3f} "
                        "(below 0.1 is the usual mark of balance).", "hbar", long, "number",
                        y_title="|Standardized mean difference|")
    method = res["method"].upper()
    nonresponse = Block("Non-response correction", anchor="nonresponse", view=bal_view,
                        takeaway=f"Population satisfaction by {method} ({res['folds']}-fold cross-fitting, "
                                 f"target: {res['target']}) next to the respondents' plain average.",
                        tables=[Table([*(fmt.label(k) for k in keys), "Respondents only", "Corrected",
                                       "95% interval", "Invited", "Responded", "Effective n", "Note"], rows)])
    drivers = run.frame("drivers")
    blocks = [model, nonresponse]
    if drivers is not None and not drivers.empty:
        blocks.append(Block("Drivers of satisfaction", anchor="drivers", tables=[_rows(
            drivers, {"scale": fmt.label, "rank": str, "label": str, "importance": lambda v: f"{v:.3f}",
                      "points": lambda v: f"{v:+.1f}", "direction": str})],
            note="Importance: mean |SHAP| in log-odds; points: percentage points of the satisfied share."))
    return blocks


def engagement_blocks(run: RunData) -> list[Block]:
    eng = run.results.get("engagement")
    if eng is None:
        return []
    weekly = []
    params, holdout = [], []
    for g in eng["groups"]:
        p = g["params"]
        se = p.get("standard_errors", {})
        params.append([str(g["marketplace"]), *(f"{p['params'][k]:.4g} ± {se[k]:.2g}" if se.get(k) is not None
                                                 else f"{p['params'][k]:.4g}" for k in p["params"]),
                       fmt.number(p.get("n_customers"))])
        h = g["holdout"]
        if h:
            pred, actual = h.get("predicted_total"), h.get("actual_total")
            err = pred / actual - 1 if pred is not None and actual else float("nan")
            holdout.append([str(g["marketplace"]), fmt.number(h["actual_total"]), fmt.number(h["predicted_total"]),
                            fmt.pct(err)])
            for w in h.get("weekly", []):
                weekly.append(w)
    names = list(eng["groups"][0]["params"]["params"]) if eng["groups"] else []
    tracking = None
    if weekly:
        w = pd.DataFrame(weekly).groupby(["week", "period"], as_index=False)[
            ["actual_cumulative", "predicted_cumulative"]].sum()
        long = pd.concat([pd.DataFrame({"x": w["week"], "y": w["actual_cumulative"], "series": "Actual"}),
                          pd.DataFrame({"x": w["week"], "y": w["predicted_cumulative"], "series": "Model"})])
        split = int(w.loc[w["period"] == "calibration", "week"].max()) if (w["period"] == "calibration").any() else 0
        top = float(long["y"].max())
        tracking = View("tracking", "Cumulative repeat purchases: actual vs model",
                        f"Fitted up to {eng['calibration_end']}, the model tracks the repeat purchases of the "
                        "holdout weeks to the right of the dashed line.", "lines",
                        long.assign(lo=float("nan"), hi=float("nan")), "number", x_title="Week",
                        y_title="Repeat purchases (cumulative)", marks={"End of calibration": ([split, split],
                                                                                               [0, top])})
    blocks = [Block(f"Engagement models ({eng['model']})", anchor="engagement", view=tracking,
                    tables=[Table(["Marketplace", *names, "Customers"], params,
                                  "Parameters with standard errors (from the Hessian of the log-likelihood)"),
                            Table(["Marketplace", "Actual holdout repeat purchases", "Predicted", "Error"], holdout,
                                  f"Holdout {eng['calibration_end']} to {eng['observation_end']}")])]
    churn = eng.get("churn", {})
    if "skipped" in churn:
        blocks.append(Block("Churn risk", anchor="churn", paragraphs=[f"Not fitted: {churn['skipped']}"]))
    elif churn:
        blocks.append(Block("Churn risk", anchor="churn", takeaway=(
            f"No order in the {churn['horizon_days']} days after {churn['cutoff']}: "
            f"{fmt.pct(churn['churn_rate_test'])} of {fmt.number(churn['n_test'])} customers churned."),
            tables=[Table(["Score", "AUC"], [["LightGBM on behaviour", fmt.number(churn["auc_lightgbm"], 3)],
                                             ["1 - P(alive)", fmt.number(churn["auc_p_alive"], 3)],
                                             ["Expected purchases in the window", fmt.number(
                                                 churn["auc_bgnbd_expected"], 3)]])]))
    return blocks


def run_block(run: RunData) -> Block:
    rows = []
    for s in run.manifest.get("stages", []):
        if s["status"] == "done":
            rows.append([s["name"], "done", fmt.seconds(s["seconds"]), fmt.number(s["peak_memory_mb"]), ""])
        else:
            why = f"{s['reason']}; to enable: {s['enable']}" if s["status"] == "skipped" else s.get("error", "")
            rows.append([s["name"], s["status"], "–", "–", why])
    return Block("Stages of this run", anchor="stages", tables=[Table(
        ["Stage", "Status", "Time", "Peak memory (MB)", "Why not run / how to enable"], rows)],
        note="Peak memory is the process's resident peak during the stage (Linux); a Spark driver JVM is not "
             "included.")


def reproduce_block(run: RunData) -> Block:
    m = run.manifest
    project = m.get("project_file") or "project.yaml"
    versions = [[k, v or "not installed"] for k, v in m.get("versions", {}).items()]
    config = yaml.safe_dump(m["config"], sort_keys=False)
    return Block("How to reproduce", anchor="reproduce", paragraphs=[
        f"Run: cxlab run {project} --out RUN_DIR (engine {m['config']['engine']}, seed {m['config']['seed']}). "
        "The same inputs (same SHA-256 above), configuration and seed give the same output files.",
        "Resolved configuration:"], tables=[Table(["Package", "Version"], versions)], code=config)


def science_blocks(run: RunData) -> list[Block]:
    from cxlab.report import sections

    blocks = [data_block(run)]
    metrics = metrics_block(run)
    if metrics is not None:
        blocks.append(metrics)
    blocks.append(methods_block(run))
    for name, build in (("satisfaction", satisfaction_blocks), ("engagement", engagement_blocks)):
        blocks += build(run) or [sections.missing(run, name)]
    blocks += sections.science_extra(run)
    blocks += [run_block(run), reproduce_block(run)]
    return blocks


def render_science(run: RunData) -> str:
    return render("science.html.j2", science_blocks(run), currency=run.currency, height=340,
                  title=f"{run.title}: technical report",
                  subtitle=f"{run.name} · engine {run.manifest['config']['engine']} · "
                           f"amounts in {run.currency}",
                  footer=f"cxlab {run.manifest.get('versions', {}).get('cxlab', '')}")
