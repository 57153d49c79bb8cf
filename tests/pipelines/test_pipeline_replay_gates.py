"""Pipelines replayed as Jenkins would run them (as in test_pipeline_replay.py), on a site
of their own so that both files run side by side: a team's pull request whose gates fail,
and this repository's own Jenkinsfile on the reference project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.jenkins_replay import (
    ROOT,
    file_at,
    junit_glob_problems,
    snapshot_repository,
)
from tests.support.jenkins_site import (
    PULL_REQUEST_STAGES,
    Site,
    TeamRepository,
    assert_ran,
    running_site,
    team_repository,
)
from tests.support.oci_registry import running_registry

# Real candidates built and checked by the installed harness: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory) as site:
        yield site


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> TeamRepository:
    return team_repository(tmp_path_factory)


def test_a_failing_gate_fails_its_stage_and_nothing_after_it_runs(site: Site,
                                                                  team: TeamRepository,
                                                                  tmp_path: Path) -> None:
    jenkinsfile = file_at(team.path, "labels-flipped", "Jenkinsfile", tmp_path / "Jenkinsfile")
    replay = site.agent.replay(jenkinsfile, "cancer-model/pull-requests/labels-flipped",
                               scm={"url": str(team.path), "branch": "labels-flipped"})
    statuses = replay.statuses()
    assert statuses["Build model"] == "success"
    assert statuses["Checks"] == "failure", replay.log()[-3000:]
    assert statuses["Publish candidate"] == "skipped: an earlier stage failed"
    assert replay.result == "FAILURE"
    command, code = replay.shell_exits()[-1]
    assert "check --profile" in command and code == 1, replay.shell_exits()
    # The reports are still published: Jenkins shows which gates failed, and why.
    assert junit_glob_problems(replay) == []
    assert not (replay.workspace / "reports/candidate.ref").exists()


def test_this_repository_s_jenkinsfile_on_the_reference_project(site: Site,
                                                                 tmp_path: Path) -> None:
    checkout = snapshot_repository(ROOT, tmp_path / "harness")
    credit = yaml.safe_load((ROOT / "examples/credit/harness.yaml").read_text())
    host, _, port = credit["registry"]["host"].rpartition(":")
    with running_registry(tmp_path / "registry", port=int(port)):
        replay = site.agent.replay(ROOT / "Jenkinsfile", "credit-scoring/pull-requests/main",
                                   scm={"url": str(checkout), "branch": "main"})
    assert_ran(replay, PULL_REQUEST_STAGES)
    assert (replay.workspace / "reports/pr/junit/checks.xml").is_file()
    assert (replay.workspace / "reports/candidate.ref").read_text().startswith(
        f"{host}:{port}/credit-scoring/model@sha256:")
