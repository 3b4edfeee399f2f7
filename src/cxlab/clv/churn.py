"""Churn risk: a LightGBM classifier on behavioural features, next to BG/NBD's P(alive).

"Churn" here is *no purchase in the next ``horizon_days``* after a cutoff day.
The classifier is trained with a time-based split: features at
``cutoff - horizon_days`` with labels from the following ``horizon_days``
(training), and features at ``cutoff`` with labels from the ``horizon_days``
after it (test). The BG/NBD model is fitted on the orders up to ``cutoff`` and
its ``1 - P(alive)`` scored on the same test customers, so the two AUCs are
directly comparable.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cxlab.clv.bgnbd import BetaGeo
from cxlab.clv.summary import collect_pandas, date_to_day_number, day_number, rfm_summary
from cxlab._checks import check_int
from cxlab._frames import as_frame, native_like, require_columns
from cxlab.exceptions import InputDataError
from cxlab.timeunits import UNIT_DAYS

logger = logging.getLogger(__name__)

_EPOCH = dt.date(1970, 1, 1)
#: Longest label or feature window, in days (ten years).
MAX_WINDOW_DAYS = 3_660


def _per_customer_counts(
    frame: Any, *, ts_col: str, customer_id_col: str, cutoff: int, window_days: int, prefix: str
) -> Any:
    nf = as_frame(frame, name=prefix, who="churn_features")
    names = nf.collect_schema().names()
    require_columns(
        names, [customer_id_col, ts_col], who="churn_features", name=prefix,
        hint="Pass the column names with customer_id_col and event_ts_col / contact_ts_col.",
    )
    day = day_number(nw.col(ts_col))
    return (
        nf.select(nw.col(customer_id_col).alias("customer_id"), day.alias("_d"))
        .filter(nw.col("_d") <= cutoff)
        .with_columns(nw.when(nw.col("_d") > cutoff - window_days).then(1.0).otherwise(0.0).alias("_recent"))
        .group_by("customer_id")
        .agg(
            nw.len().alias(f"n_{prefix}"),
            nw.col("_recent").sum().alias(f"n_{prefix}_last_window"),
            nw.col("_d").max().alias("_last"),
        )
        .with_columns((cutoff - nw.col("_last")).alias(f"days_since_last_{prefix[:-1]}"))
        .drop("_last")
    )


def churn_features(
    orders: Any,
    *,
    cutoff: dt.date | str,
    events: Any = None,
    contacts: Any = None,
    window_days: int = 90,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str = "amount",
    event_ts_col: str = "event_ts",
    contact_ts_col: str = "contact_ts",
) -> Any:
    """Behavioural features per customer at the end of day ``cutoff`` (Narwhals, any engine).

    Only data on or before ``cutoff`` is used. Columns: ``customer_id,
    recency_days, frequency, n_orders, monetary_mean, tenure_days,
    n_orders_last_window``, plus ``late_deliveries, late_delivery_rate`` when
    ``orders`` has ``promised_ts`` and ``delivered_ts``, ``n_events,
    n_events_last_window, days_since_last_event`` with ``events`` and
    ``n_contacts, n_contacts_last_window, days_since_last_contact`` with
    ``contacts`` (0 / null for customers without any).

    Returns
    -------
    dataframe
        A frame of the engine of ``orders``, wrapped as ``orders`` was (native
        in, native out; Narwhals in, Narwhals out); customers who bought on or
        before ``cutoff`` only.
    """
    c = date_to_day_number(cutoff, name="cutoff")
    nf = as_frame(orders, name="orders", who="churn_features")
    window_days = check_int(window_days, name="window_days", who="churn_features", low=1, high=MAX_WINDOW_DAYS)
    names = nf.collect_schema().names()
    require_columns(
        names, [customer_id_col, datetime_col, monetary_value_col], who="churn_features", name="orders",
        hint="Pass the column names with customer_id_col, datetime_col and monetary_value_col.",
    )
    late = "promised_ts" in names and "delivered_ts" in names
    cols = [
        nw.col(customer_id_col).alias("customer_id"),
        day_number(nw.col(datetime_col)).alias("_d"),
        nw.col(monetary_value_col).cast(nw.Float64).alias("_amount"),
    ]
    if late:
        is_late = ~nw.col("delivered_ts").is_null() & (nw.col("delivered_ts") > nw.col("promised_ts"))
        cols.append(nw.when(is_late).then(1.0).otherwise(0.0).alias("_late"))
    base = nf.select(*cols).filter(nw.col("_d") <= c)
    base = base.with_columns(nw.when(nw.col("_d") > c - window_days).then(1.0).otherwise(0.0).alias("_recent"))
    aggs = [
        nw.col("_d").max().alias("_last"),
        nw.col("_d").n_unique().alias("_days"),
        nw.len().alias("n_orders"),
        nw.col("_amount").mean().alias("monetary_mean"),
        nw.col("_d").min().alias("_first"),
        nw.col("_recent").sum().alias("n_orders_last_window"),
    ]
    if late:
        aggs.append(nw.col("_late").sum().alias("late_deliveries"))
    feats = (
        base.group_by("customer_id")
        .agg(*aggs)
        .with_columns(
            (c - nw.col("_last")).alias("recency_days"),
            (nw.col("_days") - 1).alias("frequency"),
            (c - nw.col("_first")).alias("tenure_days"),
        )
        .drop("_last", "_days", "_first")
    )
    if late:
        feats = feats.with_columns((nw.col("late_deliveries") / nw.col("n_orders")).alias("late_delivery_rate"))
    for frame, ts_col, prefix in ((events, event_ts_col, "events"), (contacts, contact_ts_col, "contacts")):
        if frame is None:
            continue
        counts = _per_customer_counts(
            frame, ts_col=ts_col, customer_id_col=customer_id_col, cutoff=c, window_days=window_days, prefix=prefix
        )
        if type(nw.to_native(counts)) is not type(nw.to_native(feats)):
            raise InputDataError(f"churn_features: {prefix} must be on the same engine as orders.")
        feats = feats.join(counts, on="customer_id", how="left").with_columns(
            nw.col(f"n_{prefix}").fill_null(0),
            nw.col(f"n_{prefix}_last_window").fill_null(0),
        )
    return native_like(feats, orders)


def _labels(orders: Any, *, start: int, end: int, customer_id_col: str, datetime_col: str) -> set[Any]:
    nf = nw.from_native(orders)
    buyers = (
        nf.select(nw.col(customer_id_col).alias("customer_id"), day_number(nw.col(datetime_col)).alias("_d"))
        .filter((nw.col("_d") > start) & (nw.col("_d") <= end))
        .select("customer_id")
        .unique()
    )
    return set(collect_pandas(buyers)["customer_id"].tolist())


@dataclass
class ChurnResult:
    """Outcome of :func:`churn_risk`."""

    model: Any
    auc_lightgbm: float
    auc_p_alive: float
    auc_bgnbd_expected: float
    n_train: int
    n_test: int
    churn_rate_test: float
    feature_names: list[str]
    scores: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the model and the scores)."""
        return {
            "auc_lightgbm": self.auc_lightgbm,
            "auc_p_alive": self.auc_p_alive,
            "auc_bgnbd_expected": self.auc_bgnbd_expected,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "churn_rate_test": self.churn_rate_test,
            "feature_names": self.feature_names,
        }


def churn_risk(
    orders: Any,
    *,
    cutoff: dt.date | str,
    horizon_days: int = 90,
    events: Any = None,
    contacts: Any = None,
    random_state: int = 0,
    customer_id_col: str = "customer_id",
    datetime_col: str = "order_ts",
    monetary_value_col: str = "amount",
    lgbm_params: dict[str, Any] | None = None,
) -> ChurnResult:
    """Train and evaluate the churn classifier with a time-based split.

    Parameters
    ----------
    orders, events, contacts : dataframes
        Canonical tables on one engine; ``orders`` must cover the days up to
        ``cutoff + horizon_days``.
    cutoff : date
        End of the test feature period; training features end
        ``horizon_days`` earlier.
    horizon_days : int, default 90
        Length of the label window ("no purchase in the next 90 days").
    random_state : int, default 0
        Seed of LightGBM.
    lgbm_params : dict, optional
        Overrides of the LightGBM parameters (defaults: 200 trees, learning
        rate 0.05, 15 leaves, one thread).

    Returns
    -------
    ChurnResult
        The fitted classifier, test AUCs of LightGBM, of ``1 - P(alive)`` and
        of BG/NBD's expected purchases in the window, and per-customer test scores (``customer_id, churn_risk, p_alive,
        churned``).
    """
    from lightgbm import LGBMClassifier  # noqa: PLC0415 - heavy import, only here

    horizon_days = check_int(horizon_days, name="horizon_days", who="churn_risk", low=1, high=MAX_WINDOW_DAYS)
    as_frame(orders, name="orders", who="churn_risk")
    c = date_to_day_number(cutoff, name="cutoff")
    train_cut = c - horizon_days
    cols = {"customer_id_col": customer_id_col, "datetime_col": datetime_col}
    kw = {**cols, "monetary_value_col": monetary_value_col}

    def dataset(at: int) -> pd.DataFrame:
        day = _EPOCH + dt.timedelta(days=at)
        feats = collect_pandas(churn_features(orders, cutoff=day, events=events, contacts=contacts, **kw))
        buyers = _labels(orders, start=at, end=at + horizon_days, **cols)
        feats["churned"] = (~feats["customer_id"].isin(buyers)).astype(int)
        return feats.sort_values("customer_id", ignore_index=True)

    train, test = dataset(train_cut), dataset(c)
    features = [k for k in train.columns if k not in ("customer_id", "churned")]
    for name, part in (("training", train), ("test", test)):
        if part["churned"].nunique() < 2:
            raise InputDataError(
                f"churn_risk: the {name} period has only one class (churn rate "
                f"{part['churned'].mean():.2f}); choose another cutoff or horizon_days."
            )
    params = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "n_jobs": 1, "verbose": -1}
    params.update(lgbm_params or {})
    model = LGBMClassifier(random_state=random_state, **params)
    model.fit(train[features], train["churned"])
    risk = model.predict_proba(test[features])[:, 1]

    summary = collect_pandas(rfm_summary(orders, observation_end=_EPOCH + dt.timedelta(days=c), **kw))
    bg = BetaGeo().fit(summary)
    p_alive = pd.Series(bg.probability_alive(summary), index=summary["customer_id"])
    test_p_alive = p_alive.reindex(test["customer_id"]).to_numpy()
    # BG/NBD's P(alive) is 1 for customers without repeat purchases (by the model's
    # construction), so it ranks one-time buyers as safest; the expected number of
    # purchases in the label window is the model's natural churn score and is
    # reported as well.
    horizon = horizon_days / UNIT_DAYS["W"]
    expected = pd.Series(bg.conditional_expected_purchases(summary, t=horizon), index=summary["customer_id"])
    test_expected = expected.reindex(test["customer_id"]).to_numpy()
    scores = pd.DataFrame(
        {"customer_id": test["customer_id"], "churn_risk": risk, "p_alive": test_p_alive, "churned": test["churned"]}
    )
    result = ChurnResult(
        model=model,
        auc_lightgbm=float(roc_auc_score(test["churned"], risk)),
        auc_p_alive=float(roc_auc_score(test["churned"], 1.0 - test_p_alive)),
        auc_bgnbd_expected=float(roc_auc_score(test["churned"], -test_expected)),
        n_train=len(train),
        n_test=len(test),
        churn_rate_test=float(test["churned"].mean()),
        feature_names=features,
        scores=scores,
    )
    logger.info(
        "churn: AUC LightGBM %.3f, 1 - P(alive) %.3f, BG/NBD expected purchases %.3f",
        result.auc_lightgbm,
        result.auc_p_alive,
        result.auc_bgnbd_expected,
    )
    return result
