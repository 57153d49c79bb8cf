"""Score golden datasets and estimate metrics with intervals, overall and per slice.

One ``Evaluation`` per golden dataset holds the labels, the candidate's scores and, if
there is one, the baseline's scores on the same rows; estimates are computed once and
shared by every gate that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness import bootstrap
from harness.bootstrap import Estimate, PairedEstimate
from harness.config import BootstrapSpec, HarnessConfig
from harness.errors import DatasetError
from harness.labels import label_problem
from harness.models import Model, features
from harness.slices import slice_masks

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
    baseline: np.ndarray | None = None
    baseline_name: str = ""
    _cache: dict[tuple[str, str, bool], Estimate | PairedEstimate] = field(default_factory=dict)

    def rows(self, segment: str = OVERALL) -> int:
        return len(self.y) if segment == OVERALL else int(self.segments[segment].sum())

    def _mask(self, segment: str) -> slice | np.ndarray:
        return slice(None) if segment == OVERALL else self.segments[segment]

    def estimate(self, metric: str, segment: str = OVERALL) -> Estimate:
        """The candidate's figure and interval on a segment."""
        key = (metric, segment, False)
        if key not in self._cache:
            mask = self._mask(segment)
            self._cache[key] = bootstrap.estimate(
                metric, self.y[mask], self.candidate[mask], self.threshold,
                self.settings.resamples, self.settings.confidence, self.settings.seed,
            )
        return self._cache[key]  # type: ignore[return-value]

    def paired(self, metric: str) -> PairedEstimate:
        """Candidate against baseline on identical resamples of all rows."""
        assert self.baseline is not None
        key = (metric, OVERALL, True)
        if key not in self._cache:
            self._cache[key] = bootstrap.paired(
                metric, self.y, self.candidate, self.baseline, self.threshold,
                self.settings.resamples, self.settings.confidence, self.settings.seed,
            )
        return self._cache[key]  # type: ignore[return-value]


def labels(frame: pd.DataFrame, config: HarnessConfig, dataset: str) -> np.ndarray:
    spec = config.model
    if spec.label_column not in frame.columns:
        raise DatasetError(
            f"dataset '{dataset}' has no label column '{spec.label_column}' (model.label_column)"
        )
    problem = label_problem(frame[spec.label_column], config)
    if problem is not None:  # scored as negative, it would move every metric without a word
        raise DatasetError(f"dataset '{dataset}': {problem}")
    return (frame[spec.label_column] == spec.positive_label).to_numpy(dtype=int)


def segments(frame: pd.DataFrame, config: HarnessConfig) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    for spec in config.slices:
        masks.update(slice_masks(frame, spec))
    return masks


def evaluate(config: HarnessConfig, dataset: str, frame: pd.DataFrame, model: Model) -> Evaluation:
    """Score a golden dataset with the candidate model."""
    return Evaluation(
        dataset=dataset,
        y=labels(frame, config, dataset),
        candidate=model.predict_proba(features(frame, config.model)),
        threshold=config.model.threshold,
        settings=config.gates.bootstrap,
        segments=segments(frame, config),
    )
