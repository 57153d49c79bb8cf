"""Every pipeline replayed as Jenkins would run it, for real: a team's own repository (a
`harness init` project with its own training script, in a git repository outside this one)
through the shared library's pull-request, promote and nightly steps; a pull request whose
gates fail; and this repository's own Jenkinsfile on the reference project. The steps come
from the library's Groovy itself (tests/jenkins/replay.groovy runs it); each runs from the
workspace root with Jenkins' environment, the harness installed by the library's install
stage from the site's wheel.

The replays share one site, as a team's builds share their agent: its first build (the
team's first pull request, the first test here) installs the harness, minutes of pip, and
every later build keeps it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.run.verdict import decide
from tests.support.jenkins_replay import ROOT, file_at, junit_glob_problems, snapshot_repository
from tests.support.jenkins_site import (
    PULL_REQUEST_STAGES,
    Site,
    TeamRepository,
    assert_ran,
    job_script,
    library_version,
    running_site,
    stop_team,
    team_jobs,
    team_repository,
)
from tests.support.oci_registry import running_registry

# Real candidates staged, deployed and promoted: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> TeamRepository:
    return team_repository(tmp_path_factory)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, team: TeamRepository) -> Iterator[Site]:
    """The site whose registry the team's repository names; what the team's promote job
    deployed on its agent is stopped after."""
    with running_site(tmp_path_factory, team.registry_port) as site:
        yield site
        stop_team(site, team)


def test_a_team_repository_through_every_pipeline(site: Site, team: TeamRepository,
                                                   tmp_path: Path) -> None:
    scm = {"url": str(team.path), "branch": "main"}
    jenkinsfile = file_at(team.path, "main", "Jenkinsfile", tmp_path / "Jenkinsfile")

    # Pull request: the pinned harness installed, the team's build, the checks, publish.
    pull = site.agent.replay(jenkinsfile, "cancer-model/pull-requests/main", scm=scm)
    assert_ran(pull, PULL_REQUEST_STAGES)
    assert pull.libraries == ["harness@v0.2"]
    assert f"installed harness {library_version()}" in pull.log()
    assert (pull.workspace / "reports/pr/junit/checks.xml").is_file()
    reference = (pull.workspace / "reports/candidate.ref").read_text().strip()
    assert reference.startswith(f"{site.registry.host}/lending/cancer@sha256:")
    assert not list((pull.workspace / "reports").glob(".pr-*")), "a staging folder was left"

    # Promote: the site's job, from the team's line, deploys the published bytes to staging,
    # gates on the release checks, asks a release manager, promotes.
    jobs = team_jobs(team, tmp_path / "jobs")
    promote = site.agent.replay(job_script(jobs, "cancer-model/promote", tmp_path / "promote"),
                                "cancer-model/promote", params={"CANDIDATE": reference},
                                approver="ana")
    assert_ran(promote, ["Checkout", "Install harness", "Deploy to staging",
                         "Gate: release checks on staging", "Approval and promotion"])
    # The next build on the same agent keeps the installed harness.
    assert "kept harness" in promote.log() and "installed harness" not in promote.log()
    assert promote.stage("Approval and promotion")["input"]["submitter"] == "release-managers"
    assert promote.statuses()["Promote by canary steps"] == "skipped: when"  # all at once
    built = re.search(r"sha256: ([0-9a-f]{64})", pull.stage("Build model")["steps"][0]["output"])
    version = httpx.get(f"http://127.0.0.1:{team.production}/version", timeout=5).json()
    assert built and version["artifact_sha256"] == built.group(1), "production runs other bytes"

    # Nightly: the night's build deployed to staging, judged against production.
    nightly = site.agent.replay(job_script(jobs, "cancer-model/nightly", tmp_path / "nightly"),
                                "cancer-model/nightly")
    assert_ran(nightly, ["Checkout", "Install harness", "Build model", "Deploy the build",
                         "Nightly checks"])
    assert (nightly.workspace / "reports/nightly/html/index.html").is_file()
    cases = decide([nightly.workspace / "reports/nightly/junit/checks.xml"]).cases
    deep = [c for c in cases if c.suite == "deepchecks"]
    assert deep and not [c for c in deep if c.status in ("failed", "error")], deep


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
