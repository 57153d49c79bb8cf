"""Prometheus metrics in a registry owned by one app, so apps in one process do not clash."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter("harness_server_requests", "HTTP requests by endpoint and status",
                                 ["endpoint", "method", "status"], registry=self.registry)
        self._latency = Histogram(
            "harness_server_request_duration_seconds", "HTTP request latency by endpoint",
            ["endpoint"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        # Concurrent single records are scored together (batching.py): how many per call.
        self._call_records = Histogram(
            "harness_server_model_call_records", "Records scored per call of the model",
            ["endpoint"], registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000))
        self._predictions = Counter("harness_server_predictions", "Records scored, by label",
                                    ["label"], registry=self.registry)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(endpoint, method, str(status)).inc()
        self._latency.labels(endpoint).observe(seconds)

    def count_predictions(self, endpoint: str, predictions: list[Any]) -> None:
        """The answers of one call of the model, made for ``endpoint``."""
        self._call_records.labels(endpoint).observe(len(predictions))
        for prediction in predictions:
            self._predictions.labels(str(prediction.label)).inc()


class RequestMetrics:
    """ASGI middleware timing every HTTP request into ``metrics``. Plain ASGI rather than
    Starlette's ``BaseHTTPMiddleware``, which streams each response through a task group
    and a memory channel: about a tenth of a small request's time on this server."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The route template, not the raw path, keeps label cardinality bounded; the
            # router records the route it matched in the scope it shares with us.
            endpoint = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(endpoint, scope["method"], status,
                                 time.perf_counter() - started)
