"""Customer engagement models: BG/NBD, Pareto/NBD, Gamma-Gamma, CLV and churn risk.

The purchase models fit on per-customer ``frequency, recency, T`` summaries
(see :func:`rfm_summary`), or on their distinct tuples with counts as weights
(:func:`distinct_tuples`), which the engine computes from raw orders.
"""

from cxlab.clv.bgnbd import BetaGeo
from cxlab.clv.gammagamma import GammaGamma
from cxlab.clv.paretonbd import ParetoNBD
from cxlab.clv.value import customer_lifetime_value

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "ParetoNBD",
    "customer_lifetime_value",
]
