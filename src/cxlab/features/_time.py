"""Timestamps as epoch seconds, so that every engine can subtract them."""

from __future__ import annotations

import narwhals as nw

from cxlab.engine import epoch_seconds

DAY_S = 86_400.0


def with_seconds(lf: nw.LazyFrame, columns: dict[str, str]) -> nw.LazyFrame:
    """Add, for each ``{timestamp column: new name}``, epoch seconds (float, null kept)."""
    for column, name in columns.items():
        lf = epoch_seconds(lf, column, name)
    return lf


def days(later: nw.Expr, earlier: nw.Expr) -> nw.Expr:
    """Days between two epoch-second expressions (float)."""
    return (later - earlier) / DAY_S
