"""The same estimates from DuckDB, Polars and Spark: rows are put in a fixed order
before folds are drawn, so cross-fitting does not depend on the engine's row order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlab import satisfaction
from cxlab.io import load_dataset
from cxlab.synth import generate


@pytest.fixture(scope="module")
def data_and_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("sat-eq") / "data"
    generate(customers=2000, random_state=21, out=out)
    ds = load_dataset(out, engine="duckdb")
    return out, satisfaction.estimate(ds.tables, method="aipw", by=("marketplace",), folds=3)


def test_aipw_is_identical_on_every_engine(data_and_reference, engine) -> None:
    data, reference = data_and_reference
    ds = load_dataset(data, engine=engine)
    got = satisfaction.estimate(ds.tables, method="aipw", by=("marketplace",), folds=3)
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-9, atol=1e-12)
