"""What a model kind is: its metrics (which way each is better, the values each can take),
how its model is called and its answer read, how its labels become numbers the metrics
read, and the flags the rest of the harness asks instead of comparing kind names.

Nothing heavy is imported here: the config reads a kind's metric names when it parses, and
the kinds' computations (numpy, pandas, scikit-learn) load only when a method needs them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from harness.config import HarnessConfig
    from harness.stats.bootstrap import RowMetric


@dataclass(frozen=True)
class Metric:
    """One gate key under ``gates.quality``: which way it is better, and the values it can
    take (a bound outside them can never be met, or never fail)."""

    name: str
    higher_is_better: bool
    low: float
    high: float


class Kind(ABC):
    """A model kind; one instance per kind, found by name with ``harness.kinds.kind_of``."""

    name: ClassVar[str]
    # The gate keys this kind accepts, in the order the config's messages list them.
    metrics: ClassVar[tuple[Metric, ...]]
    # The model's method the harness calls: ``predict_proba`` or ``predict``.
    predict_method: ClassVar[Literal["predict_proba", "predict"]]
    # The field of one row's answer on the harness contract (docs/openapi.json).
    answer_field: ClassVar[str]
    # deepchecks' ``label_type`` for this kind.
    deepchecks_task: ClassVar[str]
    # Labels are classes: stratified splits, a categorical label column, probabilities
    # asked of a service.
    is_classifier: ClassVar[bool]
    # Binary: one class is scored (``model.positive_label``), the score is P(positive).
    needs_positive_label: ClassVar[bool] = False
    # Multiclass: scores are one column per class (``model.classes``), whose order must
    # match between candidate and baseline.
    has_classes: ClassVar[bool] = False
    # Whether analytic intervals (harness.stats.analytic) exist for its metrics.
    analytic_intervals: ClassVar[bool] = False

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def __repr__(self) -> str:
        return f"<kind {self.name}>"

    @abstractmethod
    def scores(self, raw: Any, rows: int, classes: Sequence[Any], positive_column: int | None,
               source: str) -> np.ndarray:
        """The model's raw output checked and shaped as this kind's scores (see
        ``harness.kinds.outputs``); ``positive_column`` is where a binary classifier's
        two-column matrix holds the positive class (the second column when unknown)."""

    @abstractmethod
    def labels(self, column: pd.Series, config: HarnessConfig, dataset: str,
               classes: Sequence[Any]) -> np.ndarray:
        """The label column as this kind's metrics read it; a value that cannot be scored
        is a ``DatasetError`` naming the dataset."""

    @abstractmethod
    def row_metric(self, name: str, y: np.ndarray, scores: np.ndarray, classes: Sequence[Any],
                   threshold: float) -> RowMetric:
        """The metric ``name`` of these scores on all rows and on any resample of them."""

    @abstractmethod
    def starter_gates(self, labels: pd.Series) -> dict[str, dict[str, float]]:
        """Gates ``harness init`` writes from the label column (a binary classifier's as 1
        for the positive class, 0 for the other): a first model passes them
        unless it is no better than a constant guess; tighten them after the first bless
        (docs/gates.md)."""

    @abstractmethod
    def answer(self, score: Any, classes: Sequence[Any],
               label_of: Callable[[float], str | None]) -> dict[str, Any]:
        """One row's answer on the harness contract, from its score."""
