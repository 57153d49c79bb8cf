"""The Jenkins jobs in jobs/, rendered for real with ``jenkins-jobs test`` and read back
as the XML Jenkins would receive: one set of jobs per model, each in its team's own
repository, every pipeline a step of the harness's shared library."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.support.pipelines import ROOT, render_jobs

JOB_KINDS = ("pull-requests", "nightly", "promote")
GITHUB_SOURCE = "org.jenkinsci.plugins.github_branch_source.GitHubSCMSource"
GIT_SOURCE = "jenkins.plugins.git.GitSCMSource"
# A second team's model, in a repository that is not on GitHub, in a jobs file of its own.
TEAM_JOBS = [{"project": {
    "name": "risk-models",
    "model": [{"fraud": {"git-url": "https://git.example.org/risk/fraud.git",
                         "credentials-id": "risk-git", "branch": "release",
                         "config": "models/fraud/harness.yaml", "nightly-deploy": "staging"}}],
    "jobs": ["{model}-git-jobs"]}}]


def listed_models(jobs_dir: Path = ROOT / "jobs") -> dict[str, dict[str, str]]:
    """The models jobs/models.yaml lists, with the settings of their lines."""
    return {name: spec for entry in yaml.safe_load((jobs_dir / "models.yaml").read_text())
            for model in entry["project"]["model"] for name, spec in model.items()}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ET.Element]:
    """The site's jobs/ and a team's own jobs file, merged as `jenkins-jobs` merges paths."""
    out = tmp_path_factory.mktemp("jobs")
    (out / "teams").mkdir()
    (out / "teams/risk.yaml").write_text(yaml.safe_dump(TEAM_JOBS))
    return render_jobs(ROOT / "jobs", out / "xml", extra=[out / "teams"])


def _script(job: ET.Element) -> str:
    definition = job.find("definition[@class='org.jenkinsci.plugins.workflow.cps."
                          "CpsFlowDefinition']")
    assert definition is not None and definition.findtext("sandbox") == "true"
    return definition.findtext("script") or ""


def test_every_model_gets_one_set_of_jobs_from_two_repositories(
        jobs: dict[str, ET.Element]) -> None:
    models = [*listed_models(), "fraud"]
    assert len(models) >= 2, "jobs/models.yaml lists no model"
    expected = {name for model in models for name in (model, *(f"{model}/{k}" for k in JOB_KINDS))}
    assert set(jobs) == expected
    for model, config in listed_models().items():
        assert (ROOT / config["config"]).is_file(), f"{model}: {config['config']} does not exist"


def test_a_github_model_s_pull_requests_are_discovered_through_github(
        jobs: dict[str, ET.Element]) -> None:
    for model, line in listed_models().items():
        job = jobs[f"{model}/pull-requests"]
        assert job.tag == "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
        source = job.find(f".//source[@class='{GITHUB_SOURCE}']")
        assert source is not None
        assert (source.findtext("repoOwner"), source.findtext("repository")) == (
            line["github-owner"], line["github-repo"])
        traits = {t.tag.rsplit(".", 1)[-1] for t in source.find("traits")}
        assert {"OriginPullRequestDiscoveryTrait", "ForkPullRequestDiscoveryTrait",
                "BranchDiscoveryTrait"} <= traits
        assert job.findtext("factory/scriptPath") == "Jenkinsfile"


def test_a_model_in_any_git_repository_builds_its_branches(jobs: dict[str, ET.Element]) -> None:
    job = jobs["fraud/pull-requests"]
    source = job.find(f".//source[@class='{GIT_SOURCE}']")
    assert source is not None
    assert source.findtext("remote") == "https://git.example.org/risk/fraud.git"
    assert source.findtext("credentialsId") == "risk-git"
    assert job.findtext("factory/scriptPath") == "Jenkinsfile"


def test_nightly_calls_the_library_with_the_team_s_repository_on_a_timer(
        jobs: dict[str, ET.Element]) -> None:
    for model in (*listed_models(), "fraud"):
        job = jobs[f"{model}/nightly"]
        assert job.tag == "flow-definition"
        spec = job.findtext(".//org.jenkinsci.plugins.workflow.job.properties."
                            "PipelineTriggersJobProperty/triggers/"
                            "hudson.triggers.TimerTrigger/spec")
        # Hashed minute, one run a day in a fixed hour: Jenkins spreads models over the hour.
        assert spec is not None and re.fullmatch(r"H \d{1,2} \* \* \*", spec), spec
        assert _script(job).startswith("@Library('harness@v0.2') _\nharnessNightly(")
    fraud = _script(jobs["fraud/nightly"])
    for setting in ("config: 'models/fraud/harness.yaml'",
                    "repository: 'https://git.example.org/risk/fraud.git'",
                    "credentialsId: 'risk-git'", "branch: 'release'", "deploy: 'staging'"):
        assert setting in fraud, setting


def test_promote_takes_a_candidate_and_never_runs_twice_at_once(
        jobs: dict[str, ET.Element]) -> None:
    for model in (*listed_models(), "fraud"):
        job = jobs[f"{model}/promote"]
        props = job.find("properties")
        assert props.find("org.jenkinsci.plugins.workflow.job.properties."
                          "DisableConcurrentBuildsJobProperty") is not None
        params = props.findall("hudson.model.ParametersDefinitionProperty/parameterDefinitions/"
                               "hudson.model.StringParameterDefinition")
        assert [p.findtext("name") for p in params] == ["CANDIDATE"]
        assert params[0].findtext("trim") == "true"
        # A published reference, pinned by digest: the promotion never builds one itself.
        assert "@sha256:" in params[0].findtext("description")
        assert "\nharnessPromote(config: " in _script(job)


def test_the_reference_project_installs_the_harness_from_its_checkout(
        jobs: dict[str, ET.Element]) -> None:
    assert "harness: '.'" in _script(jobs["credit-scoring/nightly"])
    assert "harness: ''" in _script(jobs["fraud/nightly"]), "a team gets the library's pin"


def test_adding_a_model_is_one_line(tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    shutil.copytree(ROOT / "jobs", jobs_dir)
    models = jobs_dir / "models.yaml"
    lines = models.read_text().splitlines()
    at = lines.index("    jobs:")
    lines.insert(at, "      - loans: {github-owner: lending, github-repo: loans, "
                 "config: harness.yaml}")
    models.write_text("\n".join(lines) + "\n")

    jobs = render_jobs(jobs_dir, tmp_path / "out")
    assert {"loans", *(f"loans/{k}" for k in JOB_KINDS)} <= set(jobs)
    assert jobs["loans/pull-requests"].findtext(f".//source[@class='{GITHUB_SOURCE}']/"
                                                "repository") == "loans"
    assert "repository: 'https://github.com/lending/loans.git'" in _script(jobs["loans/nightly"])
    assert len(jobs) == 4 * (len(listed_models()) + 1)


def test_a_broken_job_definition_fails_the_render(tmp_path: Path) -> None:
    """The render is a real check: jenkins-job-builder refuses an invalid option."""
    jobs_dir = tmp_path / "jobs"
    shutil.copytree(ROOT / "jobs", jobs_dir)
    templates = jobs_dir / "templates.yaml"
    templates.write_text(templates.read_text().replace(
        "discover-pr-origin: merge-current", "discover-pr-origin: sometimes"))
    with pytest.raises(AssertionError, match="discover-pr-origin"):
        render_jobs(jobs_dir, tmp_path / "out")
