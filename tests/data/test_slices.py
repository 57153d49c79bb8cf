"""Slices as pure functions on frames: bins half-open but for the last, which holds its
upper edge; rows outside every bin and missing values as segments of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.config import SliceSpec
from harness.data.slices import slice_masks
from harness.errors import DatasetError


def _rows(masks: dict[str, np.ndarray]) -> dict[str, list[int]]:
    return {name: np.flatnonzero(mask).tolist() for name, mask in masks.items()}


def test_bins_are_half_open_and_the_last_holds_its_upper_edge() -> None:
    frame = pd.DataFrame({"age": [18, 29.9, 30, 45, 60, 61, None]})
    masks = slice_masks(frame, SliceSpec(name="age", column="age", bins=[18, 30, 60]))
    assert _rows(masks) == {"age=18-30": [0, 1], "age=30-60": [2, 3, 4],
                            "age=other": [5], "age=missing": [6]}


def test_a_categorical_column_has_a_segment_per_value_and_no_empty_ones() -> None:
    frame = pd.DataFrame({"job": ["fixed", "none", "fixed", None]})
    masks = slice_masks(frame, SliceSpec(name="job", column="job"))
    assert _rows(masks) == {"job=fixed": [0, 2], "job=none": [1], "job=missing": [3]}
    covered = slice_masks(pd.DataFrame({"age": [1, 2]}),
                          SliceSpec(name="age", column="age", bins=[0, 5]))
    assert list(covered) == ["age=0-5"], "no 'other' or 'missing' segment when none falls there"


def test_a_missing_column_names_the_slice_and_the_column() -> None:
    with pytest.raises(DatasetError, match="slice 'age': column 'years' is not in the data"):
        slice_masks(pd.DataFrame({"age": [1]}), SliceSpec(name="age", column="years"))
