"""Saving and loading a SatisfactionModel without pickle.

A model folder holds ``model.txt`` (LightGBM text model of satisfaction),
``score_model.txt`` (LightGBM text model of the score) and ``metadata.json``
(features, categorical levels, monotone constraints, isotonic calibration,
hyperparameters, and the SHA-256 of both model files, checked on load).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cxlab._fs import atomic_write_text
from cxlab.exceptions import InputDataError
from cxlab.satisfaction.model import SatisfactionModel

FORMAT = "cxlab.satisfaction/1"
_FILES = {"booster_": "model.txt", "score_booster_": "score_model.txt"}


def save_model(model: SatisfactionModel, directory: Path, *, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``directory`` (created if needed); return the folder."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "booster_")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    checksums = {}
    for attr, name in _FILES.items():
        text = getattr(model, attr).model_to_string()
        atomic_write_text(directory / name, text)
        checksums[name] = hashlib.sha256(text.encode()).hexdigest()
    meta = {
        "format": FORMAT,
        "params": model.get_params(),
        "features": model.features_,
        "categories": model.categories_,
        "monotone": model.monotone_,
        "calibration": model.calibration_,
        "base_rate": model.base_rate_,
        "sha256": checksums,
        **(extra or {}),
    }
    if not isinstance(meta["params"]["monotone"], (str, type(None))):
        meta["params"]["monotone"] = dict(meta["params"]["monotone"])
    atomic_write_text(directory / "metadata.json", json.dumps(meta, indent=2, sort_keys=True))
    return directory


def load_model(directory: Path) -> SatisfactionModel:
    """Read a model written by :func:`save_model`, checking its checksums."""
    import lightgbm as lgb

    directory = Path(directory)
    meta_path = directory / "metadata.json"
    if not meta_path.is_file():
        raise InputDataError(
            f"{directory}: no metadata.json; expected a folder written by "
            "'cxlab satisfaction fit'."
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise InputDataError(f"{meta_path}: format must be {FORMAT!r}; got {meta.get('format')!r}.")
    model = SatisfactionModel(**meta["params"])
    for attr, name in _FILES.items():
        text = (directory / name).read_text(encoding="utf-8")
        if hashlib.sha256(text.encode()).hexdigest() != meta["sha256"][name]:
            raise InputDataError(
                f"{directory / name}: checksum does not match metadata.json; the file was "
                "changed or damaged. Fit the model again."
            )
        setattr(model, attr, lgb.Booster(model_str=text))
    model.features_ = list(meta["features"])
    model.categories_ = {k: list(v) for k, v in meta["categories"].items()}
    model.monotone_ = dict(meta["monotone"])
    model.calibration_ = meta["calibration"]
    model.base_rate_ = float(meta["base_rate"])
    model.n_features_in_ = len(model.features_)
    return model


def read_metadata(directory: Path) -> dict[str, Any]:
    """The metadata.json of a saved model."""
    return json.loads((Path(directory) / "metadata.json").read_text(encoding="utf-8"))
