"""Retention cohorts: customers grouped by the period of their first order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab._frames import as_tables, to_native_like
from cxlab.exceptions import InputDataError
from cxlab.metrics.catalog import ORDERS, Source
from cxlab.metrics.frames import CUSTOMER, make_context, source_rows
from cxlab.metrics.periods import PERIOD, check_grain
from cxlab.schema import MARKETPLACES, Marketplace

Activity = Literal["orders", "events", "any"]
ACTIVITIES: tuple[str, ...] = get_args(Activity)
CohortGrain = Literal["week", "month", "quarter", "year"]
COHORT_GRAINS: tuple[str, ...] = get_args(CohortGrain)

_COHORT = "_cohort"
_EVENTS = Source("events", "event_ts")


#: What each table is used for, for messages.
_USES = {
    "customers": "each customer's marketplace, time zone and segments",
    "orders": "first orders define the cohorts",
    "events": "the activity counted",
}


def compute_cohorts(
    tables: Mapping[str, Any],
    *,
    grain: CohortGrain = "month",
    by: Sequence[str] = (),
    activity: Activity = "orders",
    marketplaces: Mapping[str, Marketplace] = MARKETPLACES,
) -> Any:
    """Retention of first-order cohorts, in marketplace local time.

    A customer's cohort is the period of their first order. They are retained
    in period ``k`` (``period_index``; 0 is the cohort period) when they have
    activity (``orders``, ``events`` or ``any`` of the two) in that period.

    Parameters
    ----------
    tables
        Canonical tables on one engine, as any frames (see :mod:`cxlab._frames`):
        customers, orders; events for ``activity="events"`` or ``"any"``.
    grain
        ``week`` (ISO, Monday), ``month``, ``quarter`` or ``year``.
    by
        Customer-level segment columns (``marketplace`` or customer attributes).
    activity
        What counts as being active.
    marketplaces
        Marketplace code -> time zone and currency.

    Returns
    -------
    dataframe
        In the kind of the ``customers`` table (as
        :func:`~cxlab.metrics.compute_metrics`): ``cohort_start`` (ISO date), ``<by...>``, ``period_index``,
        ``cohort_size``, ``retained``, ``retention_rate``; every index from 0 to
        the last period in the data, zeros included.
    """
    given = tables
    tables = as_tables(tables, who="compute_cohorts")
    if grain not in COHORT_GRAINS:
        check_grain(grain)
        raise InputDataError(
            f"grain must be one of {', '.join(COHORT_GRAINS)} for cohorts; got {grain!r}."
        )
    if activity not in ACTIVITIES:
        raise InputDataError(
            f"activity must be one of {', '.join(ACTIVITIES)}; got {activity!r}."
        )
    for table in ("customers", "orders") + (("events",) if activity != "orders" else ()):
        if table not in tables:
            raise InputDataError(
                f"compute_cohorts: activity={activity!r} needs table '{table}' ({_USES[table]}), "
                "which tables does not have; add it"
                + (", or use activity='orders'." if table == "events" else ".")
            )
    columns = {t: tuple(lf.collect_schema().names()) for t, lf in tables.items()}
    by = (by,) if isinstance(by, str) else tuple(dict.fromkeys(by))
    valid = sorted({"marketplace", *columns["customers"]} - {CUSTOMER, "signup_ts"})
    bad = [b for b in by if b not in valid]
    if bad:
        raise InputDataError(
            f"by: {', '.join(map(repr, bad))} is not a customer column; valid choices: "
            f"{', '.join(valid)}."
        )
    ctx = make_context(
        tables, columns, by=by, grain=grain, since=None, until=None,
        currency="", fx_currency="", marketplaces=marketplaces,
    )
    orders = source_rows(ctx, ORDERS, [])
    first = orders.group_by(CUSTOMER, *by).agg(nw.col(PERIOD).min().alias(_COHORT))
    # events are read only when the activity counts them (a data set may have none)
    sources = [orders] if activity in ("orders", "any") else []
    if activity in ("events", "any"):
        sources.append(source_rows(ctx, _EVENTS, []))
    active = nw.concat([lf.select(CUSTOMER, PERIOD) for lf in sources], how="vertical").unique()
    retained = (
        active.join(first, on=CUSTOMER)
        .filter(nw.col(PERIOD) >= nw.col(_COHORT))
        .group_by(_COHORT, PERIOD, *by)
        .agg(nw.len().alias("retained"))
    )
    sizes = first.group_by(_COHORT, *by).agg(nw.len().alias("cohort_size"))
    result = _tidy(_pandas(sizes), _pandas(retained), by, grain)
    return to_native_like(result, given.get("customers") if isinstance(given, Mapping) else None)


def _pandas(lf: nw.LazyFrame) -> pd.DataFrame:
    df = lf.collect().to_pandas()
    for c in (_COHORT, PERIOD):
        if c in df:
            s = pd.to_datetime(df[c])
            df[c] = s.dt.tz_localize(None) if s.dt.tz is not None else s
    return df


def _index(start: pd.Series, end: pd.Series, grain: str) -> np.ndarray:
    if grain == "week":
        return ((end - start).dt.days // 7).to_numpy()
    months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
    return (months // {"month": 1, "quarter": 3, "year": 12}[grain]).to_numpy()


def _tidy(sizes: pd.DataFrame, kept: pd.DataFrame, by: tuple[str, ...], grain: str) -> pd.DataFrame:
    cols = ["cohort_start", *by, "period_index", "cohort_size", "retained", "retention_rate"]
    if sizes.empty:
        return pd.DataFrame(columns=cols)
    last = max(kept[PERIOD].max(), sizes[_COHORT].max())
    sizes = sizes.assign(_span=_index(sizes[_COHORT], pd.Series(last, index=sizes.index), grain))
    grid = sizes.loc[sizes.index.repeat(sizes["_span"] + 1)].copy()
    grid["period_index"] = grid.groupby(level=0).cumcount()
    kept = kept.assign(period_index=_index(kept[_COHORT], kept[PERIOD], grain))
    keys = [_COHORT, *by, "period_index"]
    out = grid.merge(kept[[*keys, "retained"]], on=keys, how="left")
    out["retained"] = out["retained"].fillna(0).astype(np.int64)
    out["cohort_size"] = out["cohort_size"].astype(np.int64)
    out["retention_rate"] = out["retained"] / out["cohort_size"]
    out["cohort_start"] = out[_COHORT].dt.strftime("%Y-%m-%d")
    out = out.sort_values([_COHORT, *by, "period_index"], na_position="first")
    return out[cols].reset_index(drop=True)
