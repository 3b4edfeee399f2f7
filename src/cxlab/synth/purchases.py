"""Purchase times from the BG/NBD process (Fader, Hardie & Lee 2005).

Each customer is born with a first order at ``birth_day`` and is then observed
until the end of the window, ``T`` weeks later. While alive, repeat purchases
arrive as a Poisson process of rate ``lam`` per week; after each repeat purchase
the customer drops out with probability ``p``. This is exactly the process whose
likelihood is eq. 6 of the paper: a customer with no repeat purchase is alive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth.customers import Customers
from cxlab.synth.window import Window


@dataclass(frozen=True)
class Purchases:
    """Repeat purchases of one chunk.

    Attributes
    ----------
    born : ndarray of bool
        The customer's first order falls inside the window.
    frequency : ndarray of int64
        Number of repeat purchases (``x``).
    recency_weeks, T_weeks : ndarray of float64
        Time of the last repeat purchase and length of observation, both in weeks
        since the first order (``t_x`` and ``T``; 0 for customers not born).
    alive_end : ndarray of bool
        Still alive at the end of the window.
    death_day : ndarray of float64
        Day of dropout (``inf`` when alive at the end).
    owner : ndarray of int64
        For each repeat purchase, the customer's position in the chunk.
    day : ndarray of float64
        For each repeat purchase, its time in days since the window start.
    """

    born: np.ndarray
    frequency: np.ndarray
    recency_weeks: np.ndarray
    T_weeks: np.ndarray
    alive_end: np.ndarray
    death_day: np.ndarray
    owner: np.ndarray
    day: np.ndarray


def segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment of ``counts`` consecutive values."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    starts = ends - counts
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    if values.size == 0:
        return total
    return total - np.repeat(before, counts)


def draw_purchases(rng: np.random.Generator, cust: Customers, window: Window) -> Purchases:
    """Draw every customer's repeat purchases in the window.

    The count of Poisson arrivals in ``(0, T]`` is ``N ~ Poisson(lam T)``; the
    purchase after which the customer drops out is ``D ~ Geometric(p)``; the
    customer makes ``x = min(N, D)`` repeat purchases and is alive at the end iff
    ``N < D``. Arrival times are the first ``x`` order statistics of ``N``
    uniforms on ``(0, T]``, drawn as normalized exponential spacings, so only ``x``
    values per customer are generated.
    """
    born = cust.birth_day < window.days
    T_weeks = np.where(born, (window.days - cust.birth_day) / 7.0, 0.0)
    n_arrivals = rng.poisson(cust.lam * T_weeks)
    dropout_at = rng.geometric(np.clip(cust.p_drop, 1e-12, 1.0))
    x = np.minimum(n_arrivals, dropout_at).astype(np.int64)
    alive_end = n_arrivals < dropout_at

    spacings = rng.standard_exponential(int(x.sum()))
    partial = segment_cumsum(spacings, x)
    s_x = np.zeros(cust.n)
    has = x > 0
    last = np.cumsum(x) - 1
    s_x[has] = partial[last[has]]
    # S_{N+1} = S_x + Gamma(N - x + 1): the rest of the spacings, summed.
    s_total = s_x + rng.standard_gamma((n_arrivals - x + 1).astype(np.float64))
    owner = np.repeat(np.arange(cust.n, dtype=np.int64), x)
    t_weeks = T_weeks[owner] * partial / s_total[owner]
    recency = np.zeros(cust.n)
    recency[has] = t_weeks[last[has]]
    death_day = np.where(alive_end, np.inf, cust.birth_day + 7.0 * recency)
    return Purchases(
        born=born,
        frequency=x,
        recency_weeks=recency,
        T_weeks=T_weeks,
        alive_end=alive_end,
        death_day=death_day,
        owner=owner,
        day=cust.birth_day[owner] + 7.0 * t_weeks,
    )
