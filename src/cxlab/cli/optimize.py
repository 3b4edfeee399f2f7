"""``cxlab optimize`` (candidates -> plan) and ``cxlab plan`` (dataset + uplift model -> plan)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from cxlab.cli._common import ConfigOpt, CurrencyOpt, DataArg, EngineChoice, EngineOpt, err_console, fail, handle_errors, load, out_console
from cxlab.exceptions import InputDataError


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)
    app.command("plan")(plan)


class SolverChoice(str, Enum):
    auto = "auto"
    exact = "exact"
    scalable = "scalable"


BudgetByOpt = Annotated[
    list[str] | None,
    typer.Option("--budget-by", help="COLUMN=FILE.csv: budget per group; the CSV's first column is the group, the second the amount. Repeatable."),
]
CoverageOpt = Annotated[
    list[str] | None,
    typer.Option("--min-coverage", help="COLUMN=FILE.csv: customers to treat at least, per group (CSV: group, count). Repeatable."),
]
CapacityOpt = Annotated[list[str] | None, typer.Option("--capacity", help="ACTION=N: at most N customers get ACTION. Repeatable.")]
SolverOpt = Annotated[SolverChoice, typer.Option(help="auto, exact (HiGHS MIP) or scalable (Lagrangian, certified gap).")]
TimeLimitOpt = Annotated[float | None, typer.Option("--time-limit", min=1, max=86_400, help="Seconds for the solver.")]
BudgetOpt = Annotated[float, typer.Option("--budget", min=0, max=1e15, help="Total cost of the plan, at most.")]


def _pairs(values: list[str] | None, what: str) -> list[tuple[str, str]]:
    out = []
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise InputDataError(f"{what}: expected NAME=VALUE; got {item!r}.")
        out.append((key, value))
    return out


def _group_file(column: str, path: str, what: str) -> dict[str, float]:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype={0: str})
    except (OSError, ValueError) as err:
        raise InputDataError(f"{what} {column}: {path} could not be read as CSV ({err}).") from err
    if df.shape[1] < 2:
        raise InputDataError(f"{what} {column}: {path} needs two columns (group, amount); it has {df.shape[1]}.")
    groups = df.iloc[:, 0].astype(str)
    amounts = pd.to_numeric(df.iloc[:, 1], errors="coerce")
    if amounts.isna().any():
        bad = groups[amounts.isna()].head(5).tolist()
        raise InputDataError(f"{what} {column}: {path}: amounts must be numbers; not for {bad}.")
    return dict(zip(groups, amounts.astype(float), strict=True))


def _constraints(budget_by: list[str] | None, capacity: list[str] | None, coverage: list[str] | None) -> dict[str, Any]:
    caps = {}
    for action, n in _pairs(capacity, "--capacity"):
        try:
            caps[action] = int(n)
        except ValueError as err:
            raise InputDataError(f"--capacity {action}: N must be a whole number; got {n!r}.") from err
    return {
        "group_budgets": {c: _group_file(c, p, "--budget-by") for c, p in _pairs(budget_by, "--budget-by")},
        "capacities": caps,
        "min_coverage": {c: _group_file(c, p, "--min-coverage") for c, p in _pairs(coverage, "--min-coverage")},
    }


def _read_frame(path: Path) -> Any:
    import pandas as pd

    try:
        if path.suffix == ".parquet" or path.is_dir():
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"customer_id": str, "action": str})
    except (OSError, ValueError) as err:
        raise InputDataError(f"optimize: {path} could not be read as Parquet or CSV ({err}).") from err


def _write_plan(result: Any, out: Path, summary_path: Path | None) -> Path:
    from cxlab import _fs
    from cxlab.uplift import write_scores

    write_scores(result.plan, out)
    summary_path = summary_path or out.with_name(out.stem + ".summary.json")
    _fs.atomic_write_json(summary_path, result.summary())
    return summary_path


def _print_summary(result: Any) -> None:
    lines = [
        f"solver {result.solver}: {result.status}, objective {result.objective:,.2f}, bound {result.bound:,.2f}, "
        f"gap {result.gap:.4%}, {result.seconds:,.1f} s, {len(result.plan):,} customers treated",
    ]
    for family, rows in result.spend.items():
        for r in rows:
            if r["limit"] is None:
                continue
            name = family if r["group"] is None else f"{family} {r['group']}"
            rel = "at least" if r["sense"] == ">=" else "of"
            lines.append(f"  {name}: {r['used']:,.2f} {rel} {r['limit']:,.2f}")
    out_console.print("\n".join(lines), markup=False, highlight=False)


@handle_errors
def optimize(
    candidates: Annotated[Path, typer.Argument(exists=True, help="Candidates (.parquet or .csv): customer_id, action, value, cost and grouping columns.")],
    budget: BudgetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Plan file (.parquet or .csv); the summary goes next to it (.summary.json).")] = Path("plan.parquet"),
    budget_by: BudgetByOpt = None,
    capacity: CapacityOpt = None,
    min_coverage: CoverageOpt = None,
    solver: SolverOpt = SolverChoice.auto,
    time_limit: TimeLimitOpt = None,
    summary: Annotated[Path | None, typer.Option(dir_okay=False, help="Where to write the summary JSON.")] = None,
) -> None:
    """Choose at most one action per customer to maximize total value within budgets and capacities."""
    from cxlab.optimize import allocate

    frame = _read_frame(candidates)
    with err_console.status(f"solving ({solver.value})"):
        result = allocate(frame, budget=budget, solver=solver.value, time_limit=time_limit,
                          **_constraints(budget_by, capacity, min_coverage))
    summary_path = _write_plan(result, out, summary)
    _print_summary(result)
    err_console.print(f"wrote {out} and {summary_path}", markup=False, highlight=False)


@handle_errors
def plan(
    data: DataArg = None,
    model: Annotated[Path, typer.Option("--model", "-m", exists=True, file_okay=False, help="Model folder from 'cxlab uplift fit'.")] = Path("uplift-model"),
    budget: BudgetOpt = 0.0,
    costs: Annotated[Path, typer.Option("--costs", exists=True, dir_okay=False, help="YAML: cost per action, e.g. 'coupon_10: 5.0'.")] = Path("costs.yaml"),
    margin: Annotated[float, typer.Option(min=0.0001, max=1000, help="Value = effect x margin (e.g. gross margin on revenue).")] = 1.0,
    budget_by: BudgetByOpt = None,
    capacity: CapacityOpt = None,
    min_coverage: CoverageOpt = None,
    solver: SolverOpt = SolverChoice.auto,
    time_limit: TimeLimitOpt = None,
    asof: Annotated[str | None, typer.Option(help="Score customers as of this time (default: just after the latest order or event).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Plan file (.parquet or .csv); summary next to it.")] = Path("plan.parquet"),
    engine: EngineOpt = EngineChoice.duckdb,
    config: ConfigOpt = None,
    currency: CurrencyOpt = None,
) -> None:
    """Score DATA's customers with the uplift model and plan who gets which action within BUDGET."""
    from cxlab import uplift
    from cxlab.optimize import allocate
    from cxlab.optimize.plan import plan_candidates, plan_summary, read_costs

    if budget <= 0:
        fail("--budget must be greater than 0.", 2)
    cost_map = read_costs(costs)
    ds = load(data, engine, config, currency=currency)
    with err_console.status("scoring customers"):
        scores = uplift.score(model, ds.tables, asof=asof, reporting_currency=ds.reporting_currency)
        attrs = ds.tables["customers"].select("customer_id", "marketplace").collect().to_pandas()
        attrs["customer_id"] = attrs["customer_id"].astype(str)
        cands = plan_candidates(scores, cost_map, margin=margin, attributes=attrs)
    with err_console.status(f"solving ({solver.value})"):
        result = allocate(cands, budget=budget, solver=solver.value, time_limit=time_limit,
                          **_constraints(budget_by, capacity, min_coverage))
    summary_path = _write_plan(result, out, None)
    by_market = plan_summary(result.plan)
    from cxlab import _fs

    payload = json.loads(summary_path.read_text(encoding="utf-8"))
    payload["by_marketplace"] = json.loads(by_market.to_json(orient="records"))
    _fs.atomic_write_json(summary_path, payload)
    _print_summary(result)
    out_console.print(by_market.to_string(index=False, float_format=lambda v: f"{v:,.2f}"), markup=False, highlight=False)
    err_console.print(f"wrote {out} and {summary_path}", markup=False, highlight=False)
