"""Control limits from ARL0: published tables, our own integral equations, and simulation."""

from __future__ import annotations

import numpy as np
import pytest

from cxlab.exceptions import InputDataError
from cxlab.monitor import arl as A
from cxlab.monitor.charts import binomial_sampler, gaussian_sampler, simulate_run_lengths

#: Lucas & Saccucci (1990), two-sided EWMA, asymptotic limits (reproduced in
#: Montgomery, Introduction to SQC, Table 9.11): (lambda, L) -> ARL at shifts 0, 0.5, 1, 2.
EWMA_PUBLISHED = {(0.10, 2.814): (500, 31.3, 10.3, 4.4), (0.20, 2.962): (500, 41.8, 10.5, 3.7)}
#: Hawkins & Olwell (1998), two-sided CUSUM with k = 0.5 (Montgomery Table 9.3):
#: h -> ARL at shifts 0, 0.5, 1, 2.
CUSUM_PUBLISHED = {4.0: (168, 26.6, 8.38, 3.34), 5.0: (465, 38.0, 10.4, 4.01)}
SHIFTS = (0.0, 0.5, 1.0, 2.0)


@pytest.mark.parametrize(("params", "published"), EWMA_PUBLISHED.items())
def test_ewma_integral_equation_reproduces_lucas_saccucci(params, published) -> None:
    lam, L = params
    for delta, value in zip(SHIFTS, published):
        assert A.ewma_arl(L, lam, delta) == pytest.approx(value, rel=0.02)


@pytest.mark.parametrize(("h", "published"), CUSUM_PUBLISHED.items())
def test_cusum_integral_equation_reproduces_hawkins_olwell(h, published) -> None:
    for delta, value in zip(SHIFTS, published):
        assert A.cusum_arl(h, 0.5, delta) == pytest.approx(value, rel=0.02)
    # Siegmund's approximation is close in control (a few percent).
    assert A.siegmund_arl(h) == pytest.approx(published[0], rel=0.03)


def test_western_electric_rules_chain_gives_the_known_arl() -> None:
    # The four standard rules together: ARL 91.75 (Champ & Woodall 1987).
    assert A.shewhart_arl(1.0, 0.0, 8) == pytest.approx(91.75, abs=0.05)
    # Rule 1 alone is geometric: 1 / P(|x| > 3c). Huge run rule and zones beyond reach.
    assert A.shewhart_arl(1.0, 0.0, 10_000) < 1 / (2 * 0.00135)


@pytest.mark.parametrize("arl0", [370, 1000])
@pytest.mark.parametrize("method", A.METHODS)
@pytest.mark.parametrize("kind", ["gaussian", "binomial"])
def test_in_control_arl_by_simulation_within_10_percent(method, arl0, kind) -> None:
    limits = A.limits_for(method, arl0)
    assert limits.arl0_computed == pytest.approx(arl0, rel=1e-3)
    sampler = gaussian_sampler if kind == "gaussian" else binomial_sampler(0.8, 400)
    runs = simulate_run_lengths(limits, runs=1500, sampler=sampler, random_state=arl0)
    assert runs.mean() == pytest.approx(arl0, rel=0.10)


@pytest.mark.parametrize(("params", "published"), EWMA_PUBLISHED.items())
def test_ewma_out_of_control_arl_by_simulation_matches_published(params, published) -> None:
    lim = A.Limits("ewma", 500.0, params[1], params[0], 500.0)
    for delta, value in zip(SHIFTS[1:], published[1:]):
        measured = simulate_run_lengths(lim, runs=3000, delta=delta, random_state=7).mean()
        assert measured == pytest.approx(value, rel=0.10)


@pytest.mark.parametrize(("h", "published"), CUSUM_PUBLISHED.items())
def test_cusum_out_of_control_arl_by_simulation_matches_published(h, published) -> None:
    lim = A.Limits("cusum", 500.0, h, 0.5, 500.0)
    for delta, value in zip(SHIFTS[1:], published[1:]):
        measured = simulate_run_lengths(lim, runs=3000, delta=delta, random_state=8).mean()
        assert measured == pytest.approx(value, rel=0.10)


def test_shift_makes_every_chart_faster() -> None:
    for method in A.METHODS:
        lim = A.limits_for(method, 370)
        arls = [lim.arl(d) for d in SHIFTS]
        assert arls == sorted(arls, reverse=True)


def test_rate_splits_over_series_and_points() -> None:
    assert A.arl0_for_rate(1.0, 20, 365.25) == pytest.approx(7305.0)
    assert A.arl0_for_rate(10.0, 20, 365.25) == pytest.approx(730.5)


@pytest.mark.parametrize("bad", [0, 5, float("nan"), 1e9])
def test_bad_arl0_is_refused_with_the_range(bad) -> None:
    with pytest.raises(InputDataError, match="between 20 and"):
        A.limits_for("ewma", bad)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(InputDataError, match="ewma, cusum, shewhart"):
        A.limits_for("xbar", 370)  # type: ignore[arg-type]


def test_we_rule_chain_and_chart_step_agree_on_a_path() -> None:
    # The same path through the chart code alarms where the rules say it should.
    from cxlab.monitor.charts import run_chart

    lim = A.Limits("shewhart", 91.75, 3.0, 8, 91.75)
    x = np.array([[0.1, 2.5, 0.0, 2.6, -0.5, 1.5, 1.2, 1.1, 1.3, 0.2, 0.3, -3.5]])
    run = run_chart(lim, x)
    assert np.flatnonzero(run.alarm[0]).tolist() == [3, 8, 11]
    assert run.rule[0, [3, 8, 11]].tolist() == [2, 3, 1]
