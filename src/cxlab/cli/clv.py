"""``cxlab clv fit`` and ``cxlab clv score``."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from cxlab.cli._common import ConfigOpt, DataArg, EngineChoice, EngineOpt, echo_frame, err_console, fail, handle_errors, load, out_console

clv_app = typer.Typer(help="Engagement: BG/NBD, Pareto/NBD, Gamma-Gamma, P(alive) and CLV.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")


class FitModel(str, Enum):
    bgnbd = "bgnbd"
    pareto = "pareto"
    ggamma = "ggamma"


class TimeUnit(str, Enum):
    W = "W"
    D = "D"


DateOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _write(path: Path, payload: Any) -> None:
    from cxlab.io import write_json_atomic

    write_json_atomic(path, payload)


@clv_app.command("fit")
@handle_errors
def fit(
    data: Annotated[Path | None, typer.Argument(help="Dataset folder (raw orders); or use --summary.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Folder for params.json (and holdout.json).")] = Path("clv-model"),
    summary: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="CSV with frequency, recency, T (and monetary_value for ggamma).")] = None,
    model: Annotated[FitModel, typer.Option(help="bgnbd, pareto, or ggamma (--summary only).")] = FitModel.bgnbd,
    observation_end: Annotated[dt.datetime | None, typer.Option("--observation-end", formats=["%Y-%m-%d"], help="Last day of data used (inclusive).")] = None,
    calibration_end: Annotated[dt.datetime | None, typer.Option("--calibration-end", formats=["%Y-%m-%d"], help="Fit up to this day; check the forecast on the days after it.")] = None,
    time_unit: Annotated[TimeUnit, typer.Option("--time-unit", help="Unit of recency and T: W (weeks, the default) or D (days); recorded in params.json.")] = TimeUnit.W,
    by: Annotated[str | None, typer.Option(help="Fit one model per value of this column, e.g. marketplace.")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Fit a purchase model (and the Gamma-Gamma spend model) on raw orders or on a summary.

    A doubtful fit (a parameter at the edge of its range, a singular Hessian) is
    written all the same, with the reasons and what to try under ``diagnostics``
    in params.json and one ``warning:`` line each on stderr.
    """
    import warnings

    from cxlab.exceptions import FitWarning

    with warnings.catch_warnings():
        # the same text is printed once, plainly, from params.json's diagnostics
        warnings.simplefilter("ignore", FitWarning)
        _fit(data, out, summary, model, observation_end, calibration_end, time_unit, by, engine, config)


def _fit(
    data: Path | None,
    out: Path,
    summary: Path | None,
    model: FitModel,
    observation_end: dt.datetime | None,
    calibration_end: dt.datetime | None,
    time_unit: TimeUnit,
    by: str | None,
    engine: EngineChoice,
    config: Path | None,
) -> None:
    from cxlab import clv

    if summary is not None:
        import pandas as pd

        frame = pd.read_csv(summary)
        result = clv.fit_from_summary(frame, model.value, time_unit=time_unit.value)
        _write(out / "params.json", result)
        _print_params(result)
        out_console.print(str(out / "params.json"))
        return
    if data is None and config is None:
        fail("give a dataset folder (or --config naming its tables), or --summary FILE.csv.", 2)
    if model is FitModel.ggamma:
        fail("--model ggamma needs --summary; from raw orders the spend model is fitted with bgnbd or pareto.", 2)
    if observation_end is None:
        fail("--observation-end DATE is required with a dataset (the last day of data to use).", 2)
    from cxlab.summary import orders_in_context

    ds = load(data, engine, config)
    orders = orders_in_context(ds)
    result = clv.fit_from_orders(
        orders.to_native(),
        observation_end=observation_end.date(),
        calibration_end=calibration_end.date() if calibration_end else None,
        time_unit=time_unit.value,
        model=model.value,
        by=by,
        monetary_value_col="amount_reporting",
        day_col="local_ts",
    )
    meta = {
        "observation_end": observation_end.date().isoformat(),
        "calibration_end": calibration_end.date().isoformat() if calibration_end else None,
        "currency": ds.reporting_currency,
    }
    groups = result["groups"] if by else [result]
    for group in groups:
        folder = out / str(group[by]) if by else out
        params = {**group["params"], **meta}
        _write(folder / "params.json", params)
        if group.get("spend"):
            _write(folder / "spend.json", {**group["spend"], **meta})
        if group.get("holdout"):
            _write(folder / "holdout.json", group["holdout"])
        _print_params(params, title=f"{by}={group[by]}" if by else None)
    if by:
        _write(out / "params.json", {"by": by, "groups": [{by: g[by], **g["params"], **meta} for g in groups], **meta})
    out_console.print(str(out / "params.json"))


def _print_params(result: dict[str, Any], title: str | None = None) -> None:
    errors = result.get("standard_errors", {})
    text = ", ".join(
        f"{k} {v:.4g}" + (f" (se {errors[k]:.2g})" if errors.get(k) is not None else "")
        for k, v in result["params"].items()
    )
    head = f"{title}: " if title else ""
    err_console.print(
        f"{head}{result['model']} on {result['n_customers']:,} customers ({result.get('time_unit', 'W')}): "
        f"{text}; log-likelihood {result['log_likelihood']:.2f}",
        highlight=False,
        markup=False,
    )
    problems = result.get("diagnostics") or []
    if problems:
        *why, advice = problems
        err_console.print(
            f"warning: {head}the fit is doubtful: {'; '.join(why)}. {advice}",
            highlight=False, markup=False, soft_wrap=True,
        )


@clv_app.command("score")
@handle_errors
def score(
    data: DataArg = None,
    *,
    model: Annotated[Path, typer.Option("--model", "-m", exists=True, file_okay=False, help="Folder written by 'cxlab clv fit'.")],
    horizon: Annotated[int, typer.Option(min=1, help="Forecast horizon in the model's time unit (weeks by default).")],
    discount_rate: Annotated[float, typer.Option(min=0.0, help="Discount rate per time unit for CLV.")] = 0.0,
    observation_end: DateOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Output file (format from its suffix: .parquet, .csv, .json).")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Per customer: customer_id, p_alive, expected_purchases, expected_spend, clv."""
    import pandas as pd

    from cxlab import clv
    from cxlab.summary import orders_in_context

    params = _read_json(model / "params.json")
    groups = params["groups"] if "groups" in params else None
    end = observation_end.date() if observation_end else params.get("observation_end")
    if end is None:
        fail("--observation-end DATE is required: the model folder does not record one.", 2)
    ds = load(data, engine, config)
    orders = orders_in_context(ds)
    import narwhals as nw

    parts = []
    for group in groups or [None]:
        folder = model / str(group[params["by"]]) if group else model
        part_orders = orders.filter(nw.col(params["by"]) == group[params["by"]]) if group else orders
        spend_path = folder / "spend.json"
        scored = clv.score_orders(
            part_orders.to_native(),
            _read_json(folder / "params.json"),
            observation_end=end,
            horizon=horizon,
            discount_rate=discount_rate,
            spend=_read_json(spend_path) if spend_path.exists() else None,
            monetary_value_col="amount_reporting",
            day_col="local_ts",
        )
        if group:
            scored.insert(1, params["by"], group[params["by"]])
        parts.append(scored)
    result = pd.concat(parts, ignore_index=True)
    fmt = out.suffix.lstrip(".") if out is not None and out.suffix in (".csv", ".parquet", ".json") else "csv"
    echo_frame(result, fmt, out)


def _read_json(path: Path) -> dict[str, Any]:
    from cxlab.exceptions import InputDataError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise InputDataError(f"{path}: cannot read the model file ({err}); run 'cxlab clv fit' first.") from err
