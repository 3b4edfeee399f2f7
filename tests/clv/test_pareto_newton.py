"""Pareto/NBD's Newton fit: the second derivatives of the series and of log G,
the published estimates and weights (its total Hessian, the agreement with
L-BFGS-B and its light import are tested with BG/NBD's in test_newton)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.clv import ParetoNBD
from cxlab.clv._special import log_series_1_e_c
from cxlab.clv.paretonbd import _log_g_to_order


def test_series_second_derivatives_match_differences() -> None:
    # e, c, z as the likelihood meets them: small and large e, z from 0 to near 1
    e = np.array([0.5, 3.0, 20.0, 150.0, 1.2])
    c = np.array([2.0, 10.0, 30.0, 152.0, 3.5])
    z = np.array([0.3, 0.0, 0.7, 0.2, 0.95])
    out = log_series_1_e_c(e, c, z, order=2)
    assert len(out) == 10
    first = {"e": out[1], "c": out[2], "z": out[3]}
    second = dict(zip(("ee", "ec", "ez", "cc", "cz", "zz"), out[4:], strict=True))
    h = 1e-6
    for i, name in enumerate("ecz"):
        up, down = [e.copy(), c.copy(), z.copy()], [e.copy(), c.copy(), z.copy()]
        up[i] += h
        down[i] -= h
        # value -> first derivative
        fd = (log_series_1_e_c(*up, order=0)[0] - log_series_1_e_c(*down, order=0)[0]) / (2 * h)
        np.testing.assert_allclose(first[name], fd, rtol=1e-6, atol=1e-8)
        # first derivatives -> second
        d_up, d_down = log_series_1_e_c(*up, order=1)[1:], log_series_1_e_c(*down, order=1)[1:]
        for j, other in enumerate("ecz"):
            key = "".join(sorted(name + other, key="ecz".index))
            np.testing.assert_allclose(second[key], (d_up[j] - d_down[j]) / (2 * h), rtol=1e-5, atol=1e-7)
    # the value and first derivatives do not depend on the order asked for
    for k in range(4):
        np.testing.assert_array_equal(out[k], log_series_1_e_c(e, c, z, order=1)[k])


@pytest.mark.parametrize("p", [[0.55, 10.6, 0.6, 11.7], [0.55, 14.6, 0.6, 10.4], [1.5, 3.0, 2.0, 30.0]])
def test_log_g_hessian_matches_differences(p: list[float]) -> None:
    """Both branches (alpha >= beta and alpha < beta) of ``log G``."""
    x = np.array([0.0, 1.0, 5.0, 30.0, 2.0])
    u = np.array([0.0, 3.0, 20.0, 38.0, 38.0])
    _, _, hess = _log_g_to_order(*p, x, u, order=2)
    assert hess is not None
    full = hess.full()
    for j in range(4):
        up, down = list(p), list(p)
        up[j] += 1e-6 * p[j]
        down[j] -= 1e-6 * p[j]
        fd = (_log_g_to_order(*up, x, u, order=1)[1] - _log_g_to_order(*down, x, u, order=1)[1]) / (2e-6 * p[j])
        np.testing.assert_allclose(full[:, :, j], fd, rtol=1e-6, atol=1e-7)


def test_newton_fit_reaches_the_published_estimates(pareto: ParetoNBD) -> None:
    """Newton's method (the default) on CDNOW; its agreement with L-BFGS-B is in test_newton."""
    assert pareto.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    # Fader, Hardie & Lee (2005), CDNOW: r 0.55, alpha 10.58, s 0.61, beta 11.67
    published = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    for k, v in published.items():
        assert pareto.params_[k] == pytest.approx(v, abs=0.006)


def test_weighted_tuples_fit_equals_the_row_fit(cdnow_summary: pd.DataFrame, pareto: ParetoNBD) -> None:
    counts = cdnow_summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    weighted = ParetoNBD().fit(counts, sample_weight=counts["n"])
    assert weighted.log_likelihood_ == pytest.approx(pareto.log_likelihood_, rel=1e-12)
    for k, v in pareto.params_.items():
        assert weighted.params_[k] == pytest.approx(v, rel=1e-8)
