"""Config parsing, driven by fixture files: ``<case>.yaml`` beside ``<case>.expected``
(a line the error must contain); a case with no ``.expected`` file must parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import ConfigError
from tests.support.project import EXAMPLE, FIXTURES

CASES = sorted((FIXTURES / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_config_fixture(path: Path) -> None:
    expected = path.with_suffix(".expected")
    if not expected.exists():
        config = load_config(path)
        assert config.source == path.resolve()
        return
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    message = str(excinfo.value)
    assert str(path.resolve()) in message, "the error must name the file"
    assert expected.read_text().strip() in message


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "harness.yaml")


def test_reference_config_parses() -> None:
    config = load_config(EXAMPLE / "harness.yaml")
    assert config.profile("pr").checks == ["schema", "quality"]
    assert {d.name for d in config.datasets()} == {"credit-v1", "train"}


def test_unknown_profile_lists_known_ones() -> None:
    config = load_config(EXAMPLE / "harness.yaml")
    with pytest.raises(ConfigError, match=r"no profile 'nope'.*known: .*pr"):
        config.profile("nope")


def test_reference_config_runs_load_nightly_and_at_release_not_on_pull_requests() -> None:
    config = load_config(EXAMPLE / "harness.yaml")
    assert "load" not in config.profile("pr").checks
    assert {"load", "benchmark"} <= set(config.profile("nightly").checks)
    assert "load" in config.profile("release").checks
    assert config.profile("release").environment == config.release.staging == "staging"
    assert config.load.slos and not config.load.allow_remote
    assert config.gates.benchmark is not None
    assert config.resolve(config.gates.benchmark.baseline).is_file()
    assert config.load.locustfile is None  # the generic scenario the harness ships


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["gates"]["quality"]["roc_auc"].update(min=1.7),
     ("key 'gates.quality.roc_auc.min': 1.7 is outside roc_auc's range 0..1; give a bound "
     "within 0..1")),
    (lambda d: d["environments"]["staging"].update(url="http://"),
     ("key 'environments.staging.url': 'http://' has no host; write it as "
     "http://HOST[:PORT][/PATH]")),
    (lambda d: d["golden"].append(dict(d["golden"][0])),
     ("key 'golden[1].name': 'credit-v1' is also the name of golden[0]; give each a name of "
     "its own")),
    (lambda d: d["slices"].append({"name": "job", "column": "Home"}),
     "key 'slices[3].name': 'job' is also the name of slices[0]; give each a name of its own"),
], ids=["roc-auc-floor-1.7", "url-without-host", "golden-twice", "slice-twice"])
def test_the_cli_refuses_a_semantically_invalid_config_before_anything_runs(
        project: Path, change, expected: str) -> None:
    import yaml

    from tests.support.cli import harness
    from tests.support.project import snapshot

    config = project / "harness.yaml"
    data = yaml.safe_load(config.read_text())
    change(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    before = snapshot(project)
    result = harness(project, "check", "--profile", "pr")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (f"harness: error: {config}: invalid configuration\n"
                             f"  {expected}\n")
    assert snapshot(project) == before, "nothing written: reports, history, golden, deploy"
