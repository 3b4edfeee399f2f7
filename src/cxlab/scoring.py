"""Scoring with a model bundle: one code path for ``cxlab score`` and ``cxlab serve``.

:func:`load_scorer` turns a verified bundle into a scorer:

- :class:`ClvScorer` (CLV bundles): per customer ``p_alive``,
  ``expected_purchases``, ``expected_spend`` and ``clv`` over a horizon, from
  ``frequency, recency, T[, monetary_value]``;
- :class:`SatisfactionScorer` (satisfaction bundles): per order or invitation
  and scale, calibrated ``p_satisfied`` and ``expected_score``.

:func:`score_dataset` builds the rows to score on the dataset's engine
(summaries and features stay in the engine), then applies the scorer in
batches (:func:`cxlab.engine.map_batches_to_parquet`: on Spark through
``mapInPandas``) and writes Parquet. The service calls the same
``score_batch``/``predict`` methods on the rows of a request, so a prediction
equals the batch score of the same row.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd

from cxlab.bundle import Bundle, BundleError, read_bundle
from cxlab.clv.persist import ALL_KINDS as CLV_KINDS
from cxlab.clv.persist import ClvModel, load_clv
from cxlab.exceptions import InputDataError

if TYPE_CHECKING:
    import pyarrow as pa

    from cxlab.io import Dataset
    from cxlab.satisfaction.model import SatisfactionModel

logger = logging.getLogger(__name__)

CLV_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "clv")
SATISFACTION_COLUMNS = ("p_satisfied", "expected_score")
ScoreTarget = Literal["auto", "invited", "orders"]


class ClvScorer:
    """Scores customers with a CLV bundle (one model, or one per group)."""

    family = "clv"

    def __init__(self, model: ClvModel) -> None:
        if any(p.params.get("model") == "ggamma" for p in model.parts.values()):
            raise BundleError(
                f"{model.bundle.path}: a Gamma-Gamma spend model alone cannot score customers; "
                "fit a purchase model (bgnbd or pareto) with 'cxlab clv fit'."
            )
        self.model = model
        self.bundle = model.bundle

    @property
    def by(self) -> str | None:
        return self.model.by

    def check_horizon(self, horizon: int, discount_rate: float) -> None:
        """Refuse a horizon beyond a century or a discount rate outside [0, 1) (one rule: :mod:`cxlab.clv.value`)."""
        from cxlab.clv.value import check_discount_rate, check_horizon

        check_horizon(horizon, self.model.time_unit, who="score", minimum=1)
        check_discount_rate(discount_rate, who="score")

    def predict(
        self, rows: pd.DataFrame, *, horizon: int, discount_rate: float = 0.0, group: Any = None
    ) -> pd.DataFrame:
        """``p_alive, expected_purchases, expected_spend, clv`` of ``frequency, recency, T[, monetary_value]`` rows."""
        self.check_horizon(horizon, discount_rate)
        scored = self.model.score(
            rows.reset_index(drop=True), horizon=horizon, discount_rate=discount_rate, group=group
        )
        return scored[list(CLV_COLUMNS)]

    def score_batch(self, batch: pd.DataFrame, *, horizon: int, discount_rate: float) -> pd.DataFrame:
        """Scores of a batch of customer summaries (``customer_id[, by], frequency, recency, T, monetary_value``)."""
        keys = ["customer_id", *([self.by] if self.by else [])]
        out = batch[keys].reset_index(drop=True)
        values = pd.DataFrame(np.nan, index=out.index, columns=list(CLV_COLUMNS))
        groups = [None] if not self.by else pd.unique(batch[self.by])
        for group in groups:
            mask = np.ones(len(batch), bool) if group is None else (batch[self.by] == group).to_numpy()
            part = batch.loc[mask].reset_index(drop=True)
            values.loc[mask, :] = self.predict(part, horizon=horizon, discount_rate=discount_rate, group=group).to_numpy()
        return pd.concat([out, values], axis=1)

    def rows(self, ds: Dataset, *, observation_end: dt.date | str | None = None) -> nw.LazyFrame:
        """Per-customer summaries to score, computed on ``ds``'s engine."""
        from cxlab.clv.summary import rfm_summary
        from cxlab.summary import orders_in_context

        end = observation_end or self.model.observation_end
        if end is None:
            raise InputDataError("score: the model bundle records no observation end; give --observation-end DATE.")
        orders = orders_in_context(ds)
        if self.by is not None:  # one pass over orders, then one summary per group
            orders = ds.engine.materialize(orders)
        parts = []
        for group in self.model.parts:
            subset = orders if group is None else orders.filter(nw.col(self.by) == group)
            summary = rfm_summary(
                subset, observation_end=end, time_unit=self.model.time_unit,  # type: ignore[arg-type]
                monetary_value_col="amount_reporting", day_col="local_ts",
            )
            summary = nw.from_native(summary) if not isinstance(summary, nw.LazyFrame) else summary
            cols = ["customer_id", "frequency", "recency", "T", "monetary_value"]
            if group is not None:
                summary = summary.with_columns(nw.lit(group).alias(self.by))
                cols.insert(1, self.by)
            parts.append(summary.select(cols))
        return parts[0] if len(parts) == 1 else nw.concat(parts)

    def output_schema(self, rows_schema: pa.Schema) -> pa.Schema:
        import pyarrow as pa

        keys = ["customer_id", *([self.by] if self.by else [])]
        return pa.schema([rows_schema.field(k) for k in keys] + [pa.field(c, pa.float64()) for c in CLV_COLUMNS])


class SatisfactionScorer:
    """Scores orders or invitations with a satisfaction bundle (every scale it holds)."""

    family = "satisfaction"

    def __init__(self, bundle: Bundle) -> None:
        from cxlab.satisfaction.persist import load_models

        self.bundle = bundle
        self.models: dict[str, SatisfactionModel] = load_models(bundle)
        self.features: dict[str, str] = {}
        self._encoders: dict[str, Any] = {}
        for scale in self.models:
            for feature in bundle.metadata["scales"][scale]["features"]:
                self.features.setdefault(feature["name"], feature["type"])

    @property
    def scales(self) -> list[str]:
        return list(self.models)

    def model(self, scale: str | None = None) -> SatisfactionModel:
        """The model of ``scale`` (default: ``csat5`` if held, else the first scale)."""
        if scale is None:
            scale = "csat5" if "csat5" in self.models else self.scales[0]
        if scale not in self.models:
            raise InputDataError(f"scale must be one of {', '.join(self.scales)} for this model; got {scale!r}.")
        return self.models[scale]

    def predict(self, rows: pd.DataFrame, *, scale: str | None = None) -> pd.DataFrame:
        """``p_satisfied, expected_score`` of feature rows on one scale."""
        p_satisfied, expected_score = self.model(scale).predict_satisfied_and_score(rows)
        return pd.DataFrame({"p_satisfied": p_satisfied, "expected_score": expected_score})

    def predict_records(self, records: list[dict[str, Any]], *, scale: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``p_satisfied`` and ``expected_score`` arrays of rows given as dicts (feature name -> JSON value).

        Equal to :meth:`predict` of a frame of the same rows, without pandas (the
        service's path: one row costs microseconds rather than milliseconds).
        """
        model = self.model(scale)
        encode = self._encoders.get(model.scale)
        if encode is None:
            encode = self._encoders[model.scale] = model.record_encoder()
        return model.predict_satisfied_and_score_matrix(encode(records))

    def score_batch(self, batch: pd.DataFrame, *, keys: list[str]) -> pd.DataFrame:
        """One row per input row and scale: ``keys, scale, p_satisfied, expected_score``."""
        parts = []
        for scale in self.scales:
            part = batch[keys].reset_index(drop=True).assign(scale=scale)
            parts.append(pd.concat([part, self.predict(batch.reset_index(drop=True), scale=scale)], axis=1))
        return pd.concat(parts, ignore_index=True)

    def rows(self, ds: Dataset, *, target: ScoreTarget = "auto") -> tuple[nw.LazyFrame, list[str]]:
        """Feature rows of every invitation (or order) on ``ds``'s engine, and their key columns."""
        from cxlab.features import invitation_features, order_features

        if target == "auto":
            target = "invited" if "surveys" in ds.tables else "orders"
        if target == "invited":
            frame = invitation_features(ds.tables, reporting_currency=ds.reporting_currency)
            keys = ["survey_id", "order_id", "customer_id"]
        else:
            frame = order_features(ds.tables, reporting_currency=ds.reporting_currency)
            keys = ["order_id", "customer_id"]
        names = frame.collect_schema().names()
        missing = [f for f in self.features if f not in names]
        if missing:
            raise InputDataError(
                f"score: the data lacks feature column(s) {', '.join(map(repr, missing[:5]))} that the model "
                f"{self.bundle.path} was fitted with; score data shaped like the training data."
            )
        return frame.select(*keys, *self.features), keys

    def output_schema(self, rows_schema: pa.Schema, keys: list[str]) -> pa.Schema:
        import pyarrow as pa

        return pa.schema(
            [rows_schema.field(k) for k in keys]
            + [pa.field("scale", pa.string())]
            + [pa.field(c, pa.float64()) for c in SATISFACTION_COLUMNS]
        )


Scorer = ClvScorer | SatisfactionScorer


def load_scorer(path: Path | Bundle) -> Scorer:
    """The scorer of the bundle in ``path`` (verified; CLV or satisfaction)."""
    bundle = path if isinstance(path, Bundle) else read_bundle(Path(path))
    if bundle.kind in CLV_KINDS:
        return ClvScorer(load_clv(bundle))
    if bundle.kind == "satisfaction":
        return SatisfactionScorer(bundle)
    raise BundleError(
        f"{bundle.path}: a {bundle.kind} bundle; 'cxlab score' and 'cxlab serve' score CLV and satisfaction models."
    )


def find_bundles(root: Path) -> list[Path]:
    """Every bundle folder under ``root`` (``root`` itself included), sorted; hidden folders skipped."""
    root = Path(root)
    if (root / "model.json").is_file():
        return [root]
    found = []
    for marker in sorted(root.rglob("model.json")):
        folder = marker.parent
        rel = folder.relative_to(root).parts
        if any(p.startswith(".") for p in rel):
            continue  # staging folders of a fit in progress
        if any(parent in found for parent in folder.parents):
            continue
        found.append(folder)
    return found


def score_dataset(
    ds: Dataset,
    scorer: Scorer,
    out: Path,
    *,
    horizon: int = 52,
    discount_rate: float = 0.0,
    observation_end: dt.date | str | None = None,
    target: ScoreTarget = "auto",
    batch_rows: int = 50_000,
) -> int:
    """Score every customer (CLV) or order/invitation (satisfaction) of ``ds`` into the Parquet folder ``out``.

    Returns the number of rows written.
    """
    import pyarrow.parquet as pq

    from cxlab.engine import arrow_schema, map_batches_to_parquet
    from cxlab.engine._base import parquet_parts

    if not 1_000 <= batch_rows <= 10_000_000:
        raise InputDataError(f"score: batch_rows must be 1,000 to 10,000,000; got {batch_rows:,}.")
    if isinstance(scorer, ClvScorer):
        scorer.check_horizon(horizon, discount_rate)
        rows = scorer.rows(ds, observation_end=observation_end)
        schema = scorer.output_schema(arrow_schema(rows))
        clv_scorer = scorer

        def fn(batch: pd.DataFrame) -> pd.DataFrame:
            return clv_scorer.score_batch(batch, horizon=horizon, discount_rate=discount_rate)
    else:
        rows, keys = scorer.rows(ds, target=target)
        schema = scorer.output_schema(arrow_schema(rows), keys)
        sat_scorer = scorer

        def fn(batch: pd.DataFrame) -> pd.DataFrame:
            return sat_scorer.score_batch(batch, keys=keys)

    map_batches_to_parquet(rows, fn, schema, out, batch_rows=batch_rows)
    return sum(pq.read_metadata(p).num_rows for p in parquet_parts(out))
