"""Everything a report shows, read from a run folder (reports never query data)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlab.exceptions import InputDataError

#: Parquet outputs of a run that reports read, when present.
FRAMES = ("metrics", "metrics_total", "cohorts", "clv", "population", "drivers",
          "effects", "qini", "plan", "plan_summary", "alarms", "monitor", "experiments")


@dataclass
class RunData:
    """A run folder's manifest, small results and (small or summarized) frames."""

    root: Path
    manifest: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return str(self.results.get("data", {}).get("reporting_currency")
                   or self.manifest["config"]["data"]["reporting_currency"])

    @property
    def title(self) -> str:
        return str(self.manifest["config"]["reports"]["title"])

    @property
    def name(self) -> str:
        return str(self.manifest["config"]["name"])

    def frame(self, name: str) -> pd.DataFrame | None:
        return self.frames.get(name)

    def stage(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.manifest.get("stages", []) if s["name"] == name), None)

    def ran(self, name: str) -> bool:
        record = self.stage(name)
        return record is not None and record["status"] == "done"

    def skipped(self) -> list[dict[str, Any]]:
        return [s for s in self.manifest.get("stages", []) if s["status"] == "skipped"]


def load_run(root: Path, manifest: dict[str, Any] | None = None) -> RunData:
    """Read a run folder written by ``cxlab run`` (``manifest`` when it is not on disk yet)."""
    root = Path(root)
    if manifest is None:
        path = root / "manifest.json"
        if not path.is_file():
            raise InputDataError(f"{root}: not a run folder (no manifest.json); give the folder 'cxlab run' wrote.")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputDataError(f"{path}: cannot read the manifest: {err}") from err
        if not isinstance(manifest, dict) or manifest.get("format") != "cxlab.run/1":
            raise InputDataError(f"{path}: not a cxlab run manifest (format cxlab.run/1 expected).")
    data = RunData(root=root, manifest=manifest)
    results = root / "results"
    if results.is_dir():
        for file in sorted(results.glob("*.json")):
            data.results[file.stem] = json.loads(file.read_text(encoding="utf-8"))
    for name in FRAMES:
        file = root / f"{name}.parquet"
        if file.is_file():
            data.frames[name] = pd.read_parquet(file)
    return data
