"""Every command of the CLI against a corpus of corrupt files: configs, golden manifests,
passports, evidence, deploy state and data files, generated from the reference project's
own files (truncated, not UTF-8, of the wrong JSON types, NaN, huge numbers). Whatever the
file, a command ends with exit 0, 1 or 2 and one line of error, never a traceback.

Commands run in this process through ``harness.cli.main``, so the corpus stays quick."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import build_parser, main
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port

Command = tuple[str, ...]

# How each command is called in the corpus (the project's files are what is corrupt).
ARGS: dict[Command, list[str]] = {
    ("build",): [],
    ("check",): ["--profile", "pr"],
    ("init",): ["--data", "data.csv", "--label", "Status", "--positive", "bad",
                "--entrypoint", "credit_model.model:load", "--artifact", "model",
                "--dir", "new"],
    ("golden", "verify"): [],
    ("golden", "add"): ["--dataset", "credit", "--version", "v9", "data.csv"],
    ("golden", "bless"): ["--by", "ana", "--reason", "corpus"],
    ("golden", "plan"): ["--margin", "0.02"],
    ("history",): ["--passports"],
    ("benchmark",): [],
    ("load", "worker"): ["--master", "127.0.0.1:1", "--wait-s", "0"],
    ("load", "render"): ["--image", "x@sha256:" + "0" * 64, "--namespace", "n",
                         "--workers", "1", "--out", "k8s"],
    ("report",): ["--profile", "pr"],
    ("promote",): ["--candidate", "CANDIDATE", "--approver", "ana"],
    ("recover",): ["--by", "ana"],
    ("run",): ["--approver", "ana"],
    ("audit",): [],
    ("deploy",): ["--env", "staging"],
    ("shadow",): ["--env", "production", "--candidate", "model", "--max-requests", "10",
                  "--max-duration", "1"],
    ("canary",): ["--env", "production", "--candidate", "model", "--approver", "ana",
                  "--max-requests", "10"],
    ("publish",): [],
    ("pull",): ["--reference", "127.0.0.1:1/x@sha256:" + "0" * 64, "--out", "pulled"],
    ("serve",): ["--port", "1"],
    ("status",): [],
    ("rollback",): ["--env", "staging"],
    ("stop",): ["--env", "staging"],
    ("verify",): [],
    ("keygen",): ["--out", "key.pem"],
    ("rbac",): ["--env", "production", "--account-namespace", "ci", "--out", "rbac"],
    ("route",): ["--env", "production", "--shadow", "--out", "route"],
}
# Commands that read no file of the project: nothing in the corpus reaches them.
NOT_IN_CORPUS = {("deepchecks", "install"): "creates deepchecks' virtualenv from PyPI; "
                                             "reads no project file"}
# What reads each corrupt file. Commands that would start a service or run a release when
# a corruption leaves a file readable are kept to the config corpus, where any config
# they run with is checked to be refused first.
CONFIG = "harness.yaml"
MANIFEST = "golden/credit/v1/manifest.json"
PASSPORT = "golden/passports/credit-v1/0001.json"
EVIDENCE = "reports/release/evidence.json"
STATE = ".harness/deploy/staging/state.json"
DATA = "data.csv"
READERS: dict[str, list[Command]] = {
    MANIFEST: [("check",), ("golden", "verify"), ("golden", "bless"), ("golden", "plan"),
               ("report",)],
    PASSPORT: [("check",), ("golden", "verify"), ("golden", "plan"), ("report",)],
    EVIDENCE: [("promote",), ("canary",), ("recover",), ("audit",)],
    STATE: [("status",), ("stop",), ("rollback",)],
    DATA: [("init",), ("golden", "add")],
}
# Run against a config with one key made wrong or missing.
PER_KEY: list[Command] = [("check",), ("deploy",), ("promote",), ("status",)]
# Run against a config that a corruption left valid: they read, start or change nothing.
SAFE: list[Command] = [("status",), ("history",), ("audit",), ("golden", "verify"),
                       ("verify",), ("rbac",), ("route",)]


def commands(parser: argparse.ArgumentParser, prefix: Command = ()) -> Iterator[Command]:
    """Every runnable command of the parser, as its words."""
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not found:
        yield prefix
        return
    for name, sub in found[0].choices.items():
        yield from commands(sub, (*prefix, name))


def test_the_corpus_calls_every_command() -> None:
    assert set(commands(build_parser())) == set(ARGS) | set(NOT_IN_CORPUS)
    assert all(c in ARGS for readers in READERS.values() for c in readers)


# The corrupt variants of one file, by name, from its bytes.


def _leaves(value: Any, change: Callable[[Any], Any]) -> Any:
    """``value`` with every number (not a boolean) inside replaced by ``change(number)``."""
    if isinstance(value, dict):
        return {k: _leaves(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, change) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return change(value)
    return value


def _wrong(value: Any) -> Any:
    """A value of another JSON type."""
    if isinstance(value, dict):
        return [1]
    if isinstance(value, list):
        return {"a": 1}
    if isinstance(value, str):
        return 7
    return "seven"


def variants(original: bytes, dump: Callable[[Any], bytes],
             load: Callable[[bytes], Any]) -> Iterator[tuple[str, bytes]]:
    for fraction in (0.0, 0.1, 0.5, 0.9):
        yield f"truncated at {fraction:.0%}", original[:int(len(original) * fraction)]
    yield "not UTF-8", b"\xff\xfe" + original
    yield "one byte not UTF-8", original[:20] + b"\xe9" + original[21:]
    data = load(original)
    for other in ([], "text", 5, None):
        yield f"top level {type(other).__name__}", dump(other)
    yield "every number NaN", dump(_leaves(data, lambda _: math.nan))
    yield "every number huge", dump(_leaves(data, lambda _: 10 ** 400))
    yield "every number infinite", dump(_leaves(data, lambda _: math.inf))
    yield "every number negative", dump(_leaves(data, lambda v: -v - 1))
    if isinstance(data, dict):
        for key in sorted(data):
            yield f"{key} of the wrong type", dump({**data, key: _wrong(data[key])})
            yield f"{key} missing", dump({k: v for k, v in data.items() if k != key})
        yield "a huge unknown field", dump({**data, "x" * 100_000: 1})


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, sort_keys=False).encode()


def _csv_variants(original: bytes) -> Iterator[tuple[str, bytes]]:
    lines = original.splitlines(keepends=True)
    yield "empty", b""
    yield "header only", lines[0]
    yield "truncated mid-row", b"".join(lines[:30])[:-7]
    yield "not UTF-8", b"".join(lines[:30]).replace(b"rent", b"r\xe9nt")
    yield "binary", bytes(range(256)) * 8
    yield "ragged rows", lines[0] + b"a,b\n" + b"".join(lines[1:30])
    yield "a huge value", lines[0] + b"x" * 1_000_000 + b"," + lines[1].split(b",", 1)[1]
    yield "NaN labels", lines[0] + b"".join(b"NaN" + line[line.index(b","):]
                                           for line in lines[1:30])


# The project the corpus corrupts, built once from fixtures: a passport (0001, committed),
# evidence recorded for a candidate, a deploy state for staging.


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, model_artifact: Path) -> tuple[Path, str]:
    from harness.candidate.identity import build_candidate
    from harness.config import load_config
    from harness.deploy.state import EnvState, Revision, env_dir, save_state
    from harness.history import HistoryStore
    from harness.run.evidence import write_bundle

    root = tmp_path_factory.mktemp("corpus") / "project"
    root.mkdir()
    for folder in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / folder, root / folder)
    shutil.copytree(model_artifact, root / "model")
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    environments = data["environments"]
    environments["staging"]["port"], environments["production"]["port"] = free_port(), free_port()
    write_config(root, model={"artifact": "model"}, environments=environments,
                 profiles={"pr": {"checks": ["schema", "quality"]},
                           "release": data["profiles"]["release"]})
    (root / DATA).write_bytes((EXAMPLE / "golden/credit/v1/credit.csv").read_bytes())
    config = load_config(root / CONFIG)
    candidate = build_candidate(root / "model")
    reports = root / "reports/release"
    (reports / "junit").mkdir(parents=True)
    (reports / "junit/checks.xml").write_text("<testsuite/>")
    store = HistoryStore(config.history_url())
    write_bundle(reports, candidate, "staging", "release", True, 1, {}, store, config.root)
    store.close()
    revision = Revision(revision=1, candidate=candidate,
                        artifact_dir=root / ".harness/none", deployed_at="2026-12-01T00:00:00Z")
    save_state(env_dir(config.state_dir(), "staging"),
               EnvState(env="staging", port=environments["staging"]["port"], current=1,
                        revisions=[revision]))
    return root, candidate.id


def _run(argv: list[str]) -> tuple[int | None, str, BaseException | None]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(argv)
    except SystemExit as exit_:  # argparse
        return int(exit_.code or 0), out.getvalue(), None
    except BaseException as exc:  # noqa: BLE001 - what the CLI let through: a traceback
        return None, out.getvalue(), exc
    return code, out.getvalue(), None


@pytest.mark.parametrize("name", [CONFIG, MANIFEST, PASSPORT, EVIDENCE, STATE, DATA],
                         ids=lambda n: n.rsplit("/", 1)[-1])
def test_every_command_survives_a_corrupt_file(template: tuple[Path, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               name: str) -> None:
    from harness.config import load_config
    from harness.errors import ConfigError

    root, candidate = template
    original = (root / name).read_bytes()
    if name == DATA:
        corpus = list(_csv_variants(original))
    else:
        dump, load = (_yaml, yaml.safe_load) if name == CONFIG else (_json, json.loads)
        corpus = list(variants(original, dump, load))
    if name == EVIDENCE:
        consistent = [(f"{what}, its sha256 recorded", data) for what, data in corpus]
        corpus += consistent
    broken: list[str] = []
    ran = 0
    for what, data in corpus:
        project = tmp_path / f"case{ran}"
        shutil.copytree(root, project, symlinks=True)
        (project / name).write_bytes(data)
        if what.endswith("its sha256 recorded"):
            _record_bundle_sha(project)
        monkeypatch.chdir(project)
        if name == CONFIG:
            try:
                load_config(project / CONFIG)
                selected = SAFE  # the corruption left a valid config
            except ConfigError:
                # Every command reads the config the same way: all of them for each kind of
                # corruption, a few for each key made wrong (the corpus stays quick).
                per_key = what.endswith((" of the wrong type", " missing"))
                selected = PER_KEY if per_key else [c for c in ARGS if c != ("init",)]
        else:
            selected = READERS[name]
        for command in selected:
            argv = [*command, *[candidate if a == "CANDIDATE" else a for a in ARGS[command]]]
            code, out, exc = _run(argv)
            ran += 1
            if exc is not None or code not in (0, 1, 2) or "Traceback" in out:
                broken.append(f"{' '.join(command)} with {name} {what}: rc {code}, "
                              f"{type(exc).__name__ if exc else ''} {str(exc)[:200]} "
                              f"{out[-300:]}")
            elif code == 2 and len(out) > 5000:
                broken.append(f"{' '.join(command)} with {name} {what}: a {len(out)}-character "
                              "message")
        shutil.rmtree(project, ignore_errors=True)
    assert not broken, f"{len(broken)} of {ran} runs broke:\n" + "\n".join(broken)
    assert ran >= len(corpus)


def _record_bundle_sha(project: Path) -> None:
    """As a forger who also rewrote history: the bundle's new sha256 recorded."""
    import hashlib

    from harness.config import load_config
    from harness.history import HistoryStore

    digest = hashlib.sha256((project / EVIDENCE).read_bytes()).hexdigest()
    store = HistoryStore(load_config(project / CONFIG).history_url())
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE evidence SET bundle_sha256 = ?", (digest,))
    store.close()

