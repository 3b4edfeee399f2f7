"""Average run lengths of the three charts, and control limits from a requested ARL0.

All charts watch standardized residuals ``x_t ~ N(delta, 1)``, restart at zero
after an alarm, and are two-sided.

* **CUSUM** (Page 1954), ``S+_t = max(0, S+_{t-1} + x_t - k)``, ``S-`` mirrored,
  alarm when either exceeds ``h``. The one-sided zero-state ARL solves the
  integral equation of Page/Vance by Nystrom's method on Gauss-Legendre nodes::

      L(s) = 1 + L(0) Phi(k - s - delta) + int_0^h L(y) phi(y - s + k - delta) dy

  and the two sides combine as ``1/ARL = 1/ARL+ + 1/ARL-`` (Lucas & Crosier
  1982). Siegmund's (1985) approximation, ``(exp(-2 D b) + 2 D b - 1) / (2 D^2)``
  with ``D = delta - k`` and ``b = h + 1.166``, is returned alongside as a check.
* **EWMA** (Roberts 1959), ``z_t = lam x_t + (1 - lam) z_{t-1}`` with the
  asymptotic limits ``+-L sqrt(lam / (2 - lam))`` of Lucas & Saccucci (1990);
  the ARL solves ``L(z) = 1 + (1/lam) int_{-c}^{c} L(y) phi((y - (1-lam) z)/lam - delta) dy``
  by Nystrom's method (Crowder 1987).
* **Shewhart with Western Electric rules**: one point beyond ``3c``; 2 of 3
  beyond ``2c`` on one side; 4 of 5 beyond ``c`` on one side; ``m`` in a row on
  one side. The ARL is exact from the Markov chain of the last four zones and
  the current run (Champ & Woodall 1987); ``c`` (1 for the textbook rules) is
  solved for ARL0 and ``m`` grows with ARL0 so that the run rule alone cannot
  fire more often than the requested rate allows.

:func:`simulate_run_lengths` measures the same ARLs by simulation with the
production chart code (:mod:`cxlab.monitor.charts`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve
from scipy.special import ndtr

from cxlab.exceptions import InputDataError

Method = Literal["shewhart", "ewma", "cusum"]
METHODS: tuple[str, ...] = ("ewma", "cusum", "shewhart")

#: Default smoothing of the EWMA chart and reference value of the CUSUM: tuned
#: for shifts of about one standard deviation (Lucas & Saccucci 1990; Hawkins &
#: Olwell 1998, ch. 3).
EWMA_LAMBDA = 0.2
CUSUM_K = 0.5
#: Bounds on the in-control ARL a user may ask for (points).
ARL0_MIN, ARL0_MAX = 20.0, 1e7


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@functools.lru_cache(maxsize=8)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def cusum_arl_one_sided(h: float, k: float = CUSUM_K, delta: float = 0.0, nodes: int = 64) -> float:
    """Zero-state ARL of the upper CUSUM for a mean shift ``delta`` (sd units)."""
    u, w = _gauss_legendre(nodes)
    y = 0.5 * h * (u + 1.0)
    wy = 0.5 * h * w
    s = np.concatenate([[0.0], y])  # L(0) then L(y_i)
    kernel = np.empty((s.size, s.size))
    kernel[:, 0] = ndtr(k - s - delta)
    kernel[:, 1:] = wy[None, :] * _phi(y[None, :] - s[:, None] + k - delta)
    arl = np.linalg.solve(np.eye(s.size) - kernel, np.ones(s.size))
    return float(arl[0])


def cusum_arl(h: float, k: float = CUSUM_K, delta: float = 0.0) -> float:
    """Zero-state ARL of the two-sided CUSUM (Lucas & Crosier's combination)."""
    up = cusum_arl_one_sided(h, k, delta)
    down = cusum_arl_one_sided(h, k, -delta)
    return 1.0 / (1.0 / up + 1.0 / down)


def siegmund_arl(h: float, k: float = CUSUM_K, delta: float = 0.0) -> float:
    """Siegmund's approximation of the two-sided CUSUM ARL."""

    def one(d: float) -> float:
        b = h + 1.166
        if abs(d) < 1e-9:
            return b * b
        return (math.exp(-2.0 * d * b) + 2.0 * d * b - 1.0) / (2.0 * d * d)

    return 1.0 / (1.0 / one(delta - k) + 1.0 / one(-delta - k))


def ewma_arl(L: float, lam: float = EWMA_LAMBDA, delta: float = 0.0, nodes: int = 100) -> float:
    """Zero-state ARL of the two-sided EWMA with asymptotic limits ``+-L sigma_z``."""
    c = L * math.sqrt(lam / (2.0 - lam))
    u, w = _gauss_legendre(nodes)
    y = c * u
    wy = c * w
    kernel = (wy[None, :] / lam) * _phi((y[None, :] - (1.0 - lam) * y[:, None]) / lam - delta)
    arl_nodes = np.linalg.solve(np.eye(nodes) - kernel, np.ones(nodes))
    # L(0) from the integral equation itself (Nystrom interpolation).
    k0 = (wy / lam) * _phi(y / lam - delta)
    return float(1.0 + k0 @ arl_nodes)


# --- Shewhart with Western Electric rules ------------------------------------

#: Zones of a point, by side and level: level 1 in (0, c], 2 in (c, 2c], 3 in (2c, 3c].
_ZONES = tuple((s, lv) for s in (1, -1) for lv in (1, 2, 3))


def run_rule_length(arl0: float) -> int:
    """Points in a row on one side that make the run rule (at least 8)."""
    return max(8, math.ceil(math.log2(max(arl0, 2.0))) + 2)


def we_signal(window: tuple[tuple[int, int], ...], run: int, m: int) -> str | None:
    """Which Western Electric rule (2, 3 or 4) fires on ``window`` (oldest first,
    the newest point last, at most five points) with a same-side run ``run``."""
    last3 = window[-3:]
    for side in (1, -1):
        if sum(1 for s, lv in last3 if s == side and lv >= 3) >= 2:
            return "2of3"
        if sum(1 for s, lv in window[-5:] if s == side and lv >= 2) >= 4:
            return "4of5"
    if run >= m:
        return "run"
    return None


@functools.lru_cache(maxsize=16)
def _we_chain(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Transitions of the Western Electric chain: (from, to, zone) triples of
    the non-absorbing moves, and the number of states (state 0 is the start)."""
    start: tuple = ((), 0)
    index = {start: 0}
    frontier = [start]
    rows: list[int] = []
    cols: list[int] = []
    zones: list[int] = []
    while frontier:
        state = frontier.pop()
        window, run = state
        i = index[state]
        for z, (side, level) in enumerate(_ZONES):
            new_window = (*window, (side, level))
            new_run = run + 1 if window and window[-1][0] == side else 1
            if we_signal(new_window, new_run, m):
                continue
            nxt = (new_window[-4:], new_run)
            j = index.get(nxt)
            if j is None:
                j = index[nxt] = len(index)
                frontier.append(nxt)
            rows.append(i)
            cols.append(j)
            zones.append(z)
    return np.array(rows), np.array(cols), np.array(zones), len(index)


def shewhart_arl(c: float, delta: float = 0.0, m: int = 8) -> float:
    """Zero-state ARL of the Shewhart chart with Western Electric rules, zones
    at ``c``, ``2c``, ``3c`` standard deviations and a run rule of ``m``."""
    edges = np.array([0.0, c, 2 * c, 3 * c])
    up = ndtr(edges[1:] - delta) - ndtr(edges[:-1] - delta)
    down = ndtr(-edges[:-1] - delta) - ndtr(-edges[1:] - delta)
    probs = np.concatenate([up, down])
    rows, cols, zones, n = _we_chain(m)
    q = sparse.csr_matrix((probs[zones], (rows, cols)), shape=(n, n))
    arl = spsolve((sparse.identity(n, format="csr") - q).tocsc(), np.ones(n))
    return float(arl[0])


# --- limits ----------------------------------------------------------------


def check_arl0(arl0: float) -> float:
    """Validate a requested in-control ARL."""
    if not (isinstance(arl0, (int, float)) and math.isfinite(arl0) and ARL0_MIN <= arl0 <= ARL0_MAX):
        raise InputDataError(
            f"arl0: the in-control average run length must be a number of points between "
            f"{ARL0_MIN:,.0f} and {ARL0_MAX:,.0f}; got {arl0!r}. The default, 370, matches a "
            "3-sigma Shewhart chart."
        )
    return float(arl0)


def _solve(f, target: float, lo: float, hi: float) -> float:  # noqa: ANN001
    """The limit where ``f`` (ARL, increasing in the limit) equals ``target``:
    regula falsi (Illinois) on log ARL, which is smooth and nearly linear in
    the limit, so a handful of ARL evaluations suffice."""
    goal = math.log(target)
    flo, fhi = math.log(f(lo)) - goal, math.log(f(hi)) - goal
    side = 0
    for _ in range(60):
        mid = (lo * fhi - hi * flo) / (fhi - flo)
        fmid = math.log(f(mid)) - goal
        if abs(fmid) < 1e-7:
            return mid
        if fmid < 0:
            lo, flo = mid, fmid
            if side == -1:
                fhi /= 2
            side = -1
        else:
            hi, fhi = mid, fmid
            if side == 1:
                flo /= 2
            side = 1
    return mid


@dataclass(frozen=True)
class Limits:
    """Control limits of one chart for one requested in-control ARL.

    Attributes
    ----------
    method
        ``ewma``, ``cusum`` or ``shewhart``.
    arl0
        The in-control ARL (points) the limits were solved for.
    limit
        EWMA: ``L`` (limits at ``+-L sqrt(lam/(2-lam))``); CUSUM: ``h``;
        Shewhart: ``3c``, the action limit in standard deviations.
    param
        EWMA: ``lam``; CUSUM: ``k``; Shewhart: the run-rule length ``m``.
    arl0_computed
        The ARL of these limits by the integral equation / Markov chain.
    arl0_approx
        CUSUM only: Siegmund's approximation at the same ``h``; else NaN.
    """

    method: str
    arl0: float
    limit: float
    param: float
    arl0_computed: float
    arl0_approx: float = float("nan")

    def arl(self, delta: float) -> float:
        """ARL of these limits at a mean shift of ``delta`` standard deviations."""
        if self.method == "ewma":
            return ewma_arl(self.limit, self.param, delta)
        if self.method == "cusum":
            return cusum_arl(self.limit, self.param, delta)
        return shewhart_arl(self.limit / 3.0, delta, int(self.param))


@functools.lru_cache(maxsize=256)
def _limits(method: str, arl0: float, param: float) -> Limits:
    if method == "ewma":
        L = _solve(lambda v: ewma_arl(v, param), arl0, 1.0, 5.0)
        return Limits("ewma", arl0, L, param, ewma_arl(L, param))
    if method == "cusum":
        h = _solve(lambda v: cusum_arl(v, param), arl0, 0.05, 30.0)
        return Limits("cusum", arl0, h, param, cusum_arl(h, param), siegmund_arl(h, param))
    m = run_rule_length(arl0)
    c = _solve(lambda v: shewhart_arl(v, 0.0, m), arl0, 0.5, 2.2)
    return Limits("shewhart", arl0, 3.0 * c, float(m), shewhart_arl(c, 0.0, m))


def limits_for(method: Method, arl0: float, *, lam: float = EWMA_LAMBDA, k: float = CUSUM_K) -> Limits:
    """Control limits of ``method`` whose in-control ARL is ``arl0`` points."""
    if method not in METHODS:
        raise InputDataError(f"method: expected one of {', '.join(METHODS)}; got {method!r}.")
    arl0 = check_arl0(arl0)
    if not 0.01 <= lam <= 1.0:
        raise InputDataError(f"lam: the EWMA smoothing must lie in [0.01, 1]; got {lam!r}.")
    if not 0.0 <= k <= 3.0:
        raise InputDataError(f"k: the CUSUM reference value must lie in [0, 3] sd; got {k!r}.")
    param = {"ewma": lam, "cusum": k, "shewhart": 0.0}[method]
    return _limits(method, round(arl0, 6), float(param))


def arl0_for_rate(false_alarms_per_year: float, n_series: int, points_per_year: float) -> float:
    """In-control ARL per series so that all series together raise
    ``false_alarms_per_year`` false alarms a year on average.

    Expected alarm counts add over series whatever their dependence, so the
    rate splits evenly (Bonferroni on rates): each series may raise
    ``F / n_series`` a year, i.e. one every ``n_series * points_per_year / F``
    points.
    """
    if not (math.isfinite(false_alarms_per_year) and 1e-4 <= false_alarms_per_year <= 1e4):
        raise InputDataError(
            "false_alarms_per_year: expected a number between 0.0001 and 10,000; "
            f"got {false_alarms_per_year!r}."
        )
    return n_series * points_per_year / false_alarms_per_year
