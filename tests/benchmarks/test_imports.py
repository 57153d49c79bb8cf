"""Every name a benchmark imports from this repository exists: benchmarks import lazily,
inside the section that needs it, so a moved module breaks one only when it is measured
(the tests' move to tests/support/ broke `make peers` unnoticed)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.support.project import ROOT

BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


def _own_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from harness... / from tests... import`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in ("harness", "tests"):
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _submodule(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_a_benchmark_imports_only_what_exists(path: Path) -> None:
    for module, names in _own_imports(path):
        imported = importlib.import_module(module)
        missing = [name for name in names
                   if not hasattr(imported, name) and not _submodule(f"{module}.{name}")]
        assert not missing, f"{path.name}: {module} has no {missing}"


def test_the_check_sees_a_moved_module(tmp_path: Path) -> None:
    moved = tmp_path / "bench.py"
    moved.write_text("def section():\n    from tests.service_process import free_port\n")
    [(module, _names)] = _own_imports(moved)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)
