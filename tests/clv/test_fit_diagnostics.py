"""Honest fits: a doubtful fit warns (FitWarning) and says so in its JSON."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import BetaGeo, GammaGamma, ParetoNBD
from cxlab.clv.api import fit_from_summary, model_from_params
from cxlab.exceptions import CxlabWarning, FitWarning


def _no_dropout_no_heterogeneity(n: int = 300) -> pd.DataFrame:
    """Every customer buys at the same rate (2 a week) for a year and nobody leaves:
    neither the Gamma heterogeneity nor the dropout process is identified."""
    rng = np.random.default_rng(0)
    big_t = np.full(n, 52.0)
    x = rng.poisson(2.0 * big_t)
    t_x = np.where(x > 0, big_t - rng.exponential(0.5, n).clip(0.0, 1.0), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t})


def _same_spend_distribution(n: int = 1000) -> pd.DataFrame:
    """Every customer's transactions come from one Gamma(4, 5): q and gamma run off."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 5, n)
    return pd.DataFrame({"frequency": x, "monetary_value": [rng.gamma(4.0, 5.0, k).mean() for k in x]})


@pytest.mark.parametrize(
    ("cls", "other_model"), [(BetaGeo, "Pareto/NBD"), (ParetoNBD, "BG/NBD")]
)
def test_degenerate_purchase_fit_warns_and_records(cls: type, other_model: str) -> None:
    with pytest.warns(FitWarning, match="coarser time unit") as caught:
        model = cls().fit(_no_dropout_no_heterogeneity())
    text = str(caught[0].message)
    assert cls.__name__ in text and other_model in text and "longer calibration window" in text
    assert issubclass(FitWarning, CxlabWarning) and issubclass(FitWarning, UserWarning)
    assert any("Hessian" in d or "barely determine" in d or "edge of its range" in d for d in model.diagnostics_)
    assert model.diagnostics_[-1].startswith("Try a coarser time unit")


def test_degenerate_spend_fit_warns_and_records() -> None:
    with pytest.warns(FitWarning, match="GammaGamma: the fit is doubtful"):
        model = GammaGamma().fit(_same_spend_distribution())
    assert model.diagnostics_ and "longer calibration window" in model.diagnostics_[-1]
    assert not np.all(np.isfinite(list(model.standard_errors_.values())))


def test_diagnostics_are_in_the_json_and_survive_a_reload() -> None:
    with pytest.warns(FitWarning):
        params = fit_from_summary(_no_dropout_no_heterogeneity(), "bgnbd", time_unit="D")
    reloaded = json.loads(json.dumps(params))
    assert reloaded["time_unit"] == "D"
    assert reloaded["diagnostics"] and "coarser time unit" in reloaded["diagnostics"][-1]
    assert model_from_params(reloaded).diagnostics_ == reloaded["diagnostics"]


def test_sound_fit_has_no_diagnostics(cdnow_summary: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        model = BetaGeo().fit(cdnow_summary)
    assert model.diagnostics_ == []
    assert all(np.isfinite(v) for v in model.standard_errors_.values())
