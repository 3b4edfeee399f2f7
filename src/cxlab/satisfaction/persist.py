"""Saving and loading satisfaction models as a :mod:`cxlab.bundle` (no pickle).

One bundle (kind ``"satisfaction"``) holds one model per survey scale:
``scales/<scale>/model.txt`` (LightGBM text model of satisfaction),
``scales/<scale>/score_model.txt`` (LightGBM text model of the score), optional
``scales/<scale>/explain.parquet`` (invited rows kept to explain drivers) and
``evaluation.json``. ``model.json`` carries each scale's features, categorical
levels, monotone constraints, isotonic calibration, base rate, hyperparameters
and evaluation; every file, ``model.json`` included, is checksummed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from cxlab.bundle import Bundle, BundleError, load_lightgbm_many, read_bundle, write_bundle
from cxlab.satisfaction.model import SatisfactionModel
from cxlab.schema import SCALES

KIND = "satisfaction"


def _scale_dir(scale: str) -> str:
    if scale not in SCALES:  # scale names are a fixed set; never a data value as a path
        raise BundleError(f"satisfaction bundle: scale must be one of {', '.join(SCALES)}; got {scale!r}.")
    return f"scales/{scale}"


def feature_types(model: SatisfactionModel) -> list[dict[str, str]]:
    """``[{"name", "type"}]``: ``"category"`` (text levels) or ``"number"``."""
    return [{"name": f, "type": "category" if f in model.categories_ else "number"} for f in model.features_]


def _model_meta(model: SatisfactionModel) -> dict[str, Any]:
    params = model.get_params()
    if params["features"] is not None:
        params["features"] = list(params["features"])
    if not isinstance(params["monotone"], (str, type(None))):
        params["monotone"] = dict(params["monotone"])
    return {
        "params": params,
        "features": feature_types(model),
        "categories": model.categories_,
        "monotone": model.monotone_,
        "calibration": model.calibration_,
        "base_rate": model.base_rate_,
    }


def save_models(
    directory: Path,
    models: Mapping[str, SatisfactionModel],
    *,
    evaluation: Mapping[str, Any] | None = None,
    explain: Mapping[str, pd.DataFrame] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write one bundle holding ``models`` (scale -> fitted model); return the folder.

    ``evaluation`` is written to ``evaluation.json`` (and each scale's part into
    ``model.json``); ``explain`` holds, per scale, rows kept to explain drivers.
    """
    from sklearn.utils.validation import check_is_fitted

    files: dict[str, str | bytes] = {}
    scales: dict[str, Any] = {}
    scale_eval = (evaluation or {}).get("scales", {})
    for scale, model in models.items():
        check_is_fitted(model, "booster_")
        folder = _scale_dir(scale)
        files[f"{folder}/model.txt"] = model.booster_.model_to_string()
        files[f"{folder}/score_model.txt"] = model.score_booster_.model_to_string()
        if explain is not None and scale in explain:
            buffer = io.BytesIO()
            explain[scale].to_parquet(buffer, index=False)
            files[f"{folder}/explain.parquet"] = buffer.getvalue()
        scales[scale] = {**_model_meta(model), "evaluation": scale_eval.get(scale)}
    if evaluation is not None:
        files["evaluation.json"] = json.dumps(evaluation, indent=2, default=float)
    first = next(iter(models.values()), None)
    meta = {
        "features": feature_types(first) if first is not None else [],
        **(metadata or {}),
        "scales": scales,
    }
    return write_bundle(Path(directory), kind=KIND, files=files, metadata=json.loads(json.dumps(meta, default=float)))


def save_model(model: SatisfactionModel, directory: Path, *, extra: dict[str, Any] | None = None) -> Path:
    """Write one fitted model as a satisfaction bundle; ``extra`` goes into ``model.json``."""
    return save_models(directory, {model.scale: model}, metadata=extra)


def _build(bundle: Bundle, scale: str) -> SatisfactionModel:
    meta = bundle.metadata["scales"][scale]
    folder = _scale_dir(scale)
    try:
        model = SatisfactionModel(**meta["params"])
        model.features_ = [f["name"] for f in meta["features"]]
        model.categories_ = {k: list(v) for k, v in meta["categories"].items()}
        model.monotone_ = dict(meta["monotone"])
        model.calibration_ = meta["calibration"]
        model.base_rate_ = float(meta["base_rate"])
    except (KeyError, TypeError, ValueError) as err:
        raise BundleError(f"{bundle.path}/model.json: scale {scale!r} is missing or has a bad {err}.") from err
    model.n_features_in_ = len(model.features_)
    boosters = load_lightgbm_many(bundle, [f"{folder}/model.txt", f"{folder}/score_model.txt"])
    model.booster_, model.score_booster_ = boosters[f"{folder}/model.txt"], boosters[f"{folder}/score_model.txt"]
    for booster in (model.booster_, model.score_booster_):
        if booster.num_feature() != len(model.features_):
            raise BundleError(
                f"{bundle.path}: scale {scale!r} lists {len(model.features_)} features but its LightGBM model "
                f"has {booster.num_feature()}; the bundle is inconsistent. Fit the model again."
            )
    return model


def read(directory: Path) -> Bundle:
    """The verified satisfaction bundle in ``directory``."""
    bundle = read_bundle(Path(directory), kind=KIND)
    if not isinstance(bundle.metadata.get("scales"), dict) or not bundle.metadata["scales"]:
        raise BundleError(f"{bundle.path}/model.json: lists no scale; fit the model again.")
    for scale in bundle.metadata["scales"]:
        _scale_dir(scale)
    return bundle


def load_models(directory: Path | Bundle) -> dict[str, SatisfactionModel]:
    """Every scale's model of the bundle in ``directory`` (verified, no pickle)."""
    bundle = directory if isinstance(directory, Bundle) else read(directory)
    return {scale: _build(bundle, scale) for scale in sorted(bundle.metadata["scales"])}


def load_model(directory: Path, scale: str | None = None) -> SatisfactionModel:
    """The model of ``scale`` (default: the bundle's only scale) in ``directory``."""
    bundle = read(directory)
    scales = sorted(bundle.metadata["scales"])
    if scale is None:
        if len(scales) > 1:
            raise BundleError(f"{directory}: holds models of {', '.join(scales)}; say which scale to load.")
        scale = scales[0]
    if scale not in scales:
        raise BundleError(f"{directory}: has no {scale!r} model; it holds {', '.join(scales)}.")
    return _build(bundle, scale)


def explain_rows(bundle: Bundle, scale: str) -> pd.DataFrame:
    """The rows kept with ``scale``'s model to explain its drivers."""
    data = bundle.bytes(f"{_scale_dir(scale)}/explain.parquet")
    return pd.read_parquet(io.BytesIO(data))

