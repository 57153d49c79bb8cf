"""Score golden datasets and estimate metrics with intervals, overall and per slice.

One ``Evaluation`` per golden dataset holds the labels, the candidate's scores and, if
there is one, the baseline's scores on the same rows; estimates are computed once and
shared by every gate that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.config import BootstrapSpec, HarnessConfig, IntervalSpec
from harness.data.slices import segments
from harness.errors import DatasetError
from harness.gates.evidence import Counts, counts
from harness.kinds import BINARY, Kind
from harness.model.adapters import Model, features
from harness.stats.estimates import Estimate, PairedEstimate

OVERALL = "overall"


@dataclass
class Evaluation:
    """A golden dataset scored by the candidate (and a baseline, when there is one)."""

    dataset: str
    y: np.ndarray
    candidate: np.ndarray
    threshold: float
    settings: BootstrapSpec
    segments: dict[str, np.ndarray]
    method: IntervalSpec = field(default_factory=IntervalSpec)
    baseline: np.ndarray | None = None
    baseline_name: str = ""
    # binary: labels are 1 for the positive class and scores P(positive); multiclass: labels
    # are column numbers of the (rows, classes) probability matrix; regression: numbers.
    kind: Kind = BINARY
    classes: list[Any] = field(default_factory=list)
    _cache: dict[tuple[str, str, bool], Estimate | PairedEstimate] = field(default_factory=dict)

    def rows(self, segment: str = OVERALL) -> int:
        return len(self.y) if segment == OVERALL else int(self.segments[segment].sum())

    def counts(self, segment: str = OVERALL) -> Counts:
        """The rows of a segment, and its positives and negatives (binary)."""
        return counts(self.kind, self.y[self._mask(segment)])

    def _mask(self, segment: str) -> slice | np.ndarray:
        return slice(None) if segment == OVERALL else self.segments[segment]

    def estimate(self, metric: str, segment: str = OVERALL) -> Estimate:
        """The candidate's figure and interval on a segment."""
        key = (metric, segment, False)
        if key not in self._cache:
            # Here: the intervals import scipy, which preflight (reading labels) need not.
            from harness.gates import intervals

            mask = self._mask(segment)
            self._cache[key] = intervals.estimate(
                self.kind, metric, self.y[mask], self.candidate[mask], self.threshold,
                self.method, self.settings, self.classes)
        return self._cache[key]  # type: ignore[return-value]

    def paired(self, metric: str) -> PairedEstimate:
        """Candidate against baseline on the same rows (identical resamples, for the
        bootstrap)."""
        assert self.baseline is not None
        key = (metric, OVERALL, True)
        if key not in self._cache:
            from harness.gates import intervals

            self._cache[key] = intervals.paired(
                self.kind, metric, self.y, self.candidate, self.baseline, self.threshold,
                self.method, self.settings, self.classes)
        return self._cache[key]  # type: ignore[return-value]


def labels(frame: pd.DataFrame, config: HarnessConfig, dataset: str,
           classes: list[Any] | None = None) -> np.ndarray:
    """The label column as the metrics read it, per ``model.kind`` (see ``Evaluation``)."""
    spec = config.model
    if spec.label_column not in frame.columns:
        raise DatasetError(
            f"dataset '{dataset}' has no label column '{spec.label_column}' (model.label_column)"
        )
    return spec.model_kind.labels(frame[spec.label_column], config, dataset, classes or [])


def evaluate(config: HarnessConfig, dataset: str, frame: pd.DataFrame, model: Model) -> Evaluation:
    """Score a golden dataset with the candidate model."""
    classes = list(getattr(model, "classes", []) or [])
    y = labels(frame, config, dataset, classes)
    return Evaluation(
        dataset=dataset,
        y=y,
        candidate=model.score(features(frame, config.model)),
        threshold=config.model.threshold,
        settings=config.gates.bootstrap,
        segments=segments(frame, config),
        method=config.gates.intervals,
        kind=config.model.model_kind,
        classes=classes,
    )
