"""``cxlab clv fit`` and ``cxlab clv score``."""

from __future__ import annotations

import datetime as dt
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


@clv_app.command("fit")
@handle_errors
def fit(
    data: Annotated[Path | None, typer.Argument(help="Dataset folder (raw orders); or use --summary.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Model bundle folder (replaced whole when the fit succeeds).")] = Path("clv-model"),
    summary: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="CSV with frequency, recency, T (and monetary_value for ggamma).")] = None,
    model: Annotated[FitModel, typer.Option(help="bgnbd, pareto, or ggamma (--summary only).")] = FitModel.bgnbd,
    observation_end: Annotated[dt.datetime | None, typer.Option("--observation-end", formats=["%Y-%m-%d"], help="Last day of data used (inclusive).")] = None,
    calibration_end: Annotated[dt.datetime | None, typer.Option("--calibration-end", formats=["%Y-%m-%d"], help="Fit up to this day; check the forecast on the days after it.")] = None,
    time_unit: Annotated[TimeUnit, typer.Option("--time-unit", help="W (weeks) or D (days).")] = TimeUnit.W,
    by: Annotated[str | None, typer.Option(help="Fit one model per value of this column, e.g. marketplace.")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
) -> None:
    """Fit a purchase model (and the Gamma-Gamma spend model) on raw orders or on a summary.

    OUT is a model bundle (model.json, params.json, spend.json, holdout.json,
    SHA256SUMS; with --by one folder per group under groups/), replaced whole.
    """
    from cxlab import clv
    from cxlab.bundle import fingerprint
    from cxlab.clv.persist import save_clv

    if summary is not None:
        import pandas as pd

        frame = pd.read_csv(summary)
        result = clv.fit_from_summary(frame, model.value, time_unit=time_unit.value)
        save_clv(out, result, metadata={"training_data": fingerprint(frame)})
        _print_params(result)
        out_console.print(str(out))
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
        "training_data": fingerprint(orders.select("customer_id", "order_ts", "amount_reporting")),
    }
    save_clv(out, result, metadata=meta)
    for group in result["groups"] if by else [result]:
        _print_params(group["params"], title=f"{by}={group[by]}" if by else None)
    out_console.print(str(out))


def _print_params(result: dict[str, Any], title: str | None = None) -> None:
    errors = result.get("standard_errors", {})
    text = ", ".join(
        f"{k} {v:.4g}" + (f" (se {errors[k]:.2g})" if errors.get(k) is not None else "")
        for k, v in result["params"].items()
    )
    head = f"{title}: " if title else ""
    err_console.print(
        f"{head}{result['model']} on {result['n_customers']:,} customers: {text}; "
        f"log-likelihood {result['log_likelihood']:.2f}",
        highlight=False,
    )


@clv_app.command("score")
@handle_errors
def score(
    data: DataArg = None,
    *,
    model: Annotated[Path, typer.Option("--model", "-m", exists=True, file_okay=False, help="Model bundle written by 'cxlab clv fit'.")],
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
    from cxlab.clv.persist import load_clv
    from cxlab.summary import orders_in_context

    fitted = load_clv(model)
    end = observation_end.date() if observation_end else fitted.observation_end
    if end is None:
        fail("--observation-end DATE is required: the model bundle does not record one.", 2)
    ds = load(data, engine, config)
    orders = orders_in_context(ds)
    import narwhals as nw

    parts = []
    for group, part in fitted.parts.items():
        part_orders = orders.filter(nw.col(fitted.by) == group) if fitted.by else orders
        scored = clv.score_orders(
            part_orders.to_native(),
            part.params,
            observation_end=end,
            horizon=horizon,
            discount_rate=discount_rate,
            spend=part.spend,
            monetary_value_col="amount_reporting",
            day_col="local_ts",
        )
        if fitted.by:
            scored.insert(1, fitted.by, group)
        parts.append(scored)
    result = pd.concat(parts, ignore_index=True)
    fmt = out.suffix.lstrip(".") if out is not None and out.suffix in (".csv", ".parquet", ".json") else "csv"
    echo_frame(result, fmt, out)

