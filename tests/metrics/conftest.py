"""Fixtures of the metrics tests: one small random dataset per session."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.metrics.data import make_tables


@pytest.fixture(scope="session")
def pandas_tables() -> dict[str, pd.DataFrame]:
    """Canonical tables (pandas) with outcomes correlated within customer."""
    return make_tables(customers=300, seed=7)


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory):
    """A small dataset made by ``cxlab.synth.generate`` (2,000 customers)."""
    from cxlab.synth import generate

    out = tmp_path_factory.mktemp("synth") / "data"
    generate(customers=2000, random_state=3, out=out)
    return out
