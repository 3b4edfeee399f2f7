"""``cxlab clv fit`` and ``cxlab clv score``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from cxlab.cli._common import (
    ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, check_range, echo_frame, fail, handle_errors, load,
    out_console, require_rows, say,
)

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


def _read_summary(path: Path) -> Any:
    import pandas as pd

    from cxlab.exceptions import InputDataError

    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        reason = " ".join(str(err).split()) or "no columns to parse"
        raise InputDataError(
            f"{path}: cannot read the summary as CSV ({reason}); expected a header with frequency, recency, "
            "T (and monetary_value) and one row per customer."
        ) from err
    if frame.empty:
        raise InputDataError(f"{path}: the summary has a header but no rows; give one row per customer.")
    return frame


def _fit_warnings_said_once(func: Any) -> Any:
    """Silence FitWarning inside ``func``: the same text is said once, plainly, from the diagnostics."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        from cxlab.exceptions import FitWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            return func(*args, **kwargs)

    return wrapper


@clv_app.command("fit")
@handle_errors
@_fit_warnings_said_once
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
    currency: CurrencyOpt = None,
) -> None:
    """Fit a purchase model (and the Gamma-Gamma spend model) on raw orders or on a summary.

    OUT is a model bundle (model.json, params.json, spend.json, holdout.json,
    SHA256SUMS; with --by one folder per group under groups/, named safely),
    replaced whole: an interrupted or failed fit leaves the previous model as it was.
    A doubtful fit (a parameter at the edge of its range, a singular Hessian) is
    written all the same, with the reasons and what to try under ``diagnostics``
    in params.json and one ``warning:`` line on stderr.
    """
    from cxlab import clv
    from cxlab.bundle import fingerprint
    from cxlab.clv.persist import save_clv

    if summary is not None:
        frame = _read_summary(summary)
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

    if calibration_end is not None and calibration_end >= observation_end:
        fail(f"--calibration-end {calibration_end.date()} must come before --observation-end {observation_end.date()}.", 2)
    ds = load(data, engine, config, currency=currency)
    orders = _orders_for(ds, by)
    if by is not None and by not in orders.collect_schema().names():
        fail(f"--by {by!r} is not a column of the orders or their customers; "
             f"valid: {', '.join(c for c in orders.collect_schema().names() if not c.startswith('_'))}.", 2)
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
    groups = result["groups"] if by else [result]
    save_clv(out, result, metadata=meta)
    for group in groups:
        _print_params(group["params"], title=f"{by}={group[by]}" if by else None)
    out_console.print(str(out))


def _orders_for(ds: Any, by: str | None) -> Any:
    """Orders in context, with the customer attribute ``by`` when it is one."""
    from cxlab.summary import orders_in_context

    orders = orders_in_context(ds)
    customers = ds.table("customers")
    if by and by not in orders.collect_schema().names() and by in customers.collect_schema().names():
        orders = orders.join(customers.select("customer_id", by), on="customer_id", how="left")
    return orders


def _print_params(result: dict[str, Any], title: str | None = None) -> None:
    errors = result.get("standard_errors", {})
    text = ", ".join(
        f"{k} {v:.4g}" + (f" (se {errors[k]:.2g})" if errors.get(k) is not None else "")
        for k, v in result["params"].items()
    )
    head = f"{title}: " if title else ""
    say(
        f"{head}{result['model']} on {result['n_customers']:,} customers ({result.get('time_unit', 'W')}): "
        f"{text}; log-likelihood {result['log_likelihood']:.2f}"
    )
    from cxlab.clv.api import doubt_text

    if doubt := doubt_text(result.get("diagnostics")):
        say(f"warning: {head}{doubt}")


@clv_app.command("score")
@handle_errors
def score(
    data: DataArg = None,
    *,
    model: Annotated[Path, typer.Option("--model", "-m", exists=True, file_okay=False, help="Model bundle written by 'cxlab clv fit'.")],
    horizon: Annotated[int, typer.Option(min=1, max=36_525, help="Forecast horizon in the model's time unit (weeks by default); at most 100 years.")],
    discount_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Discount rate per time unit for CLV, from 0 to 1.")] = 0.0,
    observation_end: DateOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Output file (format from its suffix: .parquet, .csv, .json).")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Per customer: customer_id, p_alive, expected_purchases, expected_spend, clv."""
    import narwhals as nw
    import pandas as pd

    from cxlab import clv
    from cxlab.clv.persist import load_clv

    fitted = load_clv(model)
    unit = str(fitted.time_unit or "W")
    from cxlab.clv.value import max_horizon

    check_range("--horizon", horizon, 1, max_horizon(unit), f"periods of {unit} (100 years)")
    end = observation_end.date() if observation_end else fitted.observation_end
    if end is None:
        fail("--observation-end DATE is required: the model bundle does not record one.", 2)
    ds = load(data, engine, config, currency=currency)
    model_currency = fitted.bundle.metadata.get("currency")
    if model_currency and model_currency != ds.reporting_currency:
        fail(f"{model}: the model's spend is in {model_currency} but the data's reporting currency is "
             f"{ds.reporting_currency}; give --currency {model_currency}.", 2)
    orders = _orders_for(ds, fitted.by)
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
    require_rows(result, f"no customer has an order up to {end}.")
    echo_frame(result, None, out, default="csv")
