"""Saving an uplift model as LightGBM text models plus JSON, without pickle.

Two functions, ``save`` and ``load``, so the storage format can move to
``cxlab.bundle`` (kind ``"uplift"``) in one place. Every file's SHA-256 is
recorded in ``model.json`` and checked on load.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cxlab import _fs
from cxlab.exceptions import InputDataError

FORMAT = "cxlab.uplift/1"


def save(out: Path, files: dict[str, str], metadata: dict[str, Any], *, extra: dict[str, Any] | None = None) -> Path:
    """Write the model folder ``out`` whole (staged, swapped in on success)."""
    with _fs.staged_dir(Path(out)) as stage:
        sums = {}
        for name, text in files.items():
            _fs.atomic_write_text(_fs.inside(stage, name), text)
            sums[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        _fs.atomic_write_json(stage / "model.json", {"format": FORMAT, "kind": "uplift", **metadata, "sha256": sums})
        for name, payload in (extra or {}).items():
            _fs.atomic_write_json(_fs.inside(stage, name), payload)
    return Path(out)


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``({file name: lightgbm.Booster}, metadata)`` of a folder written by :func:`save`."""
    import lightgbm as lgb

    meta_path = path / "model.json"
    if not meta_path.is_file():
        raise InputDataError(f"uplift: {path} is not an uplift model folder (no model.json). Give the folder "
                             "written by 'cxlab uplift fit --out'.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputDataError(f"uplift: {meta_path} is not valid JSON ({err}).") from err
    if meta.get("format") != FORMAT:
        raise InputDataError(f"uplift: {meta_path} has format {meta.get('format')!r}; expected {FORMAT!r}.")
    boosters = {}
    for name, digest in meta.get("sha256", {}).items():
        file = _fs.inside(path, name)
        text = file.read_text(encoding="utf-8") if file.is_file() else None
        if text is None or hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
            raise InputDataError(f"uplift: {file} is missing or was changed after saving (checksum mismatch).")
        boosters[name] = lgb.Booster(model_str=text)
    return boosters, meta
