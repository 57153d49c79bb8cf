"""Jenkins pipelines replayed as Jenkins runs them, for the tests: the real Groovy of a
Jenkinsfile (or of a job's inline script) and of the shared library's ``vars/`` runs in
``tests/jenkins/replay.groovy``, its ``sh`` steps for real, from a fresh workspace, with the
environment a Jenkins agent gives a build. No Jenkins server is needed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml

from tests.support.project import ROOT

REPLAY = ROOT / "tests" / "jenkins" / "replay.groovy"
JENKINS_URL = "http://jenkins.example.org/"


def groovy_env() -> dict[str, str]:
    """The environment the Groovy tools need: a JAVA_HOME that holds a Java runtime."""
    env = dict(os.environ)
    if not Path(env.get("JAVA_HOME", "/nonexistent"), "bin/java").exists():
        java = shutil.which("java")
        assert java, "groovy needs a Java runtime"
        env["JAVA_HOME"] = str(Path(java).resolve().parents[1])
    return env


def require_groovy(tool: str = "groovy") -> str:
    """The path of Debian's ``groovy`` (or ``groovyc``); ``.ci/run`` installs it."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run installs Debian's groovy package")
        pytest.skip(f"{tool} is not installed (apt-get install groovy)")
    return path


@dataclass(frozen=True)
class Replay:
    """What a replayed build did: its result, each stage as it ran, what it published."""

    result: str
    stages: list[dict[str, Any]]
    published: list[dict[str, Any]]
    console: Path
    workspace: Path
    libraries: list[str] = field(default_factory=list)  # what `@Library(...)` asked for
    error: str | None = None

    def statuses(self) -> dict[str, str]:
        return {s["name"]: s["status"] for s in self.stages}

    def stage(self, name: str) -> dict[str, Any]:
        [found] = [s for s in self.stages if s["name"] == name]
        return found

    def shell_exits(self) -> list[tuple[str, int]]:
        """(the step's first command line, its exit code) for every ``sh`` step that ran."""
        return [(_first_line(step["script"]), step["exit"])
                for stage in self.stages for step in stage["steps"] if step["step"] == "sh"]

    def published_by(self, step: str) -> list[dict[str, Any]]:
        return [p for p in self.published if p["step"] == step]

    def log(self) -> str:
        return self.console.read_text(errors="replace")


def _first_line(script: str) -> str:
    lines = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    return lines[0].strip() if lines else ""


@dataclass
class Agent:
    """A Jenkins agent: its own environment (PATH, HOME, the site's settings) and a folder
    of workspaces, one per job, as Jenkins keeps them."""

    root: Path
    site_env: dict[str, str] = field(default_factory=dict)
    builds: int = 0

    def workspace(self, job: str) -> Path:
        return self.root / "workspace" / job

    def env(self, job: str, workspace: Path) -> dict[str, str]:
        """What Jenkins puts in a build's environment, over the agent's own."""
        self.builds += 1
        number = str(self.builds)
        base = {name: os.environ[name] for name in ("HOME", "LANG", "TMPDIR")
                if name in os.environ}
        return {
            **base,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            **self.site_env,
            "WORKSPACE": str(workspace),
            "JOB_NAME": job, "JOB_BASE_NAME": job.rsplit("/", 1)[-1],
            "BUILD_NUMBER": number, "BUILD_ID": number,
            "BUILD_TAG": f"jenkins-{job.replace('/', '-')}-{number}",
            "BUILD_URL": f"{JENKINS_URL}job/{job.replace('/', '/job/')}/{number}/",
            "JENKINS_URL": JENKINS_URL, "NODE_NAME": "agent-1", "NODE_LABELS": "harness agent-1",
            "EXECUTOR_NUMBER": "0",
            # What Jenkins' process-tree killer looks for in the processes a build left.
            "JENKINS_NODE_COOKIE": uuid.uuid4().hex,
        }

    def replay(self, script: Path, job: str, *, scm: dict[str, str] | None = None,
               params: dict[str, str] | None = None, approver: str | None = None,
               library: Path = ROOT, timeout_s: float = 1800) -> Replay:
        """Run ``script`` as job ``job``'s next build, in that job's workspace."""
        workspace = self.workspace(job)
        runs = self.root / "builds" / job.replace("/", "_") / str(self.builds + 1)
        runs.mkdir(parents=True, exist_ok=True)
        env = self.env(job, workspace)
        request = {
            "jenkinsfile": str(script), "library": str(library), "workspace": str(workspace),
            "env": env, "params": params or {}, "scm": scm,
            "approver": approver, "result": str(runs / "result.json"),
        }
        (runs / "request.json").write_text(json.dumps(request, indent=2))
        try:
            finished = subprocess.run(
                [require_groovy(), str(REPLAY), str(runs / "request.json")], env=groovy_env(),
                capture_output=True, text=True, timeout=timeout_s, check=False)
        finally:
            kill_build_processes(env["JENKINS_NODE_COOKIE"])
        result_file = runs / "result.json"
        if finished.returncode != 0 or not result_file.exists():
            raise AssertionError(f"the replay itself failed (exit {finished.returncode}):\n"
                                 f"{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}")
        result = json.loads(result_file.read_text())
        return Replay(result["result"], result["stages"], result["published"],
                      Path(result["console"]), workspace, result["library"], result.get("error"))


def kill_build_processes(cookie: str) -> list[int]:
    """What Jenkins does when a build ends: every process still running with the build's
    ``JENKINS_NODE_COOKIE`` in its environment is killed. Returns their pids."""
    marker = f"JENKINS_NODE_COOKIE={cookie}".encode()
    killed = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                pid = int(environ.parent.name)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        except (OSError, ValueError):
            continue  # gone, or not ours to read
    return killed


def junit_glob_problems(replay: Replay) -> list[str]:
    """Every ``junit`` step's pattern must match files, each holding testcases."""
    problems = []
    for step in replay.published_by("junit"):
        if not step["keepProperties"]:
            problems.append(f"{step['testResults']}: published without keepProperties")
        if not step["files"]:
            problems.append(f"{step['testResults']} matches no file")
        for name in step["files"]:
            xml = JUnitXml.fromfile(str(replay.workspace / name))
            suites = [xml] if xml._tag == "testsuite" else list(xml)
            if not sum(len(list(suite)) for suite in suites):
                problems.append(f"{name} holds no testcase")
    return problems


def html_problems(replay: Replay) -> list[str]:
    """Every ``publishHTML`` step must name a folder that exists, with its page in it."""
    return [f"publishHTML {p['reportName']}: {p['reportDir']}/{p['reportFiles']} is missing"
            for p in replay.published_by("publishHTML")
            if not (p["exists"] and (replay.workspace / p["reportDir"]).is_dir())]


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` as a developer would (a fixed identity, no global config)."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Team", "GIT_AUTHOR_EMAIL": "team@example.org",
           "GIT_COMMITTER_NAME": "Team", "GIT_COMMITTER_EMAIL": "team@example.org",
           "GIT_CONFIG_GLOBAL": "/dev/null"}
    return subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout


def commit_all(folder: Path, message: str) -> None:
    git(folder, "add", "-A")
    git(folder, "commit", "--quiet", "-m", message)


def snapshot_repository(source: Path, destination: Path, branch: str = "main") -> Path:
    """A git repository holding ``source``'s working tree as it is now (tracked and new files
    that git does not ignore): what a push of the current change would make Jenkins build."""
    files = git(source, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    destination.mkdir(parents=True)
    for name in filter(None, files.split("\0")):
        if (source / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, destination / name)
    git(destination, "init", "--quiet", "--initial-branch", branch)
    commit_all(destination, "the change under test")
    return destination


def file_at(repository: Path, branch: str, path: str, out: Path) -> Path:
    """A file as the branch holds it (Jenkins reads a Jenkinsfile from the SCM first)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(git(repository, "show", f"{branch}:{path}"))
    return out
