"""Benchmark of cxlab.clv against lifetimes and pymc-marketing, every peer at its best.

Run: ``python bench/bench_clv.py [--customers-bg N] [--customers-pareto N]
[--orders N] [--runs 3] [--no-spark] [--no-pymc] [--cases bg,pnbd,raw,value]``. Writes
``bench/results/clv.json`` and prints the tables. ``CXLAB_BENCH_QUICK=1``
uses small sizes (a smoke run).

Every contender runs in a fresh process (``bench/_harness.py``): end to end is
reading the input Parquet file to writing the fitted parameters as JSON,
interpreter and library start-up included; compute is what the contender
itself does between the two (for lifetimes with weights: the pandas groupby
that makes the weighted tuples, then the fit). Peak memory is of the whole
process tree.

Cases
-----
1. **BG/NBD fit, 1,000,000 customers** (a per-customer summary simulated from
   the CDNOW-fitted process):

   - ``cxlab``: ``BetaGeo().fit(summary)`` (collapses to distinct tuples itself);
   - ``lifetimes (weights)``: lifetimes' documented way for large data: a groupby
     to distinct ``(frequency, recency, T)`` with counts, then
     ``BetaGeoFitter().fit(..., weights=counts)``;
   - ``lifetimes (as commonly called)``: ``fit`` on the 1,000,000 rows;
   - ``pymc-marketing``: ``BetaGeoModel(data).fit(method="map")``, its fastest
     point estimate (MAP with its default priors; it takes no weights). Its
     first run compiles the model (PyTensor caches the C code on disk).

2. **Pareto/NBD fit, 100,000 customers**: the same four contenders
   (``ParetoNBDFitter``, ``ParetoNBDModel``).

3. **Raw orders -> summary -> fitted BG/NBD, 10,000,000 orders** in one Parquet
   file:

   - ``cxlab on DuckDB``: ``rfm_summary`` + ``distinct_tuples`` + ``BetaGeo`` fit;
   - ``bare DuckDB aggregate``: one SQL query from the file to the distinct
     ``(frequency, recency, T)`` tuples with counts, no fit: the practical limit;
   - ``lifetimes pipeline``: ``pandas.read_parquet`` +
     ``summary_data_from_transaction_data`` (days, divided by 7 into weeks as
     cxlab does) + groupby + weighted ``BetaGeoFitter`` fit;
   - ``cxlab on Spark local[2]``: as on DuckDB, session start included.

4. **Discounted CLV over 10,000 weekly periods** (``--cases value``): the
   expected discounted purchases of CDNOW's 2,357 customers
   (``tests/data/cdnow``) at the papers' parameters, 0.2% a week:

   - ``cxlab BG/NBD`` / ``cxlab Pareto/NBD``: ``cxlab.clv.value._discounted_purchases``,
     what ``customer_lifetime_value`` runs (41 model evaluations per distinct row);
   - ``period sum BG/NBD`` / ``period sum Pareto/NBD``: the period-by-period sum
     it replaced (one model evaluation per distinct row and period), kept as the
     tests' reference. 10,000 weeks is past the public 100-year bound (5,217
     weeks), hence the private function.

Every parameter set is scored with cxlab's likelihood on the same data (the
log-likelihood columns), so "equal or higher log-likelihood" compares like
with like; the CLV rows carry their largest relative difference from the period
sum of the same model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

import _harness  # noqa: E402

BG_PARAMS = {"r": 0.2426, "alpha": 4.4137, "a": 0.7930, "b": 2.4262}
PNBD_PARAMS = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.66}
COHORT_DAYS = 84  # first purchases spread over 12 weeks, as in CDNOW
CAL_DAYS = 273  # calibration ends 39 weeks after the first cohort day
ORDERS_START = "2020-01-01"
ORDERS_END = "2020-09-30"  # observation end of the raw-orders case (day 273)

#: pymc-marketing's MAP on these sizes is slow (Pareto/NBD: about a minute for 5,000
#: customers with the model compiled); it gets this long per case, then is reported
#: as not finished.
PYMC_TIMEOUT_S = {"bg": 420.0, "pnbd": 240.0}
CDNOW_SUMMARY = ROOT / "tests" / "data" / "cdnow" / "cdnow_customers_summary.csv"
VALUE_PERIODS = 10_000  # weeks
VALUE_RATE = 0.002  # per week, about 11% a year
VALUE_CONTENDERS = ("cxlab BG/NBD", "cxlab Pareto/NBD", "period sum BG/NBD", "period sum Pareto/NBD")
FIT_CONTENDERS = ("cxlab", "lifetimes (weights)", "lifetimes (as commonly called)", "pymc-marketing")
RAW_CONTENDERS = ("cxlab on DuckDB", "bare DuckDB aggregate", "lifetimes pipeline", "cxlab on Spark local[2]")
PEER_CONFIG = {
    "cxlab": "fit(summary): distinct tuples + weighted ML from moment estimates by Newton's method "
             "on the exact Hessian",
    "lifetimes (weights)": "pandas groupby to distinct tuples (counted) + fit(..., weights=counts)",
    "lifetimes (as commonly called)": "fit(frequency, recency, T) on every row",
    "pymc-marketing": 'Model(data).fit(method="map"), default priors, no weights',
    "cxlab on DuckDB": "rfm_summary + distinct_tuples on DuckDB, BetaGeo fit",
    "bare DuckDB aggregate": "one SQL query: orders -> per-customer summary -> distinct tuples; no fit",
    "lifetimes pipeline": "read_parquet + summary_data_from_transaction_data(freq='D') + groupby + weighted fit",
    "cxlab on Spark local[2]": "as on DuckDB, Spark session start and stop included",
    "cxlab BG/NBD": "summation by parts + 40-node Gauss rule over the periods",
    "cxlab Pareto/NBD": "summation by parts + 40-node Gauss rule over the periods",
    "period sum BG/NBD": "one model evaluation per distinct row and period (the reference)",
    "period sum Pareto/NBD": "one model evaluation per distinct row and period (the reference)",
}


# -- data -------------------------------------------------------------------------


def simulate_bgnbd(n: int, rng: np.random.Generator, horizon_days: int = CAL_DAYS) -> pd.DataFrame:
    """Per-customer (frequency, recency, T) in weeks, recency and T on a day grid."""
    import pandas as pd  # noqa: PLC0415 (children import only what their contender needs)

    p = BG_PARAMS
    first = rng.integers(0, COHORT_DAYS, n)
    big_t_days = horizon_days - first
    big_t = big_t_days / 7.0
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    m = rng.poisson(lam * big_t)
    k = rng.geometric(drop)  # dropout after the k-th repeat purchase
    x = np.minimum(m, k)
    # the x-th of m uniform event times on [0, T] ~ T * Beta(x, m - x + 1)
    t_x = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(m - x + 1, 1)), 0.0)
    rec_days = np.minimum(np.ceil(t_x * 7.0), big_t_days)
    rec_days = np.where(x > 0, np.maximum(rec_days, 1), 0)
    return pd.DataFrame({"frequency": x, "recency": rec_days / 7.0, "T": big_t})


def simulate_pareto(n: int, rng: np.random.Generator) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    p = PNBD_PARAMS
    first = rng.integers(0, COHORT_DAYS, n)
    big_t_days = CAL_DAYS - first
    big_t = big_t_days / 7.0
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    mu = rng.gamma(p["s"], 1.0 / p["beta"], n)
    life = np.minimum(rng.exponential(1.0 / mu), big_t)
    x = rng.poisson(lam * life)
    t_x = np.where(x > 0, life * rng.beta(np.maximum(x, 1), 1), 0.0)
    rec_days = np.where(x > 0, np.clip(np.ceil(t_x * 7.0), 1, big_t_days), 0)
    return pd.DataFrame({"frequency": x, "recency": rec_days / 7.0, "T": big_t})


def simulate_orders(n_orders: int, rng: np.random.Generator) -> pd.DataFrame:
    """Raw orders over 39 weeks from the BG/NBD process, about ``n_orders`` rows."""
    import pandas as pd  # noqa: PLC0415

    p = BG_PARAMS
    mean_orders = 1.9  # about the process mean over 39 weeks; trimmed below
    n = int(n_orders / mean_orders)
    first = rng.integers(0, COHORT_DAYS, n)
    big_t = (CAL_DAYS - first) / 7.0
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    m = rng.poisson(lam * big_t)
    k = rng.geometric(rng.beta(p["a"], p["b"], n))
    x = np.minimum(m, k)
    owner = np.repeat(np.arange(n), m)
    times = rng.random(owner.size) * big_t[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    starts = np.repeat(np.cumsum(m) - m, m)
    rank = np.arange(owner.size) - starts
    keep = rank < x[owner]
    owner, times = owner[keep], times[keep]
    # keep whole customers, as few as give at least n_orders orders
    per_customer = 1 + np.bincount(owner, minlength=n)
    n = min(n, int(np.searchsorted(np.cumsum(per_customer), n_orders)) + 1)
    repeat = owner < n
    owner, times, first = owner[repeat], times[repeat], first[:n]
    cust = np.concatenate([np.arange(n), owner])
    days = np.minimum(np.concatenate([first.astype(float), first[owner] + times * 7.0]), CAL_DAYS - 1e-6)
    base = np.datetime64(f"{ORDERS_START}T00:00:00", "us")
    ts = base + (days * 86_400e6).astype("timedelta64[us]")
    return pd.DataFrame(
        {
            "customer_id": cust.astype("int64"),
            "order_ts": ts,
            "amount": np.round(rng.gamma(6.25, 35.0 / 6.25, cust.size), 2),
        }
    )


def make_inputs(folder: Path, n_bg: int, n_pnbd: int, n_orders: int) -> dict[str, Path]:
    """Write the three input files once (reused by later runs of the same sizes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"bg": folder / "bgnbd_summary.parquet", "pnbd": folder / "pareto_summary.parquet",
             "orders": folder / "orders.parquet"}
    rng = np.random.default_rng(2005)
    if not paths["bg"].exists():
        simulate_bgnbd(n_bg, rng).to_parquet(paths["bg"], index=False)
    rng = np.random.default_rng(2006)
    if not paths["pnbd"].exists():
        simulate_pareto(n_pnbd, rng).to_parquet(paths["pnbd"], index=False)
    if n_orders > 0 and not paths["orders"].exists():
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        orders = simulate_orders(n_orders, np.random.default_rng(2007))
        pq.write_table(pa.Table.from_pandas(orders, preserve_index=False), paths["orders"], row_group_size=1_000_000)
    return paths


# -- contenders (child side) --------------------------------------------------------


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    import logging  # noqa: PLC0415

    logging.disable(logging.WARNING)


#: Process CPU time (all threads) when the compute step started (see :func:`_start`).
_CPU0 = [0.0]


def _start() -> float:
    """Mark the start of the compute step: its wall clock (returned) and CPU time
    (kept for :func:`child`, which reports both; on a loaded machine CPU time is
    the steadier of the two)."""
    _CPU0[0] = time.process_time()
    return time.perf_counter()


def _fit_child(model: str, contender: str, path: Path) -> tuple[dict[str, float], float]:
    """Fit one model with one contender; returns parameters and compute seconds."""
    import pandas as pd  # noqa: PLC0415 (every contender here reads the summary with pandas)

    if contender == "cxlab":
        import cxlab.clv  # noqa: PLC0415

        # the models load on first use: only the one fitted here (Pareto/NBD brings scipy.optimize)
        cls = cxlab.clv.BetaGeo if model == "bg" else cxlab.clv.ParetoNBD
        data = pd.read_parquet(path)
        t0 = _start()
        est = cls().fit(data)
        return est.params_, time.perf_counter() - t0
    if contender.startswith("lifetimes"):
        import lifetimes  # noqa: PLC0415

        data = pd.read_parquet(path)
        fitter = lifetimes.BetaGeoFitter() if model == "bg" else lifetimes.ParetoNBDFitter()
        t0 = _start()
        if contender == "lifetimes (weights)":
            tuples = data.groupby(["frequency", "recency", "T"], sort=False).size().reset_index(name="weight")
            fitter.fit(tuples["frequency"], tuples["recency"], tuples["T"], weights=tuples["weight"])
        else:
            fitter.fit(data["frequency"], data["recency"], data["T"])
        return {k: float(v) for k, v in fitter.params_.items()}, time.perf_counter() - t0
    if contender == "pymc-marketing":
        from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel  # noqa: PLC0415

        data = pd.read_parquet(path)
        t0 = _start()
        data["customer_id"] = np.arange(len(data))
        est = (BetaGeoModel if model == "bg" else ParetoNBDModel)(data=data)
        est.fit(method="map", progressbar=False)
        post = est.idata.posterior
        names = ("r", "alpha", "a", "b") if model == "bg" else ("r", "alpha", "s", "beta")
        return {k: float(post[k].values.ravel()[0]) for k in names}, time.perf_counter() - t0
    raise ValueError(contender)


_SUMMARY_SQL = """
WITH days AS (
  SELECT customer_id, CAST(order_ts AS DATE) AS d FROM read_parquet('{path}')
  WHERE CAST(order_ts AS DATE) <= DATE '{end}' GROUP BY ALL
), per_customer AS (
  SELECT count(*) - 1 AS frequency,
         (max(d) - min(d)) / 7.0 AS recency,
         (DATE '{end}' - min(d)) / 7.0 AS "T"
  FROM days GROUP BY customer_id
)
SELECT frequency, recency, "T", count(*) AS weight FROM per_customer GROUP BY ALL
"""


def _raw_child(contender: str, path: Path) -> tuple[dict[str, float], float]:
    if contender in ("cxlab on DuckDB", "cxlab on Spark local[2]"):
        from cxlab.clv import BetaGeo, distinct_tuples, rfm_summary  # noqa: PLC0415
        from cxlab.engine import get_engine  # noqa: PLC0415

        engine = get_engine("duckdb" if "DuckDB" in contender else "spark")
        t0 = _start()
        orders = engine.read_parquet(path).to_native()
        summary = rfm_summary(orders, observation_end=ORDERS_END, monetary_value_col=None)
        tuples = distinct_tuples(summary)
        est = BetaGeo().fit(tuples, sample_weight=tuples["weight"])
        return est.params_, time.perf_counter() - t0
    if contender == "bare DuckDB aggregate":
        import duckdb  # noqa: PLC0415

        con = duckdb.connect()
        t0 = _start()
        # numpy arrays straight from DuckDB: no pandas to import or build
        tuples = con.execute(_SUMMARY_SQL.format(path=path, end=ORDERS_END)).fetchnumpy()
        n = {"n_tuples": float(tuples["weight"].size), "n_customers": float(tuples["weight"].sum())}
        return n, time.perf_counter() - t0
    if contender == "lifetimes pipeline":
        import lifetimes  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415
        from lifetimes.utils import summary_data_from_transaction_data  # noqa: PLC0415

        t0 = _start()
        orders = pd.read_parquet(path, columns=["customer_id", "order_ts"])
        summary = summary_data_from_transaction_data(
            orders, "customer_id", "order_ts", observation_period_end=ORDERS_END, freq="D"
        )
        summary[["recency", "T"]] = summary[["recency", "T"]] / 7.0
        tuples = summary.groupby(["frequency", "recency", "T"], sort=False).size().reset_index(name="weight")
        fitter = lifetimes.BetaGeoFitter().fit(
            tuples["frequency"], tuples["recency"], tuples["T"], weights=tuples["weight"]
        )
        return {k: float(v) for k, v in fitter.params_.items()}, time.perf_counter() - t0
    raise ValueError(contender)


def _value_child(contender: str, path: Path) -> tuple[dict[str, float], float]:
    """Discounted expected purchases over VALUE_PERIODS weeks (per customer, for the comparison)."""
    import pandas as pd  # noqa: PLC0415

    from cxlab.clv import BetaGeo, ParetoNBD  # noqa: PLC0415
    from cxlab.clv.value import _discounted_purchases, _discounted_purchases_exact  # noqa: PLC0415

    summary = pd.read_csv(path)
    model: Any = BetaGeo() if "BG" in contender else ParetoNBD()
    model.params_ = dict(BG_PARAMS if "BG" in contender else PNBD_PARAMS)
    run = _discounted_purchases_exact if contender.startswith("period sum") else _discounted_purchases
    t0 = _start()
    values = run(model, summary, VALUE_PERIODS, 1.0, VALUE_RATE)
    return {str(i): float(v) for i, v in enumerate(values)}, time.perf_counter() - t0


def child(case: str, contender: str, path: Path, out: Path) -> None:
    _quiet()
    if case == "raw":
        params, secs = _raw_child(contender, path)
    elif case == "value":
        params, secs = _value_child(contender, path)
    else:
        params, secs = _fit_child(case, contender, path)
    cpu = time.process_time() - _CPU0[0]
    out.write_text(json.dumps({k: float(v) for k, v in params.items()}))
    _harness.emit(secs, compute_cpu_s=cpu)


# -- parent ---------------------------------------------------------------------------


def _score(case: str, rows: list[dict[str, Any]], path: Path, outputs: dict[str, Path]) -> None:
    """Score every contender's parameters with cxlab's likelihood on the same data."""
    import pandas as pd  # noqa: PLC0415

    from cxlab.clv import BetaGeo, ParetoNBD  # noqa: PLC0415

    data = pd.read_parquet(path)
    tuples = data.groupby(["frequency", "recency", "T"]).size().reset_index(name="weight")
    model = BetaGeo() if case == "bg" else ParetoNBD()
    for r in rows:
        if "error" in r:
            continue
        params = json.loads(outputs[r["contender"]].read_text())
        r["params"] = params
        r["log_likelihood"] = model.log_likelihood_at(params, tuples, sample_weight=tuples["weight"])
    best = max((r["log_likelihood"] for r in rows if "log_likelihood" in r), default=None)
    for r in rows:
        if "log_likelihood" in r and best is not None:
            r["ll_minus_best"] = r["log_likelihood"] - best


def _value_differences(rows: list[dict[str, Any]], tmp: Path) -> None:
    """Largest relative difference of each CLV contender from the period sum of its model."""
    values = {
        r["contender"]: np.array(list(json.loads((tmp / f"value-{i}.json").read_text()).values()))
        for i, r in enumerate(rows)
        if "error" not in r
    }
    for r in rows:
        ref = values.get(f"period sum {r['contender'].split()[-1]}")
        if r["contender"] in values and ref is not None:
            r["max_rel_diff"] = float(np.max(np.abs(values[r["contender"]] / ref - 1.0)))


def _run_case(
    case: str, contenders: list[str], path: Path, tmp: Path, runs: dict[str, int], timeout: float
) -> list[dict[str, Any]]:
    rows, outputs = [], {}
    for name in contenders:
        out = tmp / f"{case}-{len(outputs)}.json"
        outputs[name] = out
        cmd = [sys.executable, __file__, "--child", case, "--contender", name, "--input", str(path), "--out", str(out)]
        limit = min(timeout, PYMC_TIMEOUT_S.get(case, timeout)) if name == "pymc-marketing" else timeout
        row = _harness.run_contender(name, cmd, runs=runs.get(name, runs["default"]), timeout=limit)
        row["configuration"] = PEER_CONFIG[name]
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers-bg", type=int, default=20_000 if quick else 1_000_000)
    ap.add_argument("--customers-pareto", type=int, default=5_000 if quick else 100_000)
    ap.add_argument("--orders", type=int, default=200_000 if quick else 10_000_000)
    ap.add_argument("--runs", type=int, default=3, help="fresh-process runs per contender (best and median)")
    ap.add_argument("--spark", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--pymc", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--cases", default="bg,pnbd,raw,value")
    ap.add_argument("--results-name", default="clv", help="writes bench/results/NAME.json")
    ap.add_argument("--slow-runs", type=int, default=1,
                    help="runs of the slow rows (as commonly called, pymc-marketing, Spark, lifetimes pipeline)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per contender run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--contender", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.contender, args.input, args.out)
        return 0

    data_dir = Path(tempfile.gettempdir()) / (
        f"cxlab-bench-clv-{args.customers_bg}-{args.customers_pareto}-{args.orders}"
    )
    cases = args.cases.split(",")
    paths: dict[str, Path] = {}
    if set(cases) & {"bg", "pnbd", "raw"}:  # the CLV case reads the CDNOW summary of the tests
        t0 = time.perf_counter()
        paths = make_inputs(data_dir, args.customers_bg, args.customers_pareto, args.orders)
        print(f"inputs ready in {time.perf_counter() - t0:.1f} s ({data_dir})", file=sys.stderr)
    fit_contenders = [c for c in FIT_CONTENDERS if args.pymc or c != "pymc-marketing"]
    # The slow rows get one run each (the machine is shared and the whole bench must
    # fit in its slot): "as commonly called" is context, not the comparison;
    # pymc-marketing's MAP takes minutes at these sizes; Spark is the slow engine.
    one = ("lifetimes (as commonly called)", "pymc-marketing", "cxlab on Spark local[2]", "lifetimes pipeline",
           "period sum BG/NBD", "period sum Pareto/NBD")
    runs = {"default": args.runs, **{name: args.slow_runs for name in one}}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case, label, size in (
            ("bg", "BG/NBD fit", args.customers_bg),
            ("pnbd", "Pareto/NBD fit", args.customers_pareto),
        ):
            if case not in cases:
                continue
            print(f"{label}, {size:,} customers", file=sys.stderr)
            rows = _run_case(case, fit_contenders, paths[case], Path(tmp), runs, args.timeout)
            _score(case, rows, paths[case], {r["contender"]: Path(tmp) / f"{case}-{i}.json" for i, r in enumerate(rows)})
            _harness.add_ratios(rows, "cxlab")
            results[case] = {"case": label, "customers": size, "rows": rows}
            _harness.write_results(args.results_name, {"results": results, "partial": True})  # kept if a later case fails
        if "raw" in cases and args.orders > 0:
            import pyarrow.parquet as pq  # noqa: PLC0415

            n_orders = pq.ParquetFile(paths["orders"]).metadata.num_rows
            print(f"raw orders -> fitted BG/NBD, {n_orders:,} orders", file=sys.stderr)
            raw = [c for c in RAW_CONTENDERS if args.spark or "Spark" not in c]
            rows = _run_case("raw", raw, paths["orders"], Path(tmp), runs, args.timeout)
            for i, r in enumerate(rows):
                if "error" not in r:
                    r["params"] = json.loads((Path(tmp) / f"raw-{i}.json").read_text())
            _harness.add_ratios(rows, "cxlab on DuckDB")
            results["raw"] = {"case": "raw orders -> summary -> fitted BG/NBD", "orders": n_orders, "rows": rows}
        if "value" in cases:
            print(f"discounted CLV, {VALUE_PERIODS:,} weekly periods", file=sys.stderr)
            rows = _run_case("value", list(VALUE_CONTENDERS), CDNOW_SUMMARY, Path(tmp), runs, args.timeout)
            _value_differences(rows, Path(tmp))
            _harness.add_ratios(rows, "cxlab BG/NBD")
            results["value"] = {"case": f"discounted CLV, {VALUE_PERIODS:,} weekly periods",
                                "customers": len(CDNOW_SUMMARY.read_text().splitlines()) - 1, "rows": rows}
    out = _harness.write_results(args.results_name, {"results": results})
    for res in results.values():
        size = f"{res['customers']:,} customers" if "customers" in res else f"{res['orders']:,} orders"
        print(f"\n{res['case']}, {size}")
        print(_harness.table(res["rows"], extra=("max_rel_diff",) if "max_rel_diff" in res["rows"][0] else ("ll_minus_best",)))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
