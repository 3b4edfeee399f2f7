"""Survey scales and the outcome each one is summarized by.

A csat5 answer counts as *satisfied* when the score is 4 or 5; the population
figure is the share of satisfied customers, in [0, 1]. An nps11 answer is a
*promoter* at 9-10 and a *detractor* at 0-6; the Net Promoter Score is the mean
of (promoter - detractor) times 100, in [-100, 100] (Reichheld 2003).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.exceptions import InputDataError
from cxlab.schema import DETRACTOR_AT, SATISFIED_AT, SCALES


@dataclass(frozen=True)
class Outcome:
    """How one scale's scores become the quantity that is averaged.

    Attributes
    ----------
    scale
        ``"csat5"``, ``"nps11"``, or a custom label for a numeric outcome.
    multiplier
        Factor applied to the mean (100 for NPS, 1 otherwise).
    kind
        ``"classes"`` when the outcome takes a few values (0/1, -1/0/1) and is
        modelled by a classifier; ``"continuous"`` for a custom numeric outcome.
    """

    scale: str
    multiplier: float
    kind: str


def outcome_for(scale: str) -> Outcome:
    """The :class:`Outcome` of a known scale (``csat5`` or ``nps11``)."""
    if scale == "nps11":
        return Outcome(scale, 100.0, "classes")
    return Outcome(scale, 1.0, "classes")


def satisfied(scores: np.ndarray, scale: str) -> np.ndarray:
    """1.0 where a score is satisfied (csat5 >= 4) or a promoter (nps11 >= 9)."""
    return (np.asarray(scores, dtype=float) >= SATISFIED_AT[scale]).astype(float)


def outcome_values(scores: np.ndarray, scale: str) -> np.ndarray:
    """Per-answer outcome: satisfied indicator (csat5) or promoter - detractor (nps11)."""
    scores = np.asarray(scores, dtype=float)
    if scale == "nps11":
        return (scores >= SATISFIED_AT["nps11"]).astype(float) - (scores <= DETRACTOR_AT)
    return satisfied(scores, scale)


def check_scores(frame: pd.DataFrame, *, who: str) -> None:
    """Raise :class:`InputDataError` when scales are unknown or scores off their scale.

    Parameters
    ----------
    frame
        Columns ``scale`` (str) and ``score`` (float, NaN for no answer).
    who
        Name of the caller, used at the start of the message.
    """
    known = frame["scale"].dropna()
    unknown = sorted(set(known.unique()) - set(SCALES))
    if unknown:
        raise InputDataError(
            f"{who}: column 'scale' must be one of {', '.join(SCALES)}; found "
            f"{', '.join(map(repr, unknown[:5]))}. Map the survey's scale onto a "
            "canonical one before estimating."
        )
    answered = frame["score"].notna()
    if (answered & frame["scale"].isna()).any():
        n = int((answered & frame["scale"].isna()).sum())
        raise InputDataError(
            f"{who}: {n:,} answered invitations have no 'scale'; a score cannot be "
            "read without it. Give the scale ('csat5' or 'nps11') of every survey."
        )
    for scale, (low, high) in SCALES.items():
        rows = answered & (frame["scale"] == scale)
        scores = frame.loc[rows, "score"]
        bad = scores[(scores < low) | (scores > high) | (scores != np.round(scores))]
        if len(bad):
            examples = ", ".join(f"{v:g}" for v in bad.unique()[:5])
            raise InputDataError(
                f"{who}: scores on scale {scale!r} must be whole numbers from {low} to "
                f"{high}; {len(bad):,} of {int(rows.sum()):,} are not ({examples}). "
                "Scores on a mixed scale must carry the right 'scale' on each row."
            )
