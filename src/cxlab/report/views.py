"""Views: one chart's data, title and one-sentence takeaway, for any renderer.

A view is built from a run's results (never from raw data). The HTML reports
draw views with plotly, the deck with matplotlib; both read the same tidy
frame, so the numbers on a slide and in a report are the same numbers.

Frame columns by ``kind``:

- ``bars``: ``x`` (category), ``series``, ``y``, optional ``lo``/``hi`` (interval);
- ``lines``: ``x`` (date or number), ``series``, ``y``, optional ``lo``/``hi``;
- ``hbar``: ``x`` (label), ``y`` (value), optional ``series``;
- ``waterfall``: ``x`` (step), ``y`` (amount), ``measure`` (``relative`` or ``total``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cxlab.report import fmt
from cxlab.report.data import RunData

Kind = Literal["bars", "lines", "hbar", "waterfall"]
Unit = Literal["pct", "money", "number", "score"]

#: Series names people read.
SURVEY_ONLY = "What the survey says"
CORRECTED = "All customers (corrected)"


@dataclass
class View:
    key: str
    title: str
    takeaway: str
    kind: Kind
    data: pd.DataFrame
    unit: Unit = "number"
    x_title: str = ""
    y_title: str = ""
    note: str = ""
    #: Extra lines (name -> (x, y)) such as a diagonal or a split date.
    marks: dict[str, object] = field(default_factory=dict)


def _segment(frame: pd.DataFrame) -> pd.Series:
    return frame["marketplace"].astype(str) if "marketplace" in frame else pd.Series("All", index=frame.index)


def _fmt(unit: Unit, value: float, currency: str) -> str:
    if unit == "pct":
        return fmt.pct(value)
    if unit == "money":
        return fmt.money(value, currency)
    if unit == "score":
        return fmt.number(value, 1)
    return fmt.number(value)


# --- satisfaction --------------------------------------------------------------------------


def satisfaction_by_market(run: RunData, scale: str = "csat5") -> View | None:
    """Corrected vs survey-only satisfaction per marketplace, with 95% intervals."""
    pop = run.frame("population")
    unit: Unit = "pct" if scale == "csat5" else "score"
    name = "satisfied customers" if scale == "csat5" else "Net Promoter Score"
    most = "the most" if scale == "csat5" else "the highest"
    if pop is not None and len(pop[pop["scale"] == scale]):
        rows = pop[(pop["scale"] == scale) & pop["estimate"].notna()].copy()
        rows["x"] = _segment(rows)
        rows["series"] = np.where(rows["method"] == "naive", SURVEY_ONLY, CORRECTED)
        data = rows.rename(columns={"estimate": "y", "ci_low": "lo", "ci_high": "hi"})[
            ["x", "series", "y", "lo", "hi"]].sort_values(["series", "x"], ascending=[False, True])
        wide = data.pivot_table(index="x", columns="series", values="y")
        if CORRECTED in wide and SURVEY_ONLY in wide:
            gap = (wide[SURVEY_ONLY] - wide[CORRECTED]).dropna()
            where = str(gap.abs().idxmax())
            diff = float(gap[where])
            shown = fmt.points(abs(diff)).lstrip("+") if unit == "pct" else f"{abs(diff):.1f} points"
            direction = "overstates" if diff > 0 else "understates"
            best = wide[CORRECTED].idxmax()
            lead = (f"{best} has {most} {name} ({_fmt(unit, wide[CORRECTED][best], run.currency)})"
                    if len(wide) > 1 else f"{name.capitalize()} in {best}: {_fmt(unit, wide[CORRECTED][best], run.currency)}")
            takeaway = (f"{lead}; the survey alone {direction} {where} by {shown}, because the customers who "
                        "answer are not like those who stay silent.")
        else:
            takeaway = f"Share of {name} per marketplace."
        return View(f"satisfaction_{scale}", f"{fmt.label(scale)} by marketplace", takeaway, "bars", data, unit,
                    y_title=fmt.label(scale), note="Bars show 95% intervals.")
    totals = run.frame("metrics_total")
    metric = "csat" if scale == "csat5" else "nps"
    if totals is None or not (totals["metric"] == metric).any():
        return None
    rows = totals[totals["metric"] == metric].copy()
    rows["x"] = _segment(rows)
    rows["series"] = SURVEY_ONLY
    data = rows.rename(columns={"value": "y", "ci_low": "lo", "ci_high": "hi"})[["x", "series", "y", "lo", "hi"]]
    best = data.loc[data["y"].idxmax()]
    return View(f"satisfaction_{scale}", f"{fmt.label(scale)} by marketplace",
                f"{best['x']} has {'the most' if scale == 'csat5' else 'the highest'} {name} among those who answered ({_fmt(unit, best['y'], run.currency)}).",
                "bars", data, unit, y_title=fmt.label(scale), note="Survey answers only; bars show 95% intervals.")


def metric_trend(run: RunData, metric: str) -> View | None:
    """A metric per period and marketplace with its 95% band."""
    series = run.frame("metrics")
    if series is None or not (series["metric"] == metric).any():
        return None
    rows = series[(series["metric"] == metric) & series["period_start"].notna()].copy()
    rows["x"] = pd.to_datetime(rows["period_start"])
    rows["series"] = _segment(rows)
    data = rows.rename(columns={"value": "y", "ci_low": "lo", "ci_high": "hi"})[["x", "series", "y", "lo", "hi"]]
    data = data.sort_values(["series", "x"]).reset_index(drop=True)
    unit: Unit = "pct" if metric in fmt.SHARES else "money" if metric in fmt.MONEY else (
        "score" if metric == "nps" else "number")
    data, dropped = _complete_periods(data, rows)
    weights = rows.set_index(["series", "x"])["n"]
    data["w"] = weights.reindex(pd.MultiIndex.from_frame(data[["series", "x"]])).to_numpy(dtype=float)
    periods = sorted(data["x"].unique())
    if len(periods) >= 4:
        def level(part: pd.DataFrame) -> float:
            if unit in ("pct", "score"):
                return float(np.average(part["y"], weights=part["w"].fillna(1)))
            return float(part.groupby("x")["y"].sum().mean())

        k = min(3, len(periods) // 2)
        grain = str(run.manifest["config"]["metrics"]["grain"])
        words = {1: "", 2: "two ", 3: "three "}[k] + grain + ("s" if k > 1 else "")
        before, after = level(data[data["x"].isin(periods[:k])]), level(data[data["x"].isin(periods[-k:])])
        change = after - before
        verb = "rose" if change > 0 else "fell"
        if unit == "pct":
            moved = f"{verb} from {fmt.pct(before)} to {fmt.pct(after)}"
        elif unit == "score":
            moved = f"{verb} from {before:.1f} to {after:.1f}"
        else:
            moved = f"{verb} from {_fmt(unit, before, run.currency)} to {_fmt(unit, after, run.currency)} a {grain}"
        takeaway = (f"{fmt.label(metric)} {moved} between the first {words} and the last "
                    f"({pd.Timestamp(periods[0]):%b %Y} to {pd.Timestamp(periods[-1]):%b %Y}, all marketplaces)")
        per_period = data.groupby("x")["y"].sum()
        peak_at = per_period.idxmax()
        if unit not in ("pct", "score") and per_period[peak_at] > 1.25 * max(before, after):
            takeaway += (f", after a peak of {_fmt(unit, float(per_period[peak_at]), run.currency)} in "
                         f"{pd.Timestamp(peak_at):%B %Y}")
        takeaway += "."
    else:
        takeaway = f"{fmt.label(metric)} per marketplace."
    data = data.drop(columns="w")
    has_band = data["lo"].notna().any()
    notes = ["Shaded bands show 95% intervals."] if has_band else []
    if dropped:
        notes.append("The last period is left out: it is not complete.")
    return View(f"trend_{metric}", f"{fmt.label(metric)} over time", takeaway, "lines", data, unit,
                y_title=fmt.label(metric), note=" ".join(notes))


def _complete_periods(data: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Leave out a last period with far fewer customers than the ones before (not complete)."""
    per_period = rows.groupby("x")["n"].sum().sort_index()
    if len(per_period) < 3:
        return data, False
    last, typical = per_period.iloc[-1], per_period.iloc[-4:-1].median()
    if last < 0.5 * typical:
        return data[data["x"] != per_period.index[-1]].reset_index(drop=True), True
    return data, False


# --- engagement ----------------------------------------------------------------------------


def retention(run: RunData) -> View | None:
    """Share of a first-order cohort that orders again k periods later, per marketplace."""
    cohorts = run.frame("cohorts")
    if cohorts is None or cohorts.empty:
        return None
    c = cohorts.copy()
    c["series"] = _segment(c)
    c = c[c["period_index"] > 0]
    grouped = c.groupby(["series", "period_index"], as_index=False)[["retained", "cohort_size"]].sum()
    grouped = grouped[grouped["period_index"] <= 12]
    grouped["y"] = grouped["retained"] / grouped["cohort_size"]
    grouped["x"] = grouped["period_index"].astype(int)
    data = grouped[["x", "series", "y"]].assign(lo=np.nan, hi=np.nan)
    month1 = grouped[grouped["x"] == 1]
    if month1.empty:
        return None
    overall = float(month1["retained"].sum() / month1["cohort_size"].sum())
    grain = run.manifest["config"]["cohorts"]["grain"]
    return View("retention", "Customers who come back", f"{fmt.pct(overall, 0)} of new customers order again in "
                f"the {grain} after their first order.", "lines", data, "pct",
                x_title=f"{grain.capitalize()}s since the first order", y_title="Ordering again")


def customer_value(run: RunData) -> View | None:
    """Expected value per customer over the horizon, per marketplace, with 95% intervals."""
    clv = run.frame("clv")
    eng = run.results.get("engagement")
    if clv is None or eng is None or clv.empty:
        return None
    g = clv.groupby("marketplace")["clv"].agg(["mean", "std", "count", "sum"])
    half = 1.96 * g["std"].fillna(0) / np.sqrt(g["count"])
    data = pd.DataFrame({"x": g.index.astype(str), "series": "Expected value per customer", "y": g["mean"].to_numpy(),
                         "lo": (g["mean"] - half).to_numpy(), "hi": (g["mean"] + half).to_numpy()})
    weeks = int(eng["horizon_weeks"])
    total = float(g["sum"].sum())
    top = g["mean"].idxmax()
    return View("customer_value", f"Expected value per customer, next {weeks} weeks",
                f"Today's customers are expected to spend {fmt.money(total, run.currency)} in the next {weeks} "
                f"weeks; customers in {top} are worth the most ({fmt.money(g['mean'][top], run.currency)} each).",
                "bars", data, "money", y_title=f"Per customer ({run.currency})", note="Bars show 95% intervals.")


def active_share(run: RunData) -> tuple[float, int] | None:
    """Share of customers still likely to buy (mean P(alive)) and customers scored."""
    clv = run.frame("clv")
    if clv is None or clv.empty:
        return None
    return float(clv["p_alive"].mean()), len(clv)


# --- drivers -------------------------------------------------------------------------------


def dissatisfaction_drivers(run: RunData, top: int = 3) -> View | None:
    """The drivers that cost the most satisfaction, in plain words."""
    drivers = run.frame("drivers")
    if drivers is None or drivers.empty:
        return None
    d = drivers[drivers["scale"] == ("csat5" if (drivers["scale"] == "csat5").any() else drivers["scale"].iloc[0])]
    d = d.sort_values("points_lost").head(top)
    d = d[d["points_lost"] < 0]
    if d.empty:
        return None
    data = pd.DataFrame({"x": d["label"].str.capitalize().to_numpy(), "y": d["points_lost"].to_numpy() / 100,
                         "series": "Satisfaction lost"})
    words = ", ".join(d["label"].tolist()[:-1]) + (" and " if len(d) > 1 else "") + d["label"].iloc[-1]
    return View("drivers", "What costs the most satisfaction",
                f"{words.capitalize()} cost the most satisfaction: {fmt.points(-d['points_lost'].iloc[0] / 100)} "
                f"of satisfied customers are lost to {d['label'].iloc[0]} on average.".replace("+", ""),
                "hbar", data, "pct", y_title="Share of satisfied customers lost")


def exec_views(run: RunData) -> list[View]:
    """The executive report's charts, in reading order (those the run has results for)."""
    candidates = [
        satisfaction_by_market(run, "csat5"),
        metric_trend(run, "csat"),
        satisfaction_by_market(run, "nps11"),
        metric_trend(run, "active_customers"),
        retention(run),
        customer_value(run),
        dissatisfaction_drivers(run),
    ]
    return [v for v in candidates if v is not None]
