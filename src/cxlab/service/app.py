"""The scoring service: ``create_app(settings)`` builds a FastAPI app over model bundles.

Bundles are found under ``settings.models_dir`` and verified when the app is
created (their ``model.json`` shapes the request schemas of the OpenAPI
document); the models themselves are loaded once, in the app's lifespan, from
the verified bytes. Every route but ``/healthz`` needs ``Authorization: Bearer
KEY``; keys are compared in constant time and never logged. Bad input gets 401,
404, 413 or 422 with a message naming the field, never 500.

This module deliberately has no ``from __future__ import annotations``: the
request body of ``/v1/satisfaction/predict`` is a model built at run time from
the bundles' features, and FastAPI reads endpoint annotations as objects.
"""

import gc
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cxlab.bundle import Bundle, read_bundle
from cxlab.exceptions import InputDataError
from cxlab.clv.persist import ALL_KINDS as CLV_KINDS
from cxlab.scoring import ClvScorer, SatisfactionScorer, find_bundles, load_scorer
from cxlab.service.metrics import Metrics
from cxlab.service.schemas import (
    ClvRequest, ClvResponse, ErrorBody, Health, ModelInfo, ModelsResponse, SatisfactionResponse, satisfaction_request,
)
from cxlab.service.settings import Settings

logger = logging.getLogger(__name__)

SERVABLE = (*CLV_KINDS, "satisfaction")
#: Requests of at most this many rows are predicted on the event loop, larger ones in a worker thread.
INLINE_ROWS = 50
ROUTES = ("/healthz", "/v1/models", "/v1/satisfaction/predict", "/v1/clv/predict", "/metrics")
_ERRORS = {
    401: {"model": ErrorBody, "description": "No API key, or a wrong one."},
    404: {"model": ErrorBody, "description": "No model of this kind is loaded."},
    413: {"model": ErrorBody, "description": "More rows than allowed, or a body over the size limit."},
    422: {"model": ErrorBody, "description": "A missing or mistyped field (named in the message)."},
}


def _unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["body", *field.split(".")], "msg": message, "type": "value_error"}])


class _Guard:
    """ASGI middleware: body size limit (413) and request metrics around the app."""

    def __init__(self, app: Any, *, limit: int, metrics: Metrics) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics

    async def _reply(self, send: Any, status: int, detail: str) -> None:
        body = ('{"detail":"' + detail + '"}').encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"] if scope["path"] in ROUTES else "other"
        status = {"code": 500}

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            replay = await self._read_body(scope, receive)
            if replay is None:
                status["code"] = 413
                await self._reply(send, 413, f"request body over the limit of {self.limit:,} bytes")
                return
            await self.app(scope, replay, send_status)
        finally:
            self.metrics.observe(scope.get("method", ""), path, status["code"], time.perf_counter() - start)

    async def _read_body(self, scope: Any, receive: Any) -> Any:
        """A ``receive`` replaying the whole body, or None when it is over the limit."""
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _describe(name: str, bundle: Bundle) -> dict[str, Any]:
    meta = bundle.metadata
    info: dict[str, Any] = {
        "name": name, "kind": bundle.kind, "family": "clv" if bundle.kind in CLV_KINDS else bundle.kind,
        "cxlab_version": meta.get("cxlab_version"), "created_at": meta.get("created_at"),
        "features": [
            {"name": str(f.get("name")), "type": str(f.get("type"))} if isinstance(f, dict) else {"name": str(f), "type": "unknown"}
            for f in (meta.get("features") if isinstance(meta.get("features"), list) else [])
        ],
        "training_data": meta.get("training_data") if isinstance(meta.get("training_data"), dict) else None,
        "time_unit": str(meta["time_unit"]) if meta.get("time_unit") else None,
        "by": str(meta["by"]) if meta.get("by") else None,
    }
    if bundle.kind == "satisfaction":
        scales = meta.get("scales", {})
        info["scales"] = sorted(scales)
        info["evaluation"] = {
            s: {k: v for k, v in (scales[s].get("evaluation") or {}).items() if k != "calibration_curve"}
            for s in scales
        }
    else:
        evaluation = meta.get("evaluation")
        info["evaluation"] = evaluation if isinstance(evaluation, dict) else None
        if meta.get("groups"):
            info["groups"] = [g.get("value") for g in meta["groups"]]
    return info


def _discover(models_dir: Path) -> dict[str, Bundle]:
    found = find_bundles(models_dir)
    if not found:
        raise InputDataError(
            f"serve: no model bundle under {models_dir}; fit one with 'cxlab clv fit' or 'cxlab satisfaction fit "
            f"--out {models_dir}/NAME'."
        )
    bundles = {}
    for folder in found:
        name = folder.relative_to(models_dir).as_posix() if folder != models_dir else folder.name
        bundles[name] = read_bundle(folder)
    return bundles


def _pick(loaded: dict[str, Any], name: str | None, family: str) -> tuple[str, Any]:
    if not loaded:
        raise HTTPException(404, detail=f"no {family} model is loaded; put a {family} bundle under --models.")
    if name is None:
        if len(loaded) > 1:
            raise _unprocessable("model", f"{len(loaded)} {family} models are loaded ({', '.join(sorted(loaded))}); name one.")
        return next(iter(loaded.items()))
    if name not in loaded:
        raise _unprocessable("model", f"no {family} model named {name!r}; loaded: {', '.join(sorted(loaded))}.")
    return name, loaded[name]


def _check_finite(values: np.ndarray) -> None:
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(bad)[:5])
        raise _unprocessable("rows", f"the model gives no finite prediction for row(s) {rows}; check their values.")


def _finite(frame: pd.DataFrame) -> list[dict[str, float]]:
    _check_finite(frame.to_numpy(dtype=float))
    return frame.to_dict(orient="records")


def _json(payload: dict[str, Any]) -> Response:
    # Every value is a str, a finite float or a list of such dicts: json.dumps writes it as
    # the response model would, without re-validating the response through pydantic.
    return Response(json.dumps(payload, allow_nan=False, separators=(",", ":")), media_type="application/json")


def create_app(settings: Settings) -> FastAPI:
    """The service over the bundles in ``settings.models_dir``."""
    models_dir = Path(settings.models_dir)
    bundles = _discover(models_dir)
    # Other kinds (uplift, churn) are listed by /v1/models but have no prediction route here.
    servable = {n: b for n, b in bundles.items() if b.kind in SERVABLE}
    skipped = sorted(set(bundles) - set(servable))
    if skipped:
        logger.warning("serve: listing but not serving %s (no prediction route for their kind)", ", ".join(skipped))
    metrics = Metrics()
    state: dict[str, dict[str, Any]] = {"clv": {}, "satisfaction": {}}
    keys = [k.encode("utf-8") for k in settings.api_keys]
    bearer = HTTPBearer(auto_error=False, description="An API key from CXLAB_API_KEYS or --api-key-file.")

    sat_features: dict[str, list[tuple[str, str]]] = {}
    for name, bundle in bundles.items():
        if bundle.kind == "satisfaction":
            feats = []
            for scale in bundle.metadata.get("scales", {}).values():
                feats += [(f["name"], f["type"]) for f in scale.get("features", [])]
            sat_features[name] = list(dict.fromkeys(feats))
    union: dict[str, tuple[str, bool]] = {}
    for feats in sat_features.values():
        for fname, ftype in feats:
            union.setdefault(fname, (ftype, all(fname in dict(other) for other in sat_features.values())))
    SatisfactionRequest = satisfaction_request(union)
    # (field, feature name) of the request's row model: a row as a dict by feature name, without model_dump
    row_names = [(key, field.alias) for key, field in
                 SatisfactionRequest.model_fields["rows"].annotation.__args__[0].model_fields.items()]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name, bundle in servable.items():
            scorer = load_scorer(bundle)
            state[scorer.family][name] = scorer
        metrics.models_loaded = len(servable)
        logger.info("serve: loaded %d model bundle(s) from %s", len(bundles), models_dir)
        # Hide what start-up made (modules, models: ~160,000 objects) from the garbage collector:
        # a full collection then walks only what requests allocate instead of pausing every
        # request for tens of milliseconds or more (measured: 0.5 s under load, ~0 after).
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        for family in state.values():
            family.clear()

    app = FastAPI(
        title="cxlab scoring service",
        summary="Satisfaction and CLV predictions from cxlab model bundles.",
        version=__import__("cxlab").__version__,
        lifespan=lifespan,
    )

    async def authorize(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if credentials is None or not credentials.credentials:
            raise HTTPException(401, detail="missing API key: send 'Authorization: Bearer KEY'.",
                                headers={"WWW-Authenticate": "Bearer"})
        given = credentials.credentials.encode("utf-8")
        match = False
        for key in keys:  # compare with every key, in constant time each
            match |= hmac.compare_digest(given, key)
        if not match:
            raise HTTPException(401, detail="invalid API key.", headers={"WWW-Authenticate": "Bearer"})

    def check_rows(n: int) -> None:
        if n > settings.max_rows:
            raise HTTPException(413, detail=f"{n:,} rows; at most {settings.max_rows:,} rows per request. Split it.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = exc.body
        if isinstance(body, dict) and isinstance(body.get("rows"), list) and len(body["rows"]) > settings.max_rows:
            return JSONResponse({"detail": f"{len(body['rows']):,} rows; at most {settings.max_rows:,} rows per request."}, 413)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()[:20]
        ]
        return JSONResponse({"detail": errors}, 422)

    @app.exception_handler(InputDataError)
    async def bad_input(request: Request, exc: InputDataError) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]}, 422)

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> Health:
        """Liveness and readiness: ``ok`` once the models are loaded (no key needed)."""
        loaded = sum(len(v) for v in state.values())
        return Health(status="ok" if loaded == len(servable) else "loading", models=loaded)

    @app.get("/v1/models", response_model=ModelsResponse, responses={401: _ERRORS[401]}, tags=["models"],
             dependencies=[Depends(authorize)])
    async def models() -> ModelsResponse:
        """The loaded model bundles and their metadata (kind, features, evaluation, training data)."""
        return ModelsResponse(models=[ModelInfo(**_describe(n, b)) for n, b in bundles.items()])

    @app.post("/v1/satisfaction/predict", response_model=SatisfactionResponse, tags=["predict"],
              responses={k: _ERRORS[k] for k in (401, 404, 413, 422)}, dependencies=[Depends(authorize)])
    async def satisfaction_predict(body: SatisfactionRequest) -> SatisfactionResponse:  # type: ignore[valid-type]
        """Calibrated P(satisfied) and expected score of each row (features as in /v1/models)."""
        # async: a small request is encoded (no pandas) and predicted right on the event loop, which
        # costs less than the hop to a worker thread; a large one goes to a thread so that it does not
        # hold up the small requests behind it.
        check_rows(len(body.rows))
        name, scorer = _pick(state["satisfaction"], body.model, "satisfaction")
        assert isinstance(scorer, SatisfactionScorer)
        if body.scale is not None and body.scale not in scorer.models:
            raise _unprocessable("scale", f"scale must be one of {', '.join(scorer.scales)}; got {body.scale!r}.")
        records = [{feature: values[key] for key, feature in row_names} for values in (row.__dict__ for row in body.rows)]
        scale = body.scale or ("csat5" if "csat5" in scorer.models else scorer.scales[0])
        if len(records) <= INLINE_ROWS:
            p_satisfied, expected_score = scorer.predict_records(records, scale=scale)
        else:
            p_satisfied, expected_score = await run_in_threadpool(scorer.predict_records, records, scale=scale)
        _check_finite(np.column_stack([p_satisfied, expected_score]))
        metrics.add_rows("/v1/satisfaction/predict", len(records))
        return _json({"model": name, "scale": scale, "predictions": [
            {"p_satisfied": p, "expected_score": e}
            for p, e in zip(p_satisfied.tolist(), expected_score.tolist(), strict=True)]})

    @app.post("/v1/clv/predict", response_model=ClvResponse, tags=["predict"],
              responses={k: _ERRORS[k] for k in (401, 404, 413, 422)}, dependencies=[Depends(authorize)])
    def clv_predict(body: ClvRequest) -> ClvResponse:
        """P(alive), expected purchases, expected spend and CLV over ``horizon`` periods for each row."""
        check_rows(len(body.rows))
        name, scorer = _pick(state["clv"], body.model, "CLV")
        assert isinstance(scorer, ClvScorer)
        if scorer.by is not None and body.group is None:
            values = ", ".join(map(str, list(scorer.model.parts)[:5]))
            raise _unprocessable("group", f"this model has one model per {scorer.by}; give group (one of {values}).")
        if scorer.by is not None and body.group not in scorer.model.parts:
            raise _unprocessable("group", f"{body.group!r} is not a {scorer.by} of this model.")
        part = scorer.model.part(body.group if scorer.by else None)
        frame = pd.DataFrame([row.model_dump() for row in body.rows], columns=["frequency", "recency", "T", "monetary_value"])
        frame = frame.astype({"frequency": float, "recency": float, "T": float})
        missing = frame["monetary_value"].isna()
        needs = missing if part.spend is None else missing & (frame["frequency"] > 0)
        if needs.any():
            i = int(np.flatnonzero(needs.to_numpy())[0])
            raise _unprocessable(f"rows.{i}.monetary_value", "monetary_value is required for customers with repeat purchases"
                                 + ("" if part.spend is not None else " (this model has no spend model: for every row)") + ".")
        frame["monetary_value"] = frame["monetary_value"].astype(float).fillna(0.0)
        try:
            scored = scorer.predict(frame, horizon=body.horizon, discount_rate=float(body.discount_rate),
                                    group=body.group if scorer.by else None)
        except InputDataError as err:
            raise _unprocessable("horizon", str(err)) from err
        predictions = _finite(scored)
        metrics.add_rows("/v1/clv/predict", len(predictions))
        return ClvResponse(model=name, predictions=predictions)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"], responses={401: _ERRORS[401]},
             dependencies=[Depends(authorize)])
    async def prometheus() -> PlainTextResponse:
        """Request counts, latency histograms and predicted rows, in the Prometheus text format."""
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    app.add_middleware(_Guard, limit=settings.max_body_bytes, metrics=metrics)
    return app


__all__ = ["create_app"]


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (``cxlab serve --workers N``): settings from the environment."""
    import os

    key_file = os.environ.get("CXLAB_SERVE_KEY_FILE")
    return create_app(Settings.from_env(Path(os.environ["CXLAB_SERVE_MODELS"]),
                                        api_key_file=Path(key_file) if key_file else None))
