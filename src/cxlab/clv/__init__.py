"""Customer engagement models: BG/NBD, Pareto/NBD, Gamma-Gamma, CLV and churn risk.

The purchase models fit on per-customer ``frequency, recency, T`` summaries
(see :func:`rfm_summary`), or on their distinct tuples with counts as weights
(:func:`distinct_tuples`), which the engine computes from raw orders.
:mod:`cxlab.clv.api` holds the entry points of ``cxlab clv fit|score``.
"""

from typing import TYPE_CHECKING

from cxlab._lazy import lazy_exports

if TYPE_CHECKING:
    from cxlab.clv.api import fit_from_orders, fit_from_summary, model_from_params, score, score_orders
    from cxlab.clv.bgnbd import BetaGeo
    from cxlab.clv.churn import ChurnResult, churn_features, churn_risk
    from cxlab.clv.gammagamma import GammaGamma
    from cxlab.clv.holdout import holdout_by_frequency, holdout_report, tracking_curve
    from cxlab.clv.paretonbd import ParetoNBD
    from cxlab.clv.summary import distinct_tuples, rfm_summary
    from cxlab.clv.value import customer_lifetime_value

# Public name -> submodule. Loaded on first use (PEP 562), so that
# ``from cxlab.clv import BetaGeo`` does not import the engine-facing entry points
# (a fitting process starts about a second sooner).
_HOME = {
    "fit_from_orders": "api",
    "fit_from_summary": "api",
    "model_from_params": "api",
    "score": "api",
    "score_orders": "api",
    "BetaGeo": "bgnbd",
    "ChurnResult": "churn",
    "churn_features": "churn",
    "churn_risk": "churn",
    "GammaGamma": "gammagamma",
    "holdout_by_frequency": "holdout",
    "holdout_report": "holdout",
    "tracking_curve": "holdout",
    "ParetoNBD": "paretonbd",
    "distinct_tuples": "summary",
    "rfm_summary": "summary",
    "customer_lifetime_value": "value",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())

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
