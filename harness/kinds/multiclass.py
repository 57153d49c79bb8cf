"""A multiclass classifier: it scores a (rows, classes) probability matrix, columns in the
order of its classes; its labels are column numbers of that matrix."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harness.kinds.base import Kind, Metric
from harness.kinds.names import PER_CLASS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from harness.config import HarnessConfig
    from harness.stats.bootstrap import RowMetric


class Multiclass(Kind):
    name = "multiclass"
    metrics = (
        Metric("log_loss", False, 0.0, math.inf),
        Metric("accuracy", True, 0.0, 1.0),
        Metric("f1_macro", True, 0.0, 1.0),
        Metric("f1_weighted", True, 0.0, 1.0),
        Metric("roc_auc_ovr", True, 0.0, 1.0),
        Metric(PER_CLASS, True, 0.0, 1.0),
    )
    predict_method = "predict_proba"
    answer_field = "probabilities"
    deepchecks_task = "multiclass"
    is_classifier = True
    has_classes = True

    def scores(self, raw: Any, rows: int, classes: Sequence[Any], positive_column: int | None,
               source: str) -> np.ndarray:
        from harness.kinds import outputs

        return outputs.probability_matrix(raw, rows, list(classes), source)

    def labels(self, column: pd.Series, config: HarnessConfig, dataset: str,
               classes: Sequence[Any]) -> np.ndarray:
        from harness.kinds.labels import class_numbers

        return class_numbers(column, list(classes), dataset)

    def row_metric(self, name: str, y: np.ndarray, scores: np.ndarray, classes: Sequence[Any],
                   threshold: float) -> RowMetric:
        from harness.kinds.metrics import multiclass

        return multiclass.row_metric(name, y, scores, list(classes))

    def starter_gates(self, labels: pd.Series) -> dict[str, dict[str, float]]:
        k = labels.nunique()
        return {"accuracy": {"min": math.floor(100 / k) / 100, "max_drop": 0.05},
                "log_loss": {"max": math.ceil(100 * math.log(k)) / 100, "max_drop": 0.1}}

    def answer(self, score: Any, classes: Sequence[Any],
               label_of: Callable[[float], str | None]) -> dict[str, Any]:
        return {"probabilities": [float(p) for p in score],
                "label": str(classes[int(score.argmax())])}


MULTICLASS = Multiclass()
