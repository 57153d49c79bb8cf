"""The credit-scoring HTTP service: a FastAPI app built around one model artifact.

`create_app` loads nothing at import; the model is loaded when the app starts.
A model that fails to load leaves the app live (/health) but not ready
(/ready answers 503 with the reason), so an orchestrator keeps it out of
rotation instead of crash-looping.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field

from service.features import CreditApplication, records_to_frame
from service.model import CreditModel, load_model

ARTIFACT_ENV = "SERVICE_ARTIFACT"
LATENCY_ENV = "SERVICE_INJECT_LATENCY_MS"
ERROR_RATE_ENV = "SERVICE_INJECT_ERROR_RATE"
MAX_BATCH = 1000

log = logging.getLogger("service")


class Prediction(BaseModel):
    probability: float
    label: str


class PredictResponse(Prediction):
    model_version: str


class BatchRequest(BaseModel):
    records: list[CreditApplication] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResponse(BaseModel):
    predictions: list[Prediction]
    model_version: str


class VersionResponse(BaseModel):
    name: str
    version: str
    artifact_sha256: str
    training_data_sha256: str


def _env_float(name: str) -> float:
    raw = os.environ.get(name) or "0"
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class FaultInjection:
    """Deliberate slowness and failures on the predict endpoints, for load tests."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    seed: int = 0

    @classmethod
    def from_env(cls, seed: int = 0) -> FaultInjection:
        return cls(
            latency_ms=_env_float(LATENCY_ENV), error_rate=_env_float(ERROR_RATE_ENV), seed=seed
        )

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"{LATENCY_ENV} must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"{ERROR_RATE_ENV} must be in 0..1, got {self.error_rate}")


@dataclass
class Metrics:
    """Prometheus metrics in a registry owned by one app, so apps in one process do not clash."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "service_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "service_request_duration_seconds",
            "HTTP request latency by endpoint",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.predictions = Counter(
            "service_predictions",
            "Records scored, by predicted label",
            ["label"],
            registry=self.registry,
        )


@dataclass
class ServiceState:
    """Everything one app instance holds: its model (once loaded), metrics and faults."""

    artifact_dir: Path
    faults: FaultInjection
    metrics: Metrics
    model: CreditModel | None = None
    load_error: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    rng_lock: threading.Lock = field(default_factory=threading.Lock)

    def inject_faults(self) -> None:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        if self.faults.error_rate:
            with self.rng_lock:
                fail = self.rng.random() < self.faults.error_rate
            if fail:
                raise HTTPException(status_code=500, detail="injected fault")

    def require_model(self) -> CreditModel:
        if self.model is None:
            raise HTTPException(
                status_code=503, detail=f"model not loaded: {self.load_error or 'starting'}"
            )
        return self.model


def create_app(
    artifact_dir: str | Path | None = None,
    faults: FaultInjection | None = None,
) -> FastAPI:
    """Build the service for one artifact directory (default: $SERVICE_ARTIFACT).

    Fault injection comes from `faults`, else from $SERVICE_INJECT_LATENCY_MS
    and $SERVICE_INJECT_ERROR_RATE, read here and not at import.
    """
    if artifact_dir is None:
        artifact_dir = os.environ.get(ARTIFACT_ENV)
        if not artifact_dir:
            raise ValueError(f"no artifact directory given and ${ARTIFACT_ENV} is not set")
    faults = faults if faults is not None else FaultInjection.from_env()
    state = ServiceState(
        artifact_dir=Path(artifact_dir),
        faults=faults,
        metrics=Metrics(),
        rng=random.Random(faults.seed),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            state.model = load_model(state.artifact_dir)
        except Exception as error:  # noqa: BLE001 - any load failure means "not ready", with its reason
            state.load_error = f"{type(error).__name__}: {error}"
            log.error("service not ready: cannot load %s: %s", state.artifact_dir, state.load_error)
        else:
            meta = state.model.metadata
            log.info(
                "service started: model %s %s artifact_sha256=%s from %s",
                meta.name,
                meta.version,
                meta.artifact_sha256,
                state.artifact_dir,
            )
        yield

    app = FastAPI(title="credit-scoring", lifespan=lifespan)
    app.state.service = state

    @app.middleware("http")
    async def record_metrics(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # The route template, not the raw path, keeps label cardinality bounded.
            route = request.scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            state.metrics.requests.labels(endpoint, request.method, str(status)).inc()
            state.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        if state.model is None:
            return JSONResponse(
                {"status": "not ready", "reason": state.load_error or "starting"}, 503
            )
        return JSONResponse({"status": "ready"})

    @app.get("/version", response_model=VersionResponse)
    def version() -> VersionResponse:
        meta = state.require_model().metadata
        return VersionResponse(
            name=meta.name,
            version=meta.version,
            artifact_sha256=meta.artifact_sha256,
            training_data_sha256=meta.training_data_sha256,
        )

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def score(records: list[CreditApplication]) -> tuple[CreditModel, list[Prediction]]:
        model = state.require_model()
        state.inject_faults()
        frame = records_to_frame([r.model_dump() for r in records])
        probabilities = model.predict_proba(frame)
        predictions = [
            Prediction(probability=float(p), label=label)
            for p, label in zip(probabilities, model.labels(probabilities), strict=True)
        ]
        for p in predictions:
            state.metrics.predictions.labels(p.label).inc()
        return model, predictions

    @app.post("/predict", response_model=PredictResponse)
    def predict(application: CreditApplication) -> PredictResponse:
        model, [prediction] = score([application])
        return PredictResponse(**prediction.model_dump(), model_version=model.version)

    @app.post("/predict/batch", response_model=BatchResponse)
    def predict_batch(request: BatchRequest) -> BatchResponse:
        model, predictions = score(request.records)
        return BatchResponse(predictions=predictions, model_version=model.version)

    return app
