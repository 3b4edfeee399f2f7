"""Satisfaction: population estimates corrected for non-response, predictions, drivers."""

from cxlab.satisfaction._learners import Learner
from cxlab.satisfaction.population import estimate_population

__all__ = ["Learner", "estimate_population"]
