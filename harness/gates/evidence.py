"""How much evidence a golden set or a slice holds, and whether it is enough to gate on.

A metric of a binary classifier rests on both classes: ROC AUC's interval on the variance
among positives and among negatives, recall on the positives alone. With a handful of
either, the interval is too short (its variance is estimated from a few values) or cannot
be had at all, and a gate read from it would pass on no evidence. Below ``min_positives``
positives or ``min_negatives`` negatives a metric is therefore skipped with its counts,
never passed; a model kind without classes needs ``min_positives + min_negatives`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.kinds import Kind


@dataclass(frozen=True)
class Counts:
    """Rows, and for a binary classifier its positives and negatives (None otherwise)."""

    rows: int
    positives: int | None = None
    negatives: int | None = None

    def __str__(self) -> str:
        if self.positives is None:
            return f"{self.rows} rows"
        return f"{self.rows} rows, {self.positives} positive, {self.negatives} negative"


def counts(kind: Kind, y: np.ndarray) -> Counts:
    """The evidence in labels ``y`` as ``kind`` reads them (binary: 1 for a positive)."""
    if not kind.needs_positive_label:
        return Counts(len(y))
    positives = int(np.count_nonzero(y == 1))
    return Counts(len(y), positives, len(y) - positives)


def shortfall(found: Counts, min_positives: int, min_negatives: int) -> str | None:
    """Why ``found`` is too little to gate on, or None when it is enough."""
    if found.positives is None:
        need = min_positives + min_negatives
        return (f"{found.rows} rows, fewer than the {need} a gate needs "
                "(gates.min_positives + gates.min_negatives)") if found.rows < need else None
    assert found.negatives is not None
    short = []
    if found.positives < min_positives:
        short.append(f"{found.positives} positive(s), fewer than gates.min_positives "
                     f"({min_positives})")
    if found.negatives < min_negatives:
        short.append(f"{found.negatives} negative(s), fewer than gates.min_negatives "
                     f"({min_negatives})")
    return " and ".join(short) or None
