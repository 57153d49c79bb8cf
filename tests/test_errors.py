"""The error hierarchy: every error a user can fix is a class in harness/errors.py, and
carries what it is about as fields."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

import harness
from harness import errors
from harness.config import load_config
from harness.errors import ConfigError, HarnessError, PreflightError

PACKAGE = Path(harness.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures" / "configs"


def _error_classes_outside_errors_py() -> list[str]:
    known = {name for name, value in vars(errors).items()
             if isinstance(value, type) and issubclass(value, Exception)}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                         for b in node.bases}
                if bases & known:
                    found.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    return found


def test_every_public_harness_error_class_lives_in_errors_py() -> None:
    assert _error_classes_outside_errors_py() == []


def test_a_config_error_names_the_key_and_the_file(tmp_path: Path) -> None:
    source = FIXTURES / "unknown_check.yaml"
    with pytest.raises(ConfigError) as raised:
        load_config(source)
    assert raised.value.key == "profiles.pr.checks[0]"
    assert raised.value.path == source.resolve() or raised.value.path == source


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "harness.yaml")
    assert raised.value.path == tmp_path / "harness.yaml" and raised.value.key is None


@pytest.mark.parametrize("error", [
    HarnessError("m", key="model.url", path=Path("/x/harness.yaml"), candidate="c690ccdbbd26"),
    PreflightError("m", problems=(("golden[0].path", "no such file"),), path=Path("/x")),
])
def test_errors_keep_their_fields_across_pickling(error: HarnessError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert (copy.key, copy.path, copy.candidate) == (error.key, error.path, error.candidate)


def test_a_preflight_error_lists_its_problems_and_names_the_first_key() -> None:
    error = PreflightError("m", problems=(("a.b", "x"), ("c", "y")))
    assert error.key == "a.b" and error.problems == (("a.b", "x"), ("c", "y"))
    assert isinstance(error, ConfigError) and error.exit_code == 2
