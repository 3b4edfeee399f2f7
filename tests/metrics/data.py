"""Small random canonical tables with outcomes correlated within customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

MARKETS = {"DE": "EUR", "JP": "JPY", "US": "USD", "UK": "GBP"}
FX = {"USD": 0.9, "JPY": 0.006, "GBP": 1.15}  # EUR per unit; EUR itself absent
START = pd.Timestamp("2024-01-01")
SPAN_S = 183 * 86400


def _ts(rng: np.random.Generator, n: int) -> pd.Series:
    """Timestamps over Jan-Jun 2024, a fifth of them near a month edge (UTC)."""
    t = START + pd.to_timedelta(rng.integers(0, SPAN_S, n), unit="s")
    edge = rng.random(n) < 0.2
    month_end = (t + pd.offsets.MonthBegin(1)).normalize()
    near = month_end - pd.to_timedelta(rng.integers(-12 * 3600, 12 * 3600, n), unit="s")
    return pd.Series(np.where(edge, near, t)).astype("datetime64[us]")


def make_tables(customers: int = 300, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Canonical tables as pandas frames (naive UTC timestamps, string ids)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:05d}" for i in range(customers)])
    market = rng.choice(list(MARKETS), customers, p=[0.4, 0.2, 0.25, 0.15])
    taste = rng.normal(0, 1.2, customers)  # customer effect: drives every outcome
    cust = pd.DataFrame({
        "customer_id": ids,
        "marketplace": market,
        "signup_ts": _ts(rng, customers),
        "segment": rng.choice(["gold", "silver", None], customers, p=[0.3, 0.6, 0.1]),
    })
    n_orders = rng.poisson(np.exp(0.8 + 0.3 * taste))
    o_cust = np.repeat(np.arange(customers), n_orders)
    m = len(o_cust)
    order_ts = _ts(rng, m)
    promised = order_ts + pd.to_timedelta(rng.integers(2, 6, m), unit="D")
    late = rng.random(m) < 1 / (1 + np.exp(1.5 + taste[o_cust]))
    delivered = promised + pd.to_timedelta(np.where(late, 1, -1) * rng.integers(1, 30, m), "h")
    currency = pd.Series([MARKETS[k] for k in market[o_cust]], dtype=object)
    currency[rng.random(m) < 0.1] = None  # falls back to the marketplace currency
    currency[rng.random(m) < 0.05] = "EUR"
    scale = np.where(currency.fillna("").to_numpy() == "JPY", 150.0, 1.0)
    returned = pd.Series(rng.random(m) < 1 / (1 + np.exp(2 - 0.5 * taste[o_cust])), dtype=object)
    returned[rng.random(m) < 0.05] = None
    orders = pd.DataFrame({
        "order_id": [f"o{i:06d}" for i in range(m)],
        "customer_id": ids[o_cust],
        "order_ts": order_ts,
        "amount": np.round(rng.gamma(2.0, 20.0, m) * scale, 2),
        "currency": currency,
        "promised_ts": promised.where(rng.random(m) > 0.05),
        "delivered_ts": delivered.where(rng.random(m) > 0.1),
        "returned": returned.astype("boolean"),
        "category": rng.choice(["books", "toys"], m),
    })
    n_surv = rng.poisson(2.0, customers)
    s_cust = np.repeat(np.arange(customers), n_surv)
    k = len(s_cust)
    sent = _ts(rng, k)
    responds = rng.random(k) < 1 / (1 + np.exp(-0.3 - 0.5 * taste[s_cust]))
    scale_name = rng.choice(["csat5", "nps11"], k)
    latent = taste[s_cust] + rng.normal(0, 0.7, k)
    csat = np.clip(np.round(3.5 + latent), 1, 5)
    nps = np.clip(np.round(7.5 + 1.8 * latent), 0, 10)
    score = np.where(scale_name == "csat5", csat, nps)
    surveys = pd.DataFrame({
        "survey_id": [f"s{i:06d}" for i in range(k)],
        "customer_id": ids[s_cust],
        "sent_ts": sent,
        "responded_ts": (sent + pd.to_timedelta(rng.integers(60, 5 * 86400, k), "s")).where(responds),
        "score": np.where(responds, score, np.nan),
        "scale": scale_name,
    })
    n_ev = rng.poisson(np.exp(1.8 + 0.4 * taste))
    e_cust = np.repeat(np.arange(customers), n_ev)
    events = pd.DataFrame({
        "customer_id": ids[e_cust],
        "event_ts": _ts(rng, len(e_cust)),
        "event_type": rng.choice(["view", "search", "cart"], len(e_cust)),
    })
    n_ct = rng.poisson(np.exp(-0.8 - 0.5 * taste))
    c_cust = np.repeat(np.arange(customers), n_ct)
    contacts = pd.DataFrame({
        "contact_id": [f"k{i:06d}" for i in range(len(c_cust))],
        "customer_id": ids[c_cust],
        "contact_ts": _ts(rng, len(c_cust)),
        "reason": rng.choice(["late", "refund"], len(c_cust)),
    })
    fx = pd.DataFrame({"currency": list(FX), "rate": list(FX.values())})
    out = {"customers": cust, "orders": orders, "surveys": surveys, "events": events,
           "contacts": contacts, "fx": fx}
    for df in out.values():
        for c in df.columns:
            if c.endswith("_ts"):
                df[c] = df[c].astype("datetime64[us]")
    return out
