"""The files the harness and deepchecks' environment exchange: data frames, a model's
predictions, and JSON.

The harness (numpy 2, pandas 3) writes; ``runner.py`` in deepchecks' environment (numpy 1,
pandas 2) reads, so nothing here depends on a version's private format: parquet would need
pyarrow on both sides, pickles do not cross numpy 2 to 1. A frame is a folder with
``frame.json`` (rows, and per column its name and dtype) and one file per column: ``.npy``
(no pickle) for numeric, boolean and datetime columns, exact; a JSON list for any other
(text: pandas 3's ``str`` columns become the ``object`` columns pandas 2 reads a CSV as,
with NaN for missing), where ``NaN`` and ``null`` (``None``, ``pd.NA``) stay apart.

Standard library at module level: numpy and pandas are imported where they are used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

FORMAT = 1
_EXACT_KINDS = "biufcmM"  # numpy dtype kinds .npy keeps exactly without a pickle


def write_json(path: Path, data: Any) -> None:
    # allow_nan: a JSON NaN is how a missing float value crosses.
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def plain(value: Any) -> Any:
    """A cell as JSON holds it: numpy scalars as Python's, ``pd.NA`` and ``NaT`` as null;
    any other object as its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def write_frame(folder: Path, frame: Any) -> None:
    """Write a pandas frame into ``folder`` (created), column by column."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    columns = []
    for number, name in enumerate(frame.columns):
        series = frame[name]
        dtype = series.dtype
        entry: dict[str, Any] = {"name": plain(name), "dtype": str(dtype)}
        if isinstance(dtype, np.dtype) and dtype.kind in _EXACT_KINDS:
            entry["file"] = f"{number}.npy"
            np.save(folder / entry["file"], series.to_numpy(), allow_pickle=False)
        else:
            entry["file"] = f"{number}.json"
            write_json(folder / entry["file"], [plain(v) for v in series.astype(object)])
        columns.append(entry)
    write_json(folder / "frame.json", {"format": FORMAT, "rows": len(frame), "columns": columns})


def read_frame(folder: Path) -> Any:
    """The frame ``write_frame`` wrote, with a fresh ``RangeIndex``."""
    import numpy as np
    import pandas as pd

    meta = read_json(folder / "frame.json")
    data = {}
    for entry in meta["columns"]:
        path = folder / entry["file"]
        if path.suffix == ".npy":
            data[entry["name"]] = pd.Series(np.load(path, allow_pickle=False))
        else:
            data[entry["name"]] = pd.Series(read_json(path), dtype=object)
    return pd.DataFrame(data, index=pd.RangeIndex(meta["rows"]))


def write_predictions(folder: Path, labels: list[Any], probabilities: Any | None) -> None:
    """A model's predicted labels per row (JSON: class labels keep their type, floats their
    value) and, for a classifier, its class probabilities (rows x classes, ``.npy``)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "predicted.json", [plain(v) for v in labels])
    if probabilities is not None:
        np.save(folder / "probabilities.npy", np.asarray(probabilities, dtype=float),
                allow_pickle=False)


def read_predictions(folder: Path) -> tuple[Any, Any | None]:
    """``(labels, probabilities or None)`` as numpy arrays, as deepchecks takes them."""
    import numpy as np

    labels = read_json(folder / "predicted.json")
    numeric = all(isinstance(v, float) and not math.isnan(v) for v in labels)
    predicted = np.asarray(labels, dtype=float if numeric else object)
    proba = folder / "probabilities.npy"
    return predicted, (np.load(proba, allow_pickle=False) if proba.exists() else None)
