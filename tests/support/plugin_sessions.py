"""Real pytest sessions of the harness's plugin with ``pytester``: a project in its folder,
the JUnit it wrote read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.data.golden import MANIFEST, describe
from harness.run.verdict import CaseOutcome, read_junit
from tests.support.project import EXAMPLE, write_config


def _project(pytester: pytest.Pytester, model_artifact: Path, golden: pd.DataFrame | None = None,
             **changes) -> Path:
    """The reference config in pytester's folder; ``golden`` replaces the golden data
    (recorded as a version of its own, so the schema gates see it)."""
    version = pytester.path / "golden/credit/v1"
    if golden is None:
        shutil.copytree(EXAMPLE / "golden/credit/v1", version)
    else:
        version.mkdir(parents=True)
        golden.to_csv(version / "credit.csv", index=False)
        (version / MANIFEST).write_text(describe(version, "credit", "v1", "test").to_json())
    changes.setdefault("model", {})
    changes["model"].setdefault("artifact", str(model_artifact))
    changes.setdefault("passports", str(EXAMPLE / "golden/passports"))
    return write_config(
        pytester.path,
        golden=[{"name": "credit-v1", "path": "golden/credit/v1/credit.csv"}],
        training={"name": "train", "path": str(EXAMPLE / "fixtures/credit/train.csv")},
        profiles={"pr": {"checks": ["schema", "quality"]}, "schema-only": {"checks": ["schema"]}},
        **changes,
    )


def _run(pytester: pytest.Pytester, config: Path, *args: str) -> dict[str, CaseOutcome]:
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), f"--junitxml={junit}", *args)
    cases, problems = read_junit([junit])
    assert not problems
    return {f"{c.classname}::{c.name}": c for c in cases}
