"""Saving an uplift model as a ``cxlab.bundle`` of kind ``"uplift"`` (LightGBM text + JSON, no pickle).

``model.json`` holds the learner's metadata (features, categorical levels,
actions, link, parameters, the evaluation) and the bundle's checksums cover
every LightGBM model and ``evaluation.json``; boosters are parsed in the
guarded way of :func:`cxlab.bundle.load_lightgbm`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cxlab.bundle import BundleError, load_lightgbm_many, read_bundle, write_bundle

KIND = "uplift"


def save(out: Path, files: dict[str, str], metadata: dict[str, Any], *, extra: dict[str, Any] | None = None) -> Path:
    """Write the model folder ``out`` whole (staged, swapped in on success)."""
    payload: dict[str, str | bytes] = dict(files)
    for name, value in (extra or {}).items():
        payload[name] = json.dumps(value, indent=2, default=str) + "\n"
    return write_bundle(Path(out), kind=KIND, files=payload, metadata=metadata)


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``({file name: lightgbm.Booster}, metadata)`` of a bundle written by :func:`save`."""
    bundle = read_bundle(Path(path), kind=KIND)
    meta = bundle.metadata
    names = meta.get("boosters")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BundleError(f"{path}: the uplift bundle does not list its LightGBM models ('boosters').")
    return load_lightgbm_many(bundle, names), meta
