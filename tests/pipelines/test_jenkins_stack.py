"""The local Jenkins stack for people with Docker: docker-compose.yml validated offline
against the Compose Specification's schema (the copy check-jsonschema ships), its
cross-references checked, and the Jenkins controller's configuration (jenkins/) checked
against what the jobs, the Jenkinsfile and the shared library need. No Docker engine runs
here."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.support.pipelines import PIPELINE_SOURCES, ROOT, parse_groovy_blocks, render_jobs

COMPOSE = ROOT / "docker-compose.yml"
CASC = ROOT / "jenkins/casc.yaml"
PLUGINS = ROOT / "jenkins/plugins.txt"
DOCKERFILE = ROOT / "jenkins/Dockerfile"

# Which plugin gives each step or directive the pipelines use ("core": Jenkins itself,
# "groovy": the language).
STEP_PLUGINS = {
    **dict.fromkeys(["pipeline", "agent", "label", "options", "stages", "stage", "steps",
                     "post", "always", "success", "unsuccessful", "environment", "when",
                     "expression",
                     "parameters", "skipDefaultCheckout"], "pipeline-model-definition"),
    **dict.fromkeys(["library", "legacySCM", "libraryResource", "Library"],
                    "pipeline-groovy-lib"),
    **dict.fromkeys(["def", "import", "if", "else", "return", "Map", "Set", "call"], "groovy"),
    **dict.fromkeys(["input", "message", "ok", "submitter", "submitterParameter"],
                    "pipeline-input-step"),
    "sh": "workflow-durable-task-step",
    "node": "workflow-durable-task-step",
    "junit": "junit",
    "archiveArtifacts": "workflow-basic-steps",
    "stash": "workflow-basic-steps",
    "unstash": "workflow-basic-steps",
    "timeout": "workflow-basic-steps",
    "error": "workflow-basic-steps",
    "checkout": "workflow-scm-step",
    "string": "core",
    "publishHTML": "htmlpublisher",
    "disableConcurrentBuilds": "workflow-job",
    "buildDiscarder": "core",
    "logRotator": "core",
}
# The shared library's own steps, one per vars/ file.
LIBRARY_STEPS = {p.stem for p in (ROOT / "vars").glob("*.groovy")}
# Classes in job XML that name no plugin attribute, by package.
CLASS_PLUGINS = {"hudson.plugins.git.": "git", "jenkins.plugins.git.": "git"}
# Top-level keys of the configuration as code, and what reads them.
CASC_PLUGINS = {"jenkins": "configuration-as-code", "credentials": "credentials",
                "jobs": "job-dsl", "unclassified": "pipeline-groovy-lib"}


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")),
         "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def pinned_plugins() -> dict[str, str]:
    lines = [line.strip() for line in PLUGINS.read_text().splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    plugins = dict(entry.split(":", 1) for entry in entries)
    assert len(plugins) == len(entries), "a plugin is listed twice"
    return plugins


def casc_credential_ids(casc: dict) -> set[str]:
    return {credential["usernamePassword"]["id"]
            for domain in casc["credentials"]["system"]["domainCredentials"]
            for credential in domain["credentials"]}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ET.Element]:
    return render_jobs(ROOT / "jobs", tmp_path_factory.mktemp("jobs"))


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    environment:\n      JENKINS", "    enviroment:\n      JENKINS", "enviroment"),
    ("condition: service_healthy", "condition: when_ready", "when_ready"),
    ("\nvolumes:\n  jenkins_home:", "\nvolume:\n  jenkins_home:", "volume"),
])
def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path, old: str, new: str,
                                                     message: str) -> None:
    text = COMPOSE.read_text()
    assert old in text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new, 1))
    result = check_jsonschema(broken)
    assert result.returncode == 1 and message in result.stdout + result.stderr


def test_compose_references_resolve(compose: dict) -> None:
    services = compose["services"]
    assert {"jenkins", "postgres", "service"} <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
        else:
            assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", service["image"]), f"{name}: pin the image"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is published beyond loopback"
    # Jenkins refuses to start without an admin password rather than using a default.
    env = services["jenkins"]["environment"]
    assert re.fullmatch(r"\$\{JENKINS_ADMIN_PASSWORD:\?.+\}", env["JENKINS_ADMIN_PASSWORD"])


def test_the_seed_job_runs_jenkins_jobs_on_the_mounted_repository(compose: dict) -> None:
    casc = yaml.safe_load(CASC.read_text())
    scripts = " ".join(entry["script"] for entry in casc["jobs"])
    parse_groovy_blocks(scripts)
    [command] = re.findall(r"shell\('(.*?)'\)", scripts)
    match = re.fullmatch(r'jenkins-jobs --conf (\S+) --user "\$JJB_USER" --password '
                         r'"\$JJB_PASSWORD" update (\S+)/jobs/', command)
    assert match, command
    ini, repository = match.groups()
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["jenkins"]["volumes"]}
    assert mounts[repository] == "./"
    assert f"COPY jenkins/casc.yaml jenkins/jenkins_jobs.ini {Path(ini).parent}/" in \
        DOCKERFILE.read_text()
    settings = configparser.ConfigParser()
    settings.read_string((ROOT / "jenkins" / Path(ini).name).read_text())
    assert settings["jenkins"]["url"].startswith("http://localhost:8080")
    assert "queue('seed')" in scripts
    credential_ids = casc_credential_ids(casc)
    assert "'jenkins-job-builder'" in scripts and "jenkins-job-builder" in credential_ids


def test_jobs_and_pipelines_find_what_the_controller_provides(jobs: dict[str, ET.Element]) -> None:
    casc = yaml.safe_load(CASC.read_text())
    credential_ids = casc_credential_ids(casc)
    used = {e.text for root in jobs.values() for e in root.iter("credentialsId")}
    assert used and used <= credential_ids
    labels = set(casc["jenkins"]["labelString"].split())
    settings = (ROOT / "vars/harnessSettings.groovy").read_text()
    assert set(re.findall(r"agent: '([^']+)'", settings)) <= labels
    libraries = casc["unclassified"]["globalLibraries"]["libraries"]
    assert [library["name"] for library in libraries] == ["harness"]


def required_plugins(jobs: dict[str, ET.Element]) -> dict[str, str]:
    """Each plugin the jobs, Jenkinsfiles and configuration as code need, and why."""
    needed: dict[str, str] = {}
    for name, root in jobs.items():
        for element in root.iter():
            if "plugin" in element.attrib:
                needed.setdefault(element.attrib["plugin"].split("@")[0], f"job {name}")
            for prefix, plugin in CLASS_PLUGINS.items():
                if (element.get("class") or element.tag).startswith(prefix):
                    needed.setdefault(plugin, f"job {name}: {prefix}")
    for path in PIPELINE_SOURCES:
        source = parse_groovy_blocks(path.read_text())  # comments removed
        options = " ".join(b.body for b in source.find("options"))
        for word in (re.findall(r"^\s*(\w+)(?!\w|\s*:)", source.body, re.MULTILINE)
                     + re.findall(r"\b(\w+)\(", options)):
            if word in LIBRARY_STEPS or word.isupper() or word == "defaults":
                continue  # the library's own steps, environment variables, a local
            assert word in STEP_PLUGINS, f"{path.name}: which plugin gives '{word}'?"
            needed.setdefault(STEP_PLUGINS[word], f"{path.name}: {word}")
    for key in yaml.safe_load(CASC.read_text()):
        needed.setdefault(CASC_PLUGINS[key], f"casc.yaml: {key}")
    casc = CASC.read_text()
    if "globalMatrix" in casc:
        needed.setdefault("matrix-auth", "casc.yaml: globalMatrix")
    if "credentialsBinding" in casc:
        needed.setdefault("credentials-binding", "casc.yaml: seed job")
    needed.pop("core", None)
    needed.pop("groovy", None)
    return needed


def test_every_plugin_used_is_pinned(jobs: dict[str, ET.Element]) -> None:
    plugins = pinned_plugins()
    for plugin, version in plugins.items():
        assert re.fullmatch(r"[a-z0-9-]+", plugin) and re.fullmatch(r"\d[\w.-]*", version), \
            f"{plugin}:{version} is not pinned to a release"
    missing = {p: why for p, why in required_plugins(jobs).items() if p not in plugins}
    assert not missing, f"not in jenkins/plugins.txt: {missing}"


def test_the_controller_image_is_a_pinned_lts_with_the_plugins() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM jenkins/jenkins:\d+\.\d+\.\d+-lts-jdk\d+$", text, re.MULTILINE)
    assert re.search(r"jenkins-job-builder==\d+\.\d+\.\d+", text)
    assert "jenkins-plugin-cli --plugin-file /usr/share/jenkins/ref/plugins.txt" in text
    for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", text, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).is_file(), f"COPY {path}: no such file"


def test_no_secret_is_written_in_the_configuration() -> None:
    casc = CASC.read_text()
    secrets = re.findall(r"^\s*password: (.*)$", casc, re.MULTILINE)
    assert secrets and all(re.fullmatch(r"\$\{\w+(:-)?\}", s) for s in secrets), secrets
    compose = COMPOSE.read_text()
    for name in re.findall(r"\$\{(\w+)", str(yaml.safe_load(casc))):  # comments aside
        assert f"{name}: ${{{name}" in compose, f"compose does not pass {name} to Jenkins"
