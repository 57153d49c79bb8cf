"""The scores a run's quality gates judged, kept beside its reports for the report's
pictures of the model: the golden labels, the candidate's scores and the baseline's on
the same rows. One ``.npz`` file per golden dataset in ``<reports>/scores/`` (numpy's
own format: no pickle, read back exactly)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    # Only its type: the evaluation imports the interval methods (scipy), which the report
    # reading the kept scores does not need.
    from harness.gates.evaluation import Evaluation

FOLDER = "scores"
# Written once every gate item has run: the scores will not change in this run.
COMPLETE = "complete"


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


def mark_complete(reports: Path) -> None:
    """Say that the run's gates are done, so its scores are final (``complete``); a run
    whose marker cannot be written is simply not known to be done before pytest ends."""
    folder = reports / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / COMPLETE).touch()
    except OSError:
        pass


def complete(reports: Path) -> bool:
    """Whether the run's gates are done (``mark_complete``)."""
    return (reports / FOLDER / COMPLETE).exists()


def fingerprint(reports: Path) -> str:
    """The sha256 of every scores file a run kept, names and bytes: equal fingerprints,
    equal scores."""
    digest = hashlib.sha256()
    for path in sorted((reports / FOLDER).glob("*.npz")):
        content = path.read_bytes()
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()
