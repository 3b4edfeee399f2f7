"""Independent pandas reference implementations of every built-in metric.

Written from the definitions in ``docs/metrics.md`` without using any of
``cxlab.metrics``: local time with pandas' ``tz_convert``, periods with pandas
``Period`` objects, intervals from per-customer totals with explicit residuals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.schema import MARKETPLACES

FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
Z = stats.norm.ppf(0.975)


def local(ts: pd.Series, market: pd.Series) -> pd.Series:
    """Naive UTC -> naive local wall clock, per marketplace."""
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[us]")
    for code in market.dropna().unique():
        rows = market == code
        zone = MARKETPLACES[code].timezone
        out[rows] = ts[rows].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    return out


def period(ts: pd.Series, grain: str) -> pd.Series:
    if grain == "all":
        return pd.Series("", index=ts.index)
    return ts.dt.to_period(FREQ[grain]).dt.start_time.dt.strftime("%Y-%m-%d")


def _prep(df, customers, ts, grain, by):
    keep = ["customer_id", "marketplace", *[b for b in by if b in customers and b != "marketplace"]]
    d = df.copy() if "marketplace" in df else df.merge(customers[keep], on="customer_id")
    d = d[d[ts].notna()].copy()
    d["_local"] = local(d[ts], d["marketplace"])
    d["period_start"] = period(d["_local"], grain)
    return d


def _ratio_rows(unit: pd.DataFrame, keys: list[str], name: str, kind: str, scale=1.0):
    """unit has keys + customer_id + y + x (per customer totals)."""
    rows = []
    for key, g in unit.groupby(keys, dropna=False, sort=False):
        g = g[(g["y"] != 0) | (g["x"] != 0)]
        n = len(g)
        if n == 0:
            continue
        y, x = g["y"].to_numpy(float), g["x"].to_numpy(float)
        r = y.sum() / x.sum() if x.sum() else np.nan
        lo = hi = np.nan
        if kind == "wilson":
            p, k = r, y.sum()
            c = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
            h = Z * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
            lo, hi = max(c - h, 0.0), min(c + h, 1.0)
        elif n > 1 and x.sum():
            se = np.sqrt(n / (n - 1) * ((y - r * x) ** 2).sum()) / x.sum()
            h = stats.t.ppf(0.975, n - 1) * se
            lo, hi = r - h, r + h
            if kind == "proportion":
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            if kind == "nps":
                lo, hi = max(lo, -1.0), min(hi, 1.0)
        rows.append((*key, r * scale, lo * scale, hi * scale, n, y.sum(), x.sum()))
    return _frame(rows, keys, name)


def _total_rows(unit, keys, name):
    rows = []
    for key, g in unit.groupby(keys, dropna=False, sort=False):
        g = g[g["y"] != 0]
        if len(g):
            rows.append((*key, g["y"].sum(), np.nan, np.nan, len(g), g["y"].sum(), np.nan))
    return _frame(rows, keys, name)


def _frame(rows, keys, name):
    cols = [*keys, "value", "ci_low", "ci_high", "n", "numerator", "denominator"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(0, "metric", name)
    return out


def _unit(d, keys, **cols):
    d = d.assign(**cols)
    return d.groupby(["customer_id", *keys], dropna=False, as_index=False)[list(cols)].sum()


def reference(tables, grain="month", by=(), currency="EUR"):
    """All built-in metrics as a tidy frame like ``compute_metrics``."""
    by = list(by)
    keys = ["period_start", *by]
    cust = tables["customers"]
    fx = dict(zip(tables["fx"]["currency"], tables["fx"]["rate"]))
    fx.setdefault("EUR", 1.0)
    out = []

    s = _prep(tables["surveys"], cust, "responded_ts", grain, by)
    s = s[s["score"].notna()]
    cs, np_ = s[s["scale"] == "csat5"], s[s["scale"] == "nps11"]
    u = _unit(cs, keys, y=(cs["score"] >= 4).astype(float), x=1.0)
    out.append(_ratio_rows(u, keys, "csat", "proportion"))
    u = _unit(cs, keys, y=cs["score"], x=1.0)
    out.append(_ratio_rows(u, keys, "mean_score", "ratio"))
    net = (np_["score"] >= 9).astype(float) - (np_["score"] <= 6).astype(float)
    u = _unit(np_, keys, y=net, x=1.0)
    out.append(_ratio_rows(u, keys, "nps", "nps", 100.0))

    s = _prep(tables["surveys"], cust, "sent_ts", grain, by)
    u = _unit(s, keys, y=s["responded_ts"].notna().astype(float), x=1.0)
    out.append(_ratio_rows(u, keys, "response_rate", "proportion"))

    o = _prep(tables["orders"], cust, "order_ts", grain, by)
    ok = o["delivered_ts"].notna() & o["promised_ts"].notna()
    late = ok & (o["delivered_ts"] > o["promised_ts"])
    u = _unit(o, keys, y=late.astype(float), x=ok.astype(float))
    out.append(_ratio_rows(u, keys, "late_delivery_rate", "proportion"))
    u = _unit(o, keys, y=o["returned"].fillna(False).astype(float), x=1.0)
    out.append(_ratio_rows(u, keys, "return_rate", "proportion"))

    k = _prep(tables["contacts"], cust, "contact_ts", grain, by)
    both = pd.concat([
        _unit(k, keys, y=1.0, x=0.0), _unit(o, keys, y=0.0, x=1.0)
    ]).groupby(["customer_id", *keys], dropna=False, as_index=False)[["y", "x"]].sum()
    out.append(_ratio_rows(both, keys, "contact_rate", "ratio"))

    out.append(_total_rows(_unit(o, keys, y=1.0), keys, "orders"))
    cur = o["currency"].fillna(o["marketplace"].map(lambda c: MARKETPLACES[c].currency))
    eur = o["amount"] * cur.map(fx) / fx[currency]
    out.append(_total_rows(_unit(o, keys, y=eur), keys, "revenue"))
    out.append(_ratio_rows(_unit(o, keys, y=eur, x=1.0), keys, "aov", "ratio"))

    e = _prep(tables["events"], cust, "event_ts", grain, by)
    act = pd.concat([o[["customer_id", *keys]], e[["customer_id", *keys]]]).drop_duplicates()
    out.append(_total_rows(act.assign(y=1.0), keys, "active_customers"))

    c = _prep(cust, cust, "signup_ts", grain, by)
    out.append(_total_rows(_unit(c, keys, y=1.0), keys, "new_customers"))

    n_orders = _unit(o, keys, y=1.0)
    opa = act.merge(n_orders, on=["customer_id", *keys], how="left").fillna({"y": 0.0})
    out.append(_ratio_rows(opa.assign(x=1.0), keys, "orders_per_active_customer", "ratio"))
    rep = n_orders.assign(y=(n_orders["y"] >= 2).astype(float), x=1.0)
    out.append(_ratio_rows(rep, keys, "repeat_purchase_rate", "wilson"))

    if grain in ("month", "quarter", "year", "all"):
        e["_day"] = e["_local"].dt.normalize()
        days = e.drop_duplicates(["customer_id", "_day", *keys])
        month = days["_day"].dt.to_period("M")
        days = days.assign(_month=month, _share=1.0 / month.dt.days_in_month)
        cm = days.groupby(["customer_id", "_month", *keys], dropna=False, as_index=False)["_share"].sum()
        u = cm.groupby(["customer_id", *keys], dropna=False, as_index=False).agg(
            y=("_share", "sum"), x=("_share", "size"))
        out.append(_ratio_rows(u, keys, "stickiness", "proportion"))

    res = pd.concat(out, ignore_index=True)
    if grain == "all":
        res["period_start"] = None
    return res
