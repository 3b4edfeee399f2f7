"""The randomized retention campaign and its heterogeneous effects.

At ``window.assign_day`` (00:00, :data:`~cxlab.synth.params.CAMPAIGN_DAYS_BEFORE_END`
days before the end) a random share of the customers whose first order came
before that day is assigned, with equal probability, to ``control`` or to one
of the actions. An action multiplies nothing and removes nothing: it **adds**
purchases, as a Poisson process of rate ``lam * boost(action, customer)`` per
week during :data:`~cxlab.synth.params.CAMPAIGN_WINDOW_DAYS` days, for
customers still alive at assignment. These incremental orders do not take part
in the BG/NBD dropout process. The true effect of an action on a customer's
30-day revenue (EUR) is therefore ``alive_at_assignment * lam * boost * weeks *
mean_spend_eur``, with ``mean_spend_eur = p / nu``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth import params as P
from cxlab.synth.customers import Customers
from cxlab.synth.purchases import Purchases
from cxlab.synth.window import Window

#: Actions in the order of their arm index; index 0 is ``control``.
ARMS: tuple[str, ...] = tuple(P.ACTION_COSTS)
ACTIONS: tuple[str, ...] = ARMS[1:]


def action_boost(action: str, cust: Customers) -> np.ndarray:
    """Relative increase of the purchase rate that ``action`` causes, per customer.

    - ``email``: young and mobile customers react;
    - ``coupon_10``: value-segment customers react most, members less;
    - ``free_shipping``: non-members react, members (who already ship free) barely;
    - ``call``: older and premium customers react strongly.
    """
    young = (cust.age_band <= 1).astype(np.float64)
    old = (cust.age_band >= 4).astype(np.float64)
    mobile = (cust.device == 0).astype(np.float64)
    value = (cust.segment == 0).astype(np.float64)
    premium = (cust.segment == 2).astype(np.float64)
    member = cust.prime.astype(np.float64)
    if action == "email":
        return 0.10 + 0.60 * young + 0.30 * mobile
    if action == "coupon_10":
        return 0.30 + 1.50 * value + 0.40 * (1.0 - member)
    if action == "free_shipping":
        return 0.10 + 1.20 * (1.0 - member)
    if action == "call":
        return 0.20 + 1.60 * old + 0.80 * premium
    raise ValueError(f"action must be one of {ACTIONS}; got {action!r}")


@dataclass(frozen=True)
class Campaign:
    """Assignment, true effects and incremental purchases of one chunk.

    Attributes
    ----------
    arm : ndarray of int64
        Index into :data:`ARMS`, or -1 for customers not in the campaign.
    alive_at_assignment : ndarray of bool
    effect_eur : ndarray of float64, shape (n, len(ACTIONS))
        True effect of each action on the customer's 30-day revenue in EUR.
    owner, day : ndarray
        Incremental purchases: customer position in the chunk and day.
    """

    arm: np.ndarray
    alive_at_assignment: np.ndarray
    effect_eur: np.ndarray
    owner: np.ndarray
    day: np.ndarray


def draw_campaign(
    rng: np.random.Generator, cust: Customers, purchases: Purchases, window: Window
) -> Campaign:
    """Assign the campaign and draw the incremental purchases it causes."""
    assign = window.assign_day
    weeks = min(float(P.CAMPAIGN_WINDOW_DAYS), window.days - assign) / 7.0
    eligible = purchases.born & (cust.birth_day < assign)
    in_campaign = eligible & (rng.random(cust.n) < P.CAMPAIGN_SHARE)
    arm = np.where(in_campaign, rng.integers(0, len(ARMS), size=cust.n), -1)
    alive = eligible & (purchases.death_day > assign)
    spend = cust.spend_p / cust.nu_eur
    boosts = np.column_stack([action_boost(a, cust) for a in ACTIONS])
    rate = np.where(alive, cust.lam, 0.0)[:, None] * boosts  # per week
    effect = rate * weeks * spend[:, None]

    treated_rate = np.zeros(cust.n)
    treated = arm > 0
    treated_rate[treated] = rate[treated, arm[treated] - 1]
    k = rng.poisson(treated_rate * weeks)
    owner = np.repeat(np.arange(cust.n, dtype=np.int64), k)
    day = assign + rng.uniform(0.0, weeks * 7.0, size=owner.size)
    return Campaign(
        arm=arm.astype(np.int64),
        alive_at_assignment=alive,
        effect_eur=effect,
        owner=owner,
        day=day,
    )

