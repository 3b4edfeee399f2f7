"""App and web events whose rate follows each customer's engagement.

From sign-up until dropout (or the end of the window) a customer generates
events at ``EVENT_BASE_PER_WEEK + EVENT_PER_PURCHASE * lam`` per week; after
dropout at ``EVENT_DEAD_PER_WEEK``. Event types are drawn independently with
:data:`~cxlab.synth.params.EVENT_PROBS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth import params as P
from cxlab.synth.customers import Customers
from cxlab.synth.purchases import Purchases
from cxlab.synth.window import Window


@dataclass(frozen=True)
class Events:
    """Events of one chunk, sorted by customer then time."""

    owner: np.ndarray
    day: np.ndarray
    event_type: np.ndarray


def _uniform_in(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    owner = np.repeat(np.arange(lo.size, dtype=np.int64), counts)
    day = lo[owner] + rng.random(owner.size) * (hi - lo)[owner]
    return owner, day


def draw_events(
    rng: np.random.Generator, cust: Customers, purchases: Purchases, window: Window
) -> Events:
    """Draw the events of one chunk."""
    alive_until = np.minimum(purchases.death_day, window.days)
    alive_weeks = (alive_until - cust.signup_day) / 7.0
    dead_weeks = (window.days - alive_until) / 7.0
    rate = P.EVENT_BASE_PER_WEEK + P.EVENT_PER_PURCHASE * np.minimum(cust.lam, 10.0)
    o1, d1 = _uniform_in(rng, cust.signup_day, alive_until, rng.poisson(rate * alive_weeks))
    o2, d2 = _uniform_in(
        rng,
        alive_until,
        np.full(cust.n, window.days),
        rng.poisson(P.EVENT_DEAD_PER_WEEK * dead_weeks),
    )
    owner = np.concatenate([o1, o2])
    day = np.concatenate([d1, d2])
    keep = day < window.days
    owner, day = owner[keep], day[keep]
    sort = np.lexsort((day, owner))
    event_type = rng.choice(len(P.EVENT_TYPES), size=owner.size, p=np.asarray(P.EVENT_PROBS))
    return Events(owner=owner[sort], day=day[sort], event_type=event_type.astype(np.int64))
