"""Engine work: assignment -> per-unit metric values -> sufficient statistics.

All of it is Narwhals lazy code that runs on DuckDB, Polars or Spark. Only the
sufficient statistics (per arm and segment: units, sums of each per-unit
variable and sums of their pairwise products) are collected, plus the
quantiles for winsorization when asked. Units assigned to several arms and
orders in a currency without a rate are counted in that same pass.

Times are compared as seconds since the epoch (the engine primitive
:func:`cxlab.engine.epoch_seconds`), so a window of ``window_days`` after
assignment is ``assigned <= t < assigned + window_days * 86400``, in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from cxlab.engine import coerce, epoch_seconds
from cxlab.exceptions import InputDataError
from cxlab.experiments.metrics import ExperimentMetric, sources
from cxlab.metrics.catalog import AMOUNT
from cxlab.metrics.periods import currency_expr
from cxlab.money import with_reporting_rate
from cxlab.schema import Marketplace

UNIT, ARM, AT, SEG, PROB = "_unit", "_arm", "_at", "_segment", "_prob"
#: Arm of units assigned to more than one arm (dropped after counting).
SEVERAL = "\x00several arms"
#: In the engine an arm is its position in the sorted arm names (a small integer is
#: cheaper to aggregate, store and group by than a string); units in several arms get this.
SEVERAL_CODE = -1
#: Arms are coded by a chain of comparisons up to this many, by a lookup beyond.
CHAIN_ARMS = 16
#: Per unit: orders in its windows whose currency has no rate to the reporting currency.
UNRATED = "_unrated"
DAY = 86400.0
#: Segment label of units whose segment column is null.
MISSING_SEGMENT = "(missing)"


@dataclass(frozen=True)
class Assignment:
    """Where the assignment comes from: a table and its unit, arm and time columns.

    ``table`` is a table of the dataset (default ``treatments``) or any frame
    that ``narwhals.from_native`` accepts on the same engine. ``assigned`` may
    be ``None`` when the table has no time: then ``start`` is every unit's
    assignment time. ``prob`` names an optional column with the probability of
    the unit's arm (the intended split for the sample-ratio check).
    """

    table: object = "treatments"
    unit: str = "customer_id"
    arm: str = "action"
    assigned: str | None = "assigned_ts"
    prob: str | None = "assignment_prob"
    start: dt.datetime | None = None


def _check_columns(who: str, lf: nw.LazyFrame, needed: Sequence[str], hint: str) -> list[str]:
    names = lf.collect_schema().names()
    missing = [c for c in needed if c not in names]
    if missing:
        raise InputDataError(
            f"{who}: column {', '.join(map(repr, missing))} not found; it has "
            f"{', '.join(names[:12])}{' ...' if len(names) > 12 else ''}. {hint}"
        )
    return names


def assignment_frame(
    tables: Mapping[str, nw.LazyFrame], spec: Assignment, *, as_of: dt.datetime | None,
    extra: Sequence[str] = (),
) -> tuple[nw.LazyFrame, bool, list[str], list[str]]:
    """Units with their arm and assignment time (``_unit, _arm, _at[, _prob]``).

    ``_arm`` is the arm's position in the sorted arm names (returned), an
    integer: the engine aggregates, stores and groups by it much faster than by
    the name; :func:`name_arms` turns the collected codes back into names. The
    names are found by a pass over the arm column alone (a few rows leave the
    engine).

    Units found in more than one arm get the arm :data:`SEVERAL_CODE`; the analysis
    counts and drops them (they saw both treatments). A unit assigned twice to the same arm counts
    once, at its first assignment. With ``as_of``, units assigned at or after
    it are left out.

    Columns of ``extra`` that the assignment table has (a segment, covariates)
    are kept (their first value per unit).

    Returns
    -------
    frame, has_prob, extra columns kept, arm names (sorted; a code is a position)
    """
    if isinstance(spec.table, str):
        if spec.table not in tables:
            raise InputDataError(
                f"experiment: the assignment table {spec.table!r} is not in the dataset (it has "
                f"{', '.join(sorted(tables))}). Give a treatments table, or name your own "
                "table with its unit and arm columns."
            )
        lf = tables[spec.table]
        who = spec.table
    else:
        lf = nw.from_native(spec.table).lazy()  # type: ignore[arg-type]
        who = "assignment table"
    needed = [spec.unit, spec.arm] + ([spec.assigned] if spec.assigned else [])
    names = _check_columns(who, lf, needed, "Name the unit, arm and assignment-time columns of your table.")
    has_prob = bool(spec.prob and spec.prob in names)
    cols = [nw.col(spec.unit).cast(nw.String).alias(UNIT), nw.col(spec.arm).cast(nw.String).alias(ARM)]
    if has_prob:
        cols.append(nw.col(spec.prob).cast(nw.Float64).alias(PROB))
    kept = [c for c in dict.fromkeys(extra) if c in names and c not in (spec.unit, spec.arm)]
    cols += [nw.col(c) for c in kept]
    if spec.assigned:
        lf = epoch_seconds(lf, spec.assigned, AT)
        cols.append(nw.col(AT))
    elif spec.start is not None:
        start = spec.start.replace(tzinfo=dt.timezone.utc) if spec.start.tzinfo is None else spec.start
        cols.append(nw.lit(start.timestamp()).cast(nw.Float64).alias(AT))
    else:
        raise InputDataError(
            f"{who}: has no assignment-time column; give the experiment's start date instead."
        )
    lf_arms = lf
    lf = lf.select(*cols).filter(~nw.col(UNIT).is_null() & ~nw.col(ARM).is_null() & ~nw.col(AT).is_null())
    if as_of is not None:
        lf = lf.filter(nw.col(AT) < _epoch(as_of))
    # the arm names: a pass over the arm column alone (a group-by: DuckDB's unique() is a window)
    arm_col = nw.col(spec.arm).cast(nw.String)
    found = lf_arms.filter(~arm_col.is_null()).group_by(arm_col.alias(ARM)).agg(nw.len()).collect()
    arms = sorted(str(a) for a in found[ARM].to_list())
    lf = lf.with_columns(_arm_code(arms).alias(ARM))
    aggs = [nw.col(ARM).min().alias("_arm_min"), nw.col(ARM).max().alias("_arm_max"), nw.col(AT).min().alias(AT)]
    if has_prob:
        aggs.append(nw.col(PROB).max().alias(PROB))
    aggs += [nw.col(c).min().alias(c) for c in kept]
    # Units in several arms keep the arm SEVERAL_CODE: the statistics count them in the
    # same pass, and the analysis drops them (no pass of their own).
    arm = nw.when(nw.col("_arm_min") == nw.col("_arm_max")).then(nw.col("_arm_min")).otherwise(nw.lit(SEVERAL_CODE))
    clean = lf.group_by(UNIT).agg(*aggs).select(
        UNIT, arm.cast(nw.Int32).alias(ARM), AT, *([PROB] if has_prob else []), *kept
    )
    return clean, has_prob, kept, arms


def _arm_code(arms: Sequence[str]) -> nw.Expr:
    """The position of ``_arm`` (a name) in ``arms``, an Int32."""
    col = nw.col(ARM)
    if len(arms) > CHAIN_ARMS:
        return col.replace_strict(list(arms), list(range(len(arms))), default=nw.lit(SEVERAL_CODE), return_dtype=nw.Int32)
    code = nw.lit(SEVERAL_CODE)
    for i in reversed(range(len(arms))):
        code = nw.when(col == arms[i]).then(nw.lit(i)).otherwise(code)
    return code.cast(nw.Int32)


def name_arms(stats: Any, arms: Sequence[str]) -> Any:
    """Collected statistics (pandas) with the arm codes in ``_arm`` turned into names (:data:`SEVERAL`)."""
    lookup = {i: a for i, a in enumerate(arms)} | {SEVERAL_CODE: SEVERAL}
    return stats.assign(**{ARM: [lookup[int(c)] for c in stats[ARM]]})


def _epoch(value: dt.datetime | dt.date) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _with_amount(
    lf: nw.LazyFrame, tables: Mapping[str, nw.LazyFrame], cols: Sequence[str],
    marketplaces: Mapping[str, Marketplace], currency: str,
) -> nw.LazyFrame:
    """Add :data:`AMOUNT`: the order amount in ``currency`` (via ``cxlab.money``).

    Orders without a currency column are in their customer's marketplace
    currency (looked up for every known marketplace, without reading the data);
    on validated data a currency column has no nulls (validation fills them
    from the marketplace). Orders
    whose currency has no rate get a null amount and are counted in
    :data:`UNRATED` by :func:`unit_values`, so that the check costs no pass of
    its own (:func:`check_rates`).
    """
    if "currency" in cols:
        # validation fills an order's missing currency with its marketplace's (io.validate)
        cur = nw.col("currency").str.to_uppercase()
    else:
        codes = sorted(marketplaces)
        market = tables["customers"].select(
            nw.col("customer_id").alias("_cid"), currency_expr(codes, marketplaces).alias("_mcur")
        )
        lf = lf.join(market, left_on="customer_id", right_on="_cid", how="left")
        cur = nw.col("_mcur")
    lf = with_reporting_rate(lf.with_columns(cur.alias("_cur")), tables.get("fx"), currency, currency_col="_cur")
    return lf.with_columns((nw.col("amount").cast(nw.Float64) * nw.col("_rate")).alias(AMOUNT))


def unit_values(
    tables: Mapping[str, nw.LazyFrame],
    assignment: nw.LazyFrame,
    metrics: Sequence[ExperimentMetric],
    *,
    window_days: float,
    pre_days: float,
    as_of: dt.datetime | None,
    marketplaces: Mapping[str, Marketplace],
    currency: str,
    active_only: bool = False,
) -> nw.LazyFrame:
    """Per-unit totals of every unit column, after (``post__``) and before (``pre__``) assignment.

    The rows of every source table are stacked into one frame (unit, seconds
    since the epoch, one value column per unit column: a source's own values,
    0 for the others), so that one join with the assigned units, one filter to
    the windows and one group-by per unit compute every metric's per-unit
    window and pre-period values at once, and one left join brings them to the
    assigned units (those without rows get 0).

    With ``active_only``, that left join is left out: the frame has only the
    units with rows in their windows (columns ``_unit, _arm`` and the totals),
    and :func:`add_inactive_units` completes their statistics with the units
    whose totals are all 0 (no pass over the assigned units but a count per arm).
    """
    w, p = window_days * DAY, pre_days * DAY
    end = _epoch(as_of) if as_of is not None else None
    groups = list(sources(metrics).values())
    every = [u for group in groups for u in group]
    value = {u.name: f"_v{i}" for i, u in enumerate(every)}
    rated = any(u.amount for u in every)
    # Rows outside every unit's windows (before the first assignment's pre-period, after the
    # last one's window) are dropped before the join: one look at the assigned units' times.
    bounds = assignment.select(nw.col(AT).min().alias("lo"), nw.col(AT).max().alias("hi")).collect()
    lo, hi = bounds["lo"][0], bounds["hi"][0]
    span = None if lo is None else (float(lo) - p, float(hi) + w if end is None else min(float(hi) + w, end))
    stacked = []
    for group in groups:
        source = group[0].source
        if source.table not in tables:
            raise InputDataError(
                f"experiment: metric needs the '{source.table}' table, which the dataset does not "
                f"have (it has {', '.join(sorted(tables))})."
            )
        table = tables[source.table]
        names = table.collect_schema().names()
        need = {c for u in group for c in u.columns}
        amount = any(u.amount for u in group)
        if amount:
            need |= {"amount"} | ({"currency"} & set(names))
        _check_columns(source.table, table, sorted(need | {"customer_id", source.timestamp}), "")
        keep = ["customer_id", source.timestamp, *sorted(need - {"customer_id", source.timestamp})]
        rows = table.select(*keep).filter(~nw.col(source.timestamp).is_null())
        if amount:
            rows = _with_amount(rows, tables, names, marketplaces, currency)
        rows = epoch_seconds(rows, source.timestamp, "_t")
        if span is not None:
            rows = rows.filter((nw.col("_t") >= span[0]) & (nw.col("_t") < span[1]))
        own = {u.name for u in group}
        cols = [nw.col("customer_id").cast(nw.String).alias("_c"), nw.col("_t")]
        cols += [
            (next(u for u in group if u.name == name).row() if name in own else nw.lit(0.0)).cast(nw.Float64).alias(col)
            for name, col in value.items()
        ]
        if rated:
            unrated = nw.col("_rate").is_null() & ~nw.col("amount").is_null() if amount else nw.lit(False)
            cols.append(nw.when(unrated).then(nw.lit(1.0)).otherwise(nw.lit(0.0)).alias(UNRATED))
        stacked.append(rows.select(*cols))
    units_frame = assignment.select(
        nw.col(UNIT).alias("_u"), nw.col(AT).alias("_a"), *([nw.col(ARM)] if active_only else [])
    )
    rows = (stacked[0] if len(stacked) == 1 else nw.concat(stacked, how="vertical")).join(
        units_frame, left_on="_c", right_on="_u", how="inner"
    )
    post = (nw.col("_t") >= nw.col("_a")) & (nw.col("_t") < nw.col("_a") + w)
    if end is not None:
        post = post & (nw.col("_t") < end)
    pre = (nw.col("_t") >= nw.col("_a") - p) & (nw.col("_t") < nw.col("_a"))
    rows = rows.filter(post | pre) if pre_days > 0 else rows.filter(post)
    aggs = [nw.col(UNRATED).sum().alias(UNRATED)] if rated else []
    for name, col in value.items():
        aggs.append(nw.when(post).then(nw.col(col)).otherwise(nw.lit(0.0)).sum().alias(f"post__{name}"))
        if pre_days > 0:
            aggs.append(nw.when(pre).then(nw.col(col)).otherwise(nw.lit(0.0)).sum().alias(f"pre__{name}"))
    if active_only:
        return rows.group_by("_c", ARM).agg(*aggs).rename({"_c": UNIT})
    per_unit = rows.group_by("_c").agg(*aggs)
    out = assignment.join(per_unit, left_on=UNIT, right_on="_c", how="left")
    filled = [c for c in out.collect_schema().names() if c.startswith(("post__", "pre__")) or c == UNRATED]
    return out.with_columns(*(nw.col(c).cast(nw.Float64).fill_null(0.0) for c in filled))


def metric_variables(
    lf: nw.LazyFrame, metrics: Sequence[ExperimentMetric], *, pre: bool
) -> tuple[nw.LazyFrame, dict[str, list[str]]]:
    """Evaluate every metric's ``y`` (and ``d``) per unit, after and before assignment.

    The unit columns are put under their catalog names (``o_n``, ...) from the
    ``pre__`` and then the ``post__`` totals, so that the catalog's own
    expressions compute the metric. Returns the frame and, per metric, its
    variables in order ``y[, d][, pre_y[, pre_d]]``.
    """
    unit_names = sorted({u.name for m in metrics for u in m.columns})
    variables: dict[str, list[str]] = {}
    if pre:
        lf = lf.with_columns(*(nw.col(f"pre__{n}").alias(n) for n in unit_names))
        lf = lf.with_columns(*_exprs(metrics, "pre_"))
    lf = lf.with_columns(*(nw.col(f"post__{n}").alias(n) for n in unit_names))
    lf = lf.with_columns(*_exprs(metrics, ""))
    for m in metrics:
        main = [f"{m.name}__y"] + ([f"{m.name}__d"] if m.ratio else [])
        variables[m.name] = main + ([f"{m.name}__pre_y"] + ([f"{m.name}__pre_d"] if m.ratio else []) if pre else [])
    return lf, variables


def _exprs(metrics: Sequence[ExperimentMetric], prefix: str) -> list[nw.Expr]:
    out = [m.y().cast(nw.Float64).alias(f"{m.name}__{prefix}y") for m in metrics]
    out += [m.d().cast(nw.Float64).alias(f"{m.name}__{prefix}d") for m in metrics if m.d is not None]
    return out


def winsorize(lf: nw.LazyFrame, columns: Sequence[str], quantile: float) -> tuple[nw.LazyFrame, dict[str, float]]:
    """Cap each column at its ``quantile`` over all units (one aggregation)."""
    caps_row = lf.filter(nw.col(ARM) != SEVERAL_CODE).select(
        *(nw.col(c).quantile(quantile, interpolation="linear").alias(c) for c in columns)
    ).collect()
    caps = {c: float(caps_row[c][0]) for c in columns}
    exprs = [
        nw.when(nw.col(c) > caps[c]).then(nw.lit(caps[c])).otherwise(nw.col(c)).alias(c)
        for c in columns
    ]
    return lf.with_columns(*exprs), caps


def sufficient_statistics(
    lf: nw.LazyFrame, variables: Mapping[str, Sequence[str]], *, segment: bool
) -> dict:
    """Units, sums and sums of pairwise products per arm (and segment), collected.

    Returns a pandas frame with columns ``_arm``, ``_segment`` (when
    ``segment``), ``_n``, ``s|VAR`` and ``q|VAR|VAR`` (upper triangle) for each
    metric's variables.
    """
    keys = [ARM, SEG] if segment else [ARM]
    aggs = [nw.len().alias("_n")]
    if UNRATED in lf.collect_schema().names():
        aggs.append(nw.col(UNRATED).sum().alias(UNRATED))
    seen: set[str] = set()
    for vars_ in variables.values():
        for i, a in enumerate(vars_):
            if f"s|{a}" not in seen:
                aggs.append(nw.col(a).sum().alias(f"s|{a}"))
                seen.add(f"s|{a}")
            for b in vars_[i:]:
                name = f"q|{a}|{b}"
                if name not in seen:
                    aggs.append((nw.col(a) * nw.col(b)).sum().alias(name))
                    seen.add(name)
    frame = lf.group_by(*keys).agg(*aggs).collect().to_pandas()
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def add_inactive_units(
    stats: Any,
    assignment: nw.LazyFrame,
    metrics: Sequence[ExperimentMetric],
    variables: Mapping[str, Sequence[str]],
    *,
    pre: bool,
) -> Any:
    """Complete statistics of the active units (see ``unit_values(active_only=True)``).

    A unit without rows in its windows has every unit column 0; its metric
    variables are the metrics' own expressions evaluated on zeros (in the
    engine, on one row per arm that also counts the arm's assigned units). Each
    of the ``k`` inactive units of an arm adds that value ``v0`` to the sums and
    ``v0 * v0'`` to the sums of products; the result is the same as a pass over
    every assigned unit.
    """
    import pandas as pd

    names = sorted({u.name for m in metrics for u in m.columns})
    zeros = assignment.group_by(ARM).agg(nw.len().alias("_all")).with_columns(
        *(nw.lit(0.0).alias(f"{when}__{n}") for n in names for when in ("post", "pre") if pre or when == "post")
    )
    zeros, _ = metric_variables(zeros, metrics, pre=pre)
    used = list(dict.fromkeys(v for vs in variables.values() for v in vs))
    zero = zeros.select(ARM, "_all", *used).collect().to_pandas()
    out = zero[[ARM, "_all"]].merge(stats, on=ARM, how="left")
    value_cols = [c for c in stats.columns if c != ARM]
    out[value_cols] = out[value_cols].fillna(0.0)
    k = out["_all"].to_numpy(float) - out["_n"].to_numpy(float)
    v0 = {v: zero[v].to_numpy(float) for v in used}
    done: set[str] = set()  # the columns of sufficient_statistics: each sum once
    for vars_ in variables.values():
        for i, a in enumerate(vars_):
            for col, add in ((f"s|{a}", v0[a]), *((f"q|{a}|{b}", v0[a] * v0[b]) for b in vars_[i:])):
                if col not in done:
                    out[col] = out[col] + k * add
                    done.add(col)
    out["_n"] = out["_all"].astype("int64")
    return out[list(stats.columns)].sort_values(ARM, kind="stable").reset_index(drop=True)


def check_rates(stats: Any, currency: str) -> None:
    """Refuse an analysis in which some order's currency had no rate (see :func:`unit_values`)."""
    count = float(stats[UNRATED].sum()) if UNRATED in stats else 0.0
    if count > 0:
        raise InputDataError(
            f"orders: {count:,.0f} orders in the experiment's windows are in a currency without a "
            f"rate to {currency}. Add those currencies to the fx table (rate = {currency} per 1 unit), "
            "or report in the orders' currency (reporting_currency in the project file or --currency)."
        )


def with_attributes(
    lf: nw.LazyFrame,
    tables: Mapping[str, nw.LazyFrame],
    *,
    by: str | None,
    covariates: Sequence[str],
    assignment_columns: Sequence[str] = (),
) -> nw.LazyFrame:
    """Add the segment column (``_segment``, string) and numeric covariates ``cov__NAME``."""
    need = [c for c in ([by] if by else []) + list(covariates) if c not in assignment_columns]
    if need:
        customers = tables["customers"]
        _check_columns(
            "customers", customers, need,
            "Segments (--by) and covariates (--covariate) are customer attributes or columns of the assignment table.",
        )
        attrs = customers.select(nw.col("customer_id").alias("_cid"), *need)
        lf = lf.join(attrs, left_on=UNIT, right_on="_cid", how="left")
    if by:
        lf = lf.with_columns(nw.col(by).cast(nw.String).fill_null(MISSING_SEGMENT).alias(SEG))
    if covariates:
        lf = _numeric_covariates(lf, covariates)
        schema = lf.collect_schema()
        bad = [c for c in covariates if not (schema[c].is_numeric() or schema[c] == nw.Boolean)]
        if bad:
            raise InputDataError(
                f"experiment: covariate {', '.join(map(repr, bad))} is not numeric "
                f"({', '.join(str(schema[c]) for c in bad)}); name numeric customer attributes, "
                "or encode a category as 0/1 columns."
            )
        lf = lf.with_columns(
            *(nw.col(c).cast(nw.Float64).fill_null(0.0).alias(f"cov__{c}") for c in covariates)
        )
    return lf


def _numeric_covariates(lf: nw.LazyFrame, covariates: Sequence[str]) -> nw.LazyFrame:
    """Parse covariates read as text (CSV) into numbers; refuse columns that are not numbers."""
    schema = lf.collect_schema()
    for c in covariates:
        if schema[c] != nw.String:
            continue
        parsed = coerce(lf.with_columns(nw.col(c).str.strip_chars().alias("_raw")), c, "float")
        counts = parsed.filter(~nw.col("_raw").is_null() & (nw.col("_raw") != "") & nw.col(c).is_null()).select(
            nw.len().alias("bad"), nw.col("_raw").min().alias("example")
        ).collect()
        bad = int(counts["bad"][0] or 0)
        if bad:
            raise InputDataError(
                f"experiment: covariate {c!r} must be numeric; {bad:,} values are not numbers "
                f"(e.g. {counts['example'][0]!r}). Name a numeric customer attribute, or encode a "
                "category as 0/1 columns."
            )
        lf = parsed.drop("_raw")
    return lf


__all__ = [
    "ARM", "AT", "MISSING_SEGMENT", "PROB", "SEG", "SEVERAL", "SEVERAL_CODE", "UNIT", "UNRATED", "Assignment", "add_inactive_units",
    "check_rates",
    "assignment_frame", "metric_variables", "name_arms", "sufficient_statistics", "unit_values",
    "winsorize", "with_attributes",
]
