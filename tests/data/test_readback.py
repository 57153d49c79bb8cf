"""Every file the harness reads back is checked as it is read, and its multi-file writes are
all-or-nothing: a corrupt passport, manifest, config or golden file is one refusal (exit 2)
naming the file and the field, and nothing is run, written or recorded."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from harness import golden_commands
from harness.cli import main
from harness.config import load_config
from harness.data import golden, passport
from harness.history import HistoryStore

FOLDER = "golden/passports/credit-v1"


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` by its sha256: passports, history, reports, deploy state."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str]:
    """The CLI in this process, from the project's folder: (exit code, stdout + stderr)."""
    monkeypatch.chdir(project)
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def refused(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str) -> str:
    """Run a command that must be refused: exit 2, one error, no traceback, nothing changed."""
    before = snapshot(project)
    code, out = run(project, monkeypatch, capsys, *args)
    assert code == 2, out
    assert out.count("harness: error:") == 1 and "Traceback" not in out, out
    assert snapshot(project) == before, "a refusal changed files"
    return out


def _npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


@pytest.fixture
def blessed(project: Path) -> Path:
    golden_commands.bless(load_config(project / "harness.yaml"), "ana", "the retrained model")
    return project


def _rewrite_scores(project: Path, scores: np.ndarray) -> None:
    """Replace passport #2's scores and record their sha256 in its JSON, as a forger would."""
    data = _npy(scores)
    (project / FOLDER / "0002.scores.npy").write_bytes(data)
    record = json.loads((project / FOLDER / "0002.json").read_text())
    record["scores_sha256"] = hashlib.sha256(data).hexdigest()
    (project / FOLDER / "0002.json").write_text(json.dumps(record))


# Passports


def test_a_passport_rewritten_with_a_matching_scores_sha256_is_refused(
        blessed: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scores = np.load(blessed / FOLDER / "0002.scores.npy")
    _rewrite_scores(blessed, scores[::-1].copy())  # valid scores, not the blessed ones
    for command in (["golden", "verify"], ["check", "--profile", "pr"]):
        out = refused(blessed, monkeypatch, capsys, *command)
        assert "0002.json: passport changed since it was blessed" in out
        assert "history recorded for passport #2 of 'credit-v1'" in out
    assert not (blessed / "reports").exists()


def test_a_passport_whose_json_changed_is_refused(
        blessed: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = blessed / FOLDER / "0002.json"
    record = json.loads(path.read_text())
    record["metrics"]["overall"]["log_loss"]["value"] = 5.38
    path.write_text(json.dumps(record))
    out = refused(blessed, monkeypatch, capsys, "check", "--profile", "pr")
    assert "0002.json: passport changed since it was blessed" in out


def _committed_scores(project: Path, scores: object) -> None:
    """Passport #1 of the reference project keeps its scores in JSON (no history holds it)."""
    path = project / FOLDER / "0001.json"
    record = json.loads(path.read_text())
    record["scores"] = scores
    path.write_text(json.dumps(record))


def _scores(project: Path) -> list[float]:
    return json.loads((project / FOLDER / "0001.json").read_text())["scores"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: [float("nan"), *s[1:]], "hold values that are not finite"),
    (lambda s: [[x, 1 - x] for x in s], "have the shape (1114, 2), expected (1114,)"),
    (lambda s: ["a", *s[1:]], "are not numbers"),
    (lambda s: s[:-1], "have the shape (1113,), expected (1114,)"),
    (lambda s: [x * 5 - 2 for x in s], "are not what a binary model scores"),
    (lambda s: [1e308 * 10, *s[1:]], "hold values that are not finite"),
])
def test_bad_scores_are_one_refusal_before_any_gate_runs(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        change: object, message: str) -> None:
    _committed_scores(project, change(_scores(project)))  # type: ignore[operator]
    out = refused(project, monkeypatch, capsys, "check", "--profile", "pr")
    assert f"{FOLDER}/0001.json: field 'scores': passport #1's scores {message}" in out
    assert "CallInfo" not in out and not (project / "reports").exists()
    assert not (project / ".harness").exists(), "nothing is recorded"


def test_a_two_column_scores_file_is_refused_naming_it(
        blessed: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scores = np.load(blessed / FOLDER / "0002.scores.npy")
    _rewrite_scores(blessed, np.stack([1 - scores, scores], axis=1))
    # Keep history out of it: the shape is refused on its own.
    store = HistoryStore(load_config(blessed / "harness.yaml").history_url())
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM passports")
    store.close()
    out = refused(blessed, monkeypatch, capsys, "golden", "verify")
    assert "0002.scores.npy: passport #2's scores have the shape (1114, 2)" in out


@pytest.mark.parametrize(("field", "value", "message"), [
    ("scores_file", "../../../etc/passwd", ("field 'scores_file' '../../../etc/passwd' is not a "
                                           "file name beside the passport")),
    ("number", "1", "field 'number' is a string (1), not an integer"),
    ("number", 7, "field 'number' is 7, not the 0001 of its file name"),
    ("kind", "ranking", "field 'kind' 'ranking' is not a model kind"),
    ("metrics", [], "field 'metrics' is a list ([]), not an object"),
    ("threshold", True, "field 'threshold' is a boolean (True), not a number"),
    ("surprise", 1, "unknown field 'surprise'"),
])
def test_a_malformed_passport_field_is_named(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        field: str, value: object, message: str) -> None:
    path = project / FOLDER / "0001.json"
    record = json.loads(path.read_text())
    record[field] = value
    path.write_text(json.dumps(record))
    out = refused(project, monkeypatch, capsys, "golden", "verify")
    assert f"{FOLDER}/0001.json: {message}" in out


# Golden manifests and paths


def _manifest_rows_as_text(text: str) -> str:
    data = json.loads(text)
    data["files"]["credit.csv"]["rows"] = "1114"
    return json.dumps(data)


@pytest.mark.parametrize(("change", "message"), [
    (None, "golden manifest missing; record the version with `harness golden add`"),
    (lambda t: json.dumps({**json.loads(t), "files": 5}),
     "field 'files' is an integer (5), not an object"),
    (_manifest_rows_as_text, "field 'files.credit.csv.rows' is a string (1114), not an integer"),
    (lambda t: "[1, 2]", "golden manifest holds a list, not an object"),
    (lambda t: t[:40], "golden manifest is not valid JSON"),
    (lambda t: "\udcff", "golden manifest is not UTF-8 text"),
])
def test_a_broken_manifest_is_refused_by_check_and_verify(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        change: object, message: str) -> None:
    path = project / "golden/credit/v1/manifest.json"
    if change is None:
        path.unlink()
    else:
        path.write_bytes(change(path.read_text()).encode("utf-8",  # type: ignore[operator]
                                                         "surrogateescape"))
    for command in (["check", "--profile", "pr"], ["golden", "verify"]):
        out = refused(project, monkeypatch, capsys, *command)
        assert f"golden/credit/v1/manifest.json: {message}" in out


@pytest.mark.parametrize("where", ["folder", "text"])
def test_a_golden_path_that_is_not_a_recorded_csv_is_refused(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        where: str) -> None:
    config = yaml.safe_load((project / "harness.yaml").read_text())
    if where == "folder":
        config["golden"][0]["path"] = "golden/credit/v1"
    else:
        (project / "notes.txt").write_text("not a csv\n")
        config["golden"][0]["path"] = "notes.txt"
    (project / "harness.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    out = refused(project, monkeypatch, capsys, "check", "--profile", "pr")
    if where == "folder":
        assert "key 'golden[0].path': " in out and "golden/credit/v1 is a folder; name a CSV" in out
        out = refused(project, monkeypatch, capsys, "golden", "verify")
        assert "golden/credit/v1: golden[0].path in " in out and "names a folder" in out
    else:
        assert "key 'golden[0].path': " in out and f"{project}/manifest.json: golden manifest " \
            "missing" in out
        out = refused(project, monkeypatch, capsys, "golden", "verify")
        assert f"{project}/manifest.json: golden manifest missing" in out


# Config


def test_a_config_that_is_not_utf8_is_refused(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "harness.yaml"
    path.write_bytes(path.read_bytes().replace(b"credit-scoring", b"cr\xe9dit-scoring", 1))
    out = refused(project, monkeypatch, capsys, "check", "--profile", "pr")
    assert "harness.yaml: not UTF-8 text (byte 0xe9 at position" in out


# Blessing: all or nothing


def _second_golden_set(project: Path, label: str) -> None:
    """A second golden set, recorded by the library (as `golden add` no longer would), one of
    whose labels is ``label``."""
    lines = (project / "golden/credit/v1/credit.csv").read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("Status")
    row = lines[1].split(",")
    row[column] = label
    source = project / "second.csv"
    source.write_text("\n".join([lines[0], ",".join(row), *lines[2:200]]) + "\n")
    golden.add_version(project / "golden", "second", "v1", [source], "test")
    source.unlink()
    config = yaml.safe_load((project / "harness.yaml").read_text())
    config["golden"].append({"name": "second-v1", "path": "golden/second/v1/second.csv"})
    (project / "harness.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def test_bless_validates_every_golden_set_before_writing_any_passport(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _second_golden_set(project, "maybe")
    out = refused(project, monkeypatch, capsys, "golden", "bless", "--by", "ana", "--reason", "r")
    assert "maybe" in out
    assert sorted(p.name for p in (project / FOLDER).iterdir()) == ["0001.json"]
    assert not (project / "golden/passports/second-v1").exists()
    assert not (project / ".harness").exists(), "history unchanged"


def test_a_write_that_fails_half_way_leaves_no_passport(project: Path) -> None:
    from harness.gates import passports
    from harness.model.adapters import open_model

    _second_golden_set(project, "good")
    config = load_config(project / "harness.yaml")
    measured = passports.measure(config, open_model(config, config.model), {"name": "m"},
                                 "ana", "r")
    (project / "golden/passports/second-v1").write_text("a file where a folder must be")
    with pytest.raises(OSError):
        passports.publish(measured)
    assert sorted(p.name for p in (project / FOLDER).iterdir()) == ["0001.json"]
    [first] = passport.history(config, "credit-v1")
    assert passport.current(config, config.golden[0]) == first


# Evidence timestamps


@pytest.fixture
def evidenced(project: Path, model_artifact: Path) -> tuple[Path, str]:
    """A candidate with passing evidence recorded for it, as a release run leaves it."""
    from harness.candidate.identity import build_candidate
    from harness.run.evidence import write_bundle

    config = load_config(project / "harness.yaml")
    reports = project / "reports/release"
    (reports / "junit").mkdir(parents=True)
    (reports / "junit/checks.xml").write_text("<testsuite/>")
    store = HistoryStore(config.history_url())
    candidate = build_candidate(model_artifact)
    write_bundle(reports, candidate, "staging", "release", True, 1, {}, store, config.root)
    store.close()
    return project, candidate.id


def _restamp(project: Path, created_at: str) -> None:
    """Change the bundle's time and record its new sha256, as a consistent forger would."""
    path = project / "reports/release/evidence.json"
    data = json.loads(path.read_text())
    data["created_at"] = created_at
    path.write_text(json.dumps(data))
    store = HistoryStore(load_config(project / "harness.yaml").history_url())
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE evidence SET bundle_sha256 = ?",
                                   (hashlib.sha256(path.read_bytes()).hexdigest(),))
    store.close()


@pytest.mark.parametrize(("created_at", "message"), [
    ("yesterday", "field 'created_at' 'yesterday' is not an ISO 8601 time"),
    ("2026-11-25T13:28:43", "field 'created_at' '2026-11-25T13:28:43' has no timezone"),
    ("2099-01-01T00:00:00+00:00", "field 'created_at' 2099-01-01T00:00:00+00:00 is "),
])
def test_an_evidence_time_that_is_unreadable_naive_or_future_is_refused_and_audited(
        evidenced: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], created_at: str, message: str) -> None:
    from harness.history.release import audit_trail
    from harness.run.verdict import decide

    project, candidate = evidenced
    _restamp(project, created_at)
    before = snapshot(project)
    code, out = run(project, monkeypatch, capsys, "promote", "--candidate", candidate,
                    "--approver", "ana")
    assert code == 2 and out.count("harness: error:") == 1 and "Traceback" not in out, out
    assert f"evidence.json: {message}" in out
    if created_at.startswith("2099"):
        assert "minutes in the future, more than the 5 a clock may be ahead" in out
    after = snapshot(project)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {".harness/history.db", "reports/promotion/junit/promotion-refused.xml"}
    store = HistoryStore(load_config(project / "harness.yaml").history_url())
    [entry] = audit_trail(store)
    store.close()
    assert entry.outcome == "refused" and message in entry.detail
    verdict = decide([project / "reports/promotion/junit/promotion-refused.xml"])
    assert len(verdict.failures) == 1 and message in verdict.failures[0].message


# golden add


def _golden_file(project: Path, column: str, value: str) -> Path:
    lines = (project / "golden/credit/v1/credit.csv").read_text().splitlines()
    index = lines[0].split(",").index(column)
    row = lines[5].split(",")
    row[index] = value
    path = project / "new.csv"
    path.write_text("\n".join([*lines[:5], ",".join(row), *lines[6:100]]) + "\n")
    return path


@pytest.mark.parametrize(("column", "value", "message"), [
    ("Status", "maybe", ("column 'Status' in 'new.csv' has 1 values outside the allowed set, "
                        "e.g. maybe (line 6)")),
    ("Age", "forty", ("expected integer (non-numeric values such as 'forty' at line 6), as "
                     "schema.columns.Age in ")),
    ("Age", "x" * 100_000, " characters, sha256 "),
])
def test_golden_add_refuses_what_check_would_refuse(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        column: str, value: str, message: str) -> None:
    source = _golden_file(project, column, value)
    out = refused(project, monkeypatch, capsys, "golden", "add", "--dataset", "credit",
                  "--version", "v2", str(source))
    assert "new.csv: column " in out and message in out
    assert len(out) < 1500, "an input value is echoed in full"
    assert not (project / "golden/credit/v2").exists()


def test_golden_add_refuses_a_binary_label_that_is_neither_class(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = yaml.safe_load((project / "harness.yaml").read_text())
    del config["schema"]["columns"]["Status"]["allowed"]
    (project / "harness.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    source = _golden_file(project, "Status", "maybe")
    out = refused(project, monkeypatch, capsys, "golden", "add", "--dataset", "credit",
                  "--version", "v2", str(source))
    assert "label column 'Status' holds" in out and "'maybe'" in out


# History from a newer harness


def test_status_refuses_a_history_store_of_a_newer_schema(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = HistoryStore(load_config(project / "harness.yaml").history_url())
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    store.close()
    out = refused(project, monkeypatch, capsys, "status")
    assert "has schema revision '0099', which this harness does not know" in out
    assert "cannot tell whether" not in out


def test_a_blessing_history_cannot_record_leaves_no_passport(project: Path) -> None:
    from harness.errors import HistoryError

    config = load_config(project / "harness.yaml")
    store = HistoryStore(config.history_url())
    with store.engine.begin() as connection:  # a store that fails the blessing's write
        connection.exec_driver_sql("ALTER TABLE passports RENAME TO passports_elsewhere")
    store.close()
    with pytest.raises(HistoryError, match="could not record the blessing .*nothing of it"):
        golden_commands.bless(config, "ana", "r")
    assert sorted(p.name for p in (project / FOLDER).iterdir()) == ["0001.json"]
