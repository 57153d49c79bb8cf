"""The config's ``server`` section: what the generic model server (``harness serve``) keeps
beside its answers."""

from __future__ import annotations

from pydantic import Field

from harness.config.base import StrictModel


class PredictionLogSpec(StrictModel):
    """The prediction log (``GET /predictions/log``): at most ``max_records`` answers, none
    older than ``max_age_s``; ``max_records: 0`` keeps none. Each record holds the request
    id, the sha256 of the body, the answer, its latency and status, never the input."""

    max_records: int = Field(default=10_000, ge=0, le=1_000_000)
    max_age_s: float = Field(default=3600.0, gt=0)


class ServerSpec(StrictModel):
    """The generic server's own settings."""

    prediction_log: PredictionLogSpec = Field(default_factory=PredictionLogSpec)
