"""Versioned golden datasets: manifests find every changed byte and name the file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import GoldenIntegrityError
from harness.golden import MANIFEST, add_version, read_manifest, verify
from tests.conftest import EXAMPLE, ROOT


@pytest.fixture
def version(tmp_path: Path) -> Path:
    target = tmp_path / "golden/credit/v1"
    shutil.copytree(EXAMPLE / "golden/credit/v1", target)
    return target


def _flip_one_byte(path: Path, offset: int = 500) -> None:
    data = bytearray(path.read_bytes())
    data[offset] = ord("7") if data[offset] != ord("7") else ord("8")
    path.write_bytes(bytes(data))


def test_the_shipped_golden_data_matches_its_manifest() -> None:
    manifest = verify(EXAMPLE / "golden/credit/v1")
    assert manifest.rows == 1114 and manifest.source.startswith("modeldata::credit_data")


def test_one_changed_byte_is_refused_naming_the_file(version: Path) -> None:
    _flip_one_byte(version / "credit.csv")
    with pytest.raises(GoldenIntegrityError, match=r"credit\.csv: golden file changed"):
        verify(version)


def test_a_missing_and_an_unexpected_file_are_named(version: Path) -> None:
    (version / "extra.csv").write_text("a\n1\n")
    with pytest.raises(GoldenIntegrityError, match=r"extra\.csv: file not in the golden manifest"):
        verify(version)
    (version / "extra.csv").unlink()
    (version / "credit.csv").unlink()
    with pytest.raises(GoldenIntegrityError, match=r"credit\.csv: golden file missing"):
        verify(version)


def test_a_missing_manifest_says_how_to_record_one(version: Path) -> None:
    (version / MANIFEST).unlink()
    with pytest.raises(GoldenIntegrityError, match="harness golden add"):
        verify(version)


def test_adding_a_version_never_rewrites_an_old_one(version: Path, tmp_path: Path) -> None:
    root = version.parent.parent
    before = (version / MANIFEST).read_bytes()
    new = add_version(root, "credit", "v2", [version / "credit.csv"], source="a copy")
    assert read_manifest(new).version == "v2" and verify(new).rows == 1114
    with pytest.raises(GoldenIntegrityError, match="already exists; versions are never rewritten"):
        add_version(root, "credit", "v1", [version / "credit.csv"], source="again")
    assert (version / MANIFEST).read_bytes() == before
    assert sorted(p.name for p in (root / "credit").iterdir()) == ["v1", "v2"], "no staging left"


def _harness(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False)


def test_golden_verify_command_names_the_tampered_file(project: Path) -> None:
    assert _harness(project, "golden", "verify").returncode == 0
    _flip_one_byte(project / "golden/credit/v1/credit.csv")
    result = _harness(project, "golden", "verify")
    assert result.returncode == 2
    assert "golden/credit/v1/credit.csv: golden file changed" in result.stderr


def test_a_run_refuses_tampered_golden_data_before_anything_runs(project: Path) -> None:
    _flip_one_byte(project / "golden/credit/v1/credit.csv")
    result = _harness(project, "check", "--profile", "pr")
    assert result.returncode == 2
    assert "credit.csv: golden file changed" in result.stderr
    assert not (project / "reports").exists()
