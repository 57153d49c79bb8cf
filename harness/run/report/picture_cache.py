"""The model's pictures kept by what they show, so the same scores are drawn once.

A picture of the model (``model_plots``) is a function of the scores the gates kept (their
sha256, ``harness.gates.scores.fingerprint``), of the code that draws it and of the library
versions. Keyed by the sha256 of all of them, a run whose scores did not change (a pull
request that left the model, the golden data and the passport alone) copies the PNG files
and tables an earlier run drew instead of importing scikit-learn and drawing them again;
any change of scores, code or versions is another key. The ``KEEP`` entries used last are
kept, the others removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.run.report.model_plots import ModelSection

KEEP = 8
_SECTIONS = "sections.json"
_CODE = ("model_plots.py", "plots.py")  # what draws the pictures, beside this module
_LIBRARIES = ("matplotlib", "numpy", "scipy", "scikit-learn")


def key(fingerprint: str) -> str:
    """The entry of the scores with this fingerprint, as this code and these libraries
    draw them."""
    digest = hashlib.sha256(f"scores {fingerprint}\0".encode())
    for name in _CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    for library in _LIBRARIES:
        try:
            digest.update(f"\0{library} {version(library)}".encode())
        except PackageNotFoundError:
            digest.update(f"\0{library} none".encode())
    return digest.hexdigest()


def fetch(cache: Path, entry: str, folder: Path) -> list[ModelSection] | None:
    """The sections kept under ``entry``, their PNG files copied into ``folder``; None when
    there is no such entry, or it cannot be read whole (then draw them)."""
    kept = cache / entry
    try:
        sections = [_section(s) for s in json.loads((kept / _SECTIONS).read_text("utf-8"))]
        folder.mkdir(parents=True, exist_ok=True)
        for section in sections:
            for figure in section.figures:
                shutil.copyfile(kept / figure.plot.file, folder / figure.plot.file)
        os.utime(kept)  # used last: kept longest
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sections


def store(cache: Path, entry: str, folder: Path, sections: list[ModelSection]) -> None:
    """Keep the sections drawn into ``folder`` under ``entry`` (written apart, then renamed
    into place: a run reading the cache sees a whole entry or none), and remove the entries
    used least recently beyond ``KEEP``. A cache that cannot be written is left alone."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".entry-", dir=cache))
        for section in sections:
            for figure in section.figures:
                shutil.copyfile(folder / figure.plot.file, staging / figure.plot.file)
        (staging / _SECTIONS).write_text(json.dumps([asdict(s) for s in sections]), "utf-8")
        try:
            staging.rename(cache / entry)
        except OSError:  # another run kept the same entry first
            shutil.rmtree(staging, ignore_errors=True)
        entries = sorted((p for p in cache.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return


def _section(data: dict[str, Any]) -> ModelSection:
    from harness.run.report.model_plots import ModelFigure, ModelSection
    from harness.run.report.plots import Plot

    figures = []
    for figure in data["figures"]:
        plot = Plot(**figure["plot"])
        if Path(plot.file).name != plot.file or not plot.file.endswith(".png"):
            raise ValueError(f"not a picture of the report folder: {plot.file!r}")
        figures.append(ModelFigure(plot, list(figure["head"]), [list(r) for r in figure["rows"]]))
    return ModelSection(data["dataset"], data["kind"], int(data["rows"]), data["baseline"],
                        figures)
