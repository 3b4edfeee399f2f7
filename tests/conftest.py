"""Shared fixtures: one test body on every engine.

``engine`` is parametrized over DuckDB, Polars and Spark (local[2], one session
for the whole run, marked ``spark``). Tests that take it run three times.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from cxlab.engine import Engine, get_engine

# Property tests draw the same examples on every run (CI must not fail on a
# draw the last run never made) and have no deadline (shared 2-core machines).
settings.register_profile("cxlab", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("cxlab")

ENGINE_PARAMS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("polars", id="polars"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="session")
def spark_engine() -> Engine:
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    engine = get_engine("spark", master="local[2]")
    yield engine


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh engine (DuckDB, Polars) or the shared Spark session."""
    if request.param == "spark":
        return request.getfixturevalue("spark_engine")
    return get_engine(request.param)


@pytest.fixture(params=ENGINE_PARAMS)
def engine_name(request: pytest.FixtureRequest) -> str:
    """The engine's name only, for tests that go through the CLI or load_dataset."""
    if request.param == "spark":
        request.getfixturevalue("spark_engine")  # start it once, reuse it
    return request.param
