"""Satisfaction: population estimates corrected for non-response, predictions, drivers.

Public API: :func:`estimate_population` (naive, post-stratification/raking,
IPW, cross-fitted AIPW), :class:`SatisfactionModel` (calibrated P(satisfied)),
:func:`explain_drivers`, :func:`save_model` / :func:`load_model` (one scale) and
:func:`save_models` / :func:`load_models` (a bundle of every scale), and the
functions the CLI calls: :func:`fit`, :func:`estimate`, :func:`drivers`.
"""

from cxlab.satisfaction._learners import Learner
from cxlab.satisfaction._metrics import evaluate_probabilities, expected_calibration_error
from cxlab.satisfaction.api import drivers, estimate, fit
from cxlab.satisfaction._drivers import drivers_text, explain_drivers
from cxlab.satisfaction.model import SatisfactionModel
from cxlab.satisfaction.persist import load_model, load_models, save_model, save_models
from cxlab.satisfaction.population import estimate_population

__all__ = [
    "Learner",
    "SatisfactionModel",
    "drivers",
    "drivers_text",
    "estimate",
    "estimate_population",
    "evaluate_probabilities",
    "expected_calibration_error",
    "explain_drivers",
    "fit",
    "load_model",
    "load_models",
    "save_model",
    "save_models",
]
