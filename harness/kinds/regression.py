"""A regression: it predicts one finite number per row; its labels are the targets."""

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


class Regression(Kind):
    name = "regression"
    metrics = (
        Metric("rmse", False, 0.0, math.inf),
        Metric("mae", False, 0.0, math.inf),
        Metric("r2", True, -math.inf, 1.0),
        *(Metric(f"abs_error_p{q}", False, 0.0, math.inf) for q in (50, 90, 95, 99)),
    )
    predict_method = "predict"
    answer_field = "value"
    deepchecks_task = "regression"
    is_classifier = False

    def scores(self, raw: Any, rows: int, classes: Sequence[Any], positive_column: int | None,
               source: str) -> np.ndarray:
        from harness.kinds import outputs

        return outputs.predictions(raw, rows, source)

    def labels(self, column: pd.Series, config: HarnessConfig, dataset: str,
               classes: Sequence[Any]) -> np.ndarray:
        from harness.kinds.labels import regression_targets

        return regression_targets(column, dataset)

    def row_metric(self, name: str, y: np.ndarray, scores: np.ndarray, classes: Sequence[Any],
                   threshold: float) -> RowMetric:
        from harness.kinds.metrics import regression

        return regression.row_metric(name, y, scores)

    def starter_gates(self, labels: pd.Series) -> dict[str, dict[str, float]]:
        spread = float(labels.std())
        return {"rmse": {"max": float(f"{spread:.3g}"), "max_drop": float(f"{spread / 10:.2g}")},
                "r2": {"min": 0.0}}

    def answer(self, score: Any, classes: Sequence[Any],
               label_of: Callable[[float], str | None]) -> dict[str, Any]:
        return {"value": float(score)}


REGRESSION = Regression()
