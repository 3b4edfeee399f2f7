"""cxlab: customer satisfaction and engagement, from raw tables to decisions.

The package is layered so that data flows one way (see DESIGN.md): ``io`` and
``schema`` read and validate data, ``engine`` runs row-level work on DuckDB,
Polars or Spark through Narwhals, and the modelling packages work on small
aggregates collected from the engine.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cxlab")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
