"""A Jenkins site for the pipeline replays (tests/pipelines/test_pipeline_replay.py): the
site's wheel of this checkout, an agent that installs it as the library's install stage
does, the registry its teams publish to, and a team's own repository onboarded with
`harness init`. The wheel and the team's repository are made once per test session (also
under xdist: tests/support/once.py) and only read; the replays share one site (its agent
installs the harness once, minutes of pip, and keeps it for every later build)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import child_pytest
from tests.support.jenkins_replay import (
    ROOT,
    Agent,
    Replay,
    commit_all,
    git,
    html_problems,
    junit_glob_problems,
    snapshot_repository,
)
from tests.support.oci_registry import RunningRegistry, running_registry
from tests.support.once import once
from tests.support.pipelines import render_jobs
from tests.support.project import TEARDOWN_GLASS
from tests.support.service_process import free_port

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


def site_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the site's wheel of this checkout, made once for the session."""
    def make() -> Path:
        root = tmp_path_factory.mktemp("site-wheels")
        source = root / "harness-source"
        snapshot_repository(ROOT, source)
        wheels = root / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                        str(wheels), str(source)], check=True, timeout=600,
                       capture_output=True)
        return wheels

    wheels = once(tmp_path_factory, "site_wheels", make)
    assert [w.name for w in wheels.glob("*.whl")] == [
        f"harness-{library_version()}-py3-none-any.whl"], "the library pins another release"
    return wheels


@contextmanager
def running_site(tmp_path_factory: pytest.TempPathFactory,
                 registry_port: int | None = None) -> Iterator[Site]:
    """The site publishes this checkout's harness as a wheel its agents' pip finds (see
    docs/jenkins.md); the agent keeps one virtualenv across builds (HARNESS_VENV), one
    history store and the local target's environments, shared by every job on it. Its
    registry listens on ``registry_port`` (the team repository's) if given."""
    wheels = site_wheels(tmp_path_factory)
    root = tmp_path_factory.mktemp("site")
    agent = Agent(root / "agent", site_env={
        "PIP_FIND_LINKS": str(wheels),
        "HARNESS_PYTHON": sys._base_executable,
        "HARNESS_VENV": str(root / "agent/harness-venv"),
        "HARNESS_HISTORY_URL": f"sqlite:///{root / 'agent/history.db'}",
        "HARNESS_STATE_DIR": str(root / "agent/state"),
        # The agent's cache: deepchecks' virtualenv, shared with this test session's.
        "HARNESS_CACHE_DIR": os.environ["HARNESS_CACHE_DIR"],
        # Its checks' pytest processes load the plugins they use, as this session's do.
        **child_pytest.environment(),
    })
    with running_registry(root / "registry", port=registry_port) as registry:
        yield Site(agent, registry)


@dataclass(frozen=True)
class TeamRepository:
    path: Path
    staging: int
    production: int
    registry_port: int  # of the registry its config names (a site's, running_site)


LABELS_FLIPPED = """
frame = pd.read_csv(data)
frame[LABEL] = frame[LABEL].map({"benign": "malignant", "malignant": "benign"})
"""


def team_repository(tmp_path_factory: pytest.TempPathFactory) -> TeamRepository:
    """The lending team's repository, made once for the session and only read (cloned) by
    the replays: `harness init` on its data with its own training script (model.build), the
    first passport blessed, its registry, a two-line Jenkinsfile. Branch `labels-flipped`
    trains on flipped labels: its gates must fail. A site that publishes its candidates
    runs its registry on the repository's ``registry_port``."""
    return once(tmp_path_factory, "team_repository",
                lambda: _onboard(tmp_path_factory.mktemp("team") / "cancer-model"))


def _onboard(repo: Path) -> TeamRepository:
    repo.mkdir()
    for name in ("cancer.csv", "model.py"):
        shutil.copy(CANCER / name, repo / name)
    staging, production, registry_port = free_port(), free_port(), free_port()
    harness = [sys.executable, "-m", "harness"]
    subprocess.run([*harness, "init", "--data", "cancer.csv", "--label", "diagnosis",
                    "--positive", "malignant", "--entrypoint", "model:load",
                    "--artifact", "artifacts/model", "--build", "python model.py",
                    "--manager", "ana", "--staging-port", str(staging),
                    "--production-port", str(production)],
                   cwd=repo, check=True, capture_output=True, timeout=300)
    config = yaml.safe_load((repo / "harness.yaml").read_text())
    config["registry"] = {"host": f"127.0.0.1:{registry_port}", "repository": "lending/cancer",
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
    return TeamRepository(repo, staging, production, registry_port)


def stop_team(site: Site, team: TeamRepository) -> None:
    """Stop what the team's promote job deployed on the site's agent."""
    for env, glass in (("staging", ()), ("production", TEARDOWN_GLASS)):
        site.harness("--config", str(site.agent.workspace("cancer-model/promote") /
                                     "harness.yaml"), "stop", "--env", env, *glass)


def assert_ran(replay: Replay, stages: list[str]) -> None:
    """Every stage succeeded, every shell step exited 0, and what Jenkins publishes is there."""
    statuses = replay.statuses()
    assert [statuses.get(s) for s in stages] == ["success"] * len(stages), (
        f"{statuses}\n{replay.log()[-4000:]}")
    assert all(code == 0 for _, code in replay.shell_exits()), replay.shell_exits()
    assert replay.result == "SUCCESS", replay.log()[-4000:]
    assert junit_glob_problems(replay) == []
    assert html_problems(replay) == []


def team_jobs(team: TeamRepository, out: Path) -> dict[str, ET.Element]:
    """The site's jobs/ rendered with the team's line added in a jobs file of its own."""
    teams = out / "teams"
    teams.mkdir(parents=True)
    (teams / "cancer.yaml").write_text(yaml.safe_dump([{"project": {
        "name": "git-models",
        "model": [{"cancer-model": {"git-url": str(team.path), "credentials-id": "",
                                    "config": "harness.yaml", "nightly-deploy": "staging"}}],
        "jobs": ["{model}-git-jobs"]}}]))
    return render_jobs(ROOT / "jobs", out / "xml", extra=[teams])


def job_script(jobs: dict[str, ET.Element], job: str, out: Path) -> Path:
    """A rendered job's inline pipeline script, in a file."""
    script = jobs[job].findtext("definition/script")
    assert script, f"{job} has no inline script"
    out.write_text(script)
    return out
