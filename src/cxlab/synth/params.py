"""The generator's true parameters: per marketplace, per action, per driver.

Everything the synthetic marketplace is built from lives here as frozen data,
so that ``truth/summary.json`` can report exactly what was used. Time unit of
the purchase process is the **week**; money for Gamma-Gamma is given in **EUR**
and converted to each marketplace's currency with :data:`FX_TO_EUR` (see
:func:`gamma_gamma_local`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

#: Units of EUR per one unit of each currency (the ``fx.rate`` column).
FX_TO_EUR: Mapping[str, float] = MappingProxyType(
    {
        "EUR": 1.0,
        "USD": 0.92,
        "GBP": 1.17,
        "JPY": 0.0062,
        "BRL": 0.17,
        "INR": 0.011,
        "PLN": 0.23,
        "SEK": 0.087,
        "CAD": 0.68,
        "MXN": 0.05,
        "SGD": 0.68,
        "AUD": 0.60,
        "AED": 0.25,
    }
)

#: Currencies whose amounts are rounded to whole units.
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"JPY"})


@dataclass(frozen=True)
class MarketParams:
    """True parameters of one marketplace.

    Attributes
    ----------
    r, alpha : float
        BG/NBD purchase-rate heterogeneity: ``lambda ~ Gamma(shape=r, rate=alpha)``,
        in purchases per week (Fader, Hardie & Lee 2005, eq. 2).
    a, b : float
        BG/NBD dropout heterogeneity: ``p ~ Beta(a, b)`` (eq. 3).
    p, q, gamma_eur : float
        Gamma-Gamma spend (Fader, Hardie & Lee 2005b): spend per order
        ``z ~ Gamma(shape=p, rate=nu)``, ``nu ~ Gamma(shape=q, rate=gamma)``,
        with ``gamma`` given for amounts in EUR.
    weight : float
        Relative share of customers.
    promise_days : int
        Promised delivery time in days for non-members (members get one day less,
        at least one).
    late_prob : float
        Probability that a delivery is late with the marketplace's median carrier.
    late_mean_days : float
        Mean lateness in days of a late delivery (exponential, plus a minimum of
        0.1 day).
    carriers : Mapping[str, float]
        Carrier name to its multiplier of ``late_prob`` and ``late_mean_days``.
    nps_share : float
        Share of survey invitations sent on the 0-10 (``nps11``) scale; the rest
        are ``csat5``.
    """

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma_eur: float
    weight: float
    promise_days: int
    late_prob: float
    late_mean_days: float
    carriers: Mapping[str, float]
    nps_share: float = 0.0


def _carriers(**kw: float) -> Mapping[str, float]:
    return MappingProxyType(dict(kw))


_EU = _carriers(DHL=0.8, DPD=1.0, Hermes=1.4)
_MARKETS: dict[str, MarketParams] = {
    "DE": MarketParams(0.45, 3.5, 0.80, 3.0, 5.0, 3.5, 20.0, 0.16, 2, 0.08, 1.5, _carriers(DHL=0.8, DPD=1.0, Hermes=1.5)),
    "FR": MarketParams(0.40, 3.8, 0.70, 2.8, 5.5, 3.8, 19.0, 0.11, 3, 0.12, 2.0, _carriers(Colissimo=0.9, Chronopost=0.7, Relais=1.5)),
    "IT": MarketParams(0.38, 4.0, 0.75, 2.6, 5.0, 3.6, 18.0, 0.06, 3, 0.16, 2.5, _carriers(Poste=1.3, BRT=0.9, GLS=0.9)),
    "ES": MarketParams(0.38, 3.9, 0.75, 2.7, 5.0, 3.6, 17.0, 0.05, 3, 0.14, 2.2, _carriers(Correos=1.3, SEUR=0.8, MRW=0.9)),
    "NL": MarketParams(0.45, 3.6, 0.80, 3.0, 5.0, 3.5, 20.0, 0.04, 2, 0.06, 1.2, _carriers(PostNL=1.0, DHL=0.8, DPD=1.2)),
    "PL": MarketParams(0.35, 4.2, 0.85, 2.5, 4.5, 3.4, 14.0, 0.04, 3, 0.10, 1.8, _carriers(InPost=0.7, DPD=1.0, Poczta=1.5)),
    "SE": MarketParams(0.42, 3.7, 0.80, 3.0, 5.0, 3.5, 21.0, 0.03, 3, 0.09, 1.6, _EU),
    "UK": MarketParams(0.50, 3.2, 0.90, 3.2, 5.0, 3.6, 21.0, 0.12, 2, 0.10, 1.6, _carriers(RoyalMail=1.2, DPD=0.8, Evri=1.6), 0.5),
    "GB": MarketParams(0.50, 3.2, 0.90, 3.2, 5.0, 3.6, 21.0, 0.12, 2, 0.10, 1.6, _carriers(RoyalMail=1.2, DPD=0.8, Evri=1.6), 0.5),
    "US": MarketParams(0.55, 3.0, 0.85, 3.5, 6.0, 4.0, 22.0, 0.20, 3, 0.13, 2.0, _carriers(UPS=0.8, FedEx=0.9, USPS=1.4), 0.5),
    "CA": MarketParams(0.45, 3.4, 0.85, 3.2, 5.5, 3.8, 20.0, 0.04, 4, 0.15, 2.4, _carriers(CanadaPost=1.3, Purolator=0.8, UPS=0.9), 0.5),
    "MX": MarketParams(0.30, 4.2, 1.05, 2.6, 4.5, 3.4, 14.0, 0.04, 5, 0.22, 3.0, _carriers(Estafeta=1.0, DHL=0.8, Correos=1.5)),
    "BR": MarketParams(0.30, 4.0, 1.05, 2.5, 4.5, 3.5, 15.0, 0.10, 6, 0.25, 3.5, _carriers(Correios=1.4, Jadlog=1.0, Loggi=0.8)),
    "JP": MarketParams(0.35, 3.0, 0.60, 2.5, 6.0, 4.2, 24.0, 0.12, 1, 0.04, 0.8, _carriers(Yamato=0.8, Sagawa=1.0, JapanPost=1.3), 0.5),
    "IN": MarketParams(0.28, 4.5, 1.10, 2.2, 4.0, 3.3, 10.0, 0.10, 5, 0.22, 3.2, _carriers(Delhivery=1.0, BlueDart=0.8, IndiaPost=1.6)),
    "SG": MarketParams(0.45, 3.3, 0.80, 3.0, 5.5, 3.8, 20.0, 0.03, 2, 0.07, 1.2, _carriers(Ninja=1.1, SingPost=1.0, DHL=0.8)),
    "AU": MarketParams(0.40, 3.5, 0.80, 2.9, 5.5, 3.7, 21.0, 0.04, 4, 0.14, 2.2, _carriers(AusPost=1.1, StarTrack=0.9, Sendle=1.3), 0.5),
    "AE": MarketParams(0.40, 3.6, 0.85, 2.8, 5.5, 3.8, 22.0, 0.03, 2, 0.09, 1.5, _carriers(Aramex=1.0, EmiratesPost=1.4, DHL=0.8)),
}

#: Marketplaces generated when none are named (7 on 4 continents).
DEFAULT_MARKETPLACES: tuple[str, ...] = ("DE", "FR", "UK", "US", "JP", "BR", "IN")


def market_params(code: str) -> MarketParams:
    """Return the true parameters of marketplace ``code``.

    Raises
    ------
    KeyError
        If the generator has no parameters for ``code``.
    """
    return _MARKETS[code]


def known_marketplaces() -> tuple[str, ...]:
    """Codes of the marketplaces the generator can simulate."""
    return tuple(_MARKETS)


def gamma_gamma_local(params: MarketParams, currency: str) -> dict[str, float]:
    """Gamma-Gamma parameters for amounts in the marketplace's currency.

    Multiplying every spend by ``c`` local units per EUR keeps ``p`` and ``q`` and
    multiplies ``gamma`` by ``c``: if ``nu ~ Gamma(q, rate=gamma)`` then
    ``nu / c ~ Gamma(q, rate=gamma * c)``.
    """
    per_eur = 1.0 / FX_TO_EUR[currency]
    return {"p": params.p, "q": params.q, "gamma": params.gamma_eur * per_eur}


# --- customers -----------------------------------------------------------------

SEGMENTS: tuple[str, ...] = ("value", "mainstream", "premium")
DEVICES: tuple[str, ...] = ("mobile", "desktop", "tablet")
DEVICE_PROBS: tuple[float, ...] = (0.58, 0.32, 0.10)
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_PROBS: tuple[float, ...] = (0.14, 0.27, 0.23, 0.17, 0.12, 0.07)

# --- orders --------------------------------------------------------------------

CATEGORIES: tuple[str, ...] = (
    "electronics", "books", "fashion", "home", "grocery", "toys", "beauty", "sports",
)
CATEGORY_PROBS: tuple[float, ...] = (0.14, 0.14, 0.18, 0.15, 0.12, 0.08, 0.10, 0.09)
#: Baseline logit of a return per category (fashion is returned most).
CATEGORY_RETURN_LOGIT: tuple[float, ...] = (-3.0, -4.0, -1.7, -3.0, -4.5, -3.2, -3.5, -2.6)
#: Change in the return logit when a delivery is late, and per day late (capped at 10).
RETURN_LATE_LOGIT: float = 0.9
RETURN_PER_DAY_LOGIT: float = 0.08
#: Carriers are chosen with these probabilities in the order they are listed.
CARRIER_PROBS: tuple[float, ...] = (0.45, 0.35, 0.20)

# --- events --------------------------------------------------------------------

EVENT_TYPES: tuple[str, ...] = ("visit", "search", "add_to_cart", "wishlist", "review")
EVENT_PROBS: tuple[float, ...] = (0.50, 0.25, 0.13, 0.08, 0.04)
#: Events per week while alive are ``EVENT_BASE + EVENT_PER_PURCHASE * lambda``.
EVENT_BASE_PER_WEEK: float = 0.20
EVENT_PER_PURCHASE: float = 3.0
#: Events per week after the customer has dropped out.
EVENT_DEAD_PER_WEEK: float = 0.02

# --- contacts ------------------------------------------------------------------

#: Log of the mean number of contacts about one delivered order, and its drivers.
CONTACT_BASE_LOG: float = -3.0
CONTACT_LATE_LOG: float = 1.2
CONTACT_PER_DAY_LOG: float = 0.15
CONTACT_RETURN_LOG: float = 1.3
#: Contacts per week not tied to an order.
GENERAL_CONTACTS_PER_WEEK: float = 0.004
OTHER_REASONS: tuple[str, ...] = ("product_question", "damaged_item", "billing", "account")

# --- surveys -------------------------------------------------------------------

#: Probability that a delivered order is sent a survey.
INVITE_PROB: float = 0.35
#: Survey sent this many days after delivery (uniform).
SEND_DELAY_DAYS: tuple[float, float] = (3.0, 6.0)
#: Responses arrive within this many days after the invitation.
MAX_RESPONSE_DAYS: float = 13.0


@dataclass(frozen=True)
class SatisfactionCoefficients:
    """Latent satisfaction ``U = eta + Logistic(0, 1)`` of one order.

    ``eta = intercept + late*1[late] + per_day_late*min(max(delay_days, 0), 10)
    + returned*1[returned] + per_contact*min(contacts, 3)
    + log_price*log(amount_eur / 40) + customer effect``. Scores come from
    cutting ``U`` at :data:`CSAT_CUTS` or :data:`NPS_CUTS`.

    The customer effect is ``segment[s] + per_age_band*(age_band - 2)
    + prime*1[prime] + device[d] + N(0, customer_sd**2)``: as in real data, a
    customer's baseline satisfaction is mostly explained by their recorded
    attributes (standard deviation about 0.23) and only a small idiosyncratic
    part (0.08) is unobservable, so a model of the observables can come close
    to the true probabilities. Each attribute moves ``eta`` less than the three
    strongest causes (delay, returned, contacts) do.
    """

    intercept: float = 1.75
    late: float = -1.2
    per_day_late: float = -0.35
    returned: float = -1.8
    per_contact: float = -1.0
    log_price: float = -0.12
    segment: tuple[float, ...] = (-0.2, 0.0, 0.2)
    per_age_band: float = 0.06
    prime: float = 0.25
    device: tuple[float, ...] = (-0.1, 0.1, 0.0)
    customer_sd: float = 0.08


SATISFACTION = SatisfactionCoefficients()
#: ``csat5`` score is ``1 + #(cuts below U)``: score >= 4 iff ``U > 0``.
CSAT_CUTS: tuple[float, ...] = (-2.2, -1.0, 0.0, 1.4)
#: ``nps11`` score is ``#(cuts below U)``: promoter (>= 9) iff ``U > 1.0``,
#: detractor (<= 6) iff ``U <= -0.3``.
NPS_CUTS: tuple[float, ...] = (-4.0, -3.2, -2.5, -1.9, -1.4, -0.8, -0.3, 0.4, 1.0, 1.9)


@dataclass(frozen=True)
class ResponseCoefficients:
    """Logit of the probability of answering an invitation.

    Depends only on observable covariates (order experience and customer
    attributes); the Bernoulli draw is independent of the score given these,
    so responses are missing at random given the observables.
    """

    intercept: float = -2.1
    late: float = 0.9
    per_day_late: float = 0.06
    returned: float = 0.6
    per_contact: float = 0.4
    per_age_band: float = 0.12
    device: tuple[float, ...] = (0.0, 0.35, 0.1)
    segment: tuple[float, ...] = (-0.1, 0.0, 0.2)
    prime: float = 0.1


RESPONSE = ResponseCoefficients()

#: The three strongest causes of satisfaction, strongest first, with the feature
#: names a feature builder would give them.
DRIVER_FEATURES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "delivery_delay": ("delay_days", "late", "days_late"),
        "returned": ("returned",),
        "contacts": ("contacts", "contacts_around_order", "n_contacts"),
        "price": ("amount_reporting", "amount", "amount_eur"),
        "customer": ("segment", "age_band", "prime", "device"),
    }
)

# --- campaign ------------------------------------------------------------------

#: Retention actions and their cost per customer in EUR; ``control`` costs nothing.
ACTION_COSTS: Mapping[str, float] = MappingProxyType(
    {"control": 0.0, "email": 0.1, "coupon_10": 5.0, "free_shipping": 3.0, "call": 12.0}
)
#: Campaign assignment this many days before the end of the window.
CAMPAIGN_DAYS_BEFORE_END: int = 60
#: Effects last this many days after assignment.
CAMPAIGN_WINDOW_DAYS: int = 30
#: Share of eligible customers (first order before assignment) in the campaign.
CAMPAIGN_SHARE: float = 0.5
