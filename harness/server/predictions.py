"""What the generic server answers for each row, per model kind: P(positive) and a label
(binary), class probabilities and the most probable class (multiclass), or a value
(regression). Fields that do not apply are left out of the answer."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from harness.model.adapters import PythonModel


class Prediction(BaseModel):
    probability: float | None = None
    probabilities: list[float] | None = None  # in the order of the model's classes
    value: float | None = None
    label: str | None = None


def predictions(model: PythonModel, frame: pd.DataFrame) -> list[Prediction]:
    """One prediction per row of ``frame``, in order."""
    if model.kind == "regression":
        return [Prediction(value=float(v)) for v in model.score(frame)]
    if model.kind == "multiclass":
        return [Prediction(probabilities=[float(p) for p in row],
                           label=str(model.classes[int(row.argmax())]))
                for row in model.score(frame)]
    return [Prediction(probability=float(p), label=model.label_of(p))
            for p in model.predict_proba(frame)]
