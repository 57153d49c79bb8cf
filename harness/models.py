"""Reach the model under test, in-process or over HTTP, behind one interface.

Adapters are found by name (``python``, ``http``); both return the probability
of the positive class for each row of a frame.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import pandas as pd

from harness.config import HarnessConfig, ModelAccess, ModelSpec
from harness.errors import ConfigError, ModelLoadError, TargetUnreachable


class Model(Protocol):
    """What the harness needs of a model: P(positive class) for each row."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray: ...


def _as_probabilities(raw: Any, rows: int, source: str) -> np.ndarray:
    values = np.asarray(raw, dtype=float)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape != (rows,):
        raise ModelLoadError(f"{source} returned {values.shape} scores for {rows} rows; "
                             "expected one probability of the positive class per row")
    if not np.all((values >= 0) & (values <= 1)):
        raise ModelLoadError(f"{source} returned scores outside [0, 1]; expected probabilities")
    return values


def positive_column(classes: Any, positive_label: str | int, source: str) -> int:
    """Which column of ``predict_proba`` holds the positive class, by the estimator's
    ``classes_``; a positive label that is not among them is a configuration error."""
    names = [c.item() if isinstance(c, np.generic) else c for c in classes]
    for i, name in enumerate(names):
        if name == positive_label or str(name) == str(positive_label):
            return i
    raise ConfigError(
        f"model.positive_label {positive_label!r} is not among the classes {source} was "
        f"fitted on ({', '.join(repr(n) for n in names)}); set model.positive_label to one "
        "of them"
    )


def import_entrypoint(entrypoint: str, root: Path) -> Callable[..., Any]:
    """Import ``module:function``, with the config's folder importable, as documented."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name, _, attr = entrypoint.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(
            f"model.entrypoint '{entrypoint}' cannot be imported: {exc}. The module is looked "
            f"up in the config's folder ({root}) and the installed packages"
        ) from None


# Rows an in-process model scores per call.
_CHUNK_ROWS = 65_536


class PythonModel:
    """A model loaded in this process through an import path such as ``pkg.mod:load``.

    The entry point is called with the artifact folder (when ``model.artifact`` is set) and
    returns an object with ``predict_proba(frame)``. When the object has ``classes_`` (a
    scikit-learn estimator or pipeline), the column of ``model.positive_label`` is scored;
    otherwise ``predict_proba`` must return the positive class's probability per row (one
    column), or two columns of which the second is the positive class.
    """

    def __init__(self, model: Any, entrypoint: str, positive_label: str | int,
                 threshold: float, negative_label: str | None) -> None:
        self._model = model
        self._entrypoint = entrypoint
        self._column: int | None = None
        self._positive = positive_label
        self._negative = negative_label
        self._threshold = threshold
        classes = getattr(model, "classes_", None)
        if classes is not None:
            self._column = positive_column(classes, positive_label, f"'{entrypoint}'")
            others = [str(c) for i, c in enumerate(classes) if i != self._column]
            if len(others) == 1:
                self._negative = others[0]

    @classmethod
    def open(cls, spec: ModelAccess, config: HarnessConfig,
             artifact: Path | None = None) -> PythonModel:
        assert spec.entrypoint is not None  # guaranteed by ModelSpec validation
        loader = import_entrypoint(spec.entrypoint, config.root)
        args = []
        if artifact is None and spec.artifact is not None:
            artifact = config.resolve(spec.artifact)
        if artifact is not None:
            if not artifact.exists():
                raise ModelLoadError(
                    f"model.artifact {artifact} does not exist; train or download the model first"
                )
            args.append(artifact)
        try:
            model = loader(*args)
        except Exception as exc:  # the team's loader may raise anything; say which one failed
            raise ModelLoadError(f"model.entrypoint '{spec.entrypoint}' failed: {exc}") from exc
        if not callable(getattr(model, "predict_proba", None)):
            raise ModelLoadError(
                f"model.entrypoint '{spec.entrypoint}' returned {type(model).__name__}, which "
                "has no predict_proba(frame); return the fitted model"
            )
        return cls(model, spec.entrypoint, config.model.positive_label,
                   config.model.threshold, _negative_label(config))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(positive) per row. A big frame is scored in chunks of rows: a model's working
        set per chunk stays in the CPU's cache (a tree ensemble walks its input once per
        tree), which cut a million rows' scoring by a third, and memory stays bounded."""
        if len(frame) <= _CHUNK_ROWS:
            return self._score(frame)
        return np.concatenate([self._score(frame.iloc[start:start + _CHUNK_ROWS])
                               for start in range(0, len(frame), _CHUNK_ROWS)])

    def _score(self, frame: pd.DataFrame) -> np.ndarray:
        raw = np.asarray(self._model.predict_proba(frame), dtype=float)
        if self._column is not None and raw.ndim == 2:
            raw = raw[:, self._column]
        elif raw.ndim == 2 and raw.shape[1] == 2:
            raw = raw[:, 1]
        return _as_probabilities(raw, len(frame), self._entrypoint)

    def label_of(self, probability: float) -> str | None:
        """The predicted label at the decision threshold (None where the negative class
        has no name the harness knows)."""
        if probability >= self._threshold:
            return str(self._positive)
        return self._negative


def _negative_label(config: HarnessConfig) -> str | None:
    """The other class's name, when the schema's label column allows exactly two values."""
    rule = config.data_schema.columns.get(config.model.label_column)
    if rule is None or rule.allowed is None:
        return None
    others = [str(v) for v in rule.allowed if str(v) != str(config.model.positive_label)]
    return others[0] if len(others) == 1 else None


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

