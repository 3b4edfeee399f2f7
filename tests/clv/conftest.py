"""Fixtures of the cxlab.clv tests: the CDNOW data and models fitted once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The 2,357-customer calibration summary of the papers (weeks)."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


@pytest.fixture(scope="session")
def cdnow_spend() -> pd.DataFrame:
    """The same customers with the mean repeat spend ``zbar``."""
    df = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    return df.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="session")
def cdnow_orders() -> pd.DataFrame:
    """CDNOW_sample.txt as canonical orders (UTC midnight timestamps)."""
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "sample_id", "date", "n_cds", "amount"],
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["sample_id"].str.lstrip("0"),
            "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[us]"),
            "amount": raw["amount"].astype(float),
        }
    )


@pytest.fixture(scope="session")
def bgnbd(cdnow_summary: pd.DataFrame) -> BetaGeo:
    return BetaGeo().fit(cdnow_summary)


@pytest.fixture(scope="session")
def pareto(cdnow_summary: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(cdnow_summary)


@pytest.fixture(scope="session")
def ggamma(cdnow_spend: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow_spend)
