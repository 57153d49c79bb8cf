"""The reference project for tests: where it is, its config written with changes,
edited, and every file of a copy by digest."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from harness.data import golden

# How a test's teardown stops a protected environment through the CLI: a release manager's
# (ana's, in the reference configs) audited break-glass.
TEARDOWN_GLASS = ("--break-glass", "--reason", "test teardown", "--by", "ana")


ROOT = Path(__file__).resolve().parents[2]


# The reference project, laid out as a team's repository.
EXAMPLE = ROOT / "examples" / "credit"
# Recorded input files the tests are driven by (configs, runs).
FIXTURES = ROOT / "tests" / "fixtures"


def write_config(folder: Path, **changes: Any) -> Path:
    """Write the reference harness.yaml into ``folder`` with top-level ``changes`` applied
    (``model`` changes are merged into the model section)."""
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"].update(changes.pop("model", {}))
    data.update(changes)
    path = folder / "harness.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def reference_copy(folder: Path, model_artifact: Path) -> Path:
    """``folder`` made a copy of the reference project's data and model code, its config
    using ``model_artifact``; its ``pr`` profile runs the built-in checks only."""
    for name in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / name, folder / name)
    write_config(folder, model={"artifact": str(model_artifact)},
                 profiles={"pr": {"checks": ["schema", "quality"]}})
    return folder


GOLDEN = Path("golden/credit/v1")


def snapshot(project: Path) -> dict[str, str]:
    """Every file of the project (reports, golden data, history, deploy state) by digest;
    bytecode caches aside, which importing the model's module writes."""
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(project.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def edit_config(project: Path, **sections: object) -> None:
    config = project / "harness.yaml"
    data = yaml.safe_load(config.read_text())
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def rewrite_golden(project: Path, frame: pd.DataFrame) -> Path:
    """Replace the golden file and re-record its manifest, as a team recording bad data
    would: integrity holds, the content is what is wrong."""
    folder = project / GOLDEN
    path = folder / "credit.csv"
    frame.to_csv(path, index=False)
    manifest = golden.describe(folder, "credit", "v1", "test")
    (folder / golden.MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return path
