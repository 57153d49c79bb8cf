"""What the generic server answers for each row, per model kind: P(positive) and a label
(binary), class probabilities and the most probable class (multiclass), or a value
(regression). Fields that do not apply are left out of the answer."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from pydantic import BaseModel

from harness.model.adapters import PythonModel


class Prediction(BaseModel):
    probability: float | None = None
    probabilities: list[float] | None = None  # in the order of the model's classes
    value: float | None = None
    label: str | None = None


def predictions(model: PythonModel, frame: pd.DataFrame,
                jitter: Callable[[list[float]], list[float]] | None = None) -> list[Prediction]:
    """One prediction per row of ``frame``, in order; ``jitter`` moves a binary model's
    P(positive) before its label is read (the server's HARNESS_INJECT_SCORE_JITTER)."""
    kind, classes = model.kind, model.classes
    scores = model.score(frame)
    if jitter is not None and kind.needs_positive_label:
        scores = jitter([float(score) for score in scores])
    return [Prediction(**kind.answer(score, classes, model.label_of)) for score in scores]
