"""The model's passport: the golden metrics of the model now in production, per golden
dataset version, overall and per slice, with who blessed it and why.

Passports are append-only numbered files, ``<passports>/<dataset>/0001.json``; a new
blessing adds the next number and never rewrites an old one. Each keeps the blessed
model's score for every golden row, so a candidate can be compared with it on a paired
bootstrap, and the digest of the golden manifest it was measured on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import golden, kinds
from harness.config import DatasetSpec, HarnessConfig
from harness.datasets import read_dataset
from harness.errors import GoldenIntegrityError
from harness.evaluation import OVERALL, Evaluation, evaluate
from harness.models import Model


@dataclass(frozen=True)
class Passport:
    number: int
    dataset: str
    golden_manifest_sha256: str
    model: dict[str, str]
    blessed_by: str
    reason: str
    created_at: str
    threshold: float
    metrics: dict[str, dict[str, dict[str, float]]]
    # Per golden row: P(positive), a row of class probabilities (multiclass, columns in
    # the order of ``classes``), or a prediction (regression).
    scores: list[Any] = field(repr=False)
    kind: str = "binary"
    classes: list[Any] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"passport #{self.number}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


def folder(config: HarnessConfig, dataset: str) -> Path:
    return config.resolve(config.passports) / dataset


def history(config: HarnessConfig, dataset: str) -> list[Passport]:
    """Every passport of a golden dataset, oldest first."""
    passports = []
    for path in sorted(folder(config, dataset).glob("[0-9]*.json")):
        try:
            passports.append(Passport(**json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, TypeError) as exc:
            raise GoldenIntegrityError(
                f"{path}: passport is malformed ({exc}); restore it from version control"
            ) from None
    return passports


def current(config: HarnessConfig, spec: DatasetSpec) -> Passport | None:
    """The newest passport measured on the golden dataset exactly as it is now."""
    digest = golden.manifest_digest(config.resolve(spec.path).parent)
    matching = [p for p in history(config, spec.name) if p.golden_manifest_sha256 == digest]
    return matching[-1] if matching else None


def _figures(evaluation: Evaluation, names: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for segment in [OVERALL, *evaluation.segments]:
        if evaluation.rows(segment) == 0:
            continue
        figures[segment] = {}
        for name in names:
            estimate = evaluation.estimate(name, segment)
            figures[segment][name] = {
                "value": estimate.value,
                "low": estimate.interval.low,
                "high": estimate.interval.high,
            }
    return figures


def metric_names(config: HarnessConfig, evaluation: Evaluation) -> list[str]:
    """Every metric of the model's kind, one recall per class for a multiclass model."""
    keys = list(kinds.METRICS[config.model.kind])
    return kinds.expand(keys, evaluation.classes)


def _write_once(path: Path, text: str) -> None:
    """Write a whole file under a name no one has taken: the text goes to a temporary file,
    and a hard link publishes it, failing if another blessing took the number first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise GoldenIntegrityError(
            f"{path}: another passport took this number at the same time; bless again"
        ) from None
    finally:
        temporary.unlink()


def bless(config: HarnessConfig, model: Model, model_identity: dict[str, str], by: str,
          reason: str) -> list[tuple[Path, Passport]]:
    """Measure ``model`` on every golden dataset and record a new passport for each."""
    if not by.strip() or not reason.strip():
        raise GoldenIntegrityError("a passport needs who blesses it (--by) and why (--reason)")
    written = []
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for spec in config.golden:
        version = config.resolve(spec.path).parent
        golden.verify(version)
        evaluation = evaluate(config, spec.name, read_dataset(spec.name,
                                                              config.resolve(spec.path)).frame,
                              model)
        target = folder(config, spec.name)
        target.mkdir(parents=True, exist_ok=True)
        existing = history(config, spec.name)
        passport = Passport(
            number=(existing[-1].number if existing else 0) + 1,
            dataset=spec.name,
            golden_manifest_sha256=golden.manifest_digest(version),
            model=model_identity,
            blessed_by=by,
            reason=reason,
            created_at=now,
            threshold=config.model.threshold,
            metrics=_figures(evaluation, metric_names(config, evaluation)),
            scores=np.round(evaluation.candidate, 12).tolist(),
            kind=evaluation.kind,
            classes=list(evaluation.classes),
        )
        path = target / f"{passport.number:04d}.json"
        _write_once(path, passport.to_json())
        written.append((path, passport))
    return written
