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
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import DatasetSpec, HarnessConfig
from harness.data import golden, readback
from harness.digests import sha256_file
from harness.errors import GoldenIntegrityError, HarnessError
from harness.text import clip


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

    def baseline_scores(self, rows: int | None = None) -> np.ndarray:
        """The blessed model's score for every golden row, checked against the digest the
        passport recorded and as its kind's scores must be: numbers, finite, of the kind's
        shape and range, ``rows`` of them when given (the golden file's row count)."""
        if self.scores_file is None:
            if self.scores is None:
                raise GoldenIntegrityError(
                    f"{self.path}: passport holds no scores and names no scores file; "
                    "restore it from version control", path=self.path)
            return self._checked(np.asarray(self.scores), rows, f"{self.path}: field 'scores'")
        where = (self.path.parent if self.path is not None else Path()) / self.scores_file
        try:
            data = where.read_bytes()
        except OSError as exc:
            raise GoldenIntegrityError(
                f"{where}: cannot read the scores of {self.label} ({exc.strerror}); restore "
                "it from version control", path=where) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != self.scores_sha256:
            raise GoldenIntegrityError(
                f"{where}: scores file changed: sha256 {actual} is not the {self.scores_sha256} "
                f"recorded in {self.path}; restore it from version control or bless again",
                path=where)
        try:
            scores = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise GoldenIntegrityError(f"{where}: not a NumPy scores file ({clip(exc)})",
                                       path=where) from None
        return self._checked(scores, rows, f"{where}")

    def _checked(self, raw: np.ndarray, rows: int | None, where: str) -> np.ndarray:
        """``raw`` as the kind's scores, or a refusal naming ``where`` (file and field)."""
        from harness.kinds import kind_of

        def refuse(problem: str) -> GoldenIntegrityError:
            return GoldenIntegrityError(f"{where}: {self.label}'s scores {problem}; restore the "
                                        "passport from version control or bless again",
                                        path=self.path)

        dtype = raw.dtype
        if dtype.kind not in "fiu":  # strings, booleans, objects, nested lists
            raise refuse(f"are not numbers (they read as {raw.dtype})")
        kind = kind_of(self.kind)
        shape = (rows if rows is not None else len(raw),
                 *((len(self.classes),) if kind.has_classes else ()))
        if raw.shape != shape:
            raise refuse(f"have the shape {raw.shape}, expected {shape} (one "
                         f"{'row of class probabilities' if kind.has_classes else 'score'} per "
                         "golden row)")
        values = raw.astype(float)
        if not np.all(np.isfinite(values)):
            raise refuse("hold values that are not finite (NaN or infinity)")
        try:
            return kind.scores(values, shape[0], self.classes, None, "the passport")
        except HarnessError as exc:  # out of [0, 1], rows not summing to 1
            raise refuse(f"are not what a {kind.name} model scores ({exc})") from None


_FIELDS = {f.name for f in fields(Passport)} - {"path"}
# For a dataset and a passport number, the sha256 of the JSON history recorded when it was
# blessed (``harness.gates.recorded``: the data layer reads no history).
Recorded = Callable[[str, int], set[str]]


def folder(config: HarnessConfig, dataset: str) -> Path:
    return config.resolve(config.passports) / dataset


def history(config: HarnessConfig, dataset: str) -> list[Passport]:
    """Every passport of a golden dataset, oldest first, each checked field by field."""
    return [read(path) for path in sorted(folder(config, dataset).glob("[0-9]*.json"))]


_ADVICE = "restore it from version control"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read(path: Path) -> Passport:
    """One passport file, refused (naming the file and the field) unless every field is of
    its type: a plain scores file name, a sha256, a known kind, a number matching the name."""
    from harness.kinds import KIND_NAMES

    data = readback.read_json_object(path, GoldenIntegrityError, "passport", _ADVICE)
    readback.unknown_fields(data, _FIELDS, path, GoldenIntegrityError, _ADVICE)

    def get(name: str, *types: type, default: Any = ...) -> Any:
        return readback.field(data, name, types, path, GoldenIntegrityError, _ADVICE,
                              default=default)

    number = get("number", int)
    if not path.stem.isdigit() or number != int(path.stem):
        raise GoldenIntegrityError(f"{path}: field 'number' is {number}, not the {path.stem} "
                                   f"of its file name; {_ADVICE}", path=path)
    scores_file = get("scores_file", str, type(None), default=None)
    scores_sha256 = get("scores_sha256", str, type(None), default=None)
    if scores_file is not None and (scores_file != Path(scores_file).name
                                    or scores_file.startswith(".")):
        raise GoldenIntegrityError(f"{path}: field 'scores_file' "
                                   f"{clip(scores_file, 60)!r} is not a file name "
                                   f"beside the passport; {_ADVICE}", path=path)
    if scores_file is not None and not _SHA256.fullmatch(str(scores_sha256)):
        raise GoldenIntegrityError(f"{path}: field 'scores_sha256' is not a sha256 (64 hex "
                                   f"digits); {_ADVICE}", path=path)
    kind_name = get("kind", str, default="binary")
    if kind_name not in KIND_NAMES:
        raise GoldenIntegrityError(f"{path}: field 'kind' {clip(kind_name, 60)!r} is not "
                                   f"a model kind ({', '.join(KIND_NAMES)}); {_ADVICE}",
                                   path=path)
    threshold = get("threshold", float)
    if not math.isfinite(threshold):
        raise GoldenIntegrityError(f"{path}: field 'threshold' is not finite; {_ADVICE}",
                                   path=path)
    return Passport(
        number=number, dataset=get("dataset", str),
        golden_manifest_sha256=get("golden_manifest_sha256", str), model=get("model", dict),
        blessed_by=get("blessed_by", str), reason=get("reason", str),
        created_at=get("created_at", str), threshold=float(threshold),
        metrics=get("metrics", dict), scores_file=scores_file, scores_sha256=scores_sha256,
        scores=get("scores", list, type(None), default=None), kind=kind_name,
        classes=get("classes", list, default=[]), path=path,
    )


def current(config: HarnessConfig, spec: DatasetSpec,
            recorded: Recorded | None = None) -> Passport | None:
    """The newest passport measured on the golden dataset exactly as it is now; with
    ``recorded``, its JSON checked against the digests history recorded for its number
    (when history holds any)."""
    digest = golden.manifest_digest(config.resolve(spec.path).parent)
    matching = [p for p in history(config, spec.name) if p.golden_manifest_sha256 == digest]
    if not matching:
        return None
    newest = matching[-1]
    assert newest.path is not None
    digests = recorded(spec.name, newest.number) if recorded is not None else set()
    actual = sha256_file(newest.path)
    if digests and actual not in digests:
        raise GoldenIntegrityError(
            f"{newest.path}: passport changed since it was blessed: sha256 {actual} is not the "
            f"{' or '.join(sorted(digests))} history recorded for {newest.label} of "
            f"'{spec.name}'; {_ADVICE} or bless again", path=newest.path)
    return newest


def baseline(config: HarnessConfig, spec: DatasetSpec,
             recorded: Recorded) -> tuple[Passport, np.ndarray] | None:
    """The current passport of a golden dataset and its scores, checked as ``current`` (against
    history) and ``Passport.baseline_scores`` check them, one score per golden row."""
    blessed = current(config, spec, recorded)
    if blessed is None:
        return None
    from harness.kinds import kind_of

    if kind_of(blessed.kind) is not config.model.model_kind:
        raise GoldenIntegrityError(
            f"{blessed.path}: field 'kind' is {blessed.kind}, but model.kind in {config.source} "
            f"is {config.model.model_kind.name}; bless a new passport", path=blessed.path)
    return blessed, blessed.baseline_scores(golden.rows_of(config.resolve(spec.path)))


def write_all(target: Path, files: list[tuple[Path, bytes]]) -> list[Path]:
    """Write files under names no one has taken, all or none: their bytes go to a temporary
    folder in ``target`` (0644 files, as for golden data), then a hard link publishes each
    in order, failing if another blessing took the number first; on any failure the ones
    already published are removed. Returns the published paths."""
    staging = Path(tempfile.mkdtemp(prefix=".bless-", dir=target))
    published: list[Path] = []
    try:
        for path, data in files:
            staged = staging / path.name
            staged.write_bytes(data)
            staged.chmod(0o644)
        for path, _ in files:
            try:
                os.link(staging / path.name, path)
            except FileExistsError:
                raise GoldenIntegrityError(
                    f"{path}: another passport took this number at the same time; bless again",
                    path=path) from None
            published.append(path)
    except BaseException:
        for path in reversed(published):
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return published


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


def verify_current(config: HarnessConfig, recorded: Recorded) -> list[str]:
    """Check each golden dataset's current passport (its JSON against history, its scores
    against their digest, kind, shape and range); a line per passport that holds (one that
    does not raises ``GoldenIntegrityError``)."""
    lines = []
    for spec in config.golden:
        found = baseline(config, spec, recorded)
        if found is not None:
            blessed, scores = found
            held = f"scores file {blessed.scores_file}" if blessed.scores_file else "JSON scores"
            lines.append(f"ok  {blessed.path}  {blessed.label} of '{spec.name}', {len(scores)} "
                         f"rows, {held}")
    return lines
