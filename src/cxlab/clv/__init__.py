"""Customer engagement models: BG/NBD, Pareto/NBD, Gamma-Gamma, CLV and churn risk.

The purchase models fit on per-customer ``frequency, recency, T`` summaries
(see :func:`rfm_summary`), or on their distinct tuples with counts as weights
(:func:`distinct_tuples`), which the engine computes from raw orders.
:mod:`cxlab.clv.api` holds the entry points of ``cxlab clv fit|score``.
"""

from cxlab.clv.api import fit_from_orders, fit_from_summary, model_from_params, score, score_orders
from cxlab.clv.bgnbd import BetaGeo
from cxlab.clv.churn import ChurnResult, churn_features, churn_risk
from cxlab.clv.gammagamma import GammaGamma
from cxlab.clv.holdout import holdout_by_frequency, holdout_report, tracking_curve
from cxlab.clv.paretonbd import ParetoNBD
from cxlab.clv.summary import distinct_tuples, rfm_summary
from cxlab.clv.value import customer_lifetime_value

__all__ = [
    "BetaGeo",
    "ChurnResult",
    "GammaGamma",
    "ParetoNBD",
    "churn_features",
    "churn_risk",
    "customer_lifetime_value",
    "distinct_tuples",
    "fit_from_orders",
    "fit_from_summary",
    "holdout_by_frequency",
    "holdout_report",
    "model_from_params",
    "rfm_summary",
    "score",
    "score_orders",
    "tracking_curve",
]
