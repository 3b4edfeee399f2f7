"""Comparison helpers of the metrics tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.engine import Engine

NUM = ["value", "ci_low", "ci_high", "n", "numerator", "denominator"]


def on_engine(engine: Engine, tables: dict[str, pd.DataFrame]) -> dict:
    return {name: engine.from_pandas(df) for name, df in tables.items()}


def assert_same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str], rtol: float = 1e-9) -> None:
    """Same rows (by keys) and numbers equal to ``rtol`` (NaN equals NaN)."""
    g = got.copy()
    w = want.copy()
    for df in (g, w):
        for k in keys:
            df[k] = df[k].astype(object).where(df[k].notna(), "<null>").astype(str)
    m = g.merge(w, on=keys, how="outer", suffixes=("", "_ref"), indicator=True)
    only = m[m["_merge"] != "both"]
    assert only.empty, f"rows differ:\n{only[keys + ['_merge']].head(20)}"
    for c in NUM:
        a, b = m[c].to_numpy(float), m[c + "_ref"].to_numpy(float)
        bad = ~(np.isclose(a, b, rtol=rtol, atol=1e-12) | (np.isnan(a) & np.isnan(b)))
        assert not bad.any(), f"{c} differs:\n{m.loc[bad, keys + [c, c + '_ref']].head(20)}"
