"""Guarded LightGBM parsing: a model that passes its checksum but crashes LightGBM is refused."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cxlab.bundle import BundleError, load_lightgbm, read_bundle, write_bundle


@pytest.fixture(scope="module")
def model_text() -> str:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4}, lgb.Dataset(X, y), 3)
    return booster.model_to_string()


def _bundle(tmp_path: Path, text: str):
    return read_bundle(write_bundle(tmp_path / "m", kind="satisfaction", files={"model.txt": text}, metadata={}))


def test_valid_model_loads_and_predicts_the_same(tmp_path: Path, model_text: str) -> None:
    import lightgbm as lgb

    booster = load_lightgbm(_bundle(tmp_path, model_text), "model.txt")
    X = np.random.default_rng(1).normal(size=(20, 3))
    np.testing.assert_array_equal(booster.predict(X), lgb.Booster(model_str=model_text).predict(X))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t[: len(t) // 2] + "\nend of trees\n", id="truncated"),  # segfaults LightGBM
        pytest.param(lambda t: t.replace("split_feature=0", "split_feature=999999", 1), id="bad-feature"),  # aborts
        pytest.param(lambda t: re.sub(r"tree_sizes=\S+", "tree_sizes=9999999", t, count=1), id="bad-sizes"),
    ],
)
def test_unparsable_model_is_refused_without_killing_the_process(tmp_path: Path, model_text: str, damage) -> None:
    bundle = _bundle(tmp_path, damage(model_text))  # the checksum is right: written that way
    with pytest.raises(BundleError, match=r"model.txt: not a readable LightGBM model"):
        load_lightgbm(bundle, "model.txt")


def test_not_a_lightgbm_text_at_all(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, '{"params": 1}')
    with pytest.raises(BundleError, match="not a LightGBM text model"):
        load_lightgbm(bundle, "model.txt")
