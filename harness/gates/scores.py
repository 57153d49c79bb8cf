"""The scores a run's quality gates judged, kept beside its reports for the report's
pictures of the model: the golden labels, the candidate's scores and the baseline's on
the same rows. One ``.npz`` file per golden dataset in ``<reports>/scores/`` (numpy's
own format: no pickle, read back exactly)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.gates.evaluation import Evaluation

FOLDER = "scores"


@dataclass(frozen=True)
class Scores:
    """What a golden dataset's evaluation scored; ``baseline`` is None without one."""

    dataset: str
    kind: str
    y: np.ndarray
    candidate: np.ndarray
    threshold: float
    classes: list[str]
    baseline: np.ndarray | None = None
    baseline_name: str = ""
    positive: str = ""  # a binary model's positive class (model.positive_label)


def save(evaluation: Evaluation, reports: Path, positive: str = "") -> Path:
    """Write (or rewrite, once the baseline has scored) ``<reports>/scores/<dataset>.npz``."""
    folder = reports / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {
        "y": evaluation.y, "candidate": evaluation.candidate,
        "kind": np.array(evaluation.kind.name), "threshold": np.array(evaluation.threshold),
        "classes": np.array([str(c) for c in evaluation.classes], dtype=str),
        "baseline_name": np.array(evaluation.baseline_name), "positive": np.array(positive),
    }
    if evaluation.baseline is not None:
        arrays["baseline"] = evaluation.baseline
    path = folder / f"{evaluation.dataset}.npz"
    np.savez_compressed(path, **arrays)
    return path


def load(reports: Path) -> list[Scores]:
    """Every dataset's scores a run kept, by dataset name; none for a run that kept none
    (an older harness, or a profile without the quality check)."""
    result = []
    for path in sorted((reports / FOLDER).glob("*.npz")):
        with np.load(path, allow_pickle=False) as data:
            result.append(Scores(
                dataset=path.stem, kind=str(data["kind"]), y=data["y"],
                candidate=data["candidate"], threshold=float(data["threshold"]),
                classes=[str(c) for c in data["classes"]],
                baseline=data.get("baseline", None),
                baseline_name=str(data["baseline_name"]),
                positive=str(data["positive"]) if "positive" in data else "",
            ))
    return result
