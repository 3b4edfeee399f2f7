"""Analyse an A/B test on catalog metrics: :func:`analyze` and :func:`plan`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab.engine import Engine
from cxlab.exceptions import InputDataError
from cxlab.experiments import stats as S
from cxlab.experiments.metrics import ExperimentMetric, resolve_metrics
from cxlab.experiments.units import (
    ARM, PROB, SEG, SEVERAL, SEVERAL_CODE, Assignment, add_inactive_units, assignment_frame, check_rates,
    metric_variables, name_arms, sufficient_statistics, unit_values, winsorize, with_attributes,
)
from cxlab.schema import DEFAULT_REPORTING_CURRENCY, MARKETPLACES, Marketplace

if TYPE_CHECKING:
    from cxlab.metrics.spec import MetricSpec

Correction = Literal["holm", "bh", "none"]

#: SRM p-values below this fail the check (GrowthBook's and Eppo's default).
SRM_THRESHOLD = 0.001

#: Columns of the results table, in order.
COLUMNS = (
    "metric", "metric_type", "arm", "segment", "n", "mean", "control_n", "control_mean",
    "lift", "lift_se", "lift_ci_low", "lift_ci_high", "rel_lift", "rel_lift_ci_low",
    "rel_lift_ci_high", "p_value", "p_value_adjusted", "rel_p_value", "significant",
    "variance_reduction", "cuped", "sequential", "dof", "srm_p_value",
)


@dataclass
class ExperimentResult:
    """What :func:`analyze` found.

    Attributes
    ----------
    table
        One row per metric x arm x segment (columns :data:`COLUMNS`).
    srm
        The sample-ratio check: ``p_value``, ``failed`` (p < 0.001), units and
        intended share per arm, and a message.
    settings
        The options of the analysis (window, pre-period, control, ...).
    warnings
        Plain sentences about what the analysis left out or doubts.
    """

    table: pd.DataFrame
    srm: dict[str, Any]
    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content (NaN as null)."""
        rows = self.table.astype(object).where(self.table.notna(), None).to_dict(orient="records")
        return {"settings": self.settings, "srm": self.srm, "warnings": self.warnings, "results": rows}


def _tables_of(data: Any) -> tuple[Mapping[str, nw.LazyFrame], Mapping[str, Marketplace], str, Any]:
    if hasattr(data, "tables") and hasattr(data, "reporting_currency"):
        return data.tables, data.marketplaces, data.reporting_currency, getattr(data, "engine", None)
    if isinstance(data, Mapping):
        return data, MARKETPLACES, DEFAULT_REPORTING_CURRENCY, None
    raise InputDataError(
        f"experiment: data must be a cxlab Dataset or a mapping of table names to frames; got {type(data).__name__}."
    )


def _bounded(name: str, value: float, lo: float, hi: float) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
        raise InputDataError(f"experiment: {name} must be between {lo:g} and {hi:g}; got {value!r}.")
    return float(value)


def _arm_stats(frame: pd.DataFrame, vars_: Sequence[str]) -> S.ArmStats:
    p = len(vars_)
    s = np.column_stack([frame[f"s|{v}"].to_numpy(float) for v in vars_])
    q = np.empty((len(frame), p, p))
    for i in range(p):
        for j in range(i, p):
            q[:, i, j] = q[:, j, i] = frame[f"q|{vars_[i]}|{vars_[j]}"].to_numpy(float)
    return S.ArmStats(frame["_n"].to_numpy(float), s, q)


def _variables(base: Sequence[str], covariates: Sequence[str]) -> list[str]:
    """A metric's variables: its own (``y[, d][, pre_y[, pre_d]]``), then the covariates."""
    return list(base) + [f"cov__{c}" for c in covariates]


def analyze(
    data: Any,
    *,
    metrics: Sequence[str],
    assignment: Assignment | None = None,
    control: str | None = None,
    window_days: float = 30,
    pre_days: float = 90,
    covariates: Sequence[str] = (),
    by: str | None = None,
    winsorize_quantile: float | None = None,
    sequential: bool = False,
    as_of: dt.datetime | dt.date | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
    expected_split: Mapping[str, float] | None = None,
    spec: Sequence[MetricSpec] | None = None,
    reporting_currency: str | None = None,
    engine: Engine | None = None,
) -> ExperimentResult:
    """Analyse an experiment: every arm against control, for every metric and segment.

    Parameters
    ----------
    data
        A :class:`cxlab.io.Dataset` (or a mapping of table names to frames).
    metrics
        Metric names: ``conversion``, ``orders``, ``revenue``, ``visits``, catalog
        ratio metrics (``csat``, ``nps``, ``aov``, ...) or names from ``spec``.
    assignment
        Where units, arms and assignment times come from (default: the
        ``treatments`` table, ``customer_id``, ``action``, ``assigned_ts``).
    control
        The control arm (default ``control`` when present).
    window_days
        Days after each unit's assignment over which its metric is measured.
    pre_days
        Days before assignment for the pre-period value used by CUPED; 0
        turns CUPED off.
    covariates
        Numeric customer attributes added to the regression adjustment.
    by
        A customer attribute (or assignment column): one analysis per segment.
    winsorize_quantile
        Cap per-unit values at this quantile (over all units) before the
        analysis, e.g. 0.99 for heavy-tailed revenue.
    sequential
        Always-valid intervals and p-values (asymptotic confidence sequences).
    as_of
        Analyse the data up to this moment (UTC; a date means its midnight):
        only units assigned before it, and their windows cut there.
    alpha
        1 - confidence level of the intervals.
    correction
        Multiple-comparison adjustment of ``p_value_adjusted`` over all rows:
        Holm (default), Benjamini-Hochberg (``bh``) or ``none``.
    expected_split
        Intended share per arm for the SRM check; default from the
        ``assignment_prob`` column when present, else equal shares.
    reporting_currency
        Reporting currency of revenue (default: the dataset's).
    engine
        The engine of the tables (default: the dataset's). When known, the
        assigned units are computed once and kept in it (a DuckDB temporary
        table, a Spark cache), which halves the time on large experiments.
    """
    tables, marketplaces, reporting, own_engine = _tables_of(data)
    engine = engine or own_engine
    window_days = _bounded("window_days", window_days, 1e-6, 3660)
    pre_days = _bounded("pre_days", pre_days, 0, 3660)
    alpha = _bounded("alpha", alpha, 1e-6, 0.5)
    if winsorize_quantile is not None:
        winsorize_quantile = _bounded("winsorize quantile", winsorize_quantile, 0.5, 1.0)
    if correction not in ("holm", "bh", "none"):
        raise InputDataError(f"experiment: correction must be holm, bh or none; got {correction!r}.")
    if as_of is not None and not isinstance(as_of, dt.datetime):
        as_of = dt.datetime.combine(as_of, dt.time())
    spec_ = assignment or Assignment()
    chosen = resolve_metrics(metrics, spec)
    cuped = pre_days > 0
    currency = (reporting_currency or reporting).upper()

    assigned, has_prob, assign_cols, arm_names = assignment_frame(
        tables, spec_, as_of=as_of, extra=[*([by] if by else []), *covariates]
    )
    if engine is not None:
        assigned = engine.materialize(assigned, ordered=False)  # read by the join, the counts and the SRM check
    # Without segments, covariates or winsorization, a unit without rows in its windows only
    # adds the metrics' values at zero: the pass runs over the active units only.
    active_only = by is None and not covariates and winsorize_quantile is None
    lf = unit_values(
        tables, assigned, chosen, window_days=window_days, pre_days=pre_days if cuped else 0,
        as_of=as_of, marketplaces=marketplaces, currency=currency, active_only=active_only,
    )
    lf, variables = metric_variables(lf, chosen, pre=cuped)
    caps: dict[str, float] = {}
    if winsorize_quantile is not None:
        lf, caps = winsorize(lf, [v for vs in variables.values() for v in vs], winsorize_quantile)
    lf = with_attributes(lf, tables, by=by, covariates=covariates, assignment_columns=assign_cols)
    full = {m.name: _variables(variables[m.name], covariates) for m in chosen}
    stats = sufficient_statistics(lf, full, segment=by is not None)
    if active_only:
        stats = add_inactive_units(stats, assigned, chosen, full, pre=cuped)
    stats = name_arms(stats, arm_names)
    check_rates(stats, currency)
    several = int(stats.loc[stats[ARM] == SEVERAL, "_n"].sum())
    stats = stats[stats[ARM] != SEVERAL].reset_index(drop=True)
    if stats.empty:
        raise InputDataError(
            "experiment: no assigned units" + (f" before {as_of:%Y-%m-%d %H:%M}" if as_of else "") + "."
        )
    arms = sorted(stats[ARM].unique().tolist())
    control = control if control is not None else ("control" if "control" in arms else None)
    if control is None or control not in arms:
        raise InputDataError(
            f"experiment: control arm {control!r} not found; arms are {', '.join(arms)}. "
            "Name the control arm (--control)."
        )
    if len(arms) < 2:
        raise InputDataError(f"experiment: only one arm ({arms[0]}) has units; an experiment needs two.")

    srm = _srm(stats, arms, (assigned, arm_names) if has_prob else None, expected_split)
    table = _compare_all(stats, chosen, full, arms, control, covariates, cuped, sequential, alpha, by)
    table["p_value_adjusted"] = S.adjust_p_values(table["p_value"].to_numpy(float), correction)
    table["significant"] = table["p_value_adjusted"] < alpha
    table["srm_p_value"] = srm["p_value"]
    table = table[list(COLUMNS)]

    warnings = []
    if several:
        unit = "unit was" if several == 1 else "units were"
        warnings.append(f"{several:,} {unit} assigned to more than one arm and left out.")
    if srm["failed"]:
        warnings.append(srm["message"])
    settings = {
        "metrics": [m.name for m in chosen],
        "control": control,
        "arms": arms,
        "window_days": window_days,
        "pre_days": pre_days,
        "cuped": cuped,
        "covariates": list(covariates),
        "by": by,
        "winsorize_quantile": winsorize_quantile,
        "winsorize_caps": caps,
        "sequential": sequential,
        "sequential_tuning": S.SEQUENTIAL_TUNING if sequential else None,
        "as_of": as_of.isoformat() if as_of else None,
        "alpha": alpha,
        "correction": correction,
        "correction_statement": _correction_statement(correction, int(table["p_value"].notna().sum())),
        "currency": currency,
        "units": int(stats["_n"].sum()),
    }
    return ExperimentResult(table.reset_index(drop=True), srm, settings, warnings)


def _correction_statement(correction: str, m: int) -> str:
    if correction == "holm":
        return f"p_value_adjusted: Holm's step-down adjustment over {m} comparisons (family-wise error)."
    if correction == "bh":
        return f"p_value_adjusted: Benjamini-Hochberg adjustment over {m} comparisons (false discovery rate)."
    return "p_value_adjusted: no adjustment for multiple comparisons."


def _srm(
    stats: pd.DataFrame, arms: list[str], assigned: tuple[nw.LazyFrame, list[str]] | None,
    expected: Mapping[str, float] | None,
) -> dict[str, Any]:
    observed = stats.groupby(ARM)["_n"].sum().reindex(arms).fillna(0).to_numpy(float)
    source = "equal shares"
    if expected is not None:
        unknown = sorted(set(expected) - set(arms))
        if unknown:
            raise InputDataError(f"experiment: expected split names unknown arms {unknown}; arms are {arms}.")
        share = np.array([float(expected.get(a, 0.0)) for a in arms])
        source = "given split"
    elif assigned is not None:
        frame, names = assigned
        probs = frame.filter(nw.col(ARM) != SEVERAL_CODE).group_by(ARM).agg(nw.col(PROB).mean().alias("p")).collect().to_pandas()
        probs = name_arms(probs, names)
        share = probs.set_index(ARM)["p"].reindex(arms).to_numpy(float)
        if np.all(np.isfinite(share)):
            source = "assignment_prob"
        else:
            share = np.ones(len(arms))
    else:
        share = np.ones(len(arms))
    p = S.srm_p_value(observed, share)
    failed = p < SRM_THRESHOLD
    shares = share / share.sum()
    detail = ", ".join(f"{a} {int(o):,} ({o / observed.sum():.2%} vs {s:.2%})" for a, o, s in zip(arms, observed, shares))
    message = (
        f"SAMPLE RATIO MISMATCH: p = {p:.2g} < {SRM_THRESHOLD}; units per arm ({detail}) do not match the "
        "intended split. Do not trust these results until the assignment or the data pipeline is fixed."
        if failed else f"sample ratio as intended (p = {p:.3g}; {detail})."
    )
    return {
        "p_value": p, "failed": bool(failed), "threshold": SRM_THRESHOLD, "expected_from": source,
        "units": {a: int(o) for a, o in zip(arms, observed)},
        "expected_share": {a: float(s) for a, s in zip(arms, shares)},
        "message": message,
    }


def _compare_all(
    stats: pd.DataFrame, chosen: Sequence[ExperimentMetric], full: Mapping[str, list[str]],
    arms: list[str], control: str, covariates: Sequence[str], cuped: bool, sequential: bool,
    alpha: float, by: str | None,
) -> pd.DataFrame:
    if by is None:
        stats = stats.assign(**{SEG: None})
    frames = []
    ctrl = stats[stats[ARM] == control].set_index(SEG, drop=False)
    for m in chosen:
        vars_ = full[m.name]
        # a 0/1 metric and its pre-period value (variable 1 with CUPED) get binomial variances
        binary = ((0, 1) if cuped else (0,)) if m.binary else ()
        for arm in arms:
            if arm == control:
                continue
            tr = stats[stats[ARM] == arm].set_index(SEG, drop=False)
            segs = [s for s in tr.index if s in ctrl.index]
            if not segs:
                continue
            a = _arm_stats(ctrl.loc[segs], vars_)
            b = _arm_stats(tr.loc[segs], vars_)
            with np.errstate(all="ignore"):
                r = S.compare(a, b, ratio=m.ratio, binary=binary, alpha=alpha, sequential=sequential)
            sc = m.scale
            frames.append(pd.DataFrame({
                "metric": m.name,
                "metric_type": "ratio" if m.ratio else ("proportion" if m.binary else "mean"),
                "arm": arm,
                "segment": [None if by is None else s for s in segs],
                "n": b.n.astype(np.int64),
                "mean": r.mean_arm * sc,
                "control_n": a.n.astype(np.int64),
                "control_mean": r.mean_control * sc,
                "lift": r.lift * sc,
                "lift_se": r.lift_se * sc,
                "lift_ci_low": r.lift_ci_low * sc,
                "lift_ci_high": r.lift_ci_high * sc,
                "rel_lift": r.rel_lift,
                "rel_lift_ci_low": r.rel_lift_ci_low,
                "rel_lift_ci_high": r.rel_lift_ci_high,
                "p_value": r.p_value,
                "rel_p_value": r.rel_p_value,
                "variance_reduction": r.variance_reduction if (cuped or covariates) else np.nan,
                "cuped": bool(cuped or covariates),
                "sequential": sequential,
                "dof": r.dof,
            }))
    return pd.concat(frames, ignore_index=True)


def plan(
    data: Any,
    *,
    metrics: Sequence[str],
    mde: float,
    arms: int = 2,
    alpha: float = 0.05,
    power: float = 0.8,
    window_days: float = 30,
    pre_days: float = 90,
    as_of: dt.datetime | dt.date | None = None,
    units_per_day: float | None = None,
    relative: bool = True,
    spec: Sequence[MetricSpec] | None = None,
    reporting_currency: str | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Sample size and duration to detect a lift of ``mde``, from past data.

    Every customer who signed up before ``as_of - window_days`` (default: the
    last order in the data) is a would-be unit, "assigned" at that moment: its
    metric over the following ``window_days`` gives the mean and variance, and
    its value over the ``pre_days`` before gives the variance CUPED would
    remove. Without ``units_per_day`` the units are assumed to be these existing
    customers, all assigned at once: the experiment then lasts ``window_days``
    when the population is large enough. With ``units_per_day`` (new units
    entering per day) it lasts the days to enrol the sample plus the window.
    """
    tables, marketplaces, reporting, own_engine = _tables_of(data)
    engine = engine or own_engine
    mde = _bounded("mde", mde, 1e-9, 1e12)
    window_days = _bounded("window_days", window_days, 1, 3660)
    pre_days = _bounded("pre_days", pre_days, 0, 3660)
    if units_per_day is not None:
        units_per_day = _bounded("units_per_day", units_per_day, 1e-6, 1e12)
    chosen = resolve_metrics(metrics, spec)
    if "customers" not in tables or "orders" not in tables:
        raise InputDataError("experiment plan: needs the customers and orders tables.")
    if as_of is None:
        last = tables["orders"].select(nw.col("order_ts").max()).collect().item()
        if last is None:
            raise InputDataError("experiment plan: the orders table is empty.")
        as_of = last
    elif not isinstance(as_of, dt.datetime):
        as_of = dt.datetime.combine(as_of, dt.time())
    start = as_of - dt.timedelta(days=window_days)
    if start.tzinfo is not None:
        start = start.astimezone(dt.timezone.utc).replace(tzinfo=None)
    customers = tables["customers"].filter(nw.col("signup_ts") < start).select(
        nw.col("customer_id").alias("_cid"), nw.lit("all").alias("_arm_col")
    )
    spec_ = Assignment(table=customers.to_native(), unit="_cid", arm="_arm_col", assigned=None, prob=None, start=start)
    assigned, _, _, _ = assignment_frame(tables, spec_, as_of=None)
    if engine is not None:
        assigned = engine.materialize(assigned, ordered=False)
    cuped = pre_days > 0
    lf = unit_values(
        tables, assigned, chosen, window_days=window_days, pre_days=pre_days, as_of=None,
        marketplaces=marketplaces, currency=(reporting_currency or reporting).upper(),
    )
    lf, variables = metric_variables(lf, chosen, pre=cuped)
    stats = sufficient_statistics(lf, variables, segment=False)
    check_rates(stats, (reporting_currency or reporting).upper())
    if stats.empty or stats["_n"].sum() < 2:
        raise InputDataError(f"experiment plan: fewer than two customers signed up before {start:%Y-%m-%d}.")
    population = int(stats["_n"].sum())
    rows = []
    for m in chosen:
        vars_ = variables[m.name]
        binary = ((0, 1) if cuped else (0,)) if m.binary else ()
        st = _arm_stats(stats, vars_)
        mean, var, var_adj = (float(x[0]) for x in S.unit_moments(st, ratio=m.ratio, binary=binary))
        reduction = max(0.0, 1.0 - var_adj / var) if cuped and var > 0 else 0.0
        n = S.sample_size(mean, var, mde=mde, alpha=alpha, power=power, arms=arms, relative=relative)
        n_cuped = S.sample_size(
            mean, var, mde=mde, alpha=alpha, power=power, arms=arms, relative=relative,
            variance_reduction=min(reduction, 0.999),
        ) if cuped else n
        need = n_cuped * arms
        if units_per_day is not None:
            days: float | None = math.ceil(need / units_per_day) + window_days
        else:
            days = window_days if need <= population else None
        mde_all = float(S.minimum_detectable_effect(mean, var * (1 - reduction), population / arms, alpha=alpha, power=power, arms=arms))
        rows.append({
            "metric": m.name,
            "mean": mean * m.scale,
            "sd_per_unit": math.sqrt(var) * m.scale,
            "mde": mde,
            "mde_type": "relative" if relative else "absolute",
            "n_per_arm": n,
            "variance_reduction": reduction,
            "n_per_arm_cuped": n_cuped,
            "n_total": need,
            "population": population,
            "duration_days": days,
            "mde_with_population": mde_all,
        })
    return pd.DataFrame(rows)


__all__ = ["COLUMNS", "SRM_THRESHOLD", "ExperimentResult", "analyze", "plan"]
