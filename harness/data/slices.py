"""Slices: named segments of a dataset, by a categorical column's values or numeric bins."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from harness.config import HarnessConfig, SliceSpec
from harness.errors import DatasetError
from harness.text import clip


def _label(value: float) -> str:
    return f"{value:g}"


def slice_masks(frame: pd.DataFrame, spec: SliceSpec) -> dict[str, np.ndarray]:
    """Boolean row masks named ``<slice>=<segment>``, e.g. ``job=fixed`` or ``age=30-45``.

    Bins are half-open ``[low, high)`` except the last, which includes its upper edge;
    rows outside every bin, or with a missing value, form ``<slice>=other``/``=missing``.
    """
    if spec.column not in frame.columns:
        raise DatasetError(f"slice '{spec.name}': column '{spec.column}' is not in the data")
    column = frame[spec.column]
    masks: dict[str, np.ndarray] = {}
    missing = column.isna().to_numpy()
    if spec.bins is None:
        for value in sorted(column.dropna().unique(), key=str):
            masks[f"{spec.name}={clip(value)}"] = (column == value).to_numpy()
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        edges = spec.bins
        covered = np.zeros(len(frame), dtype=bool)
        for i, (low, high) in enumerate(itertools.pairwise(edges)):
            last = i == len(edges) - 2
            mask = (values >= low) & ((values <= high) if last else (values < high))
            masks[f"{spec.name}={_label(low)}-{_label(high)}"] = mask
            covered |= mask
        other = ~covered & ~missing
        if other.any():
            masks[f"{spec.name}=other"] = other
    if missing.any():
        masks[f"{spec.name}=missing"] = missing
    return masks


def segments(frame: pd.DataFrame, config: HarnessConfig) -> dict[str, np.ndarray]:
    """Every configured slice's rows in ``frame``, by segment name."""
    masks: dict[str, np.ndarray] = {}
    for spec in config.slices:
        masks.update(slice_masks(frame, spec))
    return masks
