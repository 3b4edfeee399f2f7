"""The one place CLV models are saved and loaded: a :mod:`cxlab.bundle` (no pickle).

A purchase model fitted without ``by`` is a bundle of kind ``clv.betageo`` or
``clv.paretonbd`` (``clv.gammagamma`` for a spend model fitted on its own)
holding ``params.json`` (the purchase model), optional ``spend.json`` (the
Gamma-Gamma spend model) and ``holdout.json`` (the holdout check). Fitted with
``by`` (one model per marketplace, say) it is a ``clv.grouped`` bundle: each
group's files under ``groups/<safe name>/`` and the value -> folder mapping in
``model.json``, so a data value never becomes a path. ``cxlab clv fit``, the
demo pipeline and ``cxlab score`` / ``cxlab serve`` all go through here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxlab.bundle import Bundle, BundleError, group_dir, read_bundle, write_bundle
from cxlab.clv.api import model_from_params, score

KINDS = {"bgnbd": "clv.betageo", "pareto": "clv.paretonbd", "ggamma": "clv.gammagamma"}
ALL_KINDS = (*KINDS.values(), "clv.grouped")
_PURCHASE = ("frequency", "recency", "T")


def _features(has_spend: bool) -> list[dict[str, str]]:
    names = [*_PURCHASE, *(["monetary_value"] if has_spend else [])]
    return [{"name": n, "type": "number"} for n in names]


def _part_files(prefix: str, fitted: Mapping[str, Any]) -> dict[str, str]:
    files = {f"{prefix}params.json": json.dumps(fitted["params"], indent=2)}
    for name in ("spend", "holdout"):
        if fitted.get(name):
            files[f"{prefix}{name}.json"] = json.dumps(fitted[name], indent=2, default=float)
    return files


def _evaluation(fitted: Mapping[str, Any]) -> dict[str, Any]:
    params = fitted["params"]
    out: dict[str, Any] = {"log_likelihood": params.get("log_likelihood"), "n_customers": params.get("n_customers")}
    holdout = fitted.get("holdout") or {}
    for key in ("actual_total", "predicted_total"):
        if key in holdout:
            out[f"holdout_{key}"] = holdout[key]
    return out


def save_clv(out: Path, fitted: Mapping[str, Any], *, metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a fitted CLV model to the bundle ``out`` (replaced whole); return it.

    Parameters
    ----------
    fitted
        What :func:`~cxlab.clv.fit_from_orders` returns (with or without
        ``by``), or the ``params.json`` dict of :func:`~cxlab.clv.fit_from_summary`.
    metadata
        Stored in ``model.json``: ``observation_end``, ``calibration_end``,
        ``currency``, ``training_data`` (see :func:`cxlab.bundle.fingerprint`).
    """
    meta = dict(metadata or {})
    if "groups" in fitted:
        by = fitted["by"]
        files: dict[str, str] = {}
        groups = []
        for group in fitted["groups"]:
            folder = group_dir(group[by])
            files |= _part_files(f"{folder}/", group)
            groups.append({"value": group[by], "dir": folder, "evaluation": _evaluation(group)})
        first = fitted["groups"][0] if fitted["groups"] else None
        if first is None:
            raise BundleError(f"save_clv: no group of {by!r} to save; the orders are empty.")
        meta |= {
            "model": first["params"]["model"], "time_unit": first["params"].get("time_unit", "W"),
            "features": _features(any(g.get("spend") for g in fitted["groups"])), "by": by, "groups": groups,
        }
        return write_bundle(Path(out), kind="clv.grouped", files=files, metadata=meta)
    if "model" in fitted:  # a params.json dict (fit on a summary)
        fitted = {"params": dict(fitted)}
    model = fitted["params"]["model"]
    meta |= {
        "model": model, "time_unit": fitted["params"].get("time_unit", "W"),
        "features": _features(bool(fitted.get("spend")) or model == "ggamma"),
        "evaluation": _evaluation(fitted),
    }
    return write_bundle(Path(out), kind=KINDS[model], files=_part_files("", fitted), metadata=meta)


@dataclass(frozen=True)
class ClvPart:
    """One fitted model: purchase ``params``, optional ``spend`` and ``holdout`` (``params.json`` dicts)."""

    params: dict[str, Any]
    spend: dict[str, Any] | None
    holdout: dict[str, Any] | None


@dataclass(frozen=True)
class ClvModel:
    """A loaded CLV bundle: one part, or one part per value of ``by``."""

    bundle: Bundle
    by: str | None
    parts: dict[Any, ClvPart]

    @property
    def time_unit(self) -> str:
        return str(self.bundle.metadata.get("time_unit", "W"))

    @property
    def observation_end(self) -> str | None:
        return self.bundle.metadata.get("observation_end")

    def part(self, group: Any = None) -> ClvPart:
        """The model of ``group`` (a value of ``by``), or the only model."""
        if self.by is None:
            return self.parts[None]
        if group not in self.parts:
            known = ", ".join(map(str, list(self.parts)[:5]))
            raise BundleError(
                f"{self.bundle.path}: one model per {self.by}; {group!r} is not one of them ({known}). "
                f"Give the {self.by} of the customers to score."
            )
        return self.parts[group]

    def score(self, summary: pd.DataFrame, *, horizon: int, discount_rate: float = 0.0, group: Any = None) -> pd.DataFrame:
        """:func:`cxlab.clv.score` of a ``frequency, recency, T[, monetary_value]`` frame with this model."""
        part = self.part(group)
        if part.params.get("model") == "ggamma":
            raise BundleError(
                f"{self.bundle.path}: a Gamma-Gamma spend model alone cannot score CLV; fit a purchase model "
                "(bgnbd or pareto) on orders."
            )
        return score(summary, part.params, horizon=horizon, discount_rate=discount_rate, spend=part.spend)


def _part(bundle: Bundle, prefix: str) -> ClvPart:
    names = set(bundle.files)
    params = bundle.json(f"{prefix}params.json")
    spend = bundle.json(f"{prefix}spend.json") if f"{prefix}spend.json" in names else None
    for p in (params, spend):
        if p is not None:
            model_from_params(p)  # refuses a params file that does not rebuild a model
    holdout = bundle.json(f"{prefix}holdout.json") if f"{prefix}holdout.json" in names else None
    return ClvPart(params=params, spend=spend, holdout=holdout)


def load_clv(path: Path | Bundle) -> ClvModel:
    """Read and verify a CLV bundle written by :func:`save_clv`."""
    bundle = path if isinstance(path, Bundle) else read_bundle(Path(path), kind=ALL_KINDS)
    if bundle.kind != "clv.grouped":
        return ClvModel(bundle=bundle, by=None, parts={None: _part(bundle, "")})
    by, groups = bundle.metadata.get("by"), bundle.metadata.get("groups")
    if not isinstance(by, str) or not isinstance(groups, list) or not groups:
        raise BundleError(f"{bundle.path}/model.json: a grouped CLV bundle needs 'by' and 'groups'; fit again.")
    parts: dict[Any, ClvPart] = {}
    for group in groups:
        try:
            value, folder = group["value"], group["dir"]
        except (KeyError, TypeError):
            raise BundleError(f"{bundle.path}/model.json: a group lacks 'value' or 'dir'; fit again.") from None
        if folder != group_dir(value):
            raise BundleError(
                f"{bundle.path}/model.json: group {value!r} points to {folder!r}, not its own folder; "
                "the bundle was changed. Fit again."
            )
        parts[value] = _part(bundle, f"{folder}/")
    return ClvModel(bundle=bundle, by=by, parts=parts)
