"""The stage registry: what ``cxlab run`` can do, in order, and what each stage needs.

A stage is a small function that calls the library and writes its outputs into
its own folder (``ctx.out``); the runner moves that folder's content into the
run folder only when the stage succeeds. A stage runs when the project file
asks for it (its section's ``enabled``, plus any ``wanted`` test) and the data
has the tables it ``needs``; otherwise it is recorded as skipped with the
reason, in plain words, and the table that would enable it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlab._fs import atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    import pandas as pd

    from cxlab.io import Dataset
    from cxlab.project import ProjectConfig

#: What each table is, in plain words, for "skipped: needs ..." messages.
TABLE_WORDS = {
    "customers": "customers (one row per customer)",
    "orders": "orders",
    "events": "events (app and web activity)",
    "surveys": "surveys (invitations and answers)",
    "contacts": "contacts (customer-service contacts)",
    "treatments": "treatments (a randomized campaign log)",
    "fx": "fx (exchange rates)",
}


class SkipStage(Exception):  # noqa: N818  (a signal, not an error)
    """Raised by a stage that finds, once the data is read, that it cannot run.

    The runner records the stage as skipped with ``reason`` and ``enable`` (what
    would make it run), exactly like a stage whose table is missing.
    """

    def __init__(self, reason: str, enable: str, missing_tables: list[str] | None = None) -> None:
        super().__init__(reason)
        self.record = {"reason": reason, "enable": enable, **({"missing_tables": missing_tables}
                                                               if missing_tables else {})}


@dataclass
class Context:
    """What a stage works with: the project, the validated data, earlier results."""

    project: ProjectConfig
    root: Path
    out: Path
    ds: Dataset | None = None
    #: Small in-memory results shared between stages (e.g. the observation end).
    shared: dict[str, Any] = field(default_factory=dict)
    say: Callable[[str], None] = lambda message: None

    @property
    def seed(self) -> int:
        return self.project.seed

    @property
    def data(self) -> Dataset:
        assert self.ds is not None, "the validate stage runs first"
        return self.ds

    def write_frame(self, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as ``out/NAME.parquet`` (deterministic bytes)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return atomic_write_bytes(self.out / f"{name}.parquet", sink.getvalue())

    def write_json(self, relative: str, payload: Any) -> Path:
        """Write ``payload`` as JSON under ``out`` (``results/x.json``)."""
        return atomic_write_json(self.out / relative, _plain(payload))


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN to None, keys as strings."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class Stage:
    """One step of a run."""

    name: str
    #: Plain words for people: what the stage gives.
    title: str
    run: Callable[[Context], dict[str, Any]]
    #: Tables the data must have.
    needs: tuple[str, ...] = ()
    #: Project section with an ``enabled`` flag (None: always asked for).
    section: str | None = None
    #: Stages that must have run first.
    after: tuple[str, ...] = ()
    #: Extra test of the project: returns None when wanted, else the reason.
    wanted: Callable[[ProjectConfig], str | None] | None = None


STAGES: list[Stage] = []

#: The order of a run, whatever order stages are registered in.
ORDER = ("validate", "metrics", "cohorts", "monitor", "experiments", "engagement", "satisfaction", "uplift", "plan",
         "reports")


def stage(
    name: str, title: str, *, needs: tuple[str, ...] = (), section: str | None = None,
    after: tuple[str, ...] = (), wanted: Callable[[ProjectConfig], str | None] | None = None,
) -> Callable[[Callable[[Context], dict[str, Any]]], Callable[[Context], dict[str, Any]]]:
    """Register the decorated function as a stage (in declaration order)."""

    def register(func: Callable[[Context], dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
        if any(s.name == name for s in STAGES):
            raise ValueError(f"stage {name!r} registered twice")
        if name not in ORDER:
            raise ValueError(f"stage {name!r} has no place in ORDER")
        STAGES.append(Stage(name, title, func, needs, section, after, wanted))
        STAGES.sort(key=lambda s: ORDER.index(s.name))
        return func

    return register


def skip_reason(s: Stage, project: ProjectConfig, tables: set[str] | None, done: set[str]) -> dict[str, Any] | None:
    """Why ``s`` does not run (``{"reason", "enable"}``), or None when it runs."""
    if s.section is not None and not getattr(getattr(project, s.section), "enabled", True):
        return {"reason": f"turned off in the project file ({s.section}.enabled: false)",
                "enable": f"set {s.section}.enabled: true"}
    if s.wanted is not None:
        why = s.wanted(project)
        if why is not None:
            return {"reason": why, "enable": why}
    if tables is not None:
        missing = [t for t in s.needs if t not in tables]
        if missing:
            words = " and ".join(TABLE_WORDS.get(t, t) for t in missing)
            return {"reason": f"the data has no {words} table",
                    "enable": f"add a {', '.join(missing)} table", "missing_tables": missing}
    blocked = [a for a in s.after if a not in done]
    if blocked:
        return {"reason": f"it builds on {', '.join(blocked)}, which did not run",
                "enable": f"make {', '.join(blocked)} run"}
    return None
