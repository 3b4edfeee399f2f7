"""The one exception hierarchy of cxlab.

Each class also subclasses the matching built-in, so callers that catch
``ValueError`` or ``ImportError`` keep working.
"""

from __future__ import annotations


class CxlabError(Exception):
    """Base class of every error cxlab raises on purpose."""


class InputDataError(CxlabError, ValueError):
    """Input data (a file, a column, a project file, a CLI value) is not usable.

    Messages follow the shape *who - what was expected - what was given - how to
    fix*. The CLI maps this error to exit status 2.
    """


class ConvergenceError(CxlabError, RuntimeError):
    """An optimizer did not converge; the message says what to try."""


class InfeasibleError(CxlabError):
    """An optimization problem has no feasible solution."""


class EngineNotAvailableError(CxlabError, ImportError):
    """An optional engine is not installed; the message gives the pip command."""


class CxlabWarning(UserWarning):
    """Base class of every warning cxlab emits on purpose."""


class FitWarning(CxlabWarning):
    """A model was fitted but the fit is doubtful (a parameter at the edge of its
    range, a singular Hessian, a standard error that is not finite); the message
    says what to try. The same text is kept in the model's ``diagnostics_``."""


__all__ = [
    "ConvergenceError",
    "CxlabError",
    "CxlabWarning",
    "EngineNotAvailableError",
    "FitWarning",
    "InfeasibleError",
    "InputDataError",
]
