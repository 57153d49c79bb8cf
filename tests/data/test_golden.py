"""Versioned golden datasets: manifests find every changed byte and name the file.

The commands run for real (``python -m harness``) once per path: verify's refusal, check's
refusal, add's success and its refusal; the other cases through the CLI's ``main`` in this
process (tests/support/cli.py), which gives the same exit code and output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.data.golden import MANIFEST, add_version, read_manifest, verify
from harness.errors import GoldenIntegrityError
from tests.support.cli import Result, in_process
from tests.support.project import EXAMPLE


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


def _main(project: Path, *args: str) -> Result:
    """``harness ARGS`` from ``project``, through the CLI's main in this process."""
    return in_process(project / "harness.yaml", *args, cwd=project)


def test_golden_verify_command_names_the_tampered_file(project: Path) -> None:
    assert _main(project, "golden", "verify").returncode == 0
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


def _bare_project(folder: Path, golden_root: str | None = None) -> Path:
    """A project with no golden data yet: the schema and a model, `golden: []`."""
    folder.mkdir(parents=True)
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["golden"] = []
    data.pop("training")
    data.pop("load")  # its scenario names the credit golden set
    data["profiles"] = {"pr": {"checks": ["schema"]}}
    if golden_root:
        data["golden_root"] = golden_root
    (folder / "harness.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def test_golden_add_records_a_first_dataset_and_says_how_to_use_it(tmp_path: Path) -> None:
    project = _bare_project(tmp_path / "team")
    project.joinpath("data.csv").write_bytes((EXAMPLE / "golden/credit/v1/credit.csv").read_bytes())
    result = _harness(project, "golden", "add", "--dataset", "loans", "--version", "v1",
                      "data.csv")
    assert result.returncode == 0, result.stderr
    version = project / "golden/loans/v1"
    assert verify(version).rows == 1114
    assert "golden:\n  - name: loans-v1\n    path: golden/loans/v1/data.csv" in result.stdout
    assert version.stat().st_mode & 0o777 == 0o755
    assert (version / "data.csv").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team"], "nothing outside the project"
    verified = _main(project, "golden", "verify")
    assert verified.returncode == 0 and str(version) in verified.stdout


@pytest.mark.parametrize(("dataset", "version_name"), [
    ("../../etc", "v9"), ("loans", "../../../x"), ("/tmp/abs", "v1"), ("loans", ".."),
])
def test_golden_add_never_writes_outside_the_golden_root(tmp_path: Path, dataset: str,
                                                         version_name: str) -> None:
    project = _bare_project(tmp_path / "team")
    project.joinpath("data.csv").write_bytes((EXAMPLE / "golden/credit/v1/credit.csv").read_bytes())
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = _main(project, "golden", "add", "--dataset", dataset, "--version",
                   version_name, "data.csv")
    assert result.returncode == 2
    assert "is not a plain name" in result.stderr and "Traceback" not in result.stderr
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_golden_add_refuses_a_header_only_or_column_missing_file(tmp_path: Path) -> None:
    project = _bare_project(tmp_path / "team")
    source = (EXAMPLE / "golden/credit/v1/credit.csv").read_text().splitlines()
    project.joinpath("header.csv").write_text(source[0] + "\n")
    result = _harness(project, "golden", "add", "--dataset", "loans", "--version", "v1",
                      "header.csv")
    assert result.returncode == 2 and "no data rows" in result.stderr
    columns = source[0].split(",")
    keep = [i for i, c in enumerate(columns) if c != "Age"]
    project.joinpath("no_age.csv").write_text(
        "\n".join(",".join(line.split(",")[i] for i in keep) for line in source[:50]) + "\n")
    result = _main(project, "golden", "add", "--dataset", "loans", "--version", "v1",
                   "no_age.csv")
    assert result.returncode == 2 and "lacks the column(s) Age" in result.stderr
    assert not (project / "golden").exists()


def test_golden_root_is_configurable_and_verify_looks_only_there(tmp_path: Path) -> None:
    project = _bare_project(tmp_path / "team", golden_root="data/golden")
    project.joinpath("data.csv").write_bytes((EXAMPLE / "golden/credit/v1/credit.csv").read_bytes())
    # Another project's golden data beside this one is none of its business.
    shutil.copytree(EXAMPLE / "golden/credit/v1", tmp_path / "other/golden/credit/v1")
    _flip_one_byte(tmp_path / "other/golden/credit/v1/credit.csv")
    assert _main(project, "golden", "add", "--dataset", "loans", "--version", "v1",
                 "data.csv").returncode == 0
    assert (project / "data/golden/loans/v1/manifest.json").is_file()
    verified = _main(project, "golden", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "other" not in verified.stdout
