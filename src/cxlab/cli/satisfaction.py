"""``cxlab satisfaction fit|estimate|drivers``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import (
    ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, Format, FormatOpt, OutOpt, echo_frame, err_console, handle_errors, load,
    out_console, say,
)

sat_app = typer.Typer(
    help="Satisfaction: calibrated predictions, drivers, and population CSAT/NPS corrected for non-response.",
    no_args_is_help=True,
)

#: Columns of ``estimate`` output, as documented (``reason`` says why a value is missing or flagged).
ESTIMATE_COLUMNS = (
    "scale", "method", "estimate", "ci_low", "ci_high", "n_invited", "n_responded", "effective_n", "reason",
)


def register(app: typer.Typer) -> None:
    app.add_typer(sat_app, name="satisfaction")


class Method(str, Enum):
    naive = "naive"
    poststrat = "poststrat"
    ipw = "ipw"
    aipw = "aipw"


class Target(str, Enum):
    invited = "invited"
    orders = "orders"


@sat_app.command("fit")
@handle_errors
def fit(
    data: DataArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Model folder (LightGBM text models + JSON, no pickle).")] = Path("satisfaction-model"),
    holdout: Annotated[float, typer.Option(min=0.05, max=0.5, help="Share of customers held out for the evaluation.")] = 0.2,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed of the split and the model.")] = 0,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Fit P(satisfied) per survey scale, calibrated on held-out folds; write OUT/evaluation.json."""
    from cxlab import satisfaction

    ds = load(
        data, engine, config, currency=currency, command="satisfaction fit",
        needs={"surveys": "the survey invitations and answers it learns from"},
    )
    from cxlab._fs import staged_dir

    # OUT is written whole: a failed or interrupted fit leaves the previous model as it was
    with err_console.status("fitting satisfaction models"), staged_dir(out) as stage:
        evaluation = satisfaction.fit(
            ds.tables, stage, reporting_currency=ds.reporting_currency, holdout=holdout, random_state=seed
        )
    for scale, e in evaluation["scales"].items():
        say(
            f"{scale}: AUC {e['auc']:.3f}, log-loss {e['log_loss']:.3f}, Brier {e['brier']:.3f}, "
            f"ECE {e['ece']:.3f} on {e['n_test']:,} held-out answers"
        )
    out_console.print(str(out / "evaluation.json"))


@sat_app.command("estimate")
@handle_errors
def estimate(
    data: DataArg = None,
    method: Annotated[Method, typer.Option(help="naive (respondents only), poststrat, ipw or aipw (doubly robust).")] = Method.aipw,
    by: Annotated[list[str] | None, typer.Option("--by", "-b", help="Segment column (e.g. marketplace); repeat for several.")] = None,
    target: Annotated[Target, typer.Option(help="Population: all invited, or all orders in the data.")] = Target.invited,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-fitting folds of aipw.")] = 5,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed of the folds and learners.")] = 0,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    balance: Annotated[Path | None, typer.Option(dir_okay=False, help="Write covariate balance (standardized mean differences before and after weighting) to FILE (.csv, .json or .parquet).")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Population CSAT (share in [0, 1]) and NPS ([-100, 100]) with 95% intervals, per segment."""
    from cxlab import satisfaction

    ds = load(
        data, engine, config, currency=currency, command="satisfaction estimate",
        needs={"surveys": "the survey invitations and answers it estimates from"},
    )
    result = satisfaction.estimate(
        ds.tables,
        method=method.value,
        by=tuple(by or ()),
        target=target.value,
        reporting_currency=ds.reporting_currency,
        folds=folds,
        random_state=seed,
        return_balance=balance is not None,
    )
    if balance is not None:
        result, smd = result
        echo_frame(smd, None, balance, default="csv")
        for scale, part in smd.groupby("scale"):
            say(
                f"{scale}: largest |standardized mean difference| {part['smd_before'].abs().max():.3f} "
                f"before weighting, {part['smd_after'].abs().max():.3f} after"
            )
    columns = [*(by or ()), *(c for c in ESTIMATE_COLUMNS if c in result.columns)]
    echo_frame(result[columns], fmt, out)


@sat_app.command("drivers")
@handle_errors
def drivers(
    model: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder written by 'cxlab satisfaction fit'.")],
    by: Annotated[str | None, typer.Option(help="Explain per value of this column, e.g. marketplace.")] = None,
    top: Annotated[int, typer.Option(min=1, max=50, help="Drivers per scale (and segment).")] = 5,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="table, csv or json; default: one sentence per driver.")] = None,
) -> None:
    """What drives satisfaction: ranked features, their direction, in points of CSAT/NPS."""
    from cxlab import satisfaction

    result = satisfaction.drivers(model, by=by, top=top)
    if fmt is None:
        out_console.print(satisfaction.drivers_text(result), highlight=False)
    else:
        echo_frame(result, fmt.value, None)
