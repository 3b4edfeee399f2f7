"""A small export shaped like a real randomized e-mail campaign (Hillstrom's MineThat layout).

Customers with their own attribute names (``cust_no``, ``recency_months``,
``history_usd``, ``mens``, ``womens``, ``zip_code``, ``newbie``, ``channel``),
the mailing log (``segment``: "Mens E-Mail", "Womens E-Mail", "No E-Mail"),
site visits as events, purchases in USD only (no fx table), messy values
(padded ids, mixed-case labels, a visit of an unknown customer, a bad
timestamp). Written by code so the test can make two independent samples (fit
and held-out); the effects are set by hand: mens/womens mail lifts visits of
customers who bought that line, more so for customers who visited recently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MAIL_DAY = pd.Timestamp("2008-03-03")
WINDOW_DAYS = 14
ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")

PROJECT = """\
data:
  reporting_currency: USD
  tables:
    customers:
      path: customers.csv
      columns: {customer_id: cust_no, marketplace: country, signup_ts: first_purchase}
      timestamp_format: "%m/%d/%Y"
      values:
        zip_code: {urban: Urban, "Urban ": Urban}
    orders:
      path: purchases.csv
      columns: {order_id: purchase_no, customer_id: cust_no, order_ts: bought_at, amount: usd}
    events:
      path: visits.csv
      columns: {customer_id: cust_no, event_ts: visited_at, event_type: page}
    treatments:
      path: mailing.csv
      columns: {customer_id: cust_no, action: segment, assigned_ts: mailed_on}
"""


def write_export(folder: Path, n: int, seed: int) -> dict[str, object]:
    """Write the export and return the true effect per customer and arm (visit probability)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"{seed:02d}{i:06d}" for i in range(n)])
    mens = rng.random(n) < 0.55
    womens = rng.random(n) < 0.55
    recency = rng.integers(1, 13, n)
    history = np.round(rng.lognormal(5.0, 0.8, n), 2)
    zip_code = rng.choice(["Urban", "Suburban", "Rural", "urban", "Urban "], n, p=[0.35, 0.4, 0.15, 0.05, 0.05])
    channel = rng.choice(["Web", "Phone", "Multichannel"], n, p=[0.45, 0.45, 0.1])
    newbie = (rng.random(n) < 0.5).astype(int)
    first = MAIL_DAY - pd.to_timedelta(rng.integers(30, 1500, n), unit="D")
    pd.DataFrame({
        "cust_no": [f" {c} " if k % 50 == 0 else c for k, c in enumerate(ids)],
        "country": "US", "first_purchase": first.strftime("%m/%d/%Y"),
        "recency_months": recency, "history_usd": history, "mens": mens.astype(int), "womens": womens.astype(int),
        "zip_code": zip_code, "newbie": newbie, "channel": channel,
    }).to_csv(folder / "customers.csv", index=False)

    # past visits: an engagement level only the visit history reveals
    engaged = rng.gamma(1.0, 1.0, n)
    n_past = rng.poisson(engaged * 3)
    owner = np.repeat(np.arange(n), n_past)
    past_t = MAIL_DAY - pd.to_timedelta(rng.uniform(0.01, 28, owner.size), unit="D")

    arm = rng.integers(0, 3, n)
    base = 1 / (1 + np.exp(-(-2.2 + 0.35 * np.log(history / 100) - 0.05 * recency + 0.3 * engaged)))
    lift_m = np.where(mens, 0.06 + 0.08 * np.minimum(engaged, 2), 0.005)
    lift_w = np.where(womens, 0.04 + 0.06 * np.minimum(engaged, 2), 0.0)
    lifts = np.column_stack([np.zeros(n), lift_m, lift_w])
    p = np.clip(base + lifts[np.arange(n), arm], 0, 1)
    visit = rng.random(n) < p
    visit_t = MAIL_DAY + pd.to_timedelta(rng.uniform(0.01, WINDOW_DAYS - 0.5, n), unit="D")
    events = pd.DataFrame({
        "cust_no": np.r_[ids[owner], ids[visit], ["99999999"]],
        "visited_at": np.r_[past_t.strftime("%Y-%m-%d %H:%M:%S"), visit_t[visit].strftime("%Y-%m-%d %H:%M:%S"),
                            ["2008-03-05 10:00:00"]],
        "page": "visit",
    })
    events.loc[len(events)] = [ids[0], "not a time", "visit"]
    events.to_csv(folder / "visits.csv", index=False)

    buy = visit & (rng.random(n) < 0.1)
    pd.DataFrame({
        "purchase_no": [f"p{seed}-{i}" for i in range(int(buy.sum()))], "cust_no": ids[buy],
        "bought_at": visit_t[buy].strftime("%Y-%m-%d %H:%M:%S"), "usd": np.round(rng.gamma(2, 60, int(buy.sum())), 2),
    }).to_csv(folder / "purchases.csv", index=False)
    pd.DataFrame({"cust_no": ids, "segment": np.array(ARMS)[arm], "mailed_on": MAIL_DAY.strftime("%Y-%m-%d")}).to_csv(
        folder / "mailing.csv", index=False)
    (folder / "project.yaml").write_text(PROJECT)
    return {"ids": ids, "arm": arm, "visit": visit.astype(float), "lifts": lifts}
