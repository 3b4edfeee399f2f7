"""Bounds of numeric parameters, checked the same way at every entry point.

A bad value is an :class:`~cxlab.exceptions.InputDataError` naming the
function, the parameter, the valid range and the value given; booleans, strings
and non-finite numbers are refused, never compared.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from cxlab.exceptions import InputDataError


def _show(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def check_int(value: Any, *, name: str, who: str, low: int, high: int, what: str = "") -> int:
    """``value`` as an ``int`` in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= int(value) <= high:
        shown = f"{value:,}" if isinstance(value, Integral) and not isinstance(value, bool) else repr(value)
        raise InputDataError(
            f"{who}: {name} must be a whole number in [{_show(low)}, {_show(high)}]{what}; got {shown}."
        )
    return int(value)


def check_float(
    value: Any,
    *,
    name: str,
    who: str,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
    what: str = "",
) -> float:
    """``value`` as a finite ``float`` between ``low`` and ``high`` (open ends as asked)."""
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{_show(low)}, {_show(high)}{')' if high_open else ']'}"
        raise InputDataError(f"{who}: {name} must be a number in {interval}{what}; got {value!r}.")
    return float(value)
