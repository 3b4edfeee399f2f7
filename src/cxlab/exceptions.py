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



__all__ = [
    "ConvergenceError",
    "CxlabError",
    "EngineNotAvailableError",
    "InfeasibleError",
    "InputDataError",
]
