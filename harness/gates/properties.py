"""The codec of a gate criterion's JUnit testcase properties.

Every property the harness writes has a typed field here; the plugin (through pytest's
``user_properties``) and ``run/junit.py`` write ``to_pairs()``, and every reader of JUnit
gets ``from_pairs()`` back. A figure keeps the text its writer formatted (``0.8300``,
``12.5``), so what Jenkins shows and what the harness reads are the same characters; a
property nobody here knows (a team's own ``record_property``) travels in ``extra``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from harness.text import MESSAGE_LIMIT, clip


@dataclass(frozen=True)
class Figure:
    """A number as its writer formatted it; ``""`` when there was nothing to measure."""

    text: str

    @classmethod
    def of(cls, value: float, spec: str = ".4f") -> Figure:
        return cls(format(value, spec))

    @property
    def number(self) -> float | None:
        """The figure as a number; None when empty, not a number, or NaN (history and
        reports leave those out)."""
        try:
            value = float(self.text)
        except ValueError:
            return None
        return None if math.isnan(value) else value

    def __float__(self) -> float:
        return float(self.text)

    def __str__(self) -> str:
        return self.text


def number(figure: Figure | None) -> float | None:
    """``figure.number``, None when the property is absent."""
    return figure.number if figure is not None else None


@dataclass(frozen=True)
class GateProperties:
    """One testcase's properties. Every field is optional: each check writes its own."""

    # Where the criterion sits: the golden (or other) dataset, or for load and contract
    # the endpoint, and the slice ("overall" for all rows). Older reports lack them.
    dataset: str | None = None
    segment: str | None = None
    metric: str | None = None
    # quality
    value: Figure | None = None
    ci_low: Figure | None = None
    ci_high: Figure | None = None
    ci_method: str | None = None
    rows: int | None = None
    min: Figure | None = None
    max: Figure | None = None
    baseline: str | None = None  # the baseline's name (quality), its figure (benchmark)
    baseline_value: Figure | None = None
    difference: Figure | None = None
    difference_ci_low: Figure | None = None
    difference_ci_high: Figure | None = None
    max_drop: Figure | None = None
    overall: Figure | None = None
    gap: Figure | None = None
    max_gap: Figure | None = None
    min_rows: int | None = None
    # evidence (harness/gates/evidence.py) and the comparative gates' three outcomes
    positives: int | None = None
    negatives: int | None = None
    min_positives: int | None = None
    min_negatives: int | None = None
    degenerate_resamples: int | None = None
    decision: str | None = None  # pass, fail or inconclusive
    mde: Figure | None = None  # the smallest drop detectable, power 0.8
    rows_needed: int | None = None  # to decide max_drop
    positives_needed: int | None = None
    on_inconclusive: str | None = None
    warning: str | None = None
    # drift
    window: int | None = None
    series: str | None = None
    total_change: Figure | None = None
    min_total_change: Figure | None = None
    # feature drift: the sample the column is compared with, and its rows
    reference: str | None = None
    reference_rows: int | None = None
    p_value: Figure | None = None
    # schema and known classes
    column: str | None = None
    rule: str | None = None
    expected: str | None = None  # a dtype (schema), an artifact's sha256 (post-deploy)
    actual: str | None = None
    threshold: str | None = None
    allowed: str | None = None
    min_seen: Figure | None = None
    max_seen: Figure | None = None
    # load
    endpoint: str | None = None
    url: str | None = None
    report: str | None = None
    requests: int | None = None
    failures: int | None = None
    generator_cpu: Figure | None = None  # Locust's busiest process at its peak, % of a core
    generator_cpu_saturated: Figure | None = None  # share of the run's seconds at >= 90 %
    # benchmark
    benchmark: str | None = None
    statistic: str | None = None
    max_slowdown: Figure | None = None
    measured: Figure | None = None
    ratio: Figure | None = None
    rounds: int | None = None
    benchmarks: int | None = None
    without_baseline: str | None = None
    # deepchecks
    deepchecks_suite: str | None = None
    check: str | None = None
    html: str | None = None
    conditions: int | None = None
    conditions_failed: int | None = None
    conditions_warned: int | None = None
    # contract ("200") and deepchecks ("could_not_run")
    status: str | None = None
    # promotion
    bundle_sha256: str | None = None
    # shadow: the decisions the candidate changed, per direction ("good→bad 3, bad→good 1")
    flips: str | None = None
    # Properties no field holds, as written: a team's own, or one a field cannot hold.
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, text in self.extra.items():
            if key in _TYPES and _decode(key, text) is not _UNREADABLE:
                raise ValueError(f"property {key!r} has a field; give it there, not in extra")
        object.__setattr__(self, "extra", dict(self.extra))  # a copy the caller cannot change

    def __hash__(self) -> int:
        return hash(frozenset(self.to_pairs()))

    def to_pairs(self) -> list[tuple[str, str]]:
        """(name, text) per property set: the fields in their order, then ``extra``."""
        pairs = [(name, clip(str(value), MESSAGE_LIMIT)) for name in _TYPES
                 if (value := getattr(self, name)) is not None]
        return pairs + [(name, clip(text, MESSAGE_LIMIT)) for name, text in self.extra.items()]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> GateProperties:
        """Read properties back; a repeated name keeps its last text, as JUnit readers do."""
        known: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for key, text in pairs:
            known.pop(key, None)
            extra.pop(key, None)
            value = _decode(key, text) if key in _TYPES else _UNREADABLE
            if value is _UNREADABLE:
                extra[key] = text
            else:
                known[key] = value
        return cls(**known, extra=extra)


_UNREADABLE = object()
# Each field's type's name, in declaration order.
_TYPES: dict[str, str] = {
    f.name: str(f.type).split(" |")[0] for f in fields(GateProperties) if f.name != "extra"
}


def _decode(key: str, text: str) -> Any:
    type_name = _TYPES[key]
    if type_name == "Figure":
        return Figure(text)
    if type_name == "int":
        # Only the text str(int) writes, so the text travels back exactly.
        try:
            value = int(text)
        except ValueError:
            return _UNREADABLE
        return value if str(value) == text else _UNREADABLE
    return text
