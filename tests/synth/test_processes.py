"""The generated data follows the processes that the truth files describe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from cxlab.synth import params as P

from .conftest import Generated

ASSIGNED = pd.Timestamp("2025-11-01")


def expected_repeat_purchases(t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """BG/NBD E[X(t)] (Fader, Hardie & Lee 2005, eq. 9)."""
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def _orders_with_market(g: Generated) -> pd.DataFrame:
    o = g.df("orders").merge(g.df("customers")[["customer_id", "marketplace", "prime"]])
    fx = g.df("fx").set_index("currency")["rate"]
    o["amount_eur"] = o["amount"] * o["currency"].map(fx).to_numpy()
    o["delay_days"] = (o["delivered_ts"] - o["promised_ts"]).dt.total_seconds() / 86_400
    o["late"] = o["delay_days"] > 0
    return o


def test_repeat_purchases_match_bgnbd_expectation(generated: Generated) -> None:
    """Before the campaign, orders are pure BG/NBD: mean repeats match E[X(T)]."""
    o = _orders_with_market(generated)
    o = o[o["order_ts"] < ASSIGNED]
    first = o.groupby("customer_id").agg(first=("order_ts", "min"), n=("order_id", "size"),
                                         marketplace=("marketplace", "first"))
    first["T"] = (ASSIGNED - first["first"]).dt.total_seconds() / (7 * 86_400)
    first["x"] = first["n"] - 1
    truth = generated.truth["bgnbd"]
    total_obs = total_exp = 0.0
    for market, grp in first.groupby("marketplace"):
        expected = expected_repeat_purchases(grp["T"].to_numpy(), **truth[market]).sum()
        observed = grp["x"].sum()
        assert observed == pytest.approx(expected, rel=0.12), market
        total_obs, total_exp = total_obs + observed, total_exp + expected
    assert total_obs == pytest.approx(total_exp, rel=0.04)


def test_truth_bgnbd_summary_matches_the_orders(generated: Generated) -> None:
    truth = generated.df("truth/customers").set_index("customer_id")
    n_orders = generated.df("orders").groupby("customer_id").size()
    born = truth["first_order_ts"].notna()
    assert set(n_orders.index) == set(truth.index[born])
    repeats = n_orders - 1 - truth.loc[n_orders.index, "incremental_orders"]
    assert (repeats == truth.loc[n_orders.index, "frequency"]).all()
    assert (truth["recency_weeks"] <= truth["T_weeks"]).all()
    assert truth.loc[truth["frequency"] == 0, "alive_at_end"].all()


def test_spend_follows_gamma_gamma(generated: Generated) -> None:
    o = _orders_with_market(generated)
    gg = generated.truth["gamma_gamma"]
    for market, grp in o.groupby("marketplace"):
        p, q, gamma = gg[market]["p"], gg[market]["q"], gg[market]["gamma"]
        assert grp["amount"].mean() == pytest.approx(p * gamma / (q - 1), rel=0.08), market


def test_delays_differ_by_marketplace_and_carrier(generated: Generated) -> None:
    o = _orders_with_market(generated).dropna(subset=["delivered_ts"])
    late = o.groupby("marketplace")["late"].mean()
    assert late["BR"] > late["DE"] > late["JP"]
    assert late.max() > 3 * late.min()
    us = o[o["marketplace"] == "US"].groupby("carrier")["late"].mean()
    assert us["USPS"] > 1.3 * us["UPS"]
    summary = generated.truth["deliveries"]
    assert summary["BR"]["late_share"] == pytest.approx(late["BR"], abs=1e-9)


def test_returns_and_contacts_follow_late_deliveries(generated: Generated) -> None:
    o = _orders_with_market(generated).dropna(subset=["delivered_ts"])
    by_late = o.groupby("late")["returned"].mean()
    assert by_late[True] > 1.5 * by_late[False]
    contacted = set(generated.df("contacts")["order_id"].dropna())
    o["contacted"] = o["order_id"].isin(contacted)
    by_late = o.groupby("late")["contacted"].mean()
    assert by_late[True] > 2.5 * by_late[False]


def test_events_follow_engagement(generated: Generated) -> None:
    truth = generated.df("truth/customers").set_index("customer_id")
    e = generated.df("events")
    counts = e.groupby("customer_id").size().reindex(truth.index, fill_value=0)
    signup = generated.df("customers").set_index("customer_id").loc[truth.index, "signup_ts"]
    weeks = (pd.Timestamp("2026-01-01") - signup).dt.total_seconds() / (7 * 86_400)
    alive = truth["alive_at_end"] & (weeks > 26)
    per_week = counts[alive] / weeks[alive]
    assert per_week.corr(truth.loc[alive, "purchase_rate"], method="spearman") > 0.3
    recent = e[e["event_ts"] >= pd.Timestamp("2025-11-01")].groupby("customer_id").size()
    recent = recent.reindex(truth.index, fill_value=0)
    born = truth["first_order_ts"] < pd.Timestamp("2025-01-01")
    alive = recent[born & truth["alive_at_end"]].mean()
    dead = recent[born & ~truth["alive_at_end"]].mean()
    assert alive > 3 * dead
    assert set(e["event_type"]) == set(P.EVENT_TYPES)


def _survey_frame(g: Generated) -> pd.DataFrame:
    s = g.df("surveys").merge(g.df("truth/surveys")[
        ["survey_id", "score", "p_satisfied", "response_probability", "responded", "eta"]
    ].rename(columns={"score": "would_be"}), on="survey_id")
    return s


def test_respondents_are_biased_by_at_least_three_points(generated: Generated) -> None:
    s = _survey_frame(generated)
    csat = s[s["scale"] == "csat5"]
    respondents = (csat["score"].dropna() >= 4).mean()
    true = generated.truth["csat_invited"]["overall"]
    assert true == pytest.approx((csat["would_be"] >= 4).mean(), abs=1e-12)
    assert abs(respondents - true) >= 0.03
    # respondents answered their would-be score
    answered = s["score"].notna()
    assert (s.loc[answered, "score"] == s.loc[answered, "would_be"]).all()
    assert (answered == s["responded"]).all()


def test_weighting_by_the_true_response_probability_removes_the_bias(generated: Generated) -> None:
    s = _survey_frame(generated)
    csat = s[(s["scale"] == "csat5") & s["responded"]]
    w = 1.0 / csat["response_probability"]
    ipw = float(((csat["score"] >= 4) * w).sum() / w.sum())
    true = generated.truth["csat_invited"]["overall"]
    assert abs(ipw - true) < 0.015
    assert abs(ipw - true) < abs((csat["score"] >= 4).mean() - true) / 3


def test_response_depends_only_on_observables(generated: Generated) -> None:
    """Recompute P(respond) from the published tables: missing at random given them."""
    s = _survey_frame(generated)
    o = _orders_with_market(generated).set_index("order_id")
    c = generated.df("customers").set_index("customer_id")
    contacts = generated.df("contacts").dropna(subset=["order_id"]).groupby("order_id").size()
    r = P.RESPONSE
    delay = o.loc[s["order_id"], "delay_days"].to_numpy()
    late = delay > 0
    days_late = np.clip(delay, 0, 10)
    n_contacts = np.minimum(contacts.reindex(s["order_id"], fill_value=0).to_numpy(), 3)
    cust = c.loc[s["customer_id"]]
    age = cust["age_band"].map({b: i for i, b in enumerate(P.AGE_BANDS)}).to_numpy()
    device = cust["device"].map({d: i for i, d in enumerate(P.DEVICES)}).to_numpy()
    segment = cust["segment"].map({d: i for i, d in enumerate(P.SEGMENTS)}).to_numpy()
    logit = (
        r.intercept + r.late * late + r.per_day_late * days_late
        + r.returned * o.loc[s["order_id"], "returned"].to_numpy() + r.per_contact * n_contacts
        + r.per_age_band * (age - 2.0) + np.asarray(r.device)[device]
        + np.asarray(r.segment)[segment] + r.prime * cust["prime"].to_numpy()
    )
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), s["response_probability"], atol=1e-6)


def test_satisfaction_is_driven_by_the_documented_causes(generated: Generated) -> None:
    s = _survey_frame(generated)
    o = _orders_with_market(generated).set_index("order_id").loc[s["order_id"]]
    late = o["late"].to_numpy()
    # the strongest driver: late orders are far less often satisfied
    csat = s["scale"].to_numpy() == "csat5"
    sat = s["would_be"].to_numpy() >= 4
    assert sat[csat & ~late].mean() - sat[csat & late].mean() > 0.25
    importance = generated.truth["driver_importance"]
    ranked = [c for c in importance if c != "customer"]
    assert ranked[:3] == ["delivery_delay", "returned", "contacts"]
    assert importance["delivery_delay"] > 1.5 * importance["returned"]
    assert importance["contacts"] > 1.3 * importance["price"]


def test_campaign_effects_show_in_post_assignment_revenue(generated: Generated) -> None:
    o = _orders_with_market(generated)
    window = (o["order_ts"] >= ASSIGNED) & (o["order_ts"] < ASSIGNED + pd.Timedelta(days=30))
    revenue = o[window].groupby("customer_id")["amount_eur"].sum()
    t = generated.df("treatments")
    t["revenue"] = revenue.reindex(t["customer_id"], fill_value=0.0).to_numpy()
    arms = t.groupby("action")["revenue"].agg(["mean", "var", "size"])
    assert arms["size"].min() > 0.9 * arms["size"].mean()  # balanced arms
    truth = generated.truth["true_ate_revenue_30d_eur"]
    control = arms.loc["control"]
    for action, ate in truth.items():
        assert ate > 0
        diff = arms.loc[action, "mean"] - control["mean"]
        se = np.sqrt(arms.loc[action, "var"] / arms.loc[action, "size"]
                     + control["var"] / control["size"])
        assert diff > 0, action
        assert abs(diff - ate) < 4 * se, action


def test_campaign_truth_is_heterogeneous(generated: Generated) -> None:
    truth = generated.df("truth/customers")
    c = generated.df("customers").set_index("customer_id").loc[truth["customer_id"]]
    alive = truth["alive_at_assignment"].to_numpy()
    prime = c["prime"].to_numpy()
    free = truth["effect_free_shipping"].to_numpy()
    assert free[alive & ~prime].mean() > 3 * free[alive & prime].mean()
    assert (truth.loc[~alive, [f"effect_{a}" for a in ("email", "call")]] == 0).all().all()
    inside = truth["campaign_arm"].notna()
    summary = generated.truth["true_ate_revenue_30d_eur"]
    assert truth.loc[inside, "effect_call"].mean() == pytest.approx(summary["call"], rel=1e-9)
