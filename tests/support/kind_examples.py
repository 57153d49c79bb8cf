"""The multiclass (wine) and regression (diabetes) example projects, copied into a
temporary folder and trained there by their own code, as a team would."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.support.project import ROOT

EXAMPLES = {"wine": ("wine_model", "fixtures/wine/train.csv"),
            "diabetes": ("diabetes_model", "fixtures/diabetes/train.csv")}


def copy_example(name: str, folder: Path) -> Path:
    """The example's config, data and model code in ``folder`` (no artifacts, no history)."""
    source = ROOT / "examples" / name
    package, _ = EXAMPLES[name]
    folder.mkdir(parents=True, exist_ok=True)
    for part in ("golden", "fixtures", package):
        shutil.copytree(source / part, folder / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(source / "harness.yaml", folder / "harness.yaml")
    return folder


def train(name: str, project: Path, out: Path, seed: int = 0,
          drop: Sequence[str] = ()) -> Path:
    """Train the example's model with its own CLI; returns the artifact folder."""
    package, data = EXAMPLES[name]
    command = [sys.executable, "-m", f"{package}.train", "--data", data, "--out", str(out),
               "--seed", str(seed), *(arg for f in drop for arg in ("--drop-feature", f))]
    subprocess.run(command, cwd=project, check=True, timeout=120, capture_output=True)
    return out


def configure(project: Path, **model: Any) -> Path:
    """Apply ``model`` changes to the copy's harness.yaml."""
    path = project / "harness.yaml"
    data = yaml.safe_load(path.read_text())
    data["model"].update(model)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
