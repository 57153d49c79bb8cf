"""Prometheus metrics in a registry owned by one app, so apps in one process do not clash."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter("harness_server_requests", "HTTP requests by endpoint and status",
                                 ["endpoint", "method", "status"], registry=self.registry)
        self._latency = Histogram(
            "harness_server_request_duration_seconds", "HTTP request latency by endpoint",
            ["endpoint"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self._predictions = Counter("harness_server_predictions", "Records scored, by label",
                                    ["label"], registry=self.registry)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(endpoint, method, str(status)).inc()
        self._latency.labels(endpoint).observe(seconds)

    def count_predictions(self, predictions: Iterable[Any]) -> None:
        for prediction in predictions:
            self._predictions.labels(str(prediction.label)).inc()
