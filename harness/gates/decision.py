"""The rule of a comparative (non-inferiority) gate, as pure functions of its interval.

With ``d`` the candidate's difference from the baseline in the metric's better direction
(so a drop is negative) and its two-sided interval [lo, hi] at the configured confidence,
and the margin ``max_drop``:

- pass: lo >= -max_drop, non-inferior at that confidence;
- fail: hi < -max_drop (worse, wholly beyond the margin), or the point estimate is;
- inconclusive: the interval straddles -max_drop; the golden set cannot tell.

The minimum detectable effect (MDE) is (z + z_power) * SE, with SE the paired standard
error (the interval's half-width over z): a candidate as good as the baseline passes with
probability ``power`` when max_drop >= MDE, and one worse by max_drop + MDE fails with
that probability. The SE falls as 1/sqrt(rows), so a golden set of n rows decides a
margin M on about n * (MDE / M)^2 rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

POWER = 0.8


class Decision(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


def decide(value: float, low: float, high: float, max_drop: float,
           higher_is_better: bool = True) -> Decision:
    """The three-way verdict of a difference (candidate - baseline) and its interval."""
    if not higher_is_better:  # turn a loss into a gain, so a drop is negative either way
        value, low, high = -value, -high, -low
    if math.isnan(value):
        return Decision.FAIL
    if value < -max_drop or high < -max_drop:
        return Decision.FAIL
    if math.isnan(low) or low < -max_drop:
        return Decision.INCONCLUSIVE
    return Decision.PASS


def z_of(confidence: float) -> float:
    """The normal quantile of a two-sided interval at ``confidence``."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def standard_error(low: float, high: float, confidence: float) -> float:
    """The SE a two-sided interval implies: its half-width over z."""
    return (high - low) / (2 * z_of(confidence))


def mde(se: float, confidence: float, power: float = POWER) -> float:
    """The smallest drop a gate with this paired SE detects with ``power``."""
    return (z_of(confidence) + NormalDist().inv_cdf(power)) * se


@dataclass(frozen=True)
class Plan:
    """Rows (and positives) a golden set needs for its MDE to be ``margin``."""

    rows: int
    positives: int | None


def needed(rows: int, positives: int | None, detectable: float, margin: float) -> Plan | None:
    """Scale the golden set so its MDE becomes ``margin``; None when that cannot be said
    (no margin, or no variance to scale)."""
    if margin <= 0 or not math.isfinite(detectable) or detectable <= 0:
        return None
    factor = (detectable / margin) ** 2
    return Plan(math.ceil(rows * factor),
                math.ceil(positives * factor) if positives is not None else None)
