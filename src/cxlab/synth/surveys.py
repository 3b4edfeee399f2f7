"""Latent satisfaction per order, survey invitations and (non-)response.

Satisfaction
    ``U = eta + e`` with ``e ~ Logistic(0, 1)`` and ``eta`` linear in the order's
    experience (late flag and days late, returned, contacts about the order),
    its price in EUR and the customer's effect (:class:`~cxlab.synth.params.SatisfactionCoefficients`).
    The would-be score cuts ``U`` at :data:`~cxlab.synth.params.CSAT_CUTS`
    (``csat5``) or :data:`~cxlab.synth.params.NPS_CUTS` (``nps11``); hence
    ``P(satisfied) = sigmoid(eta - 0)`` for csat5 (score >= 4) and
    ``P(promoter) = sigmoid(eta - 1.0)`` for nps11 (score >= 9).

Invitations
    A delivered order is invited with probability ``INVITE_PROB`` when its
    invitation (3-6 days after delivery) leaves 13 days to answer before the end
    of the window. Marketplaces with an ``nps_share`` send that share on nps11.

Response
    ``P(respond) = sigmoid(...)`` of the observable experience (late, days late,
    returned, contacts) and customer attributes (age band, device, segment,
    membership) only (:class:`~cxlab.synth.params.ResponseCoefficients`). The draw
    is independent of ``e`` and of the customer's unobserved effect, so answers
    are missing at random given observables, and inverse-probability or doubly
    robust weighting on those covariates removes the bias. Unhappy experiences
    raise the response rate, so respondents are less satisfied than the invited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.schema import SATISFIED_AT
from cxlab.synth import params as P
from cxlab.synth.customers import Customers
from cxlab.synth.orders import Orders
from cxlab.synth.window import Window

SCALE_NAMES: tuple[str, ...] = ("csat5", "nps11")
#: Cut above which a score counts as satisfied / promoter, per scale: a csat5
#: score is ``1 + #(cuts below U)``, an nps11 score ``#(cuts below U)``.
_SAT_CUT: tuple[float, ...] = (
    P.CSAT_CUTS[SATISFIED_AT["csat5"] - 2],
    P.NPS_CUTS[SATISFIED_AT["nps11"] - 1],
)


@dataclass(frozen=True)
class Surveys:
    """Invitations of one chunk, in order of their order.

    Attributes
    ----------
    order : ndarray of int64
        Order position in the chunk.
    scale : ndarray of int64
        0 for csat5, 1 for nps11.
    sent_day, responded_day : ndarray of float64
        ``responded_day`` is NaN for non-respondents.
    score : ndarray of float64
        The would-be score of every invited customer (respondent or not).
    p_satisfied, p_respond, eta : ndarray of float64
    responded : ndarray of bool
    terms : dict of str to ndarray
        Each cause's contribution to ``eta``, for the driver ranking.
    """

    order: np.ndarray
    scale: np.ndarray
    sent_day: np.ndarray
    responded_day: np.ndarray
    score: np.ndarray
    p_satisfied: np.ndarray
    p_respond: np.ndarray
    eta: np.ndarray
    responded: np.ndarray
    terms: dict[str, np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def satisfaction_terms(
    cust: Customers, orders: Orders, contacts_per_order: np.ndarray, idx: np.ndarray
) -> dict[str, np.ndarray]:
    """Each cause's additive contribution to ``eta`` for the orders ``idx``."""
    c = P.SATISFACTION
    days_late = np.minimum(np.maximum(orders.delay_days[idx], 0.0), 10.0)
    owner = orders.owner[idx]
    return {
        "delivery_delay": c.late * orders.late[idx] + c.per_day_late * days_late,
        "returned": c.returned * orders.returned[idx],
        "contacts": c.per_contact * np.minimum(contacts_per_order[idx], 3),
        "price": c.log_price * np.log(orders.amount_eur[idx] / 40.0),
        "customer": cust.customer_effect[owner],
    }


def draw_surveys(
    rng: np.random.Generator,
    cust: Customers,
    orders: Orders,
    contacts_per_order: np.ndarray,
    *,
    nps_share: np.ndarray,
    window: Window,
) -> Surveys:
    """Invite a sample of delivered orders and draw scores and responses.

    ``nps_share`` gives, per marketplace index, the share of nps11 invitations.
    """
    sent = orders.delivered_day + rng.uniform(*P.SEND_DELAY_DAYS, size=orders.n)
    eligible = ~np.isnan(sent) & (sent + P.MAX_RESPONSE_DAYS < window.days)
    invited = eligible & (rng.random(orders.n) < P.INVITE_PROB)
    idx = np.flatnonzero(invited)
    owner = orders.owner[idx]
    scale = (rng.random(idx.size) < nps_share[cust.market[owner]]).astype(np.int64)

    terms = satisfaction_terms(cust, orders, contacts_per_order, idx)
    eta = P.SATISFACTION.intercept + sum(terms.values())
    latent = eta + rng.logistic(0.0, 1.0, size=idx.size)
    csat = 1.0 + np.searchsorted(np.asarray(P.CSAT_CUTS), latent)
    nps = np.searchsorted(np.asarray(P.NPS_CUTS), latent).astype(np.float64)
    score = np.where(scale == 0, csat, nps)
    p_sat = _sigmoid(eta - np.asarray(_SAT_CUT)[scale])

    r = P.RESPONSE
    days_late = np.minimum(np.maximum(orders.delay_days[idx], 0.0), 10.0)
    logit = (
        r.intercept
        + r.late * orders.late[idx]
        + r.per_day_late * days_late
        + r.returned * orders.returned[idx]
        + r.per_contact * np.minimum(contacts_per_order[idx], 3)
        + r.per_age_band * (cust.age_band[owner] - 2.0)
        + np.asarray(r.device)[cust.device[owner]]
        + np.asarray(r.segment)[cust.segment[owner]]
        + r.prime * cust.prime[owner]
    )
    p_respond = _sigmoid(logit)
    responded = rng.random(idx.size) < p_respond
    wait = np.minimum(rng.exponential(1.5, size=idx.size), P.MAX_RESPONSE_DAYS)
    responded_day = np.where(responded, sent[idx] + 0.001 + wait, np.nan)
    return Surveys(
        order=idx.astype(np.int64),
        scale=scale,
        sent_day=sent[idx],
        responded_day=responded_day,
        score=score,
        p_satisfied=p_sat,
        p_respond=p_respond,
        eta=eta,
        responded=responded,
        terms=terms,
    )
