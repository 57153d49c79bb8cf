"""Read the datasets the harness judges a model on (golden and training data)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import DatasetError


@dataclass(frozen=True)
class Dataset:
    """One loaded dataset: its name in reports, where it came from, and its rows."""

    name: str
    path: Path
    frame: pd.DataFrame


def read_dataset(name: str, path: Path) -> Dataset:
    """Read a CSV dataset as it is, without coercing types, so schema checks see the truth."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DatasetError(f"dataset '{name}': file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(
            f"dataset '{name}': {path} is not a readable CSV file ({exc}); "
            "restore it from version control"
        ) from None
    if frame.empty:
        raise DatasetError(f"dataset '{name}': {path} has no rows")
    return Dataset(name=name, path=path, frame=frame)
