"""The one table of time units: their codes and lengths in days.

``D`` day, ``W`` week, ``M`` month (365.25 / 12 days), ``Y`` year (365.25
days). Every horizon and summary in cxlab counts in one of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from cxlab.exceptions import InputDataError

TimeUnit = Literal["D", "W", "M", "Y"]

#: Length of each time unit in days.
UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0, "Y": 365.25}


def check_time_unit(unit: object, *, name: str, who: str, allowed: Iterable[str] = UNIT_DAYS) -> str:
    """``unit`` if it is one of ``allowed`` (codes of :data:`UNIT_DAYS`), else an error naming them."""
    choices = list(allowed)
    if not isinstance(unit, str) or unit not in choices:
        raise InputDataError(f"{who}: {name} must be one of {', '.join(choices)}; got {unit!r}.")
    return unit
