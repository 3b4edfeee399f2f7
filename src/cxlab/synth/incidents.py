"""Incidents injected into the generated marketplace, with their truth.

An incident ``KIND:MARKETPLACE:START:DAYS:SIZE`` changes the orders placed in
one marketplace on the days ``[START, START + DAYS)`` (UTC):

``late_delivery``
    adds ``SIZE`` to each order's probability of a late delivery (so the
    late-delivery rate rises by about ``SIZE``); late orders lower satisfaction
    through the generator's satisfaction model (and raise returns, contacts and
    the response rate), so CSAT falls a few days later, when the surveys of
    those orders come back.
``orders_drop``
    removes a share ``SIZE`` of the orders placed in the window (a checkout
    outage, a payment provider down).
``returns_rise``
    adds ``SIZE`` to each order's probability of being returned.

``SIZE`` lies in (0, 1]. Late deliveries and returns reuse the very random
draws of the incident-free run (only the probabilities they are compared with
change), and dropped orders are drawn from a stream of their own, so without
incidents the generator's output is byte-identical to before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from cxlab.exceptions import InputDataError

KINDS: tuple[str, ...] = ("late_delivery", "orders_drop", "returns_rise")
#: The metric each kind moves first (for the truth file and the evaluation).
METRIC_OF = {"late_delivery": "late_delivery_rate", "orders_drop": "orders", "returns_rise": "return_rate"}


@dataclass(frozen=True)
class Incident:
    """One incident: ``kind`` in :data:`KINDS`, a marketplace code, the first
    day, the number of days and the size (see the module docstring)."""

    kind: str
    marketplace: str
    start: date
    days: int
    size: float

    @property
    def end(self) -> date:
        """Last day of the incident (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "marketplace": self.marketplace, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "days": self.days, "size": self.size,
            "metric": METRIC_OF[self.kind],
            "size_unit": "share of orders removed" if self.kind == "orders_drop" else "added probability per order",
        }


def parse_incident(text: str) -> Incident:
    """``KIND:MARKETPLACE:START:DAYS:SIZE`` -> :class:`Incident`."""
    parts = text.split(":")
    form = "KIND:MARKETPLACE:START:DAYS:SIZE, e.g. late_delivery:DE:2025-06-01:14:0.2"
    if len(parts) != 5:
        raise InputDataError(f"incident: expected {form}; got {text!r}.")
    kind, market, start, days, size = (p.strip() for p in parts)
    try:
        inc = Incident(kind, market.upper(), date.fromisoformat(start), int(days), float(size))
    except ValueError as err:
        raise InputDataError(f"incident: expected {form}; got {text!r} ({err}).") from err
    return inc


def check_incidents(incidents: Sequence[Incident], codes: Sequence[str], start: date, end: date) -> tuple[Incident, ...]:
    """Validate incidents against the generated marketplaces and window."""
    out = []
    for inc in incidents:
        who = f"incident {inc.kind}:{inc.marketplace}:{inc.start}:{inc.days}:{inc.size}"
        if inc.kind not in KINDS:
            raise InputDataError(f"{who}: kind must be one of {', '.join(KINDS)}; got {inc.kind!r}.")
        if inc.marketplace not in codes:
            raise InputDataError(f"{who}: marketplace must be one of the generated {', '.join(codes)}.")
        if not 1 <= inc.days <= 3660:
            raise InputDataError(f"{who}: DAYS must be between 1 and 3,660; got {inc.days}.")
        if not (0.0 < inc.size <= 1.0):
            raise InputDataError(f"{who}: SIZE must lie in (0, 1]; got {inc.size}.")
        if inc.start < start or inc.start > end:
            raise InputDataError(f"{who}: START must lie in the window {start}..{end}.")
        out.append(inc)
    return tuple(out)


def shift(
    incidents: Sequence[Incident], kind: str, market: np.ndarray, day: np.ndarray,
    codes: Sequence[str], window_start: date,
) -> np.ndarray:
    """The probability added to each order (market index, day since the window
    start) by the incidents of ``kind``."""
    add = np.zeros(day.shape[0])
    for inc in incidents:
        if inc.kind != kind:
            continue
        first = float((inc.start - window_start).days)
        hit = (market == codes.index(inc.marketplace)) & (day >= first) & (day < first + inc.days)
        add += np.where(hit, inc.size, 0.0)
    return add


def drop_orders(orders, market: np.ndarray, incidents: Sequence[Incident], codes: Sequence[str],  # noqa: ANN001, ANN201
                window_start: date, rng: np.random.Generator):
    """``orders`` without the orders the ``orders_drop`` incidents remove."""
    p = shift(incidents, "orders_drop", market, orders.day, codes, window_start)
    if not p.any():
        return orders
    keep = rng.random(p.size) >= np.minimum(p, 1.0)
    return dataclasses.replace(
        orders, **{f.name: getattr(orders, f.name)[keep] for f in dataclasses.fields(orders)}
    )


def write_truth(folder: Path, incidents: Sequence[Incident]) -> None:
    """``truth/incidents.json``: the injected incidents."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "incidents.json").write_text(
        json.dumps({"incidents": [i.to_dict() for i in incidents]}, indent=2) + "\n", encoding="utf-8"
    )
