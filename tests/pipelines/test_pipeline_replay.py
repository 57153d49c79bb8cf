"""Every pipeline replayed as Jenkins would run it, for real: a team's own repository (a
`harness init` project with its own training script, in a git repository outside this one)
through the shared library's pull-request, promote and nightly steps, and this repository's
own Jenkinsfile on the reference project. The steps come from the library's Groovy itself
(tests/jenkins/replay.groovy runs it); each runs from the workspace root with Jenkins'
environment, the harness installed by the library's install stage from the site's wheel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from harness.run.verdict import decide
from tests.support.jenkins_replay import (
    ROOT,
    Agent,
    Replay,
    commit_all,
    file_at,
    git,
    html_problems,
    junit_glob_problems,
    snapshot_repository,
)
from tests.support.oci_registry import RunningRegistry, running_registry
from tests.support.pipelines import render_jobs
from tests.support.project import TEARDOWN_GLASS
from tests.support.service_process import free_port

# Real candidates staged, deployed and promoted: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end

CANCER = ROOT / "examples" / "cancer"
PULL_REQUEST_STAGES = ["Install harness", "Build model", "Checks", "Publish candidate"]
JENKINSFILE = """\
@Library('harness@v0.2') _
harnessPullRequest(config: 'harness.yaml')
"""


def library_version() -> str:
    """The harness release the library pins (vars/harnessSettings.groovy)."""
    text = (ROOT / "vars/harnessSettings.groovy").read_text()
    return re.search(r"HARNESS_VERSION = '([^']+)'", text).group(1)  # type: ignore[union-attr]


@dataclass
class Site:
    """A Jenkins site: one agent, the registry its teams publish to."""

    agent: Agent
    registry: RunningRegistry

    def harness(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The installed harness on the agent, with the agent's environment."""
        return subprocess.run([str(self.agent.root / "harness-venv/bin/harness"), *args],
                              env={**self.agent.env("admin", self.agent.root),
                                   "PATH": "/usr/local/bin:/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site publishes this checkout's harness as a wheel its agents' pip finds (see
    docs/jenkins.md); the agent keeps one virtualenv across builds (HARNESS_VENV), one
    history store and the local target's environments, shared by every job on it."""
    root = tmp_path_factory.mktemp("site")
    source = root / "harness-source"
    snapshot_repository(ROOT, source)
    wheels = root / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(wheels), str(source)], check=True, timeout=600, capture_output=True)
    assert [w.name for w in wheels.glob("*.whl")] == [
        f"harness-{library_version()}-py3-none-any.whl"], "the library pins another release"
    agent = Agent(root / "agent", site_env={
        "PIP_FIND_LINKS": str(wheels),
        "HARNESS_PYTHON": sys._base_executable,
        "HARNESS_VENV": str(root / "agent/harness-venv"),
        "HARNESS_HISTORY_URL": f"sqlite:///{root / 'agent/history.db'}",
        "HARNESS_STATE_DIR": str(root / "agent/state"),
        # The agent's cache: deepchecks' virtualenv, shared with this test session's.
        "HARNESS_CACHE_DIR": os.environ["HARNESS_CACHE_DIR"],
    })
    with running_registry(root / "registry") as registry:
        yield Site(agent, registry)


@dataclass(frozen=True)
class TeamRepository:
    path: Path
    staging: int
    production: int


LABELS_FLIPPED = """
frame = pd.read_csv(data)
frame[LABEL] = frame[LABEL].map({"benign": "malignant", "malignant": "benign"})
"""


@pytest.fixture(scope="module")
def team(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamRepository]:
    """The lending team's repository: `harness init` on its data with its own training
    script (model.build), the first passport blessed, its registry, a two-line Jenkinsfile.
    Branch `labels-flipped` trains on flipped labels: its gates must fail."""
    repo = tmp_path_factory.mktemp("team") / "cancer-model"
    repo.mkdir()
    for name in ("cancer.csv", "model.py"):
        shutil.copy(CANCER / name, repo / name)
    staging, production = free_port(), free_port()
    harness = [sys.executable, "-m", "harness"]
    subprocess.run([*harness, "init", "--data", "cancer.csv", "--label", "diagnosis",
                    "--positive", "malignant", "--entrypoint", "model:load",
                    "--artifact", "artifacts/model", "--build", "python model.py",
                    "--manager", "ana", "--staging-port", str(staging),
                    "--production-port", str(production)],
                   cwd=repo, check=True, capture_output=True, timeout=300)
    config = yaml.safe_load((repo / "harness.yaml").read_text())
    config["registry"] = {"host": site.registry.host, "repository": "lending/cancer",
                          "insecure": True}
    # The team enables deepchecks' suites in its nightly: after the README's install alone.
    # Its radius, perimeter and area columns measure the same cells (correlated by
    # construction), and 140 golden rows are too few for predictive-power scores: the two
    # checks deepchecks fails on this data, left out as a team would, on purpose.
    config["profiles"]["nightly"]["checks"].append("deepchecks")
    config["deepchecks"] = {"exclude": ["multivariate_drift", "feature_feature_correlation",
                                        "feature_label_correlation_change"]}
    (repo / "harness.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run([*harness, "build"], cwd=repo, check=True, capture_output=True, timeout=300)
    subprocess.run([*harness, "golden", "bless", "--by", "ana", "--reason", "first model"],
                   cwd=repo, check=True, capture_output=True, timeout=300)
    shutil.rmtree(repo / "artifacts")
    shutil.rmtree(repo / ".harness")
    (repo / "Jenkinsfile").write_text(JENKINSFILE)
    (repo / ".gitignore").write_text("artifacts/\nreports/\n.harness/\n.harness-venv/\n")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    commit_all(repo, "onboarded with harness init")
    git(repo, "checkout", "--quiet", "-b", "labels-flipped")
    model = (repo / "model.py").read_text()
    (repo / "model.py").write_text(model.replace("\n    frame = pd.read_csv(data)\n",
                                                 LABELS_FLIPPED.replace("\n", "\n    ")))
    commit_all(repo, "train on the labels as the new source spells them")
    git(repo, "checkout", "--quiet", "main")
    yield TeamRepository(repo, staging, production)
    for env, glass in (("staging", ()), ("production", TEARDOWN_GLASS)):
        site.harness("--config", str(site.agent.workspace("cancer-model/promote") /
                                     "harness.yaml"), "stop", "--env", env, *glass)


def _assert_ran(replay: Replay, stages: list[str]) -> None:
    statuses = replay.statuses()
    assert [statuses.get(s) for s in stages] == ["success"] * len(stages), (
        f"{statuses}\n{replay.log()[-4000:]}")
    assert all(code == 0 for _, code in replay.shell_exits()), replay.shell_exits()
    assert replay.result == "SUCCESS", replay.log()[-4000:]
    assert junit_glob_problems(replay) == []
    assert html_problems(replay) == []


def _team_jobs(site: Site, team: TeamRepository, out: Path) -> dict[str, ET.Element]:
    """The site's jobs/ rendered with the team's line added in a jobs file of its own."""
    teams = out / "teams"
    teams.mkdir(parents=True)
    (teams / "cancer.yaml").write_text(yaml.safe_dump([{"project": {
        "name": "git-models",
        "model": [{"cancer-model": {"git-url": str(team.path), "credentials-id": "",
                                    "config": "harness.yaml", "nightly-deploy": "staging"}}],
        "jobs": ["{model}-git-jobs"]}}]))
    return render_jobs(ROOT / "jobs", out / "xml", extra=[teams])


def _script(jobs: dict[str, ET.Element], job: str, out: Path) -> Path:
    script = jobs[job].findtext("definition/script")
    assert script, f"{job} has no inline script"
    out.write_text(script)
    return out


def test_a_team_repository_through_every_pipeline(site: Site, team: TeamRepository,
                                                   tmp_path: Path) -> None:
    scm = {"url": str(team.path), "branch": "main"}
    jenkinsfile = file_at(team.path, "main", "Jenkinsfile", tmp_path / "Jenkinsfile")

    # Pull request: the pinned harness installed, the team's build, the checks, publish.
    pull = site.agent.replay(jenkinsfile, "cancer-model/pull-requests/main", scm=scm)
    _assert_ran(pull, PULL_REQUEST_STAGES)
    assert pull.libraries == ["harness@v0.2"]
    assert f"installed harness {library_version()}" in pull.log()
    assert (pull.workspace / "reports/pr/junit/checks.xml").is_file()
    reference = (pull.workspace / "reports/candidate.ref").read_text().strip()
    assert reference.startswith(f"{site.registry.host}/lending/cancer@sha256:")
    assert not list((pull.workspace / "reports").glob(".pr-*")), "a staging folder was left"

    # The next build on the same agent keeps the installed harness.
    again = site.agent.replay(jenkinsfile, "cancer-model/pull-requests/main", scm=scm)
    _assert_ran(again, PULL_REQUEST_STAGES)
    assert "kept harness" in again.log()

    # Promote: the site's job, from the team's line, deploys the published bytes to staging,
    # gates on the release checks, asks a release manager, promotes.
    jobs = _team_jobs(site, team, tmp_path / "jobs")
    promote = site.agent.replay(_script(jobs, "cancer-model/promote", tmp_path / "promote"),
                                "cancer-model/promote", params={"CANDIDATE": reference},
                                approver="ana")
    _assert_ran(promote, ["Checkout", "Install harness", "Deploy to staging",
                          "Gate: release checks on staging", "Approval and promotion"])
    assert promote.stage("Approval and promotion")["input"]["submitter"] == "release-managers"
    assert promote.statuses()["Promote by canary steps"] == "skipped: when"  # all at once
    built = re.search(r"sha256: ([0-9a-f]{64})", pull.stage("Build model")["steps"][0]["output"])
    version = httpx.get(f"http://127.0.0.1:{team.production}/version", timeout=5).json()
    assert built and version["artifact_sha256"] == built.group(1), "production runs other bytes"

    # Nightly: the night's build deployed to staging, judged against production.
    nightly = site.agent.replay(_script(jobs, "cancer-model/nightly", tmp_path / "nightly"),
                                "cancer-model/nightly")
    _assert_ran(nightly, ["Checkout", "Install harness", "Build model", "Deploy the build",
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
    _assert_ran(replay, PULL_REQUEST_STAGES)
    assert (replay.workspace / "reports/pr/junit/checks.xml").is_file()
    assert (replay.workspace / "reports/candidate.ref").read_text().startswith(
        f"{host}:{port}/credit-scoring/model@sha256:")
