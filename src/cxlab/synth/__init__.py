"""Synthetic worldwide marketplace with known ground truth.

:func:`generate` writes every canonical table (see :mod:`cxlab.schema`) and a
``truth/`` folder with the parameters and latent quantities that produced them:
BG/NBD and Gamma-Gamma parameters per marketplace, every invited customer's
would-be survey score, response probabilities, and true campaign effects.
See ``docs/synth.md``.
"""

from cxlab.synth.generator import GenerationSummary, generate
from cxlab.synth.incidents import Incident, parse_incident
from cxlab.synth.params import DEFAULT_MARKETPLACES

__all__ = ["DEFAULT_MARKETPLACES", "GenerationSummary", "Incident", "generate", "parse_incident"]
