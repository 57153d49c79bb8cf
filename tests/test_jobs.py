"""The Jenkins jobs in jobs/, rendered for real with ``jenkins-jobs test`` and read back
as the XML Jenkins would receive."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.pipelines import ROOT, render_jobs, shell_steps

JOB_KINDS = ("pull-requests", "nightly", "promote")


def listed_models(jobs_dir: Path = ROOT / "jobs") -> dict[str, str]:
    """The models the project in jobs/models.yaml lists, with their config paths."""
    project = yaml.safe_load((jobs_dir / "models.yaml").read_text())[0]["project"]
    return {name: spec["config"] for entry in project["model"] for name, spec in entry.items()}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ET.Element]:
    return render_jobs(ROOT / "jobs", tmp_path_factory.mktemp("jobs"))


def test_every_listed_model_gets_one_set_of_jobs(jobs: dict[str, ET.Element]) -> None:
    models = listed_models()
    assert models, "jobs/models.yaml lists no model"
    expected = {name for model in models for name in (model, *(f"{model}/{k}" for k in JOB_KINDS))}
    assert set(jobs) == expected


def test_the_model_folder_carries_its_config_path(jobs: dict[str, ET.Element]) -> None:
    for model, config in listed_models().items():
        folder = jobs[model]
        assert folder.tag == "com.cloudbees.hudson.plugins.folder.Folder"
        props = folder.findall(".//com.mig82.folders.properties.StringProperty")
        assert {p.findtext("key"): p.findtext("value") for p in props} == {"HARNESS_CONFIG": config}
        assert (ROOT / config).is_file(), f"{model}: config {config} does not exist"


def test_pull_requests_is_a_multibranch_job_on_github_that_discovers_prs(
        jobs: dict[str, ET.Element]) -> None:
    for model in listed_models():
        job = jobs[f"{model}/pull-requests"]
        assert job.tag == "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
        source = job.find(".//source[@class='org.jenkinsci.plugins.github_branch_source."
                          "GitHubSCMSource']")
        assert source is not None
        assert source.findtext("repoOwner") and source.findtext("repository")
        traits = {t.tag.rsplit(".", 1)[-1] for t in source.find("traits")}
        assert {"OriginPullRequestDiscoveryTrait", "ForkPullRequestDiscoveryTrait",
                "BranchDiscoveryTrait"} <= traits
        assert job.findtext("factory/scriptPath") == "Jenkinsfile"
        steps = shell_steps((ROOT / "Jenkinsfile").read_text())
        assert any("check --profile pr" in s for s in steps)
        assert any(" publish --write " in s for s in steps)


def test_nightly_runs_the_nightly_profile_on_a_timer(jobs: dict[str, ET.Element]) -> None:
    for model in listed_models():
        job = jobs[f"{model}/nightly"]
        assert job.tag == "flow-definition"
        spec = job.findtext(".//org.jenkinsci.plugins.workflow.job.properties."
                            "PipelineTriggersJobProperty/triggers/"
                            "hudson.triggers.TimerTrigger/spec")
        # Hashed minute, one run a day in a fixed hour: Jenkins spreads models over the hour.
        assert spec is not None and re.fullmatch(r"H \d{1,2} \* \* \*", spec), spec
        script = job.findtext("definition[@class='org.jenkinsci.plugins.workflow.cps."
                              "CpsScmFlowDefinition']/scriptPath")
        assert script == "jobs/pipelines/nightly.Jenkinsfile"
        assert any("check --profile nightly" in s for s in shell_steps((ROOT / script).read_text()))


def test_promote_takes_a_candidate_and_never_runs_twice_at_once(
        jobs: dict[str, ET.Element]) -> None:
    for model in listed_models():
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
        script = job.findtext("definition/scriptPath")
        assert script == "jobs/pipelines/promote.Jenkinsfile"
        assert any("promote --candidate" in s for s in shell_steps((ROOT / script).read_text()))


def test_adding_a_model_is_one_line(tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    shutil.copytree(ROOT / "jobs", jobs_dir)
    models = jobs_dir / "models.yaml"
    lines = models.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if re.match(r"\s+- [\w-]+: \{config: ", line))
    indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
    lines.insert(last + 1, f"{indent}- fraud: {{config: models/fraud/harness.yaml}}")
    models.write_text("\n".join(lines) + "\n")

    jobs = render_jobs(jobs_dir, tmp_path / "out")
    assert {"fraud", *(f"fraud/{k}" for k in JOB_KINDS)} <= set(jobs)
    value = jobs["fraud"].findtext(".//com.mig82.folders.properties.StringProperty/value")
    assert value == "models/fraud/harness.yaml"
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
