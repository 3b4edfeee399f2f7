"""The three control charts as vectorized step functions over many series at once.

Each chart keeps its state in a dict of arrays (one entry per series) and
``step(state, x, valid, t)`` advances every series by one point: a series whose
point is missing (``valid`` false: a closed day, a rate with no answers) keeps
its state. After an alarm the chart restarts from zero, so the in-control
alarm rate is one per ARL0 points. The same code runs the charts on data
(:func:`run_chart`) and in the calibration by simulation
(:func:`simulate_run_lengths`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cxlab.monitor.arl import Limits

State = dict[str, np.ndarray]


@dataclass(frozen=True)
class Step:
    """What one step gives per series: the statistic, whether it alarmed, the
    direction (+1 up, -1 down) and the Western Electric rule (Shewhart)."""

    stat: np.ndarray
    alarm: np.ndarray
    direction: np.ndarray
    rule: np.ndarray | None = None


class Chart:
    """Base class: ``init``, ``step`` and the plotted limit of the statistic."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    @property
    def bound(self) -> float:
        """The statistic's alarm bound (plotted as +-bound)."""
        raise NotImplementedError

    def init(self, n: int) -> State:
        raise NotImplementedError

    def step(self, state: State, x: np.ndarray, valid: np.ndarray, t: int) -> Step:
        raise NotImplementedError


class EWMAChart(Chart):
    """``z_t = lam x_t + (1 - lam) z_{t-1}``, alarm when ``|z_t| > L sqrt(lam/(2-lam))``."""

    @property
    def bound(self) -> float:
        lam = self.limits.param
        return self.limits.limit * math.sqrt(lam / (2.0 - lam))

    def init(self, n: int) -> State:
        return {"z": np.zeros(n)}

    def step(self, state: State, x: np.ndarray, valid: np.ndarray, t: int) -> Step:
        lam = self.limits.param
        z = np.where(valid, lam * np.where(valid, x, 0.0) + (1.0 - lam) * state["z"], state["z"])
        alarm = valid & (np.abs(z) > self.bound)
        state["z"] = np.where(alarm, 0.0, z)
        return Step(z, alarm, np.sign(z).astype(np.int8))


class CUSUMChart(Chart):
    """Two-sided tabular CUSUM with reference ``k`` and decision interval ``h``."""

    @property
    def bound(self) -> float:
        return self.limits.limit

    def init(self, n: int) -> State:
        return {"up": np.zeros(n), "down": np.zeros(n)}

    def step(self, state: State, x: np.ndarray, valid: np.ndarray, t: int) -> Step:
        k, h = self.limits.param, self.limits.limit
        xv = np.where(valid, x, 0.0)
        up = np.where(valid, np.maximum(0.0, state["up"] + xv - k), state["up"])
        down = np.where(valid, np.maximum(0.0, state["down"] - xv - k), state["down"])
        alarm_up, alarm_down = up > h, down > h
        alarm = valid & (alarm_up | alarm_down)
        direction = np.where(up >= down, 1, -1).astype(np.int8)
        stat = np.where(up >= down, up, -down)
        state["up"] = np.where(alarm, 0.0, up)
        state["down"] = np.where(alarm, 0.0, down)
        return Step(stat, alarm, direction)


#: Western Electric rule codes in the ``rule`` output.
WE_RULES = ("", "1 beyond 3 sigma", "2 of 3 beyond 2 sigma", "4 of 5 beyond 1 sigma", "run on one side")


class ShewhartChart(Chart):
    """Shewhart chart of the residuals with the four Western Electric rules,
    zones at ``c, 2c, 3c`` (``3c`` is ``limits.limit``) and a run rule of
    ``m = limits.param`` points; exactly the chain of :func:`~cxlab.monitor.arl.shewhart_arl`."""

    @property
    def bound(self) -> float:
        return self.limits.limit

    def init(self, n: int) -> State:
        # Bit masks of the last points beyond 2c (3 points) and beyond c (5 points)
        # on each side, the current run length and its side.
        z = np.zeros(n, dtype=np.int64)
        return {"u2": z.copy(), "d2": z.copy(), "u1": z.copy(), "d1": z.copy(), "run": z.copy(),
                "side": z.copy()}

    def step(self, state: State, x: np.ndarray, valid: np.ndarray, t: int) -> Step:
        c = self.limits.limit / 3.0
        m = int(self.limits.param)
        xv = np.where(valid, x, 0.0)
        side = np.where(xv >= 0.0, 1, -1)
        u2 = ((state["u2"] << 1) | (xv > 2 * c)) & 0b111
        d2 = ((state["d2"] << 1) | (xv < -2 * c)) & 0b111
        u1 = ((state["u1"] << 1) | (xv > c)) & 0b11111
        d1 = ((state["d1"] << 1) | (xv < -c)) & 0b11111
        run = np.where(state["side"] == side, state["run"] + 1, 1)
        two_up, two_dn = _TWO[u2], _TWO[d2]
        four_up, four_dn = _FOUR[u1], _FOUR[d1]
        beyond = np.abs(xv) > 3 * c
        two, four = two_up | two_dn, four_up | four_dn
        # The first rule that fires, in the order of WE_RULES, and its side.
        rule = np.where(beyond, 1, np.where(two, 2, np.where(four, 3, np.where(run >= m, 4, 0)))).astype(np.int8)
        direction = np.where(beyond | ~(two | four), side,
                             np.where(two, np.where(two_up, 1, -1), np.where(four_up, 1, -1))).astype(np.int8)
        alarm = valid & (rule > 0)
        keep = ~valid
        reset = alarm | keep
        for key, new in (("u2", u2), ("d2", d2), ("u1", u1), ("d1", d1), ("run", run), ("side", side)):
            # an alarm restarts the chart; a missing point leaves it as it was
            state[key] = np.where(reset, np.where(keep, state[key], 0), new)
        return Step(xv, alarm, direction, np.where(valid, rule, 0).astype(np.int8))


#: Number of set bits of 0..31, and whether they make 2 of 3 / 4 of 5.
_BITS = np.array([bin(i).count("1") for i in range(32)])
_TWO, _FOUR = _BITS >= 2, _BITS >= 4


CHARTS: dict[str, type[Chart]] = {"ewma": EWMAChart, "cusum": CUSUMChart, "shewhart": ShewhartChart}


def make_chart(limits: Limits) -> Chart:
    """The chart object for ``limits.method``."""
    return CHARTS[limits.method](limits)


@dataclass(frozen=True)
class ChartRun:
    """A chart run over series x time: statistic, alarms, direction, rule."""

    stat: np.ndarray
    alarm: np.ndarray
    direction: np.ndarray
    rule: np.ndarray


def run_chart(limits: Limits, x: np.ndarray, first: int = 0) -> ChartRun:
    """Run the chart over ``x`` (series x time, NaN = no point) from column ``first``.

    Columns before ``first`` (the training period) are not charted: their
    statistic is NaN and they raise no alarm.
    """
    chart = make_chart(limits)
    n, T = x.shape
    state = chart.init(n)
    stat = np.full((n, T), np.nan)
    alarm = np.zeros((n, T), dtype=bool)
    direction = np.zeros((n, T), dtype=np.int8)
    rule = np.zeros((n, T), dtype=np.int8)
    for t in range(first, T):
        valid = ~np.isnan(x[:, t])
        s = chart.step(state, x[:, t], valid, t)
        stat[:, t] = np.where(valid, s.stat, np.nan)
        alarm[:, t] = s.alarm
        direction[:, t] = s.direction
        if s.rule is not None:
            rule[:, t] = s.rule
    return ChartRun(stat, alarm, direction, rule)


def change_start(resid: np.ndarray, weight: np.ndarray, end: int, begin: int, direction: int) -> int:
    """Maximum-likelihood start of one step change in the mean of
    ``resid[begin:end+1]``, points of known variance ``1 / weight`` (NaN or
    zero weight: no point).

    The model (Hawkins, Qiu & Kang 2003, with unequal known variances): the
    points from ``begin`` (the first in-control point: the start of the data
    or the point after the previous alarm) are independent normal with one
    unknown mean up to ``tau - 1`` and another from ``tau`` to ``end`` (the
    alarm). Profiling out both means, the log-likelihood ratio of a change at
    ``tau`` is, up to a factor 1/2::

        W_before W_after / (W_before + W_after) * (mean_after - mean_before)^2

    with ``W`` the summed weights and ``mean`` the weighted means of the two
    segments. The estimate is the ``tau`` maximizing it among the splits whose
    means differ in ``direction`` (+1 up, -1 down). Both means are estimated:
    a baseline that sits a little off for weeks (a refit lagging a growing
    count, a chance run of high days) does not pull the start back to the
    beginning of that bias, as the known-mean estimate (Pignatiello & Samuel
    2001) and Page's last zero of the CUSUM do. No window is imposed: every
    point since the last in-control restart counts. With fewer than two
    points, or no split in ``direction``, the start is the alarm's point.
    """
    w = weight[begin : end + 1]
    r = resid[begin : end + 1]
    idx = np.flatnonzero(~np.isnan(r) & (w > 0))
    if idx.size < 2:
        return end if idx.size == 0 else begin + int(idx[0])
    w, r = w[idx], r[idx]
    wr = w * r
    w_before = np.cumsum(w)[:-1]  # splits before point j = 1..n-1
    s_before = np.cumsum(wr)[:-1]
    w_after = w.sum() - w_before
    diff = (wr.sum() - s_before) / w_after - s_before / w_before
    score = np.where(direction * diff > 0, w_before * w_after / (w_before + w_after) * diff**2, -1.0)
    j = int(np.argmax(score))
    return begin + int(idx[j + 1]) if score[j] >= 0 else end


Sampler = Callable[[np.random.Generator, int, float], np.ndarray]


def gaussian_sampler(rng: np.random.Generator, n: int, delta: float) -> np.ndarray:
    """Standard normal residuals shifted by ``delta``."""
    return rng.standard_normal(n) + delta


def binomial_sampler(p: float, answers: int) -> Sampler:
    """Residuals of a proportion from ``answers`` answers, standardized with the
    in-control ``p(1-p)/n``; ``delta`` shifts the true proportion by ``delta`` sd."""
    sd = math.sqrt(p * (1.0 - p) / answers)

    def draw(rng: np.random.Generator, n: int, delta: float) -> np.ndarray:
        q = min(max(p + delta * sd, 0.0), 1.0)
        return (rng.binomial(answers, q, size=n) / answers - p) / sd

    return draw


def simulate_run_lengths(
    limits: Limits,
    *,
    runs: int = 4000,
    delta: float = 0.0,
    sampler: Sampler = gaussian_sampler,
    random_state: int | np.random.Generator | None = 0,
    max_points: int | None = None,
) -> np.ndarray:
    """Run lengths (points to the first alarm, zero start) of ``runs`` charts
    simulated together; runs still silent after ``max_points`` (default
    ``20 * arl0``) count as ``max_points``."""
    rng = np.random.default_rng(random_state)
    chart = make_chart(limits)
    cap = max_points or int(20 * limits.arl0)
    state = chart.init(runs)
    ids = np.arange(runs)
    live = np.ones(runs, dtype=bool)
    out = np.full(runs, cap, dtype=np.int64)
    t = 0
    while ids.size and t < cap:
        t += 1
        x = sampler(rng, ids.size, delta)
        s = chart.step(state, x, live, t)
        if s.alarm.any():
            out[ids[s.alarm]] = t
            live &= ~s.alarm
            if live.sum() < 0.75 * live.size:  # compact now and then, not at every alarm
                ids = ids[live]
                state = {k: v[live] for k, v in state.items()}
                live = np.ones(ids.size, dtype=bool)
    return out
