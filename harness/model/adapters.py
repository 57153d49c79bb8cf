"""Reach the model under test, in-process or over HTTP, behind one interface.

Adapters are found by name (``python``, ``http``); both return the probability
of the positive class for each row of a frame.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import pandas as pd

from harness.config import HarnessConfig, ModelAccess, ModelSpec
from harness.errors import ConfigError, ModelLoadError, TargetUnreachable
from harness.kinds import BINARY, Kind, outputs
from harness.kinds.labels import sorted_classes
from harness.model.probe import mismatch
from harness.model.protocols import Wire


class Model(Protocol):
    """What the harness needs of a model: its scores for each row of a frame, shaped by
    ``model.kind`` (see ``harness.kinds.outputs``), and the classes of a classifier's columns."""

    classes: list[Any]

    def score(self, frame: pd.DataFrame) -> np.ndarray: ...

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray: ...


def _as_probabilities(raw: Any, rows: int, source: str) -> np.ndarray:
    return outputs.probabilities(raw, rows, source)


def configured_classes(config: HarnessConfig) -> list[Any]:
    """A classifier's classes when the model does not say: ``model.classes``, else the
    label column's allowed values, sorted as scikit-learn's ``classes_`` are."""
    if config.model.classes is not None:
        return list(config.model.classes)
    rule = config.data_schema.columns.get(config.model.label_column)
    if rule is not None and rule.allowed is not None:
        return sorted_classes(rule.allowed)
    return []


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
    returns the fitted model. A classifier has ``predict_proba(frame)``: when the object has
    ``classes_`` (a scikit-learn estimator or pipeline), its columns are read by class; a
    binary one otherwise returns the positive class's probability per row (one column), or
    two columns of which the second is the positive class. A regression has
    ``predict(frame)``, one number per row.
    """

    def __init__(self, model: Any, entrypoint: str, positive_label: str | int | None,
                 threshold: float, negative_label: str | None, kind: Kind = BINARY,
                 classes: list[Any] | None = None) -> None:
        self._model = model
        self._entrypoint = entrypoint
        self._column: int | None = None
        self._positive = positive_label
        self._negative = negative_label
        self._threshold = threshold
        self.kind = kind
        fitted = getattr(model, "classes_", None)
        self.classes = ([c.item() if isinstance(c, np.generic) else c for c in fitted]
                        if fitted is not None else list(classes or []))
        if kind.needs_positive_label and fitted is not None:
            assert positive_label is not None  # guaranteed by ModelSpec validation
            self._column = positive_column(fitted, positive_label, f"'{entrypoint}'")
            others = [str(c) for i, c in enumerate(fitted) if i != self._column]
            if len(others) == 1:
                self._negative = others[0]
        if kind.has_classes and len(self.classes) < 2:
            raise ModelLoadError(
                f"model.entrypoint '{entrypoint}' returned a model without classes_; set "
                "model.classes to the columns of its predict_proba, in order"
            )

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
        kind = config.model.model_kind
        method = kind.predict_method
        if not callable(getattr(model, method, None)):
            raise ModelLoadError(
                f"model.entrypoint '{spec.entrypoint}' returned {type(model).__name__}, which "
                f"has no {method}(frame); return the fitted model (model.kind is {kind.name})"
            )
        return cls(model, spec.entrypoint, config.model.positive_label,
                   config.model.threshold, _negative_label(config), kind,
                   configured_classes(config))

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The scores of this model's kind for each row (see ``harness.kinds.outputs``)."""
        if self.kind.needs_positive_label:  # P(positive), read at the fitted class's column
            return self.predict_proba(frame)
        raw = getattr(self._model, self.kind.predict_method)(frame)
        return self.kind.scores(raw, len(frame), self.classes, None, self._entrypoint)

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


class HttpModel:
    """A deployed model service, called in batches in the protocol ``model.protocol`` names
    (``harness``: ``POST {url}/predict/batch``; see ``harness.model.protocols``)."""

    def __init__(self, url: str, batch_size: int, timeout_s: float,
                 wire: Wire | None = None, classes: list[Any] | None = None,
                 positive_label: str | int | None = None) -> None:
        self._url = url.rstrip("/")
        self._batch_size = batch_size
        self._client = httpx.Client(base_url=self._url, timeout=timeout_s)
        self.wire = wire or Wire("harness", BINARY)
        self.kind = self.wire.kind
        self.classes = list(classes or [])
        self._positive: int | None = None
        if positive_label is not None and self.classes:
            self._positive = positive_column(self.classes, positive_label, self._url)
        if self.kind.has_classes and len(self.classes) < 2:
            raise ConfigError(
                "model.kind multiclass over HTTP needs the classes of the probability columns: "
                "set model.classes (or 'allowed' on the label column in the schema)"
            )

    @classmethod
    def open(cls, spec: ModelAccess, config: HarnessConfig) -> HttpModel:
        assert spec.url is not None  # guaranteed by ModelSpec validation
        model = config.model
        wire = Wire.of(spec, model)
        return cls(spec.url, spec.batch_size, spec.timeout_s, wire, configured_classes(config),
                   model.positive_label)

    @property
    def endpoint(self) -> str:
        return f"{self._url}{self.wire.infer_path}"

    def close(self) -> None:
        self._client.close()

    def _post_batch(self, frame: pd.DataFrame) -> np.ndarray:
        endpoint = self.endpoint
        try:
            response = self._client.post(self.wire.infer_path, json=self.wire.body(frame))
        except httpx.TimeoutException:
            raise TargetUnreachable(
                f"{endpoint} did not answer within {self._client.timeout.read}s; "
                "check the service is healthy or raise model.timeout_s"
            ) from None
        except httpx.TransportError as exc:
            raise TargetUnreachable(
                f"{endpoint} is unreachable ({exc}); is the service running?"
            ) from None
        if response.status_code in (404, 405):
            raise mismatch(self._client, self._url, self.wire,
                           f"POST {self.wire.infer_path}", response)
        if response.status_code != 200:
            raise TargetUnreachable(
                f"{endpoint} answered {response.status_code}: {response.text[:300]}"
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return self.wire.read(answer, len(frame), endpoint)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The scores of the configured kind for each row, a batch at a time."""
        parts = [self._post_batch(frame.iloc[start : start + self._batch_size])
                 for start in range(0, len(frame), self._batch_size)]
        raw = np.concatenate(parts) if parts else np.empty(0)
        return self.kind.scores(raw, len(frame), self.classes, self._positive, self.endpoint)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return outputs.probabilities(self.score(frame), len(frame), self.endpoint)


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

