"""The Newton fits (BG/NBD, Pareto/NBD): the exact Hessians, the fallback, and a light import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from cxlab.clv import BetaGeo, ParetoNBD
from cxlab.clv._base import distinct_rfm
from cxlab.clv.bgnbd import _bgnbd_prepare, _bgnbd_total
from cxlab.clv.paretonbd import _pnbd_prepare, _pnbd_total
from cxlab.exceptions import InputDataError

from .conftest import CDNOW


def _tuples(summary: pd.DataFrame):  # noqa: ANN202
    cols = [summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    return distinct_rfm(*cols, np.ones(len(summary)))


_TOTALS = {"bgnbd": (_bgnbd_prepare, _bgnbd_total), "pareto": (_pnbd_prepare, _pnbd_total)}


@pytest.mark.parametrize(
    ("model", "p"),
    [
        ("bgnbd", [0.3, 5.0, 0.7, 2.0]),
        ("bgnbd", [0.24, 4.4, 0.79, 2.43]),
        ("bgnbd", [2.0, 0.5, 3.0, 0.4]),
        # Pareto/NBD: both branches of log G (alpha >= beta and alpha < beta)
        ("pareto", [0.55, 10.6, 0.6, 11.7]),
        ("pareto", [0.55, 14.6, 0.6, 10.4]),
        ("pareto", [1.5, 3.0, 2.0, 30.0]),
    ],
)
def test_hessian_matches_differences_of_the_gradient(cdnow_summary: pd.DataFrame, model: str, p: list[float]) -> None:
    prepare, total_to_order = _TOTALS[model]
    tu = _tuples(cdnow_summary)
    prep = prepare(tu.x, tu.t_x, tu.T, tu.weight)
    p0 = np.array(p)
    total, grad, hess = total_to_order(p0, tu.x, tu.t_x, tu.T, tu.weight, prep, 2)
    assert hess is not None and grad is not None
    np.testing.assert_array_equal(hess, hess.T)
    fd = np.empty((4, 4))
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-6 * p0[j]
        up = total_to_order(p0 + step, tu.x, tu.t_x, tu.T, tu.weight, prep, 1)[1]
        down = total_to_order(p0 - step, tu.x, tu.t_x, tu.T, tu.weight, prep, 1)[1]
        fd[:, j] = (up - down) / (2 * step[j])
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-5 * np.abs(hess).max())
    # lower orders give the same value and gradient
    assert total_to_order(p0, tu.x, tu.t_x, tu.T, tu.weight, prep, 0)[0] == pytest.approx(total, rel=1e-14)
    np.testing.assert_allclose(total_to_order(p0, tu.x, tu.t_x, tu.T, tu.weight, prep, 1)[1], grad, rtol=1e-14)


@pytest.mark.parametrize(("model", "fixture"), [(BetaGeo, "bgnbd"), (ParetoNBD, "pareto")])
def test_newton_and_lbfgs_reach_the_same_maximum(
    cdnow_summary: pd.DataFrame, model: type[BetaGeo | ParetoNBD], fixture: str, request: pytest.FixtureRequest
) -> None:
    """The Newton fit (the default) against the L-BFGS-B search it falls back on."""
    newton = request.getfixturevalue(fixture)

    class Lbfgs(model):  # type: ignore[valid-type,misc]
        _newton_fit = False  # the L-BFGS-B path

    other = Lbfgs(n_starts=1).fit(cdnow_summary)
    assert newton.n_iter_ < other.n_iter_
    assert newton.log_likelihood_ >= other.log_likelihood_ - 1e-7
    for k, v in other.params_.items():
        assert newton.params_[k] == pytest.approx(v, rel=1e-5)
        assert newton.standard_errors_[k] == pytest.approx(other.standard_errors_[k], rel=1e-3)


def test_zero_weight_rows_are_still_checked() -> None:
    X = pd.DataFrame({"frequency": [1, 2, 0], "recency": [5.0, 30.0, 3.0], "T": [10.0, 40.0, 20.0]})
    with pytest.raises(InputDataError, match=r"'recency' must be 0 where 'frequency' is 0; 1 of 3 rows .*rows 2\)"):
        BetaGeo().fit(X, sample_weight=[1.0, 1.0, 0.0])


def test_set_params_repr_and_clone() -> None:
    est = BetaGeo().set_params(n_starts=2, tol=1e-9)
    assert (est.n_starts, est.tol) == (2, 1e-9)
    assert repr(est) == "BetaGeo(n_starts=2, tol=1e-09)"
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'starts'"):
        est.set_params(starts=3)


@pytest.mark.parametrize(("model", "log_likelihood"), [("BetaGeo", "-9582.43"), ("ParetoNBD", "-9594.97")])
def test_fitting_imports_neither_scikit_learn_nor_scipy_optimize(model: str, log_likelihood: str) -> None:
    """A fit that converges by Newton's method loads neither (a second of start-up)."""
    code = (
        "import sys, pandas as pd\n"
        f"from cxlab.clv import {model}\n"
        f"X = pd.read_csv({str(CDNOW / 'cdnow_customers_summary.csv')!r})\n"
        f"print(round({model}().fit(X).log_likelihood_, 2))\n"
        "print(sorted(m for m in ('sklearn', 'scipy.optimize', 'scipy.stats') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [log_likelihood, "[]"]


def test_pareto_fit_needs_neither_narwhals_pandas_backend_nor_threadpoolctl() -> None:
    """A Pareto/NBD fit on a plain pandas frame reads its columns directly and,
    its sums being einsums, runs without scanning libraries for BLAS threads:
    tens of milliseconds of a fresh process each."""
    code = (
        "import sys, pandas as pd\n"
        "from cxlab.clv import ParetoNBD\n"
        f"X = pd.read_csv({str(CDNOW / 'cdnow_customers_summary.csv')!r})\n"
        "print(round(ParetoNBD().fit(X).log_likelihood_, 2))\n"
        "print(sorted(m for m in ('threadpoolctl', 'narwhals._pandas_like') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    assert lines[1] == "[]"
    assert float(lines[0]) == pytest.approx(-9595.0, abs=0.05)  # Fader, Hardie & Lee (2005): -9,595.0
