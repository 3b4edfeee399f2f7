"""User-defined metrics from a YAML spec, validated with pydantic.

A spec is a list of metrics (or a mapping with a ``metrics`` list)::

    metrics:
      - name: prime_csat
        type: proportion
        table: surveys
        timestamp: responded_ts
        success: [{column: score, op: ">=", value: 4}]
        filters:
          - {column: scale, op: "==", value: csat5}
          - {column: prime, op: "==", value: true}

Filters are structured conditions; no code is ever evaluated from a spec. A bad
spec raises :class:`~cxlab.exceptions.InputDataError` naming the metric and the
field, before any data is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import narwhals as nw
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxlab.exceptions import InputDataError
from cxlab.metrics.catalog import METRICS, Metric, Source, UnitColumn
from cxlab.schema import DETRACTOR_AT, SATISFIED_AT, TABLES

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null"]
MetricType = Literal[
    "proportion", "mean", "ratio", "sum", "count", "distinct_count", "nps"
]

#: Timestamp used for periods when a spec names none.
DEFAULT_TIMESTAMP: dict[str, str] = {
    "customers": "signup_ts",
    "orders": "order_ts",
    "events": "event_ts",
    "surveys": "sent_ts",
    "contacts": "contact_ts",
    "treatments": "assigned_ts",
}

_NEEDS: dict[str, tuple[str, ...]] = {
    "proportion": ("success",),
    "mean": ("column",),
    "ratio": ("numerator", "denominator"),
    "sum": ("column",),
    "count": (),
    "distinct_count": ("column",),
    "nps": ("column",),
}


class Condition(BaseModel):
    """One structured condition: ``column op value``."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(min_length=1)
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"op {self.op!r} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op {self.op!r} needs a non-empty list as value")
        elif self.value is None or isinstance(self.value, (list, dict)):
            raise ValueError(f"op {self.op!r} needs one scalar value")
        return self


class MetricSpec(BaseModel):
    """A user-defined metric. See the module docstring and ``docs/metrics.md``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    type: MetricType
    table: Literal["customers", "orders", "events", "surveys", "contacts", "treatments"]
    timestamp: str | None = None
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    success: list[Condition] = Field(default_factory=list)
    filters: list[Condition] = Field(default_factory=list)
    description: str = ""

    @model_validator(mode="after")
    def _fields_fit_type(self) -> MetricSpec:
        for name in _NEEDS[self.type]:
            if not getattr(self, name):
                raise ValueError(f"type {self.type!r} needs field {name!r}")
        ts = self.timestamp or DEFAULT_TIMESTAMP[self.table]
        column = TABLES[self.table].column(ts)
        if column is not None and column.type != "timestamp":
            raise ValueError(f"timestamp {ts!r} is not a timestamp column of {self.table}")
        if self.name in METRICS:
            raise ValueError(f"name {self.name!r} is a built-in metric; choose another name")
        return self

    def to_metric(self) -> Metric:
        """The :class:`~cxlab.metrics.catalog.Metric` this spec defines."""
        source = Source(self.table, self.timestamp or DEFAULT_TIMESTAMP[self.table])
        cols = tuple(
            {c.column for c in (*self.filters, *self.success)}
            | {c for c in (self.column, self.numerator, self.denominator) if c}
        )
        filters, success = list(self.filters), list(self.success)

        def keep() -> nw.Expr:
            return _all(filters, self.table)

        def ind(expr: nw.Expr) -> nw.Expr:
            return nw.when(expr).then(nw.lit(1.0)).otherwise(nw.lit(0.0))

        def val(column: str) -> nw.Expr:
            ok = keep() & ~nw.col(column).is_null()
            return nw.when(ok).then(nw.col(column).cast(nw.Float64)).otherwise(nw.lit(0.0))

        def present(column: str) -> nw.Expr:
            return ind(keep() & ~nw.col(column).is_null())

        y_name, x_name = f"{self.name}__y", f"{self.name}__x"
        col = self.column or ""
        kind: str
        if self.type == "proportion":
            y_row, x_row, kind = (lambda: ind(keep() & _all(success, self.table)),
                                  lambda: ind(keep()), "proportion")
        elif self.type == "mean":
            y_row, x_row, kind = (lambda: val(col)), (lambda: present(col)), "ratio"
        elif self.type == "ratio":
            num, den = self.numerator or "", self.denominator or ""
            y_row, x_row, kind = (lambda: val(num)), (lambda: val(den)), "ratio"
        elif self.type == "sum":
            y_row, x_row, kind = (lambda: val(col)), None, "total"
        elif self.type == "count":
            y_row, x_row, kind = (lambda: ind(keep())), None, "total"
        elif self.type == "nps":
            def y_row() -> nw.Expr:
                c = nw.col(col)
                return ind(keep() & (c >= SATISFIED_AT["nps11"])) - ind(keep() & (c <= DETRACTOR_AT))

            x_row, kind = (lambda: present(col)), "nps"
        else:  # distinct_count
            y_row, x_row, kind = (lambda: ind(keep())), None, "distinct_count"
        units = [UnitColumn(y_name, source, y_row, columns=cols)]
        if x_row is not None:
            units.append(UnitColumn(x_name, source, x_row, columns=cols))
        return Metric(
            name=self.name,
            description=self.description or f"user-defined {self.type} on {self.table}",
            kind=kind,  # type: ignore[arg-type]
            columns=tuple(units),
            y=lambda: nw.col(y_name),
            x=(lambda: nw.col(x_name)) if x_row is not None else None,
            scale=100.0 if self.type == "nps" else 1.0,
            period_by=(source.timestamp,),
            distinct_column=self.column if self.type == "distinct_count" else None,
            row_filter=keep if self.type == "distinct_count" else None,
        )


def _literal(value: Any, table: str, column: str) -> Any:
    spec = TABLES[table].column(column)
    if spec is not None and spec.type == "timestamp" and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as err:
            raise InputDataError(
                f"{table}.{column}: {value!r} is not an ISO timestamp such as 2024-01-31 or 2024-01-31T12:00."
            ) from err
    return value


def _fits(value: Any, dtype: Any) -> str | None:
    """Why ``value`` cannot be compared with a column of ``dtype``, or None."""
    values = value if isinstance(value, list) else [value]
    for v in values:
        if v is None:
            continue
        if dtype == nw.Boolean:
            if not isinstance(v, bool):
                return f"{v!r} is not true or false"
        elif dtype.is_numeric():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return f"{v!r} is not a number"
        elif dtype in (nw.Datetime, nw.Date) or isinstance(dtype, (nw.Datetime, nw.Date)):
            if isinstance(v, str):
                try:
                    dt.datetime.fromisoformat(v)
                except ValueError:
                    return f"{v!r} is not an ISO timestamp such as 2024-01-31"
            elif not isinstance(v, (dt.date, dt.datetime)):
                return f"{v!r} is not a timestamp"
        elif dtype == nw.String and not isinstance(v, str):
            return f"{v!r} is not text (quote it in the YAML)"
    return None


def check_specs(specs: Sequence[MetricSpec], tables: Any) -> None:
    """Check every condition of ``specs`` against the columns it will run on.

    Raises :class:`InputDataError` naming the metric and the key (e.g.
    ``filters[0].value``) when a column is not in the table or a value cannot
    be compared with the column's type.
    """
    for spec in specs:
        if spec.table not in tables:
            continue
        schema = tables[spec.table].collect_schema()
        named = [(f"{key}[{i}]", c) for key in ("filters", "success") for i, c in enumerate(getattr(spec, key))]
        for key, cond in named:
            if cond.column not in schema:
                raise InputDataError(
                    f"metric {spec.name!r}: {key}.column: {cond.column!r} is not a column of {spec.table}; "
                    f"its columns are {', '.join(c for c in schema if not c.startswith('_'))}."
                )
            why = None if cond.op in ("is_null", "not_null") else _fits(cond.value, schema[cond.column])
            if why:
                raise InputDataError(
                    f"metric {spec.name!r}: {key}.value: {why}, so it cannot be compared with "
                    f"{spec.table}.{cond.column} ({schema[cond.column]})."
                )


def _condition(cond: Condition, table: str) -> nw.Expr:
    c = nw.col(cond.column)
    if cond.op == "is_null":
        return c.is_null()
    if cond.op == "not_null":
        return ~c.is_null()
    if cond.op in ("in", "not_in"):
        values = [_literal(v, table, cond.column) for v in cond.value]
        inside = c.is_in(values)
        return inside if cond.op == "in" else ~inside & ~c.is_null()
    v = _literal(cond.value, table, cond.column)
    return {
        "==": lambda: c == v, "!=": lambda: c != v, "<": lambda: c < v,
        "<=": lambda: c <= v, ">": lambda: c > v, ">=": lambda: c >= v,
    }[cond.op]()


def _all(conditions: Sequence[Condition], table: str) -> nw.Expr:
    expr = nw.lit(True)
    for cond in conditions:
        expr = expr & _condition(cond, table)
    return expr


def parse_spec(data: Any, *, origin: str = "spec") -> list[MetricSpec]:
    """Validate already-parsed YAML (a list, or a mapping with ``metrics``)."""
    if isinstance(data, dict) and set(data) == {"metrics"}:
        data = data["metrics"]
    if not isinstance(data, list):
        raise InputDataError(
            f"{origin}: expected a list of metrics (or a mapping with a 'metrics' list); "
            f"got {type(data).__name__}."
        )
    specs: list[MetricSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        label = item.get("name") if isinstance(item, dict) else None
        who = f"metric {label!r}" if label else f"metric #{i + 1}"
        try:
            spec = MetricSpec.model_validate(item)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(metric)"
            raise InputDataError(
                f"{origin}: {who}: field '{where}': {first['msg']}. "
                f"Valid types: {', '.join(_NEEDS)}; valid ops: "
                "== != < <= > >= in not_in is_null not_null."
            ) from err
        if spec.name in seen:
            raise InputDataError(f"{origin}: {who}: field 'name': defined twice.")
        seen.add(spec.name)
        specs.append(spec)
    return specs


def load_spec(path: str | Path) -> list[MetricSpec]:
    """Read and validate a YAML metric spec file.

    Raises
    ------
    InputDataError
        The file cannot be read or parsed, or a metric is invalid; the message
        names the metric and the field.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise InputDataError(f"{path}: cannot read metric spec: {' '.join(str(err).split())}") from err
    return parse_spec(data, origin=str(path))
