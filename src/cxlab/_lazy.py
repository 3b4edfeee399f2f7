"""Lazy package exports (PEP 562): a public name's submodule is imported on first use."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, home: dict[str, str], namespace: dict[str, Any]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``home`` maps a public name to its submodule.

    A resolved name is cached in ``namespace`` (the package's globals); an unknown
    name that is a submodule is imported as such.
    """

    def __getattr__(name: str) -> Any:
        where = home.get(name)
        if where is None:
            from importlib.util import find_spec

            if not name.startswith("__") and find_spec(f"{package}.{name}") is not None:  # a submodule
                return import_module(f"{package}.{name}")
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *home])

    return __getattr__, __dir__
