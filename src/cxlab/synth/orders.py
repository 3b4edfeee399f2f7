"""Orders: the first order, BG/NBD repeats and campaign orders, with their details.

Spend per order follows Gamma-Gamma in EUR (``z ~ Gamma(p, rate=nu)``) and is
converted to the marketplace's currency at the fixed rate of
:data:`~cxlab.synth.params.FX_TO_EUR`, then rounded to cents (whole yen), with a
floor of one cent (one yen). Delivery is promised ``promise_days`` after the
order (one day less for members, at least one); it is late with a probability
and a mean lateness that depend on the marketplace and the carrier. Returns are
likelier for some categories and for late deliveries. Deliveries that would
arrive after the end of the window have no ``delivered_ts`` yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth import params as P
from cxlab.synth.campaign import Campaign
from cxlab.synth.customers import Customers
from cxlab.synth.incidents import shift
from cxlab.synth.purchases import Purchases
from cxlab.synth.window import Window


@dataclass(frozen=True)
class Orders:
    """Orders of one chunk, sorted by customer then time.

    Attributes
    ----------
    owner : ndarray of int64
        Customer position in the chunk.
    day, promised_day, delivered_day : ndarray of float64
        Times in days since the window start; ``delivered_day`` is NaN when the
        delivery falls after the window.
    amount, amount_eur : ndarray of float64
        Amount in the marketplace currency, and in EUR.
    category, carrier : ndarray of int64
        Indices into :data:`~cxlab.synth.params.CATEGORIES` and into the
        marketplace's carriers.
    delay_days : ndarray of float64
        Delivered minus promised, in days (negative when early); NaN when not
        delivered.
    late, returned, incremental : ndarray of bool
        ``incremental``: caused by the retention campaign.
    """

    owner: np.ndarray
    day: np.ndarray
    promised_day: np.ndarray
    delivered_day: np.ndarray
    amount: np.ndarray
    amount_eur: np.ndarray
    category: np.ndarray
    carrier: np.ndarray
    delay_days: np.ndarray
    late: np.ndarray
    returned: np.ndarray
    incremental: np.ndarray

    @property
    def n(self) -> int:
        """Number of orders."""
        return int(self.owner.shape[0])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def draw_orders(
    rng: np.random.Generator,
    cust: Customers,
    purchases: Purchases,
    campaign: Campaign,
    *,
    markets: tuple[P.MarketParams, ...],
    currencies: tuple[str, ...],
    window: Window,
    incidents: tuple = (),
    codes: tuple[str, ...] = (),
) -> Orders:
    """Assemble and describe every order of the chunk.

    ``incidents`` (:mod:`cxlab.synth.incidents`, marketplaces named by
    ``codes``) raise late-delivery and return probabilities; the random draws
    are the same as without them.
    """
    first_owner = np.flatnonzero(purchases.born).astype(np.int64)
    owner = np.concatenate([first_owner, purchases.owner, campaign.owner])
    day = np.concatenate([cust.birth_day[first_owner], purchases.day, campaign.day])
    incremental = np.zeros(owner.size, dtype=bool)
    incremental[first_owner.size + purchases.owner.size :] = True
    keep = day < window.days  # guards against rounding at the very end
    order = np.lexsort((day[keep], owner[keep]))
    owner, day, incremental = owner[keep][order], day[keep][order], incremental[keep][order]
    n = owner.size
    market = cust.market[owner]

    fx = np.array([P.FX_TO_EUR[c] for c in currencies])[market]
    zero_dec = np.array([c in P.ZERO_DECIMAL_CURRENCIES for c in currencies])[market]
    amount_eur_raw = rng.gamma(cust.spend_p[owner], 1.0 / cust.nu_eur[owner])
    local = amount_eur_raw / fx
    amount = np.where(zero_dec, np.round(local), np.round(local, 2))
    amount = np.maximum(amount, np.where(zero_dec, 1.0, 0.01))

    category = rng.choice(len(P.CATEGORIES), size=n, p=np.asarray(P.CATEGORY_PROBS))
    carrier = rng.choice(len(P.CARRIER_PROBS), size=n, p=np.asarray(P.CARRIER_PROBS))
    mult = np.array([list(m.carriers.values()) for m in markets])[market, carrier]
    late_prob = np.array([m.late_prob for m in markets])[market] * mult
    late_mean = np.array([m.late_mean_days for m in markets])[market] * mult
    promise = np.maximum(
        np.array([m.promise_days for m in markets])[market] - cust.prime[owner], 1
    ).astype(np.float64)

    promised_day = day + promise
    if incidents:
        late_prob = late_prob + shift(incidents, "late_delivery", market, day, codes, window.start)
    late = rng.random(n) < late_prob
    lateness = 0.1 + rng.exponential(1.0, size=n) * late_mean
    early = rng.uniform(0.0, 0.9, size=n)
    delay = np.where(late, lateness, -early)
    delivered_day = promised_day + delay
    delivered = delivered_day < window.days
    delivered_day = np.where(delivered, delivered_day, np.nan)
    delay = np.where(delivered, delay, np.nan)
    late = late & delivered

    days_late = np.minimum(np.maximum(np.nan_to_num(delay), 0.0), 10.0)
    logit = (
        np.asarray(P.CATEGORY_RETURN_LOGIT)[category]
        + P.RETURN_LATE_LOGIT * late
        + P.RETURN_PER_DAY_LOGIT * days_late
    )
    p_return = _sigmoid(logit)
    if incidents:
        p_return = p_return + shift(incidents, "returns_rise", market, day, codes, window.start)
    returned = delivered & (rng.random(n) < p_return)
    return Orders(
        owner=owner,
        day=day,
        promised_day=promised_day,
        delivered_day=delivered_day,
        amount=amount,
        amount_eur=amount * fx,
        category=category.astype(np.int64),
        carrier=carrier.astype(np.int64),
        delay_days=delay,
        late=late,
        returned=returned,
        incremental=incremental,
    )
