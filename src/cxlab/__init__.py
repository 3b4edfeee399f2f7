"""cxlab: customer satisfaction and engagement, from raw tables to decisions.

The package is layered so that data flows one way (see DESIGN.md): ``io`` and
``schema`` read and validate data, ``engine`` runs row-level work on DuckDB,
Polars or Spark through Narwhals, and the modelling packages work on small
aggregates collected from the engine.
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # read on first use: importlib.metadata costs about 0.1 s of every start-up
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            value = version("cxlab")
        except PackageNotFoundError:  # running from a source tree without install
            value = "0.0.0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'cxlab' has no attribute {name!r}")
