"""Blessing passports: the model's figures on each golden set, measured as the quality gates
measure them (``evaluation``), recorded as the baseline those gates compare with."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from harness import kinds
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.data import golden, passport
from harness.data.datasets import read_dataset
from harness.data.passport import Passport
from harness.errors import GoldenIntegrityError
from harness.gates.evaluation import OVERALL, Evaluation, evaluate
from harness.model.adapters import Model


class Measured(NamedTuple):
    """A passport measured but not yet numbered or written: its scores file's bytes and
    the folder it goes to."""

    passport: Passport
    scores: bytes
    folder: Path


def bless(config: HarnessConfig, model: Model, model_identity: dict[str, str], by: str,
          reason: str) -> list[tuple[Path, Passport]]:
    """Measure ``model`` on every golden dataset, then record a new passport for each: all of
    them, or (when any golden set or any write fails) none."""
    return publish(measure(config, model, model_identity, by, reason))


def measure(config: HarnessConfig, model: Model, model_identity: dict[str, str], by: str,
            reason: str) -> list[Measured]:
    """A passport (and its scores file's bytes) per golden dataset, nothing written: every
    golden set is verified and scored before any passport is."""
    if not by.strip() or not reason.strip():
        raise GoldenIntegrityError("a passport needs who blesses it (--by) and why (--reason)")
    measured = []
    now = utc_now()
    for spec in config.golden:
        path = config.resolve(spec.path)
        golden.verify(path.parent)
        evaluation = evaluate(config, spec.name, read_dataset(spec.name, path).frame, model)
        scores = passport.npy_bytes(np.asarray(evaluation.candidate, dtype="<f8"))
        measured.append(Measured(Passport(
            number=0,  # numbered when published
            dataset=spec.name,
            golden_manifest_sha256=golden.manifest_digest(path.parent),
            model=model_identity,
            blessed_by=by,
            reason=reason,
            created_at=now,
            threshold=config.model.threshold,
            metrics=_figures(evaluation, metric_names(config, evaluation)),
            scores_sha256=hashlib.sha256(scores).hexdigest(),
            kind=evaluation.kind.name,
            classes=list(evaluation.classes),
        ), scores, passport.folder(config, spec.name)))
    return measured


def publish(measured: list[Measured]) -> list[tuple[Path, Passport]]:
    """Write each measured passport under the next number of its dataset's folder: staged
    in a temporary folder there, then linked into place, scores first (a passport is
    published only once what it names exists). A failure removes what was published."""
    written: list[tuple[Path, Passport]] = []
    published: list[Path] = []
    try:
        for unnumbered, scores, target in measured:
            target.mkdir(parents=True, exist_ok=True)
            number = passport.next_number(target)
            blessed = replace(unnumbered, number=number,
                              scores_file=f"{number:04d}.scores.npy",
                              path=target / f"{number:04d}.json")
            files = [(target / f"{number:04d}.scores.npy", scores),
                     (target / f"{number:04d}.json", blessed.to_json().encode("utf-8"))]
            published += passport.write_all(target, files)
            written.append((files[1][0], blessed))
    except BaseException:
        for path in reversed(published):
            path.unlink(missing_ok=True)
        raise
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
