"""The HTTP protocols a model service may speak: how a batch of rows becomes a request,
and how the answer becomes scores.

- ``harness``: the generic server's contract, ``POST /predict/batch`` with ``records``;
- ``open-inference-v2``: the Open Inference Protocol (KServe v2, Triton, MLServer),
  ``POST /v2/models/{name}[/versions/{v}]/infer`` with one input tensor per column;
- ``mlflow``: ``POST /invocations`` with ``dataframe_split``, as ``mlflow models serve``.

Each turns a frame into a JSON body and reads the raw output back: P(positive) or a
probability matrix for classifiers, a prediction per row for regressions. An answer in
another shape raises one error naming the field that was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.config import ModelAccess, ModelSpec
from harness.data.golden import column_kind
from harness.errors import ConfigError, UnexpectedAnswer
from harness.kinds import Kind

HARNESS, OPEN_INFERENCE, MLFLOW = "harness", "open-inference-v2", "mlflow"
# MLServer's scikit-learn runtime names its outputs after the estimator's methods and
# returns only ``predict`` unless asked; a classifier's probabilities must be requested.
OIP_PROBABILITIES = "predict_proba"


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON objects: numpy scalars become Python ones, NaN becomes null."""
    records = frame.astype(object).to_dict(orient="records")
    return [{k: _plain(v) for k, v in row.items()} for row in records]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class Wire:
    """One service's protocol and address: where to send rows, and how."""

    protocol: str
    kind: Kind
    served_name: str = ""
    served_version: str | None = None
    tensors: str = "columns"  # open-inference-v2: a tensor per column, or one 2-D matrix

    @classmethod
    def of(cls, access: ModelAccess, model: ModelSpec) -> Wire:
        """How ``access`` reaches ``model`` (served under ``model.name`` by default)."""
        return cls(access.protocol, model.model_kind, access.served_name or model.name,
                   access.served_version, access.tensors)

    @property
    def infer_path(self) -> str:
        if self.protocol == OPEN_INFERENCE:
            version = f"/versions/{self.served_version}" if self.served_version else ""
            return f"/v2/models/{self.served_name}{version}/infer"
        return "/invocations" if self.protocol == MLFLOW else "/predict/batch"

    @property
    def health_path(self) -> str:
        return {OPEN_INFERENCE: "/v2/health/ready", MLFLOW: "/ping"}.get(self.protocol,
                                                                          "/health")

    def body(self, frame: pd.DataFrame) -> dict[str, Any]:
        """The JSON request for these rows."""
        if self.protocol == OPEN_INFERENCE:
            return _oip_body(frame, self.kind, self.tensors == "matrix")
        if self.protocol == MLFLOW:
            split = frame.astype(object).to_dict(orient="split")
            return {"dataframe_split": {"columns": split["columns"],
                                        "data": [[_plain(v) for v in row]
                                                 for row in split["data"]]}}
        return {"records": json_records(frame)}

    def read(self, answer: Any, rows: int, where: str) -> np.ndarray:
        """The raw output for ``rows`` rows: 1-D, or 2-D (rows, classes) probabilities."""
        if self.protocol == OPEN_INFERENCE:
            return _oip_read(answer, rows, self.kind, where)
        if self.protocol == MLFLOW:
            return _mlflow_read(answer, where)
        return _harness_read(answer, self.kind, where)


def _expected(where: str, field: str, detail: str = "") -> UnexpectedAnswer:
    return UnexpectedAnswer(
        f"{where} answered in another shape: expected '{field}'"
        f"{f' ({detail})' if detail else ''}; is model.protocol the one this service "
        "speaks? (docs/protocols.md)"
    )


_OIP_DATATYPES = {"boolean": "BOOL", "integer": "INT64", "float": "FP64", "string": "BYTES"}


def _oip_datatype(column: pd.Series) -> str:
    return _OIP_DATATYPES[column_kind(column)]


def _oip_body(frame: pd.DataFrame, kind: Kind, matrix: bool) -> dict[str, Any]:
    body: dict[str, Any]
    if matrix:
        # One 2-D FP64 tensor, columns in the frame's order: what a model fitted on an
        # array takes; the server decodes it as a NumPy array.
        text = [str(name) for name, column in frame.items()
                if _oip_datatype(column) not in ("FP64", "INT64")]
        if text:
            raise ConfigError(f"model.tensors 'matrix' sends numbers only; column "
                              f"'{text[0]}' is not numeric: use model.tensors: columns")
        data = [_plain(v) for v in frame.to_numpy(dtype=float).ravel()]
        body = {"inputs": [{"name": "input-0", "shape": list(frame.shape), "datatype": "FP64",
                            "data": data}]}
    else:
        # One tensor per column with the pandas content type keeps column names and mixed
        # types; the server decodes the inputs back into a data frame.
        inputs = [{"name": str(name), "shape": [len(frame)], "datatype": _oip_datatype(column),
                   "data": [_plain(v) for v in column.astype(object)]}
                  for name, column in frame.items()]
        body = {"inputs": inputs, "parameters": {"content_type": "pd"}}
    if kind.is_classifier:
        body["outputs"] = [{"name": OIP_PROBABILITIES}]
    return body


def _oip_read(answer: Any, rows: int, kind: Kind, where: str) -> np.ndarray:
    outputs = answer.get("outputs") if isinstance(answer, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise _expected(where, "outputs")
    wanted = OIP_PROBABILITIES if kind.is_classifier else None
    output = next((o for o in outputs if isinstance(o, dict) and o.get("name") == wanted),
                  outputs[0])
    if not isinstance(output, dict) or "data" not in output or "shape" not in output:
        raise _expected(where, "outputs[].data", "and 'shape'")
    try:
        values = np.asarray(output["data"], dtype=float)
        shape = [int(d) for d in output["shape"]]
        values = values.reshape(shape)
    except (TypeError, ValueError) as exc:
        raise _expected(where, "outputs[].data", f"numbers of the given shape: {exc}") from None
    if shape and shape[0] != rows:
        raise _expected(where, "outputs[].shape", f"{shape[0]} rows for {rows}")
    return values


def _mlflow_read(answer: Any, where: str) -> np.ndarray:
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if predictions is None:
        raise _expected(where, "predictions")
    if predictions and isinstance(predictions[0], dict):
        # A data frame answer: one object per row; its values in column order.
        predictions = [list(p.values()) for p in predictions]
    try:
        return np.asarray(predictions, dtype=float)
    except (TypeError, ValueError) as exc:
        raise _expected(where, "predictions", f"numbers: {exc}") from None


def _harness_read(answer: Any, kind: Kind, where: str) -> np.ndarray:
    field = kind.answer_field
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list):
        raise _expected(where, "predictions")
    try:
        return np.asarray([p[field] for p in predictions], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise _expected(where, f"predictions[].{field}", str(exc)) from None
