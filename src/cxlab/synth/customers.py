"""Customers: attributes and the latent BG/NBD and Gamma-Gamma parameters.

Times are float days since the start of the window (``window.start``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlab.synth import params as P
from cxlab.synth.window import Window


@dataclass(frozen=True)
class Customers:
    """One chunk of customers, as parallel numpy arrays (length ``n``).

    Attributes
    ----------
    index : ndarray of int64
        Global customer number (0-based); the id is derived from it.
    market : ndarray of int64
        Index into the generation's marketplace tuple.
    signup_day, birth_day : ndarray of float64
        Sign-up time and first-order time in days since the window start; the
        first order is the customer's BG/NBD birth. ``birth_day`` may lie after the
        window, in which case the customer has no order.
    lam : ndarray of float64
        True purchase rate, repeat purchases per week while alive.
    p_drop : ndarray of float64
        True probability of dropping out after each repeat purchase.
    spend_p, nu_eur : ndarray of float64
        Gamma-Gamma shape (the marketplace's ``p``) and the customer's rate ``nu``
        of spend per order in EUR; the customer's mean spend is ``p / nu``.
    segment, device, age_band : ndarray of int64
        Indices into :data:`~cxlab.synth.params.SEGMENTS`, ``DEVICES``, ``AGE_BANDS``.
    prime : ndarray of bool
        Membership; members buy more often (drawn given ``lam``, which keeps the
        marketplace's Gamma distribution of ``lam`` intact).
    customer_effect : ndarray of float64
        The customer's additive effect on latent satisfaction.
    """

    index: np.ndarray
    market: np.ndarray
    signup_day: np.ndarray
    birth_day: np.ndarray
    lam: np.ndarray
    p_drop: np.ndarray
    spend_p: np.ndarray
    nu_eur: np.ndarray
    segment: np.ndarray
    device: np.ndarray
    age_band: np.ndarray
    prime: np.ndarray
    customer_effect: np.ndarray

    @property
    def n(self) -> int:
        """Number of customers in the chunk."""
        return int(self.index.shape[0])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def draw_customers(
    rng: np.random.Generator,
    *,
    first_index: int,
    n: int,
    markets: tuple[P.MarketParams, ...],
    window: Window,
) -> Customers:
    """Draw ``n`` customers numbered from ``first_index``.

    Sign-ups are uniform over the window less its last 14 days; the first order
    follows sign-up after an exponential wait with a mean of 3 days. Latent
    ``lam ~ Gamma(r, rate=alpha)`` and ``p ~ Beta(a, b)`` use the customer's
    marketplace parameters and do not depend on any attribute.
    """
    weights = np.array([m.weight for m in markets], dtype=np.float64)
    market = rng.choice(len(markets), size=n, p=weights / weights.sum())
    r = np.array([m.r for m in markets])[market]
    alpha = np.array([m.alpha for m in markets])[market]
    a = np.array([m.a for m in markets])[market]
    b = np.array([m.b for m in markets])[market]
    q = np.array([m.q for m in markets])[market]
    gamma = np.array([m.gamma_eur for m in markets])[market]
    p_spend = np.array([m.p for m in markets])[market]

    signup_day = rng.uniform(0.0, max(window.days - 14.0, 1.0), size=n)
    birth_day = signup_day + rng.exponential(3.0, size=n)
    lam = rng.gamma(r, 1.0 / alpha)
    p_drop = rng.beta(a, b)
    nu_eur = rng.gamma(q, 1.0 / gamma)

    # Attributes drawn given the latent parameters leave their marginals intact.
    rel_rate = np.log(np.maximum(lam * alpha / r, 1e-12))
    prime = rng.random(n) < _sigmoid(-0.6 + 0.5 * rel_rate)
    rel_spend = np.log((p_spend / nu_eur) / (p_spend * gamma / (q - 1.0)))
    s = rel_spend + rng.normal(0.0, 0.5, size=n)
    segment = np.where(s < -0.35, 0, np.where(s > 0.35, 2, 1))
    device = rng.choice(len(P.DEVICES), size=n, p=np.asarray(P.DEVICE_PROBS))
    age_band = rng.choice(len(P.AGE_BANDS), size=n, p=np.asarray(P.AGE_PROBS))

    coef = P.SATISFACTION
    customer_effect = (
        np.asarray(coef.segment)[segment]
        + coef.per_age_band * (age_band - 2.0)
        + coef.prime * prime
        + np.asarray(coef.device)[device]
        + rng.normal(0.0, coef.customer_sd, size=n)
    )
    return Customers(
        index=np.arange(first_index, first_index + n, dtype=np.int64),
        market=market.astype(np.int64),
        signup_day=signup_day,
        birth_day=birth_day,
        lam=lam,
        p_drop=p_drop,
        spend_p=p_spend,
        nu_eur=nu_eur,
        segment=segment.astype(np.int64),
        device=device.astype(np.int64),
        age_band=age_band.astype(np.int64),
        prime=prime,
        customer_effect=customer_effect,
    )
