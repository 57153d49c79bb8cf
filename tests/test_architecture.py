"""The package's layers (docs/architecture.md), checked by import-linter's contract in
pyproject.toml: each layer imports only those below it, so there are no cycles."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(harness.__file__).parent


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return [name.strip() for line in contract["layers"] for name in line.split("|")]


def test_no_package_imports_a_layer_above_it() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_and_module_of_harness_is_in_a_layer() -> None:
    found = {f"harness.{p.stem}" for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists())
             or (p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py"))}
    assert found == set(_layers())
