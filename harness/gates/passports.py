"""Blessing passports: the model's figures on each golden set, measured as the quality gates
measure them (``evaluation``), recorded as the baseline those gates compare with."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np

from harness import kinds
from harness.config import HarnessConfig
from harness.data import golden, passport
from harness.data.datasets import read_dataset
from harness.data.passport import Passport
from harness.errors import GoldenIntegrityError
from harness.gates.evaluation import OVERALL, Evaluation, evaluate
from harness.model.adapters import Model


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
        target = passport.folder(config, spec.name)
        target.mkdir(parents=True, exist_ok=True)
        number = passport.next_number(target)
        scores = passport.npy_bytes(np.asarray(evaluation.candidate, dtype="<f8"))
        scores_path = target / f"{number:04d}.scores.npy"
        # The scores first: a passport is published only once what it names exists.
        passport.write_once(scores_path, scores)
        blessed = Passport(
            number=number,
            dataset=spec.name,
            golden_manifest_sha256=golden.manifest_digest(version),
            model=model_identity,
            blessed_by=by,
            reason=reason,
            created_at=now,
            threshold=config.model.threshold,
            metrics=_figures(evaluation, metric_names(config, evaluation)),
            scores_file=scores_path.name,
            scores_sha256=hashlib.sha256(scores).hexdigest(),
            kind=evaluation.kind.name,
            classes=list(evaluation.classes),
        )
        path = target / f"{blessed.number:04d}.json"
        passport.write_once(path, blessed.to_json().encode("utf-8"))
        written.append((path, blessed))
    return written


def metric_names(config: HarnessConfig, evaluation: Evaluation) -> list[str]:
    """Every metric of the model's kind, one recall per class for a multiclass model."""
    keys = list(config.model.model_kind.metric_names)
    return kinds.expand(keys, evaluation.classes)


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
