"""The scoring service through TestClient: every status, limits, auth, and batch equality."""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cxlab.exceptions import InputDataError
from cxlab.io import load_dataset
from cxlab.scoring import load_scorer
from cxlab.service import Settings, create_app, read_api_keys

from .conftest import KEY, cli

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def client(models: Path) -> TestClient:
    app = create_app(Settings(models_dir=models, api_keys=(KEY, "second-key-0123456789"), max_body_bytes=2_000_000))
    with TestClient(app) as c:  # runs the lifespan: models loaded once
        yield c


@pytest.fixture(scope="module")
def features(market: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    from cxlab.features import invitation_features

    ds = load_dataset(market, engine="duckdb", rejects_dir=tmp_path_factory.mktemp("rej"))
    return invitation_features(ds.tables, reporting_currency=ds.reporting_currency).collect().to_pandas()


def _rows(frame: pd.DataFrame, names: list[str]) -> list[dict]:
    out = []
    for record in frame[names].to_dict(orient="records"):
        out.append({k: (None if (isinstance(v, float) and v != v) or v is pd.NA else v) for k, v in record.items()})
    return out


def test_healthz_needs_no_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "models": 2}
    assert gc.get_freeze_count() > 0  # start-up objects hidden from the collector while serving


def test_models_lists_bundles_and_metadata(client: TestClient) -> None:
    response = client.get("/v1/models", headers=AUTH)
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()["models"]}
    assert set(models) == {"clv", "sat"}
    assert models["clv"]["kind"] == "clv.grouped" and models["clv"]["by"] == "marketplace"
    assert set(models["clv"]["groups"]) == {"BR", "DE", "FR", "IN", "JP", "UK", "US"}
    assert models["sat"]["scales"] == ["csat5", "nps11"] and models["sat"]["evaluation"]["csat5"]["auc"] > 0.5
    assert models["sat"]["training_data"]["rows"] > 0 and len(models["sat"]["training_data"]["sha256"]) == 64


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-0123456789"}, {"Authorization": f"Basic {KEY}"},
                                     {"Authorization": "Bearer "}, {"Authorization": f"Bearer {KEY}x"}])
@pytest.mark.parametrize("method,path", [("get", "/v1/models"), ("post", "/v1/satisfaction/predict"),
                                         ("post", "/v1/clv/predict"), ("get", "/metrics")])
def test_no_or_wrong_key_is_401(client: TestClient, headers: dict, method: str, path: str) -> None:
    response = client.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert KEY not in response.text


def test_second_key_works_and_keys_are_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        assert client.get("/v1/models", headers={"Authorization": "Bearer second-key-0123456789"}).status_code == 200
        client.get("/v1/models", headers={"Authorization": "Bearer not-the-key-0123456789"})
    assert "second-key" not in caplog.text and "not-the-key" not in caplog.text


def test_satisfaction_predictions_equal_batch_scoring(
    client: TestClient, models: Path, market: Path, features: pd.DataFrame, tmp_path: Path
) -> None:
    scorer = load_scorer(models / "sat")
    names = list(scorer.features)
    sample = features.sample(300, random_state=1).reset_index(drop=True)
    for scale in ("csat5", "nps11"):
        response = client.post("/v1/satisfaction/predict", headers=AUTH,
                               json={"rows": _rows(sample, names), "scale": scale})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"] == "sat" and body["scale"] == scale
        got = pd.DataFrame(body["predictions"])
        cli("score", str(market), "--model", str(models / "sat"), "--out", str(tmp_path / scale))
        batch = pd.read_parquet(tmp_path / scale)
        want = sample[["survey_id"]].merge(batch.loc[batch.scale == scale], on="survey_id", how="left")
        pd.testing.assert_series_equal(got["p_satisfied"], want["p_satisfied"], check_exact=False, rtol=1e-12, check_names=False)
        pd.testing.assert_series_equal(got["expected_score"], want["expected_score"], check_exact=False, rtol=1e-12, check_names=False)
        # a single row takes the event loop's path, the 300 rows a worker thread's: the same numbers
        for i in (0, 7, 299):
            one = client.post("/v1/satisfaction/predict", headers=AUTH, json={"rows": _rows(sample.iloc[[i]], names), "scale": scale})
            assert one.status_code == 200 and one.json()["predictions"] == [body["predictions"][i]], one.text


def test_clv_predictions_equal_batch_scoring(client: TestClient, models: Path, market: Path, tmp_path: Path) -> None:
    from cxlab.clv import rfm_summary
    from cxlab.clv.summary import collect_pandas
    from cxlab.summary import orders_in_context

    cli("score", str(market), "--model", str(models / "clv"), "--horizon", "30", "--discount-rate", "0.01",
        "--out", str(tmp_path / "s"))
    batch = pd.read_parquet(tmp_path / "s").set_index("customer_id")
    ds = load_dataset(market, engine="duckdb", rejects_dir=tmp_path / "rej")
    summary = rfm_summary(orders_in_context(ds), observation_end="2025-12-31",
                          monetary_value_col="amount_reporting", day_col="local_ts")
    summary = collect_pandas(summary)
    uk = summary[summary.customer_id.isin(batch.index[batch.marketplace == "UK"])].head(50)
    rows = [{k: float(v) for k, v in r.items()} for r in uk[["frequency", "recency", "T", "monetary_value"]].to_dict("records")]
    response = client.post("/v1/clv/predict", headers=AUTH,
                           json={"rows": rows, "horizon": 30, "discount_rate": 0.01, "group": "UK"})
    assert response.status_code == 200, response.text
    got = pd.DataFrame(response.json()["predictions"])
    want = batch.loc[uk.customer_id, ["p_alive", "expected_purchases", "expected_spend", "clv"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_422_names_the_field(client: TestClient, models: Path) -> None:
    names = list(load_scorer(models / "sat").features)
    row = dict.fromkeys(names, None)
    missing = {k: v for k, v in row.items() if k != names[0]}
    response = client.post("/v1/satisfaction/predict", headers=AUTH, json={"rows": [missing]})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "rows", "0", names[0]]
    number = next(n for n, t in load_scorer(models / "sat").features.items() if t == "number")
    response = client.post("/v1/satisfaction/predict", headers=AUTH, json={"rows": [{**row, number: "late"}]})
    assert response.status_code == 422 and number in json.dumps(response.json())
    cases = [
        ({"rows": [{"frequency": 1, "recency": 2}], "horizon": 10, "group": "UK"}, ["body", "rows", "0", "T"]),
        ({"rows": [{"frequency": "1", "recency": 2, "T": 3}], "horizon": 10, "group": "UK"}, ["body", "rows", "0", "frequency"]),
        ({"rows": [{"frequency": 1, "recency": 2, "T": 3, "monetary_value": 5}], "horizon": 10**11, "group": "UK"}, ["body", "horizon"]),
        ({"rows": [{"frequency": 1, "recency": 2, "T": 3, "monetary_value": 5}], "horizon": 10}, ["body", "group"]),
        ({"rows": [{"frequency": 1, "recency": 2, "T": 3}], "horizon": 10, "group": "UK"}, ["body", "rows", "0", "monetary_value"]),
        ({"rows": [{"frequency": 1, "recency": 9, "T": 3, "monetary_value": 5}], "horizon": 10, "group": "UK"}, ["body", "rows", "0"]),
        ({"rows": [{"frequency": 1, "recency": 2, "T": 3, "monetary_value": 5}], "horizon": 10, "group": "Mars"}, ["body", "group"]),
        ({"rows": [{"frequency": 1, "recency": 2, "T": 3, "monetary_value": 5}], "horizon": 10, "group": "UK", "model": "x"}, ["body", "model"]),
    ]
    for body, loc in cases:
        response = client.post("/v1/clv/predict", headers=AUTH, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, (body, response.text)
    response = client.post("/v1/clv/predict", headers={**AUTH, "content-type": "application/json"}, content=b"{not json")
    assert response.status_code == 422


def test_too_many_rows_or_too_large_a_body_is_413(client: TestClient) -> None:
    row = {"frequency": 1, "recency": 2, "T": 3, "monetary_value": 5}
    response = client.post("/v1/clv/predict", headers=AUTH, json={"rows": [row] * 10_001, "horizon": 4, "group": "UK"})
    assert response.status_code == 413 and "10,000" in response.text
    bad = {"frequency": "x"}  # over the row limit *and* invalid: still 413
    response = client.post("/v1/clv/predict", headers=AUTH, json={"rows": [bad] * 10_001, "horizon": 4})
    assert response.status_code == 413
    response = client.post("/v1/clv/predict", headers={**AUTH, "content-type": "application/json"},
                           content=b'{"rows": [' + b" " * 2_000_001 + b"]}")
    assert response.status_code == 413 and "2,000,000 bytes" in response.text
    ok = client.post("/v1/clv/predict", headers=AUTH, json={"rows": [row] * 10_000, "horizon": 4, "group": "UK"})
    assert ok.status_code == 200 and len(ok.json()["predictions"]) == 10_000


def test_metrics_is_prometheus_text(client: TestClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "# TYPE cxlab_requests_total counter" in text
    assert 'cxlab_requests_total{method="GET",path="/healthz",status="200"}' in text
    assert 'cxlab_request_duration_seconds_bucket{path="/healthz",le="+Inf"}' in text
    assert "cxlab_models_loaded 2" in text
    for line in text.splitlines():  # every sample line: name{labels} value
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)


def test_404_when_no_model_of_that_kind(market: Path, models: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(models / "clv", tmp_path / "only" / "clv")
    with TestClient(create_app(Settings(models_dir=tmp_path / "only", api_keys=(KEY,)))) as c:
        response = c.post("/v1/satisfaction/predict", headers=AUTH, json={"rows": [{}]})
        assert response.status_code == 404 and "no satisfaction model" in response.text


def test_openapi_documents_every_endpoint(client: TestClient, models: Path) -> None:
    doc = client.get("/openapi.json").json()
    for path in ("/healthz", "/v1/models", "/v1/satisfaction/predict", "/v1/clv/predict", "/metrics"):
        assert path in doc["paths"], path
    sat = doc["paths"]["/v1/satisfaction/predict"]["post"]
    assert {"200", "401", "413", "422"} <= set(sat["responses"])
    row = doc["components"]["schemas"]["SatisfactionRow"]
    assert set(row["properties"]) == set(load_scorer(models / "sat").features)
    assert set(doc["components"]["schemas"]["ClvRow"]["required"]) == {"frequency", "recency", "T"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_settings_refuse_no_keys_short_keys_and_bad_bundles(models: Path, tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no API key"):
        Settings(models_dir=models, api_keys=())
    with pytest.raises(InputDataError, match="at least 16 characters"):
        read_api_keys(env="short")
    key_file = tmp_path / "keys"
    key_file.write_text("# ops keys\nfirst-key-0123456789\n\nsecond-key-0123456789\n")
    assert read_api_keys(env="env-key-0123456789abc", key_file=key_file) == (
        "env-key-0123456789abc", "first-key-0123456789", "second-key-0123456789")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputDataError, match="no model bundle"):
        create_app(Settings(models_dir=tmp_path / "empty", api_keys=(KEY,)))
    import shutil

    shutil.copytree(models / "sat", tmp_path / "m" / "sat")
    (tmp_path / "m" / "sat" / "evaluation.json").write_text("{}")
    with pytest.raises(InputDataError, match="evaluation.json: checksum"):
        create_app(Settings(models_dir=tmp_path / "m", api_keys=(KEY,)))


def test_serve_without_fastapi_says_what_to_install(monkeypatch: pytest.MonkeyPatch, models: Path) -> None:
    import builtins

    from typer.testing import CliRunner

    from cxlab.cli import app

    real = builtins.__import__

    def no_fastapi(name: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if name in ("fastapi", "uvicorn"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    result = CliRunner().invoke(app, ["serve", "--models", str(models)])
    assert result.exit_code == 1
    assert "pip install 'cxlab[serve]'" in result.stderr and "Traceback" not in result.output


def test_other_kinds_are_listed_not_served(models: Path, tmp_path: Path) -> None:
    import shutil

    from cxlab.bundle import write_bundle

    shutil.copytree(models / "sat", tmp_path / "m" / "sat")
    write_bundle(tmp_path / "m" / "uplift", kind="uplift", files={"params.json": "{}"}, metadata={"features": ["tenure_days"]})
    with TestClient(create_app(Settings(models_dir=tmp_path / "m", api_keys=(KEY,)))) as c:
        assert c.get("/healthz").json() == {"status": "ok", "models": 1}
        listed = {m["name"]: m["kind"] for m in c.get("/v1/models", headers=AUTH).json()["models"]}
        assert listed == {"sat": "satisfaction", "uplift": "uplift"}
