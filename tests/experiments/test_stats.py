"""Statistics on sufficient statistics: scipy oracles, multiplicity, SRM, power by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cxlab.exceptions import InputDataError
from cxlab.experiments.stats import (
    ArmStats, adjust_p_values, arm_stats, compare, minimum_detectable_effect, sample_size, srm_p_value,
)


def _suff(y: np.ndarray) -> ArmStats:
    return arm_stats(y.size, [y.sum()], [[(y * y).sum()]])


def test_welch_equals_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(2, 1, 300), rng.lognormal(2.1, 1.2, 250)
    res = compare(_suff(a), _suff(b))
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert res.p_value[0] == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = ref.confidence_interval(0.95)
    assert (res.lift_ci_low[0], res.lift_ci_high[0]) == pytest.approx((lo, hi), rel=1e-10)


def test_ratio_metric_equals_mean_when_denominator_is_one() -> None:
    rng = np.random.default_rng(2)
    ys = [rng.gamma(2, 3, n) for n in (200, 230)]
    ratio = [arm_stats(y.size, [y.sum(), y.size], [[(y * y).sum(), y.sum()], [y.sum(), y.size]]) for y in ys]
    r = compare(*ratio, ratio=True)
    m = compare(_suff(ys[0]), _suff(ys[1]))
    for field in ("lift", "lift_ci_low", "lift_ci_high", "p_value", "rel_lift", "rel_lift_ci_low"):
        np.testing.assert_allclose(getattr(r, field), getattr(m, field), rtol=1e-9)


def test_cuped_with_uncorrelated_covariate_changes_little_and_correlated_one_helps() -> None:
    rng = np.random.default_rng(3)
    out = []
    for corr in (0.0, 0.8):
        arms = []
        for n in (4000, 4000):
            x = rng.normal(size=n)
            y = corr * x + np.sqrt(1 - corr**2) * rng.normal(size=n) + 5
            v = np.column_stack([y, x])
            arms.append(ArmStats(np.array([n]), v.sum(0)[None], (v.T @ v)[None]))
        out.append(compare(*arms).variance_reduction[0])
    assert abs(out[0]) < 0.01
    assert out[1] == pytest.approx(0.64, abs=0.03)  # rho squared


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjusted_p_values_match_the_textbook_procedures(method: str) -> None:
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, np.nan])
    got = adjust_p_values(p, method)
    ok = p[:-1]
    m = ok.size
    order = np.argsort(ok)
    if method == "holm":
        want = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * ok[order]))
    else:
        want = np.minimum(1, np.minimum.accumulate((m / np.arange(1, m + 1) * ok[order])[::-1])[::-1])
    np.testing.assert_allclose(got[:-1][order], want)
    assert np.isnan(got[-1])
    # Holm never rejects more than it should: adjusted >= raw, monotone in the raw p-values
    assert np.all(got[:-1] >= ok) and np.all(np.diff(got[:-1][order]) >= -1e-15)
    with pytest.raises(InputDataError, match="holm"):
        adjust_p_values(p, "bonferonni")


def test_srm_flags_two_percent_missing_from_one_arm() -> None:
    rng = np.random.default_rng(4)
    arm = rng.integers(0, 2, 400_000)
    counts = np.bincount(arm)
    assert srm_p_value(counts) > 0.001
    counts[1] -= int(0.02 * counts[1])
    assert srm_p_value(counts) < 0.001
    # an intended 30/70 split is no mismatch
    assert srm_p_value([3000, 7000], [0.3, 0.7]) == pytest.approx(1.0)
    with pytest.raises(InputDataError, match="non-negative"):
        srm_p_value([10, 10], [-1, 2])


def test_sample_size_gives_the_promised_power() -> None:
    """Simulated Welch tests at the computed size reject about 80% of the time."""
    mean, sd, mde = 10.0, 8.0, 0.05
    n = sample_size(mean, sd**2, mde=mde, power=0.8)
    rng = np.random.default_rng(5)
    sims = 4000
    # means and variances of normal samples, drawn directly (sufficient statistics)
    ma = rng.normal(mean, sd / np.sqrt(n), sims)
    mb = rng.normal(mean * (1 + mde), sd / np.sqrt(n), sims)
    va = sd**2 * rng.chisquare(n - 1, sims) / (n - 1)
    vb = sd**2 * rng.chisquare(n - 1, sims) / (n - 1)
    mk = lambda m, v: ArmStats(np.full(sims, float(n)), (m * n)[:, None], ((v * (n - 1) + n * m * m))[:, None, None])  # noqa: E731
    power = np.mean(compare(mk(ma, va), mk(mb, vb)).p_value < 0.05)
    assert power == pytest.approx(0.8, abs=0.025)
    assert float(minimum_detectable_effect(mean, sd**2, n)) == pytest.approx(mde, rel=1e-2)
    assert sample_size(mean, sd**2, mde=mde, variance_reduction=0.5) == pytest.approx(n / 2, rel=1e-2)
    assert sample_size(mean, sd**2, mde=mde, arms=4) > n  # three comparisons share the level
    with pytest.raises(InputDataError, match="positive variance"):
        sample_size(0.0, 1.0, mde=0.1)
