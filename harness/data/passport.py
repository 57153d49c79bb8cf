"""The model's passport: the golden metrics of the model now in production, per golden
dataset version, overall and per slice, with who blessed it and why.

Passports are append-only numbered files, ``<passports>/<dataset>/0001.json``; a new
blessing adds the next number and never rewrites an old one. Each keeps the blessed
model's score for every golden row, so a candidate can be compared with it on a paired
interval, and the digest of the golden manifest it was measured on.

The scores sit beside the JSON in a NumPy file, ``0002.scores.npy`` (8 bytes a row, read
without pickling), whose sha256 the JSON records and every read checks. Passports written
before that keep their scores as a JSON list, ``scores``, and are read as they are: a
passport is never rewritten, so they are not migrated.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import DatasetSpec, HarnessConfig
from harness.data import golden
from harness.errors import GoldenIntegrityError


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
    scores_file: str | None = None
    scores_sha256: str | None = None
    # Passports written before scores files held them here, one JSON number per row.
    scores: list[Any] | None = field(default=None, repr=False)
    # Per golden row, in the scores: P(positive), a row of class probabilities (multiclass,
    # columns in the order of ``classes``), or a prediction (regression).
    kind: str = "binary"
    classes: list[Any] = field(default_factory=list)
    # Where the JSON was read from (not part of it): the scores file is found beside it.
    path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"passport #{self.number}"

    def to_json(self) -> str:
        fields = {k: v for k, v in asdict(self).items()
                  if k != "path" and not (k == "scores" and v is None)}
        return json.dumps(fields, indent=1, sort_keys=True) + "\n"

    def baseline_scores(self) -> np.ndarray:
        """The blessed model's score for every golden row, checked against the digest
        the passport recorded."""
        if self.scores_file is None:
            if self.scores is None:
                raise GoldenIntegrityError(
                    f"{self.path}: passport holds no scores and names no scores file; "
                    "restore it from version control")
            return np.asarray(self.scores, dtype=float)
        where = (self.path.parent if self.path is not None else Path()) / self.scores_file
        try:
            data = where.read_bytes()
        except OSError as exc:
            raise GoldenIntegrityError(
                f"{where}: cannot read the scores of {self.label} ({exc.strerror}); restore "
                "it from version control") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != self.scores_sha256:
            raise GoldenIntegrityError(
                f"{where}: scores file changed: sha256 {actual} is not the {self.scores_sha256} "
                f"recorded in {self.path}; restore it from version control or bless again")
        try:
            scores = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:
            raise GoldenIntegrityError(f"{where}: not a NumPy scores file ({exc})") from None
        return np.asarray(scores, dtype=float)


def folder(config: HarnessConfig, dataset: str) -> Path:
    return config.resolve(config.passports) / dataset


def history(config: HarnessConfig, dataset: str) -> list[Passport]:
    """Every passport of a golden dataset, oldest first."""
    passports = []
    for path in sorted(folder(config, dataset).glob("[0-9]*.json")):
        try:
            passports.append(Passport(**json.loads(path.read_text(encoding="utf-8")),
                                      path=path))
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


def write_once(path: Path, data: bytes) -> None:
    """Write a whole file under a name no one has taken: the bytes go to a temporary file,
    and a hard link publishes it, failing if another blessing took the number first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise GoldenIntegrityError(
            f"{path}: another passport took this number at the same time; bless again"
        ) from None
    finally:
        temporary.unlink()


def next_number(target: Path) -> int:
    """One past the highest number taken, by a passport or by a scores file a blessing
    that stopped half-way left behind."""
    taken = [int(m.group(1)) for p in target.iterdir()
             if (m := re.fullmatch(r"(\d+)(?:\.scores\.npy|\.json)", p.name))]
    return max(taken, default=0) + 1


def npy_bytes(scores: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, scores, allow_pickle=False)
    return buffer.getvalue()


def verify_current(config: HarnessConfig) -> list[str]:
    """Check the scores of each golden dataset's current passport; a line per passport
    that holds (a changed or missing scores file raises ``GoldenIntegrityError``)."""
    lines = []
    for spec in config.golden:
        blessed = current(config, spec)
        if blessed is not None:
            rows = len(blessed.baseline_scores())
            held = f"scores file {blessed.scores_file}" if blessed.scores_file else "JSON scores"
            lines.append(f"ok  {blessed.path}  {blessed.label} of '{spec.name}', {rows} rows, "
                         f"{held}")
    return lines
