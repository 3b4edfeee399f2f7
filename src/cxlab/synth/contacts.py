"""Customer-service contacts: about an order (likelier when late or returned), or general.

A delivered order gets ``Poisson(mu)`` contacts with
``log mu = base + late + per_day * min(days_late, 10) + returned`` (see
:mod:`cxlab.synth.params`). A contact about a late order happens between the
promised and the actual delivery; any other contact about an order happens
within 2.5 days after delivery, so it always precedes the order's survey
invitation. General contacts (no order) arrive at a small constant rate from
sign-up on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth import params as P
from cxlab.synth.customers import Customers
from cxlab.synth.orders import Orders
from cxlab.synth.window import Window

#: Reason codes, in index order.
REASONS: tuple[str, ...] = ("late_delivery", "return", *P.OTHER_REASONS)


@dataclass(frozen=True)
class Contacts:
    """Contacts of one chunk, sorted by customer then time.

    Attributes
    ----------
    owner : ndarray of int64
        Customer position in the chunk.
    order : ndarray of int64
        Order position in the chunk, or -1 for a general contact.
    day : ndarray of float64
    reason : ndarray of int64
        Index into :data:`REASONS`.
    per_order : ndarray of int64
        Number of contacts about each order of the chunk.
    """

    owner: np.ndarray
    order: np.ndarray
    day: np.ndarray
    reason: np.ndarray
    per_order: np.ndarray


def draw_contacts(
    rng: np.random.Generator, cust: Customers, orders: Orders, window: Window
) -> Contacts:
    """Draw the contacts of one chunk."""
    delivered = ~np.isnan(orders.delivered_day)
    days_late = np.minimum(np.maximum(np.nan_to_num(orders.delay_days), 0.0), 10.0)
    log_mu = (
        P.CONTACT_BASE_LOG
        + P.CONTACT_LATE_LOG * orders.late
        + P.CONTACT_PER_DAY_LOG * days_late
        + P.CONTACT_RETURN_LOG * orders.returned
    )
    per_order = np.where(delivered, rng.poisson(np.exp(log_mu)), 0).astype(np.int64)
    o_idx = np.repeat(np.arange(orders.n, dtype=np.int64), per_order)
    late = orders.late[o_idx]
    u = rng.random(o_idx.size)
    during = orders.promised_day[o_idx] + u * (
        orders.delivered_day[o_idx] - orders.promised_day[o_idx]
    )
    after = orders.delivered_day[o_idx] + 2.5 * u
    o_day = np.where(late, during, after)
    other = rng.integers(2, len(REASONS), size=o_idx.size)
    o_reason = np.where(late, 0, np.where(orders.returned[o_idx], 1, other))

    tenure_weeks = (window.days - cust.signup_day) / 7.0
    n_general = rng.poisson(P.GENERAL_CONTACTS_PER_WEEK * tenure_weeks)
    g_owner = np.repeat(np.arange(cust.n, dtype=np.int64), n_general)
    g_day = cust.signup_day[g_owner] + rng.random(g_owner.size) * (
        window.days - cust.signup_day[g_owner]
    )
    g_reason = rng.integers(2, len(REASONS), size=g_owner.size)

    owner = np.concatenate([orders.owner[o_idx], g_owner])
    order = np.concatenate([o_idx, np.full(g_owner.size, -1, dtype=np.int64)])
    day = np.concatenate([o_day, g_day])
    reason = np.concatenate([o_reason, g_reason])
    keep = day < window.days
    # Contacts after the window do not exist yet; they are not counted either.
    per_order = np.bincount(order[keep & (order >= 0)], minlength=orders.n).astype(np.int64)
    sort = np.lexsort((day[keep], owner[keep]))
    return Contacts(
        owner=owner[keep][sort],
        order=order[keep][sort],
        day=day[keep][sort],
        reason=reason[keep][sort].astype(np.int64),
        per_order=per_order,
    )
