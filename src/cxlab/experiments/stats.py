"""Statistics of an A/B test, finished in numpy from per-arm sufficient statistics.

Every arm (of one metric and one segment) is summarised by the number of units
``n``, the sums ``s`` of a few per-unit variables and the matrix ``Q`` of sums
of their cross-products. Variable 0 is the metric's per-unit numerator ``y``;
for a ratio metric variable 1 is its denominator ``d``; the remaining variables
are covariates (the pre-period value of the metric, named customer
attributes). Nothing else about the units is needed.

The conventions are GrowthBook's ``gbstats`` (0.8.0, frequentist engine), so
that the two agree to the last digit where they overlap
(``tests/experiments/test_gbstats.py``):

- per-unit variances with ``n - 1``; the mean of a ratio metric is ``Σy / Σd``
  and its variance per unit is the delta-method ``g' Σ g`` with
  ``g = (1/d̄, -ȳ/d̄²)``;
- absolute lift ``m_b - m_a`` with variance ``v_b/n_b + v_a/n_a``; relative
  lift ``(m_b - m_a) / m_a`` with the delta-method variance
  ``v_b / (m_a² n_b) + v_a m_b² / (m_a⁴ n_a)``;
- Welch-Satterthwaite degrees of freedom, Student-t intervals and p-values;
- CUPED (regression adjustment): one ``θ`` per pair of arms, from the pooled
  units of both arms; adjusted mean ``m - θ'x̄``; relative lift divided by the
  *unadjusted* control mean;
- sequential: the asymptotic confidence sequence of Waudby-Smith et al.
  (2023, eq. 9 and 161) with GrowthBook's tuning parameter ``N* = 5000``.

Where cxlab goes further than gbstats 0.8.0 (several covariates at once, CUPED
on ratio metrics by linearization) it reduces to gbstats' formula when there is
one covariate and a mean metric. ``docs/experiments.md`` lists where defaults
differ (cxlab's ``p_value`` is that of the absolute lift, gbstats reports the
one of the relative lift, which cxlab gives as ``rel_p_value``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special as _sp  # the distribution functions only: scipy.stats costs ~1 s of start-up

from cxlab.exceptions import InputDataError

FloatArray = NDArray[np.float64]

#: GrowthBook's default tuning of the asymptotic confidence sequence: the total
#: sample size at which the sequence is tightest.
SEQUENTIAL_TUNING = 5000.0


@dataclass(frozen=True)
class ArmStats:
    """Sufficient statistics of one arm for ``G`` groups (metric x segment ...).

    Attributes
    ----------
    n : (G,) units
    s : (G, p) sums of the per-unit variables
    q : (G, p, p) sums of their cross-products
    """

    n: FloatArray
    s: FloatArray
    q: FloatArray

    def __add__(self, other: ArmStats) -> ArmStats:
        return ArmStats(self.n + other.n, self.s + other.s, self.q + other.q)

    @property
    def mean(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.s / self.n[:, None]

    @property
    def cov(self) -> FloatArray:
        """Per-unit covariance matrix (``n - 1`` denominator); 0 below 2 units."""
        n = self.n[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (self.q - self.s[:, :, None] * self.s[:, None, :] / n) / (n - 1.0)
        return np.where(n > 1, c, 0.0)


def arm_stats(n: ArrayLike, s: ArrayLike, q: ArrayLike) -> ArmStats:
    """Build :class:`ArmStats` from arrays, adding the group axis when absent."""
    n_ = np.atleast_1d(np.asarray(n, dtype=np.float64))
    s_ = np.asarray(s, dtype=np.float64).reshape(n_.size, -1)
    p = s_.shape[1]
    return ArmStats(n_, s_, np.asarray(q, dtype=np.float64).reshape(n_.size, p, p))


@dataclass(frozen=True)
class Comparison:
    """One arm against control, for ``G`` groups. All fields are (G,) arrays."""

    mean_control: FloatArray
    mean_arm: FloatArray
    lift: FloatArray
    lift_se: FloatArray
    lift_ci_low: FloatArray
    lift_ci_high: FloatArray
    p_value: FloatArray
    rel_lift: FloatArray
    rel_lift_se: FloatArray
    rel_lift_ci_low: FloatArray
    rel_lift_ci_high: FloatArray
    rel_p_value: FloatArray
    dof: FloatArray
    theta: FloatArray  # (G, k) regression coefficients (0 without covariates)
    variance_reduction: FloatArray  # 1 - Var(adjusted lift) / Var(unadjusted lift)


def _metric_parts(st: ArmStats, ratio: bool) -> tuple[FloatArray, FloatArray, int]:
    """Metric value per group and the delta-method gradient on its variables."""
    mu = st.mean
    with np.errstate(divide="ignore", invalid="ignore"):
        if ratio:
            m = mu[:, 0] / mu[:, 1]
            g = np.stack([1.0 / mu[:, 1], -m / mu[:, 1]], axis=1)
        else:
            m = mu[:, 0]
            g = np.ones((mu.shape[0], 1))
    return m, g, g.shape[1]


def _cov(st: ArmStats, binary: tuple[int, ...]) -> FloatArray:
    """Per-unit covariances; variables listed in ``binary`` (0/1 values) get the
    binomial variance ``p(1 - p)`` (denominator ``n``), as gbstats'
    ``ProportionStatistic``."""
    c = st.cov
    if binary:
        c = c.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(st.n > 1, (st.n - 1.0) / st.n, 0.0)
        for i in binary:
            if i < c.shape[1]:
                c[:, i, i] *= f
    return c


def _adjusted(
    st: ArmStats, ratio: bool, theta: FloatArray, binary: tuple[int, ...] = ()
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Unadjusted and adjusted metric value and per-unit variance of one arm."""
    m, g, k0 = _metric_parts(st, ratio)
    c = _cov(st, binary)
    v = np.einsum("gi,gij,gj->g", g, c[:, :k0, :k0], g)
    if theta.shape[1] == 0:
        return m, m, v, v
    cxm = np.einsum("gxi,gi->gx", c[:, k0:, :k0], g)  # Cov(x, linearized metric)
    m_adj = m - np.einsum("gx,gx->g", theta, st.mean[:, k0:])
    v_adj = (
        v
        - 2.0 * np.einsum("gx,gx->g", theta, cxm)
        + np.einsum("gx,gxy,gy->g", theta, c[:, k0:, k0:], theta)
    )
    return m, m_adj, v, v_adj


def _theta(a: ArmStats, b: ArmStats, ratio: bool, binary: tuple[int, ...] = ()) -> FloatArray:
    """Regression coefficients of the (linearized) metric on the covariates.

    Pooled over the units of both arms, as ``gbstats.compute_theta``: covariates
    or metrics without variance get coefficient 0 (gbstats then falls back to
    the unadjusted test; with one covariate this is the same).
    """
    return _theta_joint(a + b, ratio, binary)


def _theta_joint(joint: ArmStats, ratio: bool, binary: tuple[int, ...]) -> FloatArray:
    _, g, k0 = _metric_parts(joint, ratio)
    c = _cov(joint, binary)
    k = c.shape[1] - k0
    theta = np.zeros((c.shape[0], k))
    if k == 0:
        return theta
    cxm = np.einsum("gxi,gi->gx", c[:, k0:, :k0], g)
    vm = np.einsum("gi,gij,gj->g", g, c[:, :k0, :k0], g)
    for i in range(c.shape[0]):
        cxx = c[i, k0:, k0:]
        keep = np.diag(cxx) > 0
        if not np.isfinite(vm[i]) or vm[i] <= 0 or not keep.any() or not np.all(np.isfinite(cxx)):
            continue
        sub = cxx[np.ix_(keep, keep)]
        theta[i, keep] = np.linalg.lstsq(sub, cxm[i, keep], rcond=None)[0]
    return theta


def unit_moments(
    st: ArmStats, *, ratio: bool = False, binary: tuple[int, ...] = ()
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Metric value, per-unit variance, and that variance after regression on the covariates.

    For planning: ``1 - adjusted / variance`` is the share of variance CUPED
    would remove (``ρ²`` with one covariate).
    """
    theta = _theta_joint(st, ratio, binary)
    m, _, v, v_adj = _adjusted(st, ratio, theta, binary)
    return m, v, v_adj


def welch_dof(v_a: ArrayLike, n_a: ArrayLike, v_b: ArrayLike, n_b: ArrayLike) -> FloatArray:
    """Welch-Satterthwaite degrees of freedom from per-unit variances and sizes."""
    va, na, vb, nb = (np.asarray(x, dtype=np.float64) for x in (v_a, n_a, v_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (vb / nb + va / na) ** 2 / (vb**2 / (nb**2 * (nb - 1.0)) + va**2 / (na**2 * (na - 1.0)))


def _t_test(est: FloatArray, var: FloatArray, dof: FloatArray, alpha: float):  # noqa: ANN202
    se = np.sqrt(np.where(var > 0, var, np.nan))
    half = _sp.stdtrit(dof, 1.0 - alpha / 2.0) * se
    p = 2.0 * _sp.stdtr(dof, -np.abs(est / se))
    return se, est - half, est + half, p


def compare(
    control: ArmStats,
    arm: ArmStats,
    *,
    ratio: bool = False,
    binary: tuple[int, ...] = (),
    alpha: float = 0.05,
    sequential: bool = False,
    tuning: float = SEQUENTIAL_TUNING,
) -> Comparison:
    """Compare ``arm`` with ``control`` (Welch t, delta method, CUPED, sequential).

    Parameters
    ----------
    control, arm
        Sufficient statistics. Variables: ``y`` (and ``d`` when ``ratio``), then
        covariates; with covariates the lift is regression-adjusted (CUPED).
    ratio
        The metric is ``Σy / Σd`` (delta method) rather than the mean of ``y``.
    binary
        Indices of 0/1 variables (a conversion and its pre-period value): their
        variance is ``p(1 - p)``, as gbstats' ``ProportionStatistic``.
    alpha
        Two-sided level: intervals cover with probability ``1 - alpha``.
    sequential
        Always-valid intervals and p-values (asymptotic confidence sequence,
        Waudby-Smith et al. 2023) that stay valid however often one looks.
    tuning
        ``N*`` of the confidence sequence (GrowthBook's default 5,000).
    """
    if not 0.0 < alpha < 1.0:
        raise InputDataError(f"compare: alpha must be in (0, 1); got {alpha!r}.")
    theta = _theta(control, arm, ratio, binary)
    m_a, ma_adj, v_a0, v_a = _adjusted(control, ratio, theta, binary)
    m_b, mb_adj, v_b0, v_b = _adjusted(arm, ratio, theta, binary)
    na, nb = control.n, arm.n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = mb_adj - ma_adj
        var = v_b / nb + v_a / na
        var0 = v_b0 / nb + v_a0 / na
        rel = lift / m_a
        var_rel = v_b / (m_a**2 * nb) + v_a * m_b**2 / (m_a**4 * na)
        reduction = np.where(var0 > 0, 1.0 - var / var0, np.nan)
        dof = welch_dof(v_a, na, v_b, nb)
        if sequential:
            n_tot = na + nb
            se, lo, hi, p = _sequential(lift, var, n_tot, alpha, tuning)
            rse, rlo, rhi, rp = _sequential(rel, var_rel, n_tot, alpha, tuning)
        else:
            se, lo, hi, p = _t_test(lift, var, dof, alpha)
            rse, rlo, rhi, rp = _t_test(rel, var_rel, dof, alpha)
    return Comparison(
        m_a, m_b, lift, se, lo, hi, p, rel, rse, rlo, rhi, rp, dof, theta, reduction
    )


def _sequential(est: FloatArray, var: FloatArray, n: FloatArray, alpha: float, tuning: float):  # noqa: ANN202
    """Asymptotic confidence sequence and its always-valid p-value.

    Waudby-Smith, Arbour, Sinha, Kennedy, Ramdas (2023), *Time-uniform central
    limit theory and asymptotic confidence sequences*, eq. 9 (interval) and
    eq. 155 (p-value), with ``rho`` from eq. 161 for the tuning size ``N*``.
    ``var`` is the variance of the estimate; ``n`` the units of both arms.
    """
    rho2 = (-2.0 * np.log(alpha) + np.log(-2.0 * np.log(alpha) + 1.0)) / tuning
    s2 = var * n
    nr = n * rho2 + 1.0
    half = np.sqrt(s2) * np.sqrt(2.0 * nr * np.log(np.sqrt(nr) / alpha) / (n * n * rho2))
    st2 = est**2 * n / var
    p = np.minimum(1.0, np.sqrt(nr) * np.exp(-rho2 * st2 / (2.0 * nr)))
    se = np.sqrt(np.where(var > 0, var, np.nan))
    return se, est - half, est + half, np.where(var > 0, p, np.nan)


def srm_p_value(observed: ArrayLike, expected_share: ArrayLike | None = None) -> float:
    """Chi-square test of the observed units per arm against the intended split.

    ``expected_share`` defaults to equal shares; it is normalized to sum to 1.
    The same as ``gbstats.utils.check_srm``.
    """
    obs = np.asarray(observed, dtype=np.float64)
    share = np.ones_like(obs) if expected_share is None else np.asarray(expected_share, dtype=np.float64)
    if obs.size < 2 or obs.sum() <= 0:
        return 1.0
    if share.shape != obs.shape or np.any(share < 0) or share.sum() <= 0:
        raise InputDataError(
            f"srm: expected shares must be non-negative, one per arm ({obs.size}); got {share.tolist()}."
        )
    keep = share > 0
    exp = share[keep] / share.sum() * obs.sum()
    x2 = float(np.sum((obs[keep] - exp) ** 2 / exp))
    return float(_sp.chdtrc(obs.size - 1, x2))


def adjust_p_values(p: ArrayLike, method: str = "holm") -> FloatArray:
    """Holm (family-wise) or Benjamini-Hochberg (false-discovery) adjusted p-values.

    NaN p-values are left out of the family and stay NaN.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    arr = np.asarray(p, dtype=np.float64)
    out = np.full_like(arr, np.nan)
    ok = np.isfinite(arr)
    x = arr[ok]
    m = x.size
    if m == 0:
        return out
    order = np.argsort(x, kind="stable")
    xs = x[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * xs)
    elif method in ("bh", "fdr_bh"):
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1) * xs[::-1]))[::-1]
    elif method == "none":
        adj = xs
    else:
        raise InputDataError(f"adjust_p_values: method must be 'holm', 'bh' or 'none'; got {method!r}.")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def sample_size(
    mean: float,
    variance: float,
    *,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    relative: bool = True,
    variance_reduction: float = 0.0,
) -> int:
    """Units per arm to detect a lift of ``mde`` with a two-sided Welch test.

    ``n = (z_{1-α/2} + z_{power})² · 2σ²(1 - ρ²) / δ²`` with ``δ = mde · mean``
    when ``relative`` (else ``δ = mde``), for equal arms, each compared with
    control; ``variance_reduction`` (CUPED's ``ρ²``) shrinks ``σ²``. With more
    than two arms the level is split Bonferroni-style over the ``arms - 1``
    comparisons (Holm rejects at least as often).
    """
    for name, val, lo, hi in (("alpha", alpha, 0, 1), ("power", power, 0, 1), ("variance_reduction", variance_reduction, -1e-12, 1)):
        if not lo < val < hi and not (name == "variance_reduction" and val == 0):
            raise InputDataError(f"sample_size: {name} must be in ({lo}, {hi}); got {val!r}.")
    if arms < 2 or arms > 100:
        raise InputDataError(f"sample_size: arms must be between 2 and 100; got {arms!r}.")
    delta = abs(mde * mean) if relative else abs(mde)
    if not np.isfinite(delta) or delta <= 0 or not np.isfinite(variance) or variance <= 0:
        raise InputDataError(
            f"sample_size: needs a non-zero effect and a positive variance; got effect {delta!r}, "
            f"variance {variance!r} (a metric with mean 0 has no relative effect: give an absolute --mde)."
        )
    a = alpha / (arms - 1)
    z = _sp.ndtri(1.0 - a / 2.0) + _sp.ndtri(power)
    return int(np.ceil(z * z * 2.0 * variance * (1.0 - variance_reduction) / delta**2))


def minimum_detectable_effect(
    mean: float, variance: float, n_per_arm: ArrayLike, *, alpha: float = 0.05, power: float = 0.8, arms: int = 2
) -> FloatArray:
    """Relative lift detectable with ``n_per_arm`` units per arm (inverse of :func:`sample_size`)."""
    n = np.asarray(n_per_arm, dtype=np.float64)
    a = alpha / (arms - 1)
    z = _sp.ndtri(1.0 - a / 2.0) + _sp.ndtri(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        return z * np.sqrt(2.0 * variance / n) / abs(mean)
