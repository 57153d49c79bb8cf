"""A binary classifier: it scores P(positive) per row, for ``model.positive_label``; its
labels are 1 for the positive class and 0 for the other one."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harness.kinds.base import Kind, Metric

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from harness.config import HarnessConfig
    from harness.stats.bootstrap import RowMetric


class Binary(Kind):
    name = "binary"
    metrics = (
        Metric("roc_auc", True, 0.0, 1.0),
        Metric("log_loss", False, 0.0, math.inf),
        Metric("brier", False, 0.0, 1.0),
        Metric("precision", True, 0.0, 1.0),
        Metric("recall", True, 0.0, 1.0),
        Metric("accuracy", True, 0.0, 1.0),
        Metric("f1", True, 0.0, 1.0),
        # 1 - loss / the loss of the no-skill model (the base rate as every score).
        Metric("brier_skill", True, -math.inf, 1.0),
        Metric("log_loss_skill", True, -math.inf, 1.0),
        Metric("average_precision", True, 0.0, 1.0),  # PR-AUC, scikit-learn's step-wise sum
    )
    predict_method = "predict_proba"
    answer_field = "probability"
    deepchecks_task = "binary"
    is_classifier = True
    needs_positive_label = True
    analytic_intervals = True

    def scores(self, raw: Any, rows: int, classes: Sequence[Any], positive_column: int | None,
               source: str) -> np.ndarray:
        import numpy as np

        from harness.kinds import outputs

        values = np.asarray(raw, dtype=float)
        if values.ndim == 2 and values.shape[1] == 2:
            values = values[:, 1 if positive_column is None else positive_column]
        return outputs.probabilities(values, rows, source)

    def labels(self, column: pd.Series, config: HarnessConfig, dataset: str,
               classes: Sequence[Any]) -> np.ndarray:
        from harness.kinds.labels import positive_indicator

        return positive_indicator(column, config, dataset)

    def row_metric(self, name: str, y: np.ndarray, scores: np.ndarray, classes: Sequence[Any],
                   threshold: float) -> RowMetric:
        from harness.kinds.metrics import binary

        return binary.row_metric(name, y, scores, threshold)

    def starter_gates(self, labels: pd.Series) -> dict[str, dict[str, float]]:
        """Floors relative to the no-skill model, which scores every row at the base rate:
        it has skill 0 and average precision equal to the base rate, so it fails them on
        any class mix (absolute Brier and log-loss floors pass it on rare positives). A
        skill score's ``max_drop`` is relative by construction: 0.05 is 5 % of the no-skill
        model's loss. No threshold-based metric: their threshold is a team's decision."""
        rate = float(labels.mean())
        return {"roc_auc": {"min": 0.6, "max_drop": 0.02},
                "average_precision": {"min": math.ceil(100 * (rate + 0.1 * (1 - rate))) / 100,
                                      "max_drop": 0.05},
                "brier_skill": {"min": 0.01, "max_drop": 0.05},
                "log_loss_skill": {"min": 0.01, "max_drop": 0.05}}

    def answer(self, score: Any, classes: Sequence[Any],
               label_of: Callable[[float], str | None]) -> dict[str, Any]:
        return {"probability": float(score), "label": label_of(score)}


BINARY = Binary()
