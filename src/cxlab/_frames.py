"""The one input contract of cxlab's public functions and estimators.

Every public entry point takes its dataframes through the helpers here, so
that all of them accept the same things and answer a wrong type the same way
(the scikit-learn / Narwhals way):

- **Accepted**: any frame Narwhals supports, eager or lazy: pandas, Polars
  (``DataFrame`` or ``LazyFrame``), PyArrow ``Table``, DuckDB relations,
  PySpark DataFrames, or a Narwhals ``DataFrame`` / ``LazyFrame``.
- **Refused**: anything else (``None``, a list, a string, a dict, a numpy
  array, a path) raises :class:`~cxlab.exceptions.InputDataError` naming the
  function, the argument, the accepted types and the type given; never a raw
  ``AttributeError`` / ``TypeError`` from inside.
- **Returned**: a table computed in memory comes back in the caller's kind
  (:func:`to_native_like`): pandas for pandas, a Polars ``DataFrame`` for
  Polars (eager or lazy), a PyArrow ``Table`` for PyArrow, and pandas for
  everything else: DuckDB and Spark, whose results would otherwise have to be
  sent back to the engine, and Narwhals frames (how :class:`cxlab.io.Dataset`
  hands out its tables). Per-row predictions of estimators are numpy
  arrays, as in scikit-learn. Row-level work that stays on the engine (e.g.
  :func:`cxlab.clv.rfm_summary`, the feature builders) returns a lazy frame of
  the engine it was given, wrapped the way it was given (native in, native out;
  Narwhals in, Narwhals out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import pandas as pd

from cxlab.exceptions import InputDataError

#: What every public function accepts as a dataframe, for messages.
ACCEPTED = (
    "a dataframe (pandas, Polars eager or lazy, PyArrow Table, DuckDB relation, "
    "PySpark DataFrame, or any frame Narwhals supports)"
)

#: Lazy engines that cxlab's engine primitives run on (see cxlab.engine).
_LAZY_ENGINES = ("duckdb", "polars", "pyspark", "pyspark_connect", "sqlframe")


def _refuse(obj: Any, *, name: str, who: str) -> InputDataError:
    given = "None" if obj is None else type(obj).__name__
    return InputDataError(
        f"{who}: {name} must be {ACCEPTED}; got {given}. "
        "Pass a table, e.g. pandas.read_parquet(...) or polars.read_csv(...)."
    )


def as_frame(obj: Any, *, name: str, who: str) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """``obj`` as a Narwhals frame (eager stays eager, lazy stays lazy).

    Raises
    ------
    InputDataError
        If ``obj`` is not a dataframe Narwhals supports.
    """
    if isinstance(obj, nw.DataFrame | nw.LazyFrame):
        return obj
    if obj is None or isinstance(obj, str | bytes | list | tuple | dict | set | int | float):
        raise _refuse(obj, name=name, who=who)
    try:
        return nw.from_native(obj)
    except TypeError as err:
        raise _refuse(obj, name=name, who=who) from err


def as_eager(obj: Any, *, name: str, who: str) -> nw.DataFrame[Any]:
    """``obj`` as a Narwhals eager frame (a lazy frame is collected: callers pass
    small tables, e.g. summaries or feature frames)."""
    frame = as_frame(obj, name=name, who=who)
    return frame.collect() if isinstance(frame, nw.LazyFrame) else frame


def as_pandas(obj: Any, *, name: str, who: str) -> pd.DataFrame:
    """``obj`` as a pandas frame (the same object when it is one already)."""
    if isinstance(obj, pd.DataFrame):
        return obj
    return as_eager(obj, name=name, who=who).to_pandas()


def as_lazy(obj: Any, *, name: str, who: str) -> nw.LazyFrame[Any]:
    """``obj`` as a Narwhals lazy frame on an engine cxlab runs on.

    Lazy frames (DuckDB, Polars, Spark) are kept; eager ones (pandas, PyArrow,
    Polars) become Polars lazy frames, which every row-level primitive supports.
    """
    frame = as_frame(obj, name=name, who=who)
    if isinstance(frame, nw.LazyFrame):
        return frame
    if frame.implementation.name.lower() == "polars":
        return frame.lazy()
    return frame.lazy(backend="polars")


def as_tables(tables: Any, *, who: str, name: str = "tables") -> dict[str, nw.LazyFrame[Any]]:
    """A mapping of table name -> frame, each as a lazy frame on one engine.

    Eager tables join the engine of the lazy ones when that engine is DuckDB or
    Polars (a Spark table cannot be made from pandas without a session, so
    mixing Spark and in-memory tables is refused).
    """
    if not isinstance(tables, Mapping):
        given = "None" if tables is None else type(tables).__name__
        raise InputDataError(
            f"{who}: {name} must be a mapping of table name to {ACCEPTED}, e.g. "
            f"{{'customers': ..., 'orders': ...}} or Dataset.tables; got {given}."
        )
    frames = {str(k): as_frame(v, name=f"{name}[{k!r}]", who=who) for k, v in tables.items()}
    engines = {
        f.implementation.name.lower() for f in frames.values() if isinstance(f, nw.LazyFrame)
    }
    if len(engines) > 1:
        raise InputDataError(
            f"{who}: every table of {name} must be on one engine; got {', '.join(sorted(engines))}. "
            "Load them with one cxlab engine (cxlab.engine.get_engine(...).lazy(frame))."
        )
    target = next(iter(engines), "polars")
    out: dict[str, nw.LazyFrame[Any]] = {}
    for key, frame in frames.items():
        if isinstance(frame, nw.LazyFrame):
            out[key] = frame
        elif target in ("polars", "duckdb"):
            out[key] = frame.lazy(backend=target)
        else:
            raise InputDataError(
                f"{who}: {name}[{key!r}] is an in-memory table but the others are on {target}; "
                f"bring it onto {target} first (cxlab.engine.get_engine({target!r}).lazy(frame))."
            )
    return out


def require_columns(found: Sequence[Any], needed: Sequence[str], *, who: str, name: str, hint: str) -> None:
    """Raise an :class:`InputDataError` unless every ``needed`` column is in ``found``.

    The message names ``who``, the frame (``name``), the missing columns, the
    first columns it has, and ``hint`` (how to fix).
    """
    have = {str(c) for c in found}
    missing = [c for c in dict.fromkeys(needed) if c not in have]
    if missing:
        shown = ", ".join(map(str, list(found)[:12])) + (", ..." if len(found) > 12 else "")
        raise InputDataError(
            f"{who}: {name} must have column(s) {', '.join(dict.fromkeys(needed))}; "
            f"missing {', '.join(missing)} (it has {shown or 'no columns'}). {hint}"
        )


def to_native_like(result: pd.DataFrame, like: Any) -> Any:
    """``result`` in the kind of the caller's input ``like`` (see the module docstring)."""
    if isinstance(like, Mapping):  # a mapping of tables: the kind of its first table
        like = next(iter(like.values()), None)
    if like is None or isinstance(like, pd.DataFrame | nw.DataFrame | nw.LazyFrame):
        return result
    try:
        kind = nw.from_native(like).implementation.name.lower()
    except TypeError:
        return result
    if kind == "polars":
        return nw.from_arrow(_arrow(result), backend="polars").to_native()
    if kind == "pyarrow":
        return _arrow(result)
    return result


def native_like(result: nw.DataFrame[Any] | nw.LazyFrame[Any], like: Any) -> Any:
    """A Narwhals ``result`` wrapped as the caller's input was: native in, native out."""
    if isinstance(like, Mapping):
        like = next(iter(like.values()), None)
    if isinstance(like, nw.DataFrame | nw.LazyFrame):
        return result
    return nw.to_native(result)


def _arrow(df: pd.DataFrame) -> Any:
    import pyarrow as pa  # noqa: PLC0415 - a dependency; only needed here

    return pa.Table.from_pandas(df, preserve_index=False)


__all__ = [
    "ACCEPTED",
    "as_eager",
    "as_frame",
    "as_lazy",
    "as_pandas",
    "as_tables",
    "native_like",
    "require_columns",
    "to_native_like",
]
