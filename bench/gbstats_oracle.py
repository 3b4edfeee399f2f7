"""GrowthBook's gbstats 0.8.0 as an oracle for cxlab.experiments.

gbstats 0.8.0 pins numpy < 2 and pandas < 2, so it cannot share cxlab's
environment. This script

1. creates its own virtual environment ``bench/.venv-gbstats`` (git-ignored)
   and installs ``gbstats==0.8.0`` there (once);
2. draws per-unit data for a few cases with a seeded numpy generator and
   reduces it to sufficient statistics (units, sums, sums of squares and
   cross-products per arm);
3. runs gbstats' frequentist engine on those statistics in the other
   environment (``--child`` mode, JSON over stdin/stdout); and
4. writes the statistics and gbstats' answers to
   ``tests/data/gbstats_fixture.json``, which ``tests/experiments/test_gbstats.py``
   compares with cxlab to 1e-6.

Cases: a mean metric, the same with CUPED (regression adjustment on the
pre-period value), a binary metric (gbstats' ``ProportionStatistic``) with and
without CUPED, a ratio metric (delta method), each with absolute and relative
differences; the sequential test on the mean metric; the SRM check.

Run: ``.venv/bin/python bench/gbstats_oracle.py`` (needs the package index or a
pip cache once, to install gbstats).
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-gbstats"
FIXTURE = HERE.parent / "tests" / "data" / "gbstats_fixture.json"
GBSTATS = "gbstats==0.8.0"


# --------------------------------------------------------------------------- child
def _child() -> None:
    """Run inside the gbstats environment: read cases on stdin, print answers."""
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )
    from gbstats.models.statistics import (
        ProportionStatistic,
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )
    from gbstats.utils import check_srm

    def stat(kind: str, arm: dict):  # noqa: ANN202
        if kind == "mean":
            return SampleMeanStatistic(n=arm["n"], sum=arm["sum_y"], sum_squares=arm["sum_yy"])
        if kind == "proportion":
            return ProportionStatistic(n=arm["n"], sum=arm["sum_y"])
        if kind in ("mean_cuped", "proportion_cuped"):
            make = (
                (lambda s, ss: SampleMeanStatistic(n=arm["n"], sum=s, sum_squares=ss))
                if kind == "mean_cuped"
                else (lambda s, ss: ProportionStatistic(n=arm["n"], sum=s))
            )
            return RegressionAdjustedStatistic(
                n=arm["n"],
                post_statistic=make(arm["sum_y"], arm["sum_yy"]),
                pre_statistic=make(arm["sum_x"], arm["sum_xx"]),
                post_pre_sum_of_products=arm["sum_xy"],
                theta=0,
            )
        if kind == "ratio":
            return RatioStatistic(
                n=arm["n"],
                m_statistic=SampleMeanStatistic(n=arm["n"], sum=arm["sum_y"], sum_squares=arm["sum_yy"]),
                d_statistic=SampleMeanStatistic(n=arm["n"], sum=arm["sum_d"], sum_squares=arm["sum_dd"]),
                m_d_sum_of_products=arm["sum_yd"],
            )
        raise ValueError(kind)

    cases = json.load(sys.stdin)
    answers = []
    for case in cases:
        out = {}
        for diff in ("absolute", "relative"):
            a, b = stat(case["kind"], case["control"]), stat(case["kind"], case["treatment"])
            if case.get("sequential"):
                test = SequentialTwoSidedTTest(a, b, SequentialConfig(difference_type=diff))
            else:
                test = TwoSidedTTest(a, b, FrequentistConfig(difference_type=diff))
            res = test.compute_result()
            out[diff] = {
                "expected": float(res.expected),
                "ci_low": float(res.ci[0]),
                "ci_high": float(res.ci[1]),
                "p_value": float(res.p_value),
                "stddev": float(res.uplift.stddev),
                "dof": float(test.dof),
                "mean_control": float(test.stat_a.mean),
                "mean_treatment": float(test.stat_b.mean),
                "unadjusted_mean_control": float(test.stat_a.unadjusted_mean),
                "unadjusted_mean_treatment": float(test.stat_b.unadjusted_mean),
                "theta": float(getattr(test.stat_a, "theta", 0.0)),
            }
        answers.append(out)
    srm = [float(check_srm(c["users"], c["weights"])) for c in json.load(open(sys.argv[2]))]
    json.dump({"cases": answers, "srm": srm}, sys.stdout)


# -------------------------------------------------------------------------- parent
def _sums(y, d=None, x=None) -> dict:  # noqa: ANN001
    out = {"n": int(y.size), "sum_y": float(y.sum()), "sum_yy": float((y * y).sum())}
    if d is not None:
        out |= {"sum_d": float(d.sum()), "sum_dd": float((d * d).sum()), "sum_yd": float((y * d).sum())}
    if x is not None:
        out |= {"sum_x": float(x.sum()), "sum_xx": float((x * x).sum()), "sum_xy": float((x * y).sum())}
    return out


def _cases() -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(20261203)
    cases = []
    for name, n_a, n_b, effect in (("small", 180, 220, 0.15), ("large", 5000, 4900, 0.04)):
        arms = {}
        for arm, n, lift in (("control", n_a, 0.0), ("treatment", n_b, effect)):
            buyer = rng.random(n) < 0.35
            base = rng.lognormal(3.0, 1.0, n)
            pre = np.where(rng.random(n) < 0.4, base * rng.lognormal(0.0, 0.5, n), 0.0)
            post = np.where(buyer, base * (1.0 + lift) * rng.lognormal(0.0, 0.5, n), 0.0)
            conv_pre = (pre > 0).astype(float)
            conv = ((post > 0) | (rng.random(n) < lift)).astype(float)
            answers = rng.poisson(1.2, n).astype(float)
            good = rng.binomial(answers.astype(int), np.clip(0.7 + lift, 0, 1)).astype(float)
            arms[arm] = {"post": post, "pre": pre, "conv": conv, "conv_pre": conv_pre, "good": good, "answers": answers}
        c, t = arms["control"], arms["treatment"]
        cases += [
            {"name": f"mean_{name}", "kind": "mean", "control": _sums(c["post"]), "treatment": _sums(t["post"])},
            {"name": f"mean_cuped_{name}", "kind": "mean_cuped",
             "control": _sums(c["post"], x=c["pre"]), "treatment": _sums(t["post"], x=t["pre"])},
            {"name": f"proportion_{name}", "kind": "proportion",
             "control": _sums(c["conv"]), "treatment": _sums(t["conv"])},
            {"name": f"proportion_cuped_{name}", "kind": "proportion_cuped",
             "control": _sums(c["conv"], x=c["conv_pre"]), "treatment": _sums(t["conv"], x=t["conv_pre"])},
            {"name": f"ratio_{name}", "kind": "ratio",
             "control": _sums(c["good"], d=c["answers"]), "treatment": _sums(t["good"], d=t["answers"])},
            {"name": f"sequential_mean_{name}", "kind": "mean", "sequential": True,
             "control": _sums(c["post"]), "treatment": _sums(t["post"])},
        ]
    return cases


SRM_CASES = [
    {"users": [1000, 1000], "weights": [0.5, 0.5]},
    {"users": [5000, 4900], "weights": [0.5, 0.5]},
    {"users": [10000, 9800, 10000, 10000], "weights": [0.25, 0.25, 0.25, 0.25]},
    {"users": [3050, 6950], "weights": [0.3, 0.7]},
]


def _ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    check = subprocess.run([str(py), "-c", "import gbstats, importlib.metadata as m; print(m.version('gbstats'))"],
                           capture_output=True, text=True)
    if check.returncode or check.stdout.strip() != GBSTATS.split("==")[1]:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", GBSTATS], check=True)
    return py


def main() -> int:
    import tempfile

    py = _ensure_venv()
    cases = _cases()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(SRM_CASES, fh)
        srm_path = fh.name
    try:
        done = subprocess.run(
            [str(py), __file__, "--child", srm_path], input=json.dumps(cases),
            capture_output=True, text=True, check=True,
        )
    finally:
        Path(srm_path).unlink(missing_ok=True)
    answers = json.loads(done.stdout)
    version = subprocess.run([str(py), "-c", "import importlib.metadata as m; print(m.version('gbstats'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    payload = {
        "generator": "bench/gbstats_oracle.py",
        "gbstats_version": version,
        "cases": [{**case, "gbstats": ans} for case, ans in zip(cases, answers["cases"], strict=True)],
        "srm": [{**case, "gbstats_p_value": p} for case, p in zip(SRM_CASES, answers["srm"], strict=True)],
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE} ({len(cases)} cases, gbstats {version})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child()
    else:
        sys.exit(main())
