"""``cxlab score DATA --model DIR --out PATH``: batch scoring with a model bundle."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, handle_errors, load, out_console


def register(app: typer.Typer) -> None:
    app.command("score")(score)


class Rows(str, Enum):
    auto = "auto"
    invited = "invited"
    orders = "orders"


@handle_errors
def score(
    data: DataArg = None,
    *,
    model: Annotated[Path, typer.Option("--model", "-m", help="Model bundle written by a 'cxlab ... fit' command.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet folder for the scores (replaced whole when done).")],
    horizon: Annotated[int, typer.Option(min=1, max=36_525, help="CLV models: forecast horizon in the model's time unit (weeks by default; at most 100 years).")] = 52,
    discount_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="CLV models: discount rate per time unit.")] = 0.0,
    observation_end: Annotated[dt.datetime | None, typer.Option("--observation-end", formats=["%Y-%m-%d"], help="CLV models: last day of data (default: the model's).")] = None,
    rows: Annotated[Rows, typer.Option(help="Satisfaction models: score every invitation ('invited'), every order, or 'auto' (invitations when there is a surveys table).")] = Rows.auto,
    batch_rows: Annotated[int, typer.Option(min=1_000, max=10_000_000, help="Rows per scoring batch.")] = 50_000,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Score every customer (CLV models) or every order/invitation (satisfaction models) to Parquet.

    CLV: customer_id[, group], p_alive, expected_purchases, expected_spend, clv.
    Satisfaction: keys, scale, p_satisfied, expected_score (one row per scale).
    On Spark the scoring runs on the executors (mapInPandas).
    """
    from cxlab.scoring import load_scorer, score_dataset

    scorer = load_scorer(model)  # verified before any data is read
    ds = load(data, engine, config, currency=currency)
    with err_console.status(f"scoring with the {scorer.bundle.kind} model on {engine.value}"):
        n = score_dataset(
            ds, scorer, out, horizon=horizon, discount_rate=discount_rate,
            observation_end=observation_end.date() if observation_end else None,
            target=rows.value, batch_rows=batch_rows,
        )
    what = "customers" if scorer.family == "clv" else "rows (one per order or invitation and scale)"
    err_console.print(f"scored {n:,} {what} with {model}", highlight=False, markup=False)
    out_console.print(str(out), highlight=False, markup=False)
