"""How the config reaches the model under test, and how it reads its answers."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from harness.config.base import HttpUrl, Name, StrictModel
from harness.kinds import KIND_NAMES, Kind, kind_of

ProtocolName = Literal["harness", "open-inference-v2", "mlflow"]


class ModelAccess(StrictModel):
    """How to reach a model: in-process through an import path, or over HTTP."""

    adapter: Literal["python", "http"] = "python"
    entrypoint: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")
    artifact: Path | None = None
    url: HttpUrl | None = None
    batch_size: int = Field(default=256, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0)
    # The HTTP protocol the service speaks (docs/protocols.md); for open-inference-v2, the
    # model's name and version on the server (default: model.name, no version).
    protocol: ProtocolName = "harness"
    served_name: Name | None = None
    served_version: Name | None = None
    # open-inference-v2: one input tensor per column (named, typed) or one 2-D matrix.
    tensors: Literal["columns", "matrix"] = "columns"

    def over_http(self, url: str) -> ModelAccess:
        """The same model reached over HTTP at ``url``, in the same protocol."""
        return ModelAccess(adapter="http", url=url, batch_size=self.batch_size,
                           timeout_s=self.timeout_s, protocol=self.protocol,
                           served_name=self.served_name, served_version=self.served_version,
                           tensors=self.tensors)

    @model_validator(mode="after")
    def _adapter_has_what_it_needs(self) -> ModelAccess:
        if self.adapter == "python" and self.entrypoint is None:
            raise ValueError("adapter 'python' needs 'entrypoint' (module:function)")
        if self.adapter == "http" and self.url is None:
            raise ValueError("adapter 'http' needs 'url'")
        return self


class ModelSpec(ModelAccess):
    """The model under test: how to reach it, how to read its answers, and how the team's
    own build makes its artifact."""

    name: Name
    # The team's command that trains or fetches the artifact (`harness build` runs it from
    # the config's folder; a YAML list of words, ``{python}`` is the harness's interpreter).
    build: list[str] | None = Field(default=None, min_length=1)
    label_column: str
    kind: Literal[KIND_NAMES] = "binary"  # type: ignore[valid-type]  # the registry's names
    positive_label: str | int | None = None  # binary only
    threshold: float = Field(default=0.5, gt=0, lt=1)
    # Multiclass: the columns of the probability matrix, in order. Default: the in-process
    # model's classes_, else the label column's allowed values, sorted (as scikit-learn does).
    classes: list[str | int] | None = Field(default=None, min_length=2)

    @property
    def model_kind(self) -> Kind:
        """The kind ``kind`` names: its metrics, outputs and what it needs."""
        return kind_of(self.kind)

    @model_validator(mode="after")
    def _kind_has_what_it_needs(self) -> ModelSpec:
        kind = self.model_kind
        if kind.needs_positive_label and self.positive_label is None:
            raise ValueError("a binary model needs 'positive_label' (the class scored)")
        if not kind.needs_positive_label and self.positive_label is not None:
            raise ValueError(f"'positive_label' is for binary models; this one is {self.kind}")
        if self.classes is not None and not kind.has_classes:
            raise ValueError(f"'classes' is for multiclass models; this one is {self.kind}")
        return self
