"""Reach the model under test, in-process or over HTTP, behind one interface.

Adapters are found by name (``python``, ``http``); both return the probability
of the positive class for each row of a frame.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import numpy as np
import pandas as pd

from harness.config import HarnessConfig, ModelAccess, ModelSpec
from harness.errors import ModelLoadError, TargetUnreachable


class Model(Protocol):
    """What the harness needs of a model: P(positive class) for each row."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray: ...


def _as_probabilities(raw: Any, rows: int, source: str) -> np.ndarray:
    values = np.asarray(raw, dtype=float)
    if values.ndim == 2 and values.shape[1] == 2:
        values = values[:, 1]
    if values.shape != (rows,):
        raise ModelLoadError(f"{source} returned {values.shape} scores for {rows} rows")
    if not np.all((values >= 0) & (values <= 1)):
        raise ModelLoadError(f"{source} returned scores outside [0, 1]; expected probabilities")
    return values


class PythonModel:
    """A model loaded in this process through an import path such as ``pkg.mod:load``."""

    def __init__(self, model: Any, entrypoint: str) -> None:
        self._model = model
        self._entrypoint = entrypoint

    @classmethod
    def open(cls, spec: ModelAccess, config: HarnessConfig) -> PythonModel:
        assert spec.entrypoint is not None  # guaranteed by ModelSpec validation
        module_name, _, attr = spec.entrypoint.partition(":")
        try:
            loader: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ModelLoadError(
                f"model.entrypoint '{spec.entrypoint}' cannot be imported: {exc}"
            ) from None
        args = []
        if spec.artifact is not None:
            artifact = config.resolve(spec.artifact)
            if not artifact.exists():
                raise ModelLoadError(
                    f"model.artifact {artifact} does not exist; train or download the model first"
                )
            args.append(artifact)
        try:
            model = loader(*args)
        except Exception as exc:  # the team's loader may raise anything; say which one failed
            raise ModelLoadError(f"model.entrypoint '{spec.entrypoint}' failed: {exc}") from exc
        return cls(model, spec.entrypoint)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return _as_probabilities(self._model.predict_proba(frame), len(frame), self._entrypoint)


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # astype(object) turns numpy scalars into Python ones; NaN becomes JSON null.
    records = frame.astype(object).to_dict(orient="records")
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in records
    ]


class HttpModel:
    """A deployed model service, called in batches at ``POST {url}/predict/batch``.

    The service takes ``{"records": [...]}`` and answers
    ``{"predictions": [{"probability": p}, ...]}`` in the same order.
    """

    def __init__(self, url: str, batch_size: int, timeout_s: float) -> None:
        self._url = url.rstrip("/")
        self._batch_size = batch_size
        self._client = httpx.Client(base_url=self._url, timeout=timeout_s)

    @classmethod
    def open(cls, spec: ModelAccess, config: HarnessConfig) -> HttpModel:
        assert spec.url is not None  # guaranteed by ModelSpec validation
        return cls(spec.url, spec.batch_size, spec.timeout_s)

    def close(self) -> None:
        self._client.close()

    def _post_batch(self, records: list[dict[str, Any]]) -> list[float]:
        endpoint = f"{self._url}/predict/batch"
        try:
            response = self._client.post("/predict/batch", json={"records": records})
        except httpx.TimeoutException:
            raise TargetUnreachable(
                f"{endpoint} did not answer within {self._client.timeout.read}s; "
                "check the service is healthy or raise model.timeout_s"
            ) from None
        except httpx.TransportError as exc:
            raise TargetUnreachable(
                f"{endpoint} is unreachable ({exc}); is the service running?"
            ) from None
        if response.status_code != 200:
            raise TargetUnreachable(
                f"{endpoint} answered {response.status_code}: {response.text[:300]}"
            )
        try:
            return [float(p["probability"]) for p in response.json()["predictions"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise TargetUnreachable(
                f"{endpoint} answered without 'predictions[].probability' ({exc})"
            ) from None

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        records = _json_records(frame)
        scores: list[float] = []
        for start in range(0, len(records), self._batch_size):
            scores.extend(self._post_batch(records[start : start + self._batch_size]))
        return _as_probabilities(scores, len(frame), f"{self._url}/predict/batch")


ADAPTERS: dict[str, Callable[[ModelAccess, HarnessConfig], Model]] = {
    "python": PythonModel.open,
    "http": HttpModel.open,
}


def open_model(config: HarnessConfig, spec: ModelAccess | None = None) -> Model:
    """Open the model under test (or the one ``spec`` describes, such as production)."""
    spec = spec or config.model
    return ADAPTERS[spec.adapter](spec, config)


def features(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The rows as the model sees them: everything but the label."""
    return frame.drop(columns=[spec.label_column], errors="ignore")

