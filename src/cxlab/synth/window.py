"""The observation window and the conversion of float days to timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from cxlab.synth import params as P

_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Window:
    """The generated period: from ``start`` 00:00 to the end of ``end`` (UTC).

    Internally every time is a float number of days since ``start`` 00:00; the
    window is ``[0, days)``. The snapshot is taken at the end of ``end``: nothing
    later than that exists in the data.
    """

    start: date
    end: date

    @property
    def days(self) -> float:
        """Length of the window in days (``end`` is included)."""
        return float((self.end - self.start).days + 1)

    @property
    def start_us(self) -> int:
        """Start of the window in microseconds since 1970-01-01."""
        delta = datetime.combine(self.start, datetime.min.time()) - _EPOCH
        return (delta // timedelta(microseconds=1))

    @property
    def assign_day(self) -> float:
        """Day (since start) when the retention campaign is assigned, at 00:00."""
        return max(self.days - 1.0 - P.CAMPAIGN_DAYS_BEFORE_END, 0.0)

    @property
    def end_exclusive(self) -> datetime:
        """First instant after the window."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    def to_us(self, days: np.ndarray) -> np.ndarray:
        """Convert float days since start to int64 microseconds since the epoch."""
        return self.start_us + np.floor(days * _US_PER_DAY).astype(np.int64)

    def day_datetime(self, day: float) -> datetime:
        """The naive UTC datetime ``day`` days after the start."""
        return datetime.combine(self.start, datetime.min.time()) + timedelta(days=day)
