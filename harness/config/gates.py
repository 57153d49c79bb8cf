"""The config's gates: quality metrics and their bounds, intervals, drift, benchmarks and
deepchecks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from harness import kinds
from harness.config.base import StrictModel, invalid_at

# Every kind's metrics (the registry in harness/kinds/); which apply is checked against
# model.kind.
MetricName = Literal[kinds.METRIC_NAMES]  # type: ignore[valid-type]


class MetricGate(StrictModel):
    """The bounds one quality metric must hold.

    ``min``/``max`` bound the figure on the whole golden set; ``max_drop`` is the
    non-inferiority margin: how much worse than the baseline the candidate may be at the
    far end of the paired bootstrap interval. ``slice_min``/``slice_max`` bound each
    slice, and ``max_slice_gap`` how far a slice may fall behind the overall figure.
    ``on_inconclusive``: what an interval that straddles ``max_drop`` does (the golden set
    cannot tell): ``fail`` blocks like a failure, ``warn`` passes with a warning.
    """

    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(default=None, ge=0)
    on_inconclusive: Literal["fail", "warn"] = "fail"
    slice_min: float | None = None
    slice_max: float | None = None
    max_slice_gap: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError("a metric gate needs 'min' or 'max'")
        for low, high in (("min", "max"), ("slice_min", "slice_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise invalid_at((low,), f"{low} ({a}) is greater than {high} ({b}); no figure "
                               "could pass", a)
        return self

    def range_problems(self, metric: str) -> list[tuple[str, str, float]]:
        """(key, message, value) for each bound outside what ``metric`` can take."""
        known = kinds.metric(metric)
        assert known is not None  # a MetricName
        low, high = known.low, known.high
        span = f"{low:g}..{high:g}"
        problems = []
        for key in ("min", "max", "slice_min", "slice_max"):
            value = getattr(self, key)
            if value is not None and not low <= value <= high:
                problems.append((key, (f"{value} is outside {metric}'s range {span}; give a "
                                 f"bound within {span}"), value))
        for key in ("max_drop", "max_slice_gap"):
            value = getattr(self, key)
            if value is not None and value > high - low:
                problems.append((key, (f"{value} is more than {metric}'s whole range {span}; "
                                 "the gate could never fail"), value))
        return problems


class BootstrapSpec(StrictModel):
    """The paired bootstrap over golden rows; ``confidence`` is that of every interval,
    bootstrap or analytic."""

    resamples: int = Field(default=1000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    seed: int = 0


class IntervalSpec(StrictModel):
    """Which method gives an interval. ``auto``: analytic (DeLong, the central limit
    theorem, the delta method) on at least ``analytic_min_rows`` rows, the bootstrap on
    fewer, where resampling is cheap; but analytic again on a binary model's rows with
    fewer than ``bootstrap_min_positives`` of either class."""

    method: Literal["auto", "bootstrap", "analytic"] = "auto"
    analytic_min_rows: int = Field(default=5000, ge=1)
    # Under auto, a binary model's rows with fewer positives (or negatives) than this get
    # the analytic interval: there the percentile bootstrap covers short (0.61-0.94 at 10
    # to 25 positives, 0.93-0.96 at 100, benchmarks/coverage.py); DeLong, the CLT and
    # Agresti-Min cover 0.94-0.98 from 25 positives on.
    bootstrap_min_positives: int = Field(default=200, ge=0)


class DriftSpec(StrictModel):
    """Slow drift: a metric that worsened in each of the last ``window`` runs, by at least
    ``min_total_change`` in all, is flagged even when every run passed its gates."""

    window: int = Field(default=5, ge=3, le=100)
    min_total_change: float = Field(default=0.005, ge=0)


class FeatureDriftSpec(StrictModel):
    """Feature drift: each schema column of a golden set against the training data and the
    golden set's previous version. PSI over ``bins`` reference-quantile bins above
    ``psi_max`` fails; so does, for numerics, a KS statistic above ``ks_max`` whose p-value is
    below ``p_value_min``, and for categoricals a chi-square p-value below ``p_value_min``.
    A comparison with fewer than ``min_rows`` rows on either side is skipped."""

    psi_max: float = Field(default=0.2, gt=0)
    ks_max: float = Field(default=0.1, gt=0, le=1)
    p_value_min: float = Field(default=0.01, gt=0, lt=1)
    min_rows: int = Field(default=200, ge=1)
    bins: int = Field(default=10, ge=2, le=100)


class BenchmarkGate(StrictModel):
    """Micro-benchmarks compared with a saved baseline: a slowdown beyond ``max_slowdown``
    (current / baseline of ``statistic``) fails. ``min`` is the least noisy on a shared host."""

    suite: Path = Path("suites/benchmarks")
    baseline: Path = Path("suites/benchmarks/baseline.json")
    max_slowdown: float = Field(default=2.0, gt=1)
    statistic: Literal["min", "median"] = "min"


class GatesSpec(StrictModel):
    quality: dict[MetricName, MetricGate] = Field(default_factory=dict)
    bootstrap: BootstrapSpec = Field(default_factory=BootstrapSpec)
    intervals: IntervalSpec = Field(default_factory=IntervalSpec)
    min_slice_rows: int = Field(default=30, ge=1)
    # The evidence a metric needs, per golden set and per slice (a binary model's classes;
    # other kinds need min_positives + min_negatives rows): fewer, and it is skipped.
    min_positives: int = Field(default=10, ge=1)
    min_negatives: int = Field(default=10, ge=1)
    drift: DriftSpec = Field(default_factory=DriftSpec)
    feature_drift: FeatureDriftSpec = Field(default_factory=FeatureDriftSpec)
    benchmark: BenchmarkGate | None = None

    @field_validator("quality")
    @classmethod
    def _bounds_within_range(cls, quality: dict[str, MetricGate]) -> dict[str, MetricGate]:
        details = [
            InitErrorDetails(type=PydanticCustomError("range", "{message}", {"message": m}),
                             loc=(metric, key), input=value)
            for metric, gate in quality.items()
            for key, m, value in gate.range_problems(metric)
        ]
        if details:
            raise ValidationError.from_exception_data("harness.yaml", details)
        return quality


class DeepchecksSpec(StrictModel):
    """The nightly deep checks: which of deepchecks' default tabular suites run, and which
    of their checks are left out (by testcase name, e.g. ``multivariate_drift``, which
    trains a domain classifier and takes most of the suites' time on two cores)."""

    suites: list[Literal["data_integrity", "train_test_validation", "model_evaluation"]] = Field(
        default_factory=lambda: ["data_integrity", "train_test_validation", "model_evaluation"],
        min_length=1)
    exclude: list[str] = Field(default_factory=lambda: ["multivariate_drift"])
    # deepchecks runs in a process of its own; past this it is stopped and its items error.
    timeout_s: float = Field(default=1800.0, gt=0)
