"""Schemathesis fuzzes the service's OpenAPI document: no request it generates gets a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi

from cxlab.service import Settings, create_app

from .conftest import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def app(models: Path):
    app = create_app(Settings(models_dir=models, api_keys=(KEY,)))
    with asgi.get_client(app) as session:  # runs the lifespan once: models loaded
        app.state.session = session
        yield app


def test_no_server_error(app) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/healthz", "/v1/models", "/v1/satisfaction/predict", "/v1/clv/predict", "/metrics"}
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
        def run(case) -> None:
            # With the key (bodies reach validation and the models) and without it (401).
            for headers in (AUTH, {}):
                response = case.call(session=app.state.session, headers=headers)
                assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
                if case.path != "/healthz" and not headers:
                    assert response.status_code == 401
                seen.setdefault(case.path, set()).add(response.status_code)

        run()
    assert 200 in seen["/v1/clv/predict"] | seen["/v1/satisfaction/predict"]  # the fuzz reached the models
