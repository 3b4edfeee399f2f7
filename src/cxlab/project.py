"""The project file: one YAML file that says what ``cxlab run`` does.

It holds the ``data:`` section of :mod:`cxlab.io.config` (where the tables are,
how the user's columns map onto the canonical ones) and one section per stage
of the run. Every key is optional except that the data must be found; a stage
runs when its section asks for it (``enabled``, default on) and the data has
the tables it needs. See ``docs/project.md`` for every key.

Validation happens once, before any data is read: an unknown key, a value of
the wrong type or a file that does not exist raises
:class:`~cxlab.exceptions.InputDataError` naming the key (``satisfaction.method``)
and the allowed values or the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxlab.exceptions import InputDataError
from cxlab.io.config import DataConfig

__all__ = ["ProjectConfig", "detect_dataset", "load_project", "project_template"]

EngineName = Literal["duckdb", "polars", "spark"]
Grain = Literal["day", "week", "month", "quarter", "year"]
Audience = Literal["exec", "science", "deck"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowConfig(_Section):
    """The observation window and the calibration/holdout split of engagement models."""

    start: dt.date | None = Field(None, description="first day analysed (default: the first order)")
    end: dt.date | None = Field(None, description="last day analysed (default: the last order)")
    holdout_weeks: int = Field(26, ge=1, le=260, description="weeks held out to check the engagement forecast")


class MetricsConfig(_Section):
    enabled: bool = True
    names: list[str] | None = Field(None, description="metrics to compute; default: all the tables allow")
    grain: Grain = "month"
    by: list[str] = Field(default_factory=lambda: ["marketplace"])
    definitions: Path | None = Field(None, description="YAML file of user-defined metrics")


class CohortsConfig(_Section):
    enabled: bool = True
    grain: Literal["week", "month", "quarter", "year"] = "month"


class EngagementConfig(_Section):
    enabled: bool = True
    model: Literal["bgnbd", "pareto"] = "bgnbd"
    horizon_weeks: int = Field(52, ge=1, le=520, description="horizon of the customer value forecast")
    by: Literal["marketplace"] | None = "marketplace"
    churn_days: int = Field(90, ge=7, le=730, description="no order for this many days counts as churn")


class SatisfactionConfig(_Section):
    enabled: bool = True
    target: Literal["invited", "orders"] = "invited"
    method: Literal["aipw", "ipw", "poststrat", "naive"] = "aipw"
    by: list[str] = Field(default_factory=lambda: ["marketplace"])
    folds: int = Field(5, ge=2, le=20)


class MonitorConfig(_Section):
    enabled: bool = True
    metrics: list[str] = Field(default_factory=lambda: ["csat", "late_delivery_rate", "orders"])
    grain: Literal["day", "week"] = "week"
    by: list[str] = Field(default_factory=lambda: ["marketplace"])
    false_alarms_per_year: float = Field(1.0, gt=0, le=52, description="false alarms per series and year")


class ExperimentsConfig(_Section):
    enabled: bool = True
    metrics: list[str] = Field(default_factory=lambda: ["conversion", "revenue"])
    window_days: int = Field(28, ge=1, le=365, description="days after assignment the outcome is measured")
    control: str = "control"


class UpliftConfig(_Section):
    enabled: bool = True
    outcome: Literal["conversion", "revenue", "orders", "visit"] = "revenue"
    window_days: int = Field(28, ge=1, le=365)
    control: str = "control"


class PlanConfig(_Section):
    enabled: bool = True
    budget: float | None = Field(None, ge=0, le=1e13, description="total spend on actions; none: no plan")
    costs: dict[str, float] = Field(default_factory=dict, description="cost of each action per customer")
    capacity: dict[str, int] = Field(default_factory=dict, description="most customers per action")
    margin: float = Field(1.0, gt=0, le=1, description="share of incremental revenue that is value")

    @field_validator("costs")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for action, cost in value.items():
            if not 0 <= cost <= 1e9:
                raise ValueError(f"cost of {action!r} must lie in [0, 1e9]; got {cost}")
        return value


class ReportsConfig(_Section):
    audiences: list[Audience] = Field(default_factory=lambda: ["exec", "science", "deck"])
    title: str = "Customer satisfaction and engagement"


class ProjectConfig(_Section):
    """A whole project file."""

    name: str = "cxlab project"
    engine: EngineName = "duckdb"
    seed: int = Field(0, ge=0, le=2**31 - 1)
    data: DataConfig = Field(default_factory=DataConfig)
    window: WindowConfig = Field(default_factory=WindowConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    cohorts: CohortsConfig = Field(default_factory=CohortsConfig)
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)
    satisfaction: SatisfactionConfig = Field(default_factory=SatisfactionConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    experiments: ExperimentsConfig = Field(default_factory=ExperimentsConfig)
    uplift: UpliftConfig = Field(default_factory=UpliftConfig)
    plan: PlanConfig = Field(default_factory=PlanConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, raw: Any) -> Any:
        """A section written with only comments under it (``plan:``) means its defaults."""
        if isinstance(raw, dict):
            return {k: ({} if v is None and k in cls.model_fields and k not in ("name", "engine", "seed") else v)
                    for k, v in raw.items()}
        return raw

    def resolved(self) -> dict[str, Any]:
        """The configuration with every default filled in, as JSON-able data."""
        return self.model_dump(mode="json")


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the key at ``loc`` (for listing its keys)."""
    current: Any = model
    skip = False
    for part in loc:
        if skip:  # the key of a dict[str, Model]
            skip = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
        elif getattr(annotation, "__origin__", None) is dict and isinstance(args[-1], type) \
                and issubclass(args[-1], BaseModel):
            current, skip = args[-1], True
        else:
            current = annotation
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    key = ".".join(map(str, loc)) or "(top level)"
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(ProjectConfig, loc[:-1])
        allowed = ", ".join(owner.model_fields) if owner else "see docs/project.md"
        return f"{key}: unknown key; allowed keys here: {allowed}"
    msg = error["msg"]
    if kind in ("missing",):
        return f"{key}: required"
    shown = repr(given) if not isinstance(given, dict | list) else type(given).__name__
    return f"{key}: {msg}; got {shown}"


def _check_files(config: ProjectConfig, source: Path) -> None:
    data = config.data
    if data.path is not None and not data.path.exists():
        raise InputDataError(f"{source}: data.path: folder {data.path} does not exist; fix the path "
                             "(relative paths start at the project file's folder).")
    for name, table in data.tables.items():
        if table.path is not None and not table.path.exists():
            raise InputDataError(f"{source}: data.tables.{name}.path: file {table.path} does not exist; "
                                 "fix the path (relative paths start at the project file's folder).")
    if data.path is None and not any(t.path for t in data.tables.values()):
        raise InputDataError(f"{source}: data: say where the tables are with data.path (a folder) or "
                             "data.tables.NAME.path (one file per table).")
    if config.metrics.definitions is not None and not config.metrics.definitions.exists():
        raise InputDataError(f"{source}: metrics.definitions: file {config.metrics.definitions} does not exist.")


def load_project(path: Path) -> ProjectConfig:
    """Read and validate a project file; relative paths start at its folder.

    Raises
    ------
    InputDataError
        The file cannot be read, has an unknown key, a value of the wrong type
        or out of range (the message names the key and the allowed values), or
        names a data file that does not exist.
    """
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputDataError(f"{path}: cannot read the project file: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise InputDataError(f"{path}: not valid YAML: {err}") from err
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputDataError(f"{path}: a project file must be a mapping of sections; got {type(raw).__name__}.")
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(_describe(e) for e in err.errors()[:5])
        raise InputDataError(f"{path}: {problems}") from err
    base = path.resolve().parent
    data = config.data
    if data.path is not None and not data.path.is_absolute():
        data.path = base / data.path
    for table in data.tables.values():
        if table.path is not None and not table.path.is_absolute():
            table.path = base / table.path
    if config.metrics.definitions is not None and not config.metrics.definitions.is_absolute():
        config.metrics.definitions = base / config.metrics.definitions
    _check_files(config, path)
    return config


def project_template(
    data: str, *, currency: str | None = None, tables: dict[str, str] | None = None,
    data_section: list[str] | None = None,
) -> str:
    """A commented example project file for the dataset folder ``data``.

    ``data_section``: the lines of a proposed mapping (:func:`cxlab.io.guess.render_data_section`)
    that replace the example ``data:`` section; ``data.path`` is kept, so that other
    tables are still found by name.
    """
    lines = [
        "# cxlab project file: `cxlab run project.yaml` reads it. Every section is optional;",
        "# a stage runs when its section is enabled (the default) and the data has its tables.",
        "# Reference: docs/project.md.",
        "name: my project",
        "engine: duckdb            # duckdb | polars | spark",
        "seed: 0                   # every random step (folds, splits, models) starts from it",
        "",
        "data:",
        f"  path: {data}" + "              # folder with one NAME.csv / NAME.parquet / NAME/ per table",
    ]
    if data_section is not None:
        lines += data_section[1:]  # after its 'data:' line
    else:
        if currency:
            lines.append(f"  reporting_currency: {currency}")
        else:
            lines.append("  # reporting_currency: GBP   # default: the one currency of the orders")
        if tables:
            lines.append("  tables:")
            for name, file in tables.items():
                lines += [f"    {name}:", f"      path: {file}"]
        lines += [
            "  # tables:",
            "  #   orders:",
            "  #     path: exports/invoices.csv",
            "  #     columns: {order_id: InvoiceNo, customer_id: CustomerID, order_ts: InvoiceDate, amount: Total}",
            "  #     timestamp_format: \"%d/%m/%Y %H:%M\"",
        ]
    lines += [
        "",
        "window:",
        "  # start: 2024-01-01     # default: first order",
        "  # end: 2025-12-31       # default: last order",
        "  holdout_weeks: 26       # weeks held out to check the customer value forecast",
        "",
        "metrics:                  # needs customers (+ orders, surveys, events, contacts as each metric needs)",
        "  # names: [csat, nps, response_rate, late_delivery_rate, active_customers, revenue]",
        "  grain: month            # day | week | month | quarter | year",
        "  by: [marketplace]",
        "  # definitions: my_metrics.yaml   # user-defined metrics",
        "",
        "cohorts: {grain: month}   # retention of first-order cohorts (needs orders)",
        "",
        "engagement:               # purchase frequency, customer value and churn risk (needs orders)",
        "  model: bgnbd            # bgnbd | pareto",
        "  horizon_weeks: 52",
        "  churn_days: 90",
        "",
        "satisfaction:             # needs surveys (invitations, with a score when answered)",
        "  target: invited         # invited | orders",
        "  method: aipw            # aipw | ipw | poststrat | naive",
        "  by: [marketplace]",
        "",
        "monitor:                  # control charts with alarms",
        "  metrics: [csat, late_delivery_rate, orders]",
        "  grain: week             # day | week",
        "  false_alarms_per_year: 1",
        "",
        "experiments:              # needs treatments (randomized assignments)",
        "  metrics: [conversion, revenue]",
        "  window_days: 28",
        "",
        "uplift:                   # needs treatments",
        "  outcome: revenue        # conversion | revenue | orders | visit",
        "  window_days: 28",
        "",
        "plan:                     # needs uplift; no budget, no plan",
        "  # budget: 50000",
        "  # costs: {email: 0.1, coupon_10: 5, free_shipping: 3, call: 12}",
        "",
        "reports:",
        "  audiences: [exec, science, deck]",
        "",
    ]
    return "\n".join(lines)


def detect_dataset(folder: Path) -> tuple[list[str], str | None]:
    """The canonical tables found in ``folder`` and, when it is one, the orders' currency.

    The currency is the one value of ``orders.currency``, or else the one
    currency of the customers' marketplaces; None when there are several or
    none can be read (the project file then asks the user to set it).
    """
    import narwhals as nw
    import pandas as pd

    from cxlab.engine import get_engine
    from cxlab.exceptions import InputDataError
    from cxlab.io.config import TableConfig
    from cxlab.io.read import find_table, read_table, table_columns
    from cxlab.schema import MARKETPLACES, TABLES

    found = {name: find_table(folder, name, TableConfig()) for name in TABLES}
    tables = {name: path for name, path in found.items() if path is not None}

    def column(name: str, col: str) -> pd.Series | None:
        """The column's values as text, read as the loader reads the file (delimiter sniffed, ...)."""
        path = tables.get(name)
        if path is None:
            return None
        try:
            if col not in table_columns(path, TableConfig()):
                return None
            engine = get_engine("duckdb")
            frame = read_table(path, engine, TableConfig()).select(nw.col(col).cast(nw.String))
            return engine.to_pandas(frame)[col]
        except (OSError, ValueError, KeyError, ImportError, InputDataError):
            return None

    currency = None
    values = column("orders", "currency")
    if values is not None and values.dropna().str.upper().nunique() == 1:
        currency = str(values.dropna().str.upper().iloc[0])
    else:
        markets = column("customers", "marketplace")
        if values is None and markets is not None:
            codes = {MARKETPLACES[m].currency for m in markets.dropna().unique() if m in MARKETPLACES}
            currency = codes.pop() if len(codes) == 1 else None
    return sorted(tables), currency
