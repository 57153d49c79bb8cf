"""Versioned golden datasets: each version is a folder whose manifest records the sha256
of every file, the row count, a schema fingerprint, the source and the creation date.

A version is written once and never rewritten; verifying it finds any changed byte,
missing file or unexpected file, and names it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data import readback
from harness.digests import sha256_bytes, sha256_file
from harness.errors import GoldenIntegrityError
from harness.text import clip

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class GoldenFile:
    sha256: str
    bytes: int
    rows: int


@dataclass(frozen=True)
class Manifest:
    dataset: str
    version: str
    created: str
    source: str
    rows: int
    schema_fingerprint: str
    files: dict[str, GoldenFile]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def column_kind(series: pd.Series) -> str:
    """A column's kind: boolean, integer, float or string."""
    from pandas.api import types

    # Kinds, not dtypes: pandas 2 and 3 name string columns differently.
    if types.is_bool_dtype(series):
        return "boolean"
    if types.is_integer_dtype(series):
        return "integer"
    if types.is_float_dtype(series):
        return "float"
    return "string"


def schema_fingerprint(frame: pd.DataFrame) -> str:
    """A digest of the columns' names, order and kinds."""
    columns = [[str(name), column_kind(frame[name])] for name in frame.columns]
    return sha256_bytes(json.dumps(columns).encode())


def describe(folder: Path, dataset: str, version: str, source: str,
             created: str | None = None) -> Manifest:
    """Measure the CSV files of a version folder into a manifest (nothing is written)."""
    import pandas as pd  # here: verifying and digesting golden data need no pandas

    files: dict[str, GoldenFile] = {}
    fingerprints = []
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path)
        files[path.name] = GoldenFile(sha256_file(path), path.stat().st_size, len(frame))
        fingerprints.append(schema_fingerprint(frame))
    if not files:
        raise GoldenIntegrityError(f"{folder}: no CSV files to record in a golden manifest")
    return Manifest(
        dataset=dataset,
        version=version,
        created=created or dt.date.today().isoformat(),
        source=source,
        rows=sum(f.rows for f in files.values()),
        schema_fingerprint=sha256_bytes("".join(fingerprints).encode()),
        files=files,
    )


_ADVICE = "restore it from version control"
_MISSING = "record the version with `harness golden add`"


def read_manifest(folder: Path) -> Manifest:
    """A version's manifest, refused (naming the file and the field) unless each field is of
    its type and ``files`` maps plain file names to their sha256, bytes and rows."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise GoldenIntegrityError(f"{folder}: not a golden version folder (no such folder); "
                                   "a golden path names a CSV file inside one", path=folder)
    if not path.exists():
        raise GoldenIntegrityError(f"{path}: golden manifest missing; {_MISSING}", path=path)
    data = readback.read_json_object(path, GoldenIntegrityError, "golden manifest", _ADVICE)
    readback.unknown_fields(data, {f.name for f in fields(Manifest)}, path,
                            GoldenIntegrityError, _ADVICE)

    def get(record: dict[str, Any], name: str, expected: type, where: str = "") -> Any:
        value = readback.field(record, name, (expected,), path, GoldenIntegrityError, _ADVICE,
                               within=where)
        if expected is int and value < 0:
            raise GoldenIntegrityError(f"{path}: field '{where}{name}' is negative; {_ADVICE}",
                                       path=path)
        return value

    files = {}
    for name, entry in get(data, "files", dict).items():
        where = f"files.{clip(name, 60)}"
        if name != Path(name).name or name in ("", ".", "..", MANIFEST):
            raise GoldenIntegrityError(f"{path}: field '{where}' is not a plain file name; "
                                       f"{_ADVICE}", path=path)
        if not isinstance(entry, dict):
            raise GoldenIntegrityError(f"{path}: field '{where}' is not an object of sha256, "
                                       f"bytes and rows; {_ADVICE}", path=path)
        readback.unknown_fields(entry, {"sha256", "bytes", "rows"}, path,
                                GoldenIntegrityError, _ADVICE)
        files[name] = GoldenFile(get(entry, "sha256", str, where + "."),
                                 get(entry, "bytes", int, where + "."),
                                 get(entry, "rows", int, where + "."))
    return Manifest(dataset=get(data, "dataset", str), version=get(data, "version", str),
                    created=get(data, "created", str), source=get(data, "source", str),
                    rows=get(data, "rows", int),
                    schema_fingerprint=get(data, "schema_fingerprint", str), files=files)


def manifest_digest(folder: Path) -> str:
    """The sha256 of a version's manifest: one digest that pins every file in it (the
    manifest is read, and refused when malformed, first)."""
    read_manifest(folder)
    return sha256_file(folder / MANIFEST)


def rows_of(path: Path) -> int:
    """The data rows the manifest of ``path``'s version records for it."""
    manifest = read_manifest(path.parent)
    if path.name not in manifest.files:
        raise GoldenIntegrityError(
            f"{path}: not a file of the golden manifest {path.parent / MANIFEST}; a golden "
            "path names one of the CSV files a version recorded", path=path)
    return manifest.files[path.name].rows


def verify(folder: Path) -> Manifest:
    """Check every file of a golden version against its manifest; raise naming the first
    file that changed, went missing or was added."""
    manifest = read_manifest(folder)
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}
    for name, recorded in sorted(manifest.files.items()):
        path = folder / name
        if not path.exists():
            raise GoldenIntegrityError(f"{path}: golden file missing; restore it from version "
                                       "control")
        actual = sha256_file(path)
        if actual != recorded.sha256:
            raise GoldenIntegrityError(
                f"{path}: golden file changed (sha256 {actual[:12]}..., manifest records "
                f"{recorded.sha256[:12]}...); restore it from version control, or add the new "
                "data as a new version with `harness golden add`"
            )
    unexpected = sorted(present - set(manifest.files))
    if unexpected:
        raise GoldenIntegrityError(
            f"{folder / unexpected[0]}: file not in the golden manifest; remove it, or add the "
            "data as a new version with `harness golden add`"
        )
    return manifest


def find_versions(root: Path) -> list[Path]:
    """Every golden version folder (one holding a manifest) under ``root``."""
    return sorted(p.parent for p in root.rglob(MANIFEST))


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _checked_name(value: str, what: str) -> str:
    if not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise GoldenIntegrityError(
            f"golden {what} {value!r} is not a plain name: use letters, digits, '.', '_' and '-' "
            "(no '/' or '..'), e.g. --dataset credit --version v2"
        )
    return value


def version_folder(root: Path, dataset: str, version: str) -> Path:
    """``root/dataset/version``, refusing any name that would lead outside ``root``."""
    base = root.resolve()
    target = (base / _checked_name(dataset, "dataset") / _checked_name(version, "version"))
    if not target.resolve().is_relative_to(base):  # e.g. a symlinked dataset folder
        raise GoldenIntegrityError(f"{target}: outside the golden root {base}; refusing to write")
    return target


def add_version(root: Path, dataset: str, version: str, files: list[Path], source: str,
                check: Callable[[Path, pd.DataFrame], None] | None = None) -> Path:
    """Record a new golden version as ``root/dataset/version``; never overwrites one, never
    writes outside ``root``. ``check`` may refuse a file (raising) before anything is written."""
    target = version_folder(root, dataset, version)
    if target.exists():
        raise GoldenIntegrityError(
            f"{target}: golden version already exists; versions are never rewritten, "
            "choose a new version name"
        )
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise GoldenIntegrityError(f"{missing[0]}: no such file to add as golden data")
    names = [f.name for f in files]
    if len(set(names)) != len(names) or MANIFEST in names:
        raise GoldenIntegrityError(f"golden files must have distinct names other than {MANIFEST}")
    for path in files:
        frame = _read_csv(path)
        if frame.empty:
            raise GoldenIntegrityError(f"{path}: no data rows (a header alone); golden data "
                                       "needs rows to judge a model on")
        if check is not None:
            check(path, frame)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    try:
        # mkdtemp makes a private folder; golden data is shared through version control.
        staging.chmod(0o755)
        for path in files:
            shutil.copyfile(path, staging / path.name)
            (staging / path.name).chmod(0o644)
        manifest = describe(staging, dataset, version, source)
        (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        # rename is atomic, and fails rather than replace if another writer got there first.
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' EmptyDataError and parse errors
        raise GoldenIntegrityError(f"{path}: not a readable CSV file ({exc})") from None
