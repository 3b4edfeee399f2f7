"""One generated dataset shared by the synth tests (30,000 customers, 3 chunks)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxlab.synth import GenerationSummary, generate

N_CUSTOMERS = 30_000
#: Tests are statistical with margins; CXLAB_SYNTH_SEED reruns them on another seed.
SEED = int(os.environ.get("CXLAB_SYNTH_SEED", "11"))


def read_arrow(out: Path, name: str) -> pa.Table:
    """Read table ``name`` of a generated dataset (folder of parts or one file)."""
    folder = out / name
    if folder.is_dir():
        parts = sorted(folder.glob("part-*.parquet"))
        return pa.concat_tables([pq.read_table(p) for p in parts])
    return pq.read_table(out / f"{name}.parquet")


@dataclass
class Generated:
    """A generated dataset, its summary and lazily read tables."""

    out: Path
    summary: GenerationSummary
    _cache: dict[str, pd.DataFrame]

    def arrow(self, name: str) -> pa.Table:
        return read_arrow(self.out, name)

    def df(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            path = self.out / "truth" / f"{name[6:]}.parquet" if name.startswith("truth/") else None
            table = pq.read_table(path) if path is not None else self.arrow(name)
            self._cache[name] = table.to_pandas()
        return self._cache[name]

    @property
    def truth(self) -> dict[str, Any]:
        return json.loads((self.out / "truth" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("synth") / "data"
    summary = generate(
        customers=N_CUSTOMERS, random_state=SEED, out=out, chunk_size=10_000,
        start=date(2024, 1, 1), end=date(2025, 12, 31),
    )
    return Generated(out, summary, {})
