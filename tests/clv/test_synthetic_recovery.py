"""On generated data, per-marketplace BG/NBD fits recover the true parameters.

The generator's truth table gives each customer's exact BG/NBD history (without
the campaign's incremental orders); the true parameters are in
``truth/summary.json``. Coverage of the 95% Wald intervals is checked over all
marketplaces, parameters and two seeds: most (not all) must cover.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import BetaGeo

synth = pytest.importorskip("cxlab.synth.generator", reason="the synthetic generator is a sibling module")

SEEDS = (11, 12)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[pd.DataFrame, dict]]:
    out = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"synth{seed}") / "data"
        synth.generate(customers=30_000, random_state=seed, out=folder)
        truth = pd.read_parquet(Path(folder) / "truth" / "customers.parquet")
        summary = json.loads((Path(folder) / "truth" / "summary.json").read_text())
        out.append((truth[truth["first_order_ts"].notna()], summary["bgnbd"]))
    return out


@pytest.mark.slow
def test_per_marketplace_fit_covers_the_truth(generated: list[tuple[pd.DataFrame, dict]]) -> None:
    covered, total = 0, 0
    for truth, true_params in generated:
        for market, part in truth.groupby("marketplace"):
            x = part.rename(columns={"recency_weeks": "recency", "T_weeks": "T"})[["frequency", "recency", "T"]]
            model = BetaGeo().fit(x)
            for name, true in true_params[market].items():
                est, se = model.params_[name], model.standard_errors_[name]
                assert np.isfinite(se) and se > 0
                covered += abs(est - true) <= 1.96 * se
                total += 1
    assert total >= 2 * 4 * 5
    assert covered / total >= 0.8, f"{covered} of {total} 95% intervals cover the truth"
