"""Uplift: the effect of each retention action per customer, from randomized campaigns.

Meta-learners on LightGBM (:class:`TLearner`, :class:`XLearner`,
:class:`DRLearner`), campaign rows built from a dataset (features before
``assigned_ts``, outcomes after it), held-out evaluation (Qini, AUUC,
uplift@k, policy values) and scoring of every customer. See ``docs/uplift.md``.
"""

from cxlab.uplift._data import HISTORY, OUTCOMES, campaign_frame, scoring_frame
from cxlab.uplift.api import evaluate_model, fit, load_model, score, write_scores
from cxlab.uplift.evaluate import auuc, policy_value, qini_coefficient, qini_curve, uplift_at
from cxlab.uplift.learners import LEARNERS, DRLearner, TLearner, XLearner

__all__ = [
    "HISTORY", "LEARNERS", "OUTCOMES", "DRLearner", "TLearner", "XLearner", "auuc", "campaign_frame",
    "evaluate_model", "fit", "load_model", "policy_value", "qini_coefficient", "qini_curve", "score",
    "scoring_frame", "uplift_at", "write_scores",
]
