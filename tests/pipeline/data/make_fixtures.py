"""Writes the two hand-made exports the pipeline tests use (run once; the CSVs are committed).

- ``shop/``: a UK retailer's exports in GBP with its own column names, day-first
  dates, a survey tool's file, and a few bad rows (negative total, duplicate
  invoice, unknown customer, a rating of 7 on a 1-5 scale).
- ``orders_only/``: customers and orders of a US shop in USD, canonical names.
"""

import csv
import datetime as dt
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
START, END = dt.datetime(2023, 1, 1), dt.datetime(2025, 6, 30)


def orders_for(rng, n):
    rows = []
    for i in range(n):
        signup = START + dt.timedelta(days=float(rng.uniform(0, 420)), hours=float(rng.uniform(8, 20)))
        rate = rng.gamma(0.8, 1 / 25)  # orders per day while alive
        life = rng.exponential(500)
        t, k = signup + dt.timedelta(days=float(rng.exponential(10))), 0
        while t < min(END, signup + dt.timedelta(days=life)) and k < 60:
            rows.append((i, signup, t))
            t += dt.timedelta(days=float(rng.exponential(1 / max(rate, 1e-3))))
            k += 1
    return rows


def shop():
    rng = np.random.default_rng(11)
    out = HERE / "shop"
    out.mkdir(exist_ok=True)
    n = 400
    fmt = "%d/%m/%Y %H:%M"
    orders = orders_for(rng, n)
    signups = {}
    for i, signup, _ in orders:
        signups[i] = signup
    with open(out / "customers_export.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CustID", "Country", "JoinedOn", "Tier"])
        for i in range(n):
            signup = signups.get(i, START + dt.timedelta(days=float(rng.uniform(0, 400))))
            w.writerow([f"C{i:05d}", "United Kingdom", signup.strftime(fmt), rng.choice(["gold", "silver", "basic"])])
    inv, surveys = [], []
    for k, (i, _, t) in enumerate(orders):
        promised = t + dt.timedelta(days=3)
        delay = float(rng.choice([0, 0, 0, 1, 2, 5], p=[0.5, 0.2, 0.1, 0.1, 0.06, 0.04])) + float(rng.uniform(-2, 0))
        delivered = promised + dt.timedelta(days=delay)
        total = round(float(rng.lognormal(3.3, 0.6)), 2)
        inv.append([f"INV{k:06d}", f"C{i:05d}", t.strftime(fmt), f"{total:.2f}", promised.strftime(fmt),
                    delivered.strftime(fmt)])
        if rng.random() < 0.45 and delivered < END:
            sent = delivered + dt.timedelta(days=2)
            late = delay > 0
            happy = rng.random() < (0.45 if late else 0.85)
            answers = rng.random() < (0.35 if happy else 0.2)
            score = (int(rng.choice([4, 5])) if happy else int(rng.choice([1, 2, 3]))) if answers else ""
            answered = (sent + dt.timedelta(hours=float(rng.uniform(1, 48)))).strftime(fmt) if answers else ""
            surveys.append([f"S{len(surveys):06d}", f"C{i:05d}", f"INV{k:06d}", sent.strftime(fmt), answered, score])
    inv[5][3] = "-12.00"         # a refund booked as a negative invoice
    inv[40][3] = "-3.50"
    inv.append(list(inv[10]))     # the same invoice exported twice
    inv.append(["INV999999", "C99999", inv[20][2], "10.00", inv[20][4], inv[20][5]])  # unknown customer
    surveys[3][5] = 7             # a rating outside 1-5
    if not surveys[3][4]:
        surveys[3][4] = surveys[3][3]
    with open(out / "invoices.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["InvoiceNo", "CustID", "InvoiceDate", "Total", "PromisedBy", "DeliveredOn"])
        w.writerows(inv)
    with open(out / "survey_results.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SurveyRef", "CustID", "InvoiceNo", "SentAt", "AnsweredAt", "Rating"])
        w.writerows(surveys)


def orders_only():
    rng = np.random.default_rng(12)
    out = HERE / "orders_only"
    out.mkdir(exist_ok=True)
    n = 300
    orders = orders_for(rng, n)
    signups = {i: s for i, s, _ in orders}
    iso = "%Y-%m-%dT%H:%M:%SZ"
    with open(out / "customers.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "marketplace", "signup_ts"])
        for i in range(n):
            w.writerow([f"u{i}", "US", signups.get(i, START + dt.timedelta(days=30)).strftime(iso)])
    with open(out / "orders.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["order_id", "customer_id", "order_ts", "amount"])
        for k, (i, _, t) in enumerate(orders):
            w.writerow([f"o{k}", f"u{i}", t.strftime(iso), f"{float(rng.lognormal(3.5, 0.5)):.2f}"])


if __name__ == "__main__":
    shop()
    orders_only()
