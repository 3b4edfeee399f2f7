"""One generated marketplace shared by the experiment tests (100,000 customers, one year).

Its randomized retention campaign (``treatments``) has about 43,000 customers in
five arms, with the true effect of each action on 30-day revenue per customer
in ``truth/customers.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cxlab.synth import generate

N_CUSTOMERS = 100_000
SEED = 7
TABLES = ("customers", "orders", "events", "surveys", "treatments")


@dataclass(frozen=True)
class Generated:
    path: Path
    truth: pd.DataFrame  # truth/customers.parquet of the campaign customers
    summary: dict


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("experiments") / "market"
    summary = generate(
        customers=N_CUSTOMERS, random_state=SEED, out=out, start=date(2025, 1, 1), end=date(2025, 12, 31)
    )
    truth = pd.read_parquet(out / "truth" / "customers.parquet")
    return Generated(out, truth[truth["campaign_arm"].notna()].reset_index(drop=True), summary.truth)


def read_tables(path: Path, engine) -> dict:  # noqa: ANN001
    """The generator's tables as written (canonical types), on ``engine``, without validation."""
    tables = {name: engine.read_parquet(path / name) for name in TABLES}
    tables["fx"] = engine.read_parquet(path / "fx.parquet")
    return tables
