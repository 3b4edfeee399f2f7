"""``cxlab uplift fit`` and ``cxlab uplift score``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cxlab.cli._common import ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, handle_errors, load, out_console

uplift_app = typer.Typer(
    help="Uplift: the effect of each action per customer, learnt from a randomized campaign.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(uplift_app, name="uplift")


class OutcomeChoice(str, Enum):
    conversion = "conversion"
    revenue = "revenue"
    orders = "orders"
    visit = "visit"


class LearnerChoice(str, Enum):
    t = "t"
    x = "x"
    dr = "dr"


class PropensityChoice(str, Enum):
    known = "known"
    estimated = "estimated"


@uplift_app.command("fit")
@handle_errors
def fit(
    data: DataArg = None,
    outcome: Annotated[OutcomeChoice, typer.Option(help="conversion (any order), revenue (reporting currency), orders or visit (any event).")] = OutcomeChoice.conversion,
    window_days: Annotated[float, typer.Option("--window-days", min=1, max=3650, help="Days after assigned_ts over which the outcome is measured.")] = 30.0,
    learner: Annotated[LearnerChoice, typer.Option(help="t (T-learner), x (X-learner) or dr (DR-learner).")] = LearnerChoice.t,
    control: Annotated[str, typer.Option(help="The action that means 'no treatment'.")] = "control",
    propensity: Annotated[PropensityChoice, typer.Option(help="known (randomized: each arm's share) or estimated (a model of the assignment).")] = PropensityChoice.known,
    holdout: Annotated[float, typer.Option(min=0.05, max=0.5, help="Share of treated customers held out for the evaluation.")] = 0.3,
    trees: Annotated[int, typer.Option(min=10, max=5000, help="Boosting rounds of every LightGBM model.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed of the split and the models.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Model folder (LightGBM text models + JSON, no pickle).")] = Path("uplift-model"),
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Fit an uplift model on DATA's campaign; write OUT and OUT/evaluation.json."""
    from cxlab import uplift

    ds = load(data, engine, config, currency=currency)
    with err_console.status("fitting uplift models"):
        evaluation = uplift.fit(
            ds.tables, out, outcome=outcome.value, window_days=window_days, learner=learner.value, control=control,
            propensity=propensity.value, holdout=holdout, reporting_currency=ds.reporting_currency,
            random_state=seed, n_estimators=trees,
        )
    for action, e in evaluation["actions"].items():
        err_console.print(
            f"{action}: Qini {e['qini']:,.4g}, AUUC {e['auuc']:,.4g}, uplift@10% {e['uplift_at']['10%']:,.4g}, "
            f"ATE {e['ate']:,.4g} ({e['n_treated']:,} treated, {e['n_control']:,} control held out)",
            markup=False, highlight=False,
        )
    dr = evaluation["policy"].get("dr_gain")
    if dr:
        err_console.print(
            f"targeting policy: gain over no action {dr['value']:,.4g} per customer "
            f"(95% CI {dr['ci_low']:,.4g} to {dr['ci_high']:,.4g}, doubly robust)",
            markup=False, highlight=False,
        )
    out_console.print(str(out / "evaluation.json"), markup=False)


@uplift_app.command("score")
@handle_errors
def score(
    model: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Model folder from 'cxlab uplift fit'.")],
    data: DataArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Output file: .parquet or .csv.")] = Path("uplift-scores.parquet"),
    asof: Annotated[str | None, typer.Option(help="Features as of this time (default: just after the latest order or event).")] = None,
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Write customer_id, action, effect for every customer of DATA and every action."""
    from cxlab import uplift

    ds = load(data, engine, config, currency=currency)
    with err_console.status("scoring customers"):
        scores = uplift.score(model, ds.tables, asof=asof, reporting_currency=ds.reporting_currency)
        uplift.write_scores(scores, out)
    err_console.print(f"scored {scores['customer_id'].nunique():,} customers x {scores['action'].nunique()} actions",
                      markup=False, highlight=False)
    out_console.print(str(out), markup=False)
