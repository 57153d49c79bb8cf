"""Candidates published to a real OCI registry and deployed by digest: `harness publish`,
`harness pull` and `harness deploy --candidate` against Debian's docker-registry on
loopback, with and without basic auth, and every way the bytes can fail to be the ones
named (each refused with exit 2, nothing started)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.candidate.artifact import artifact_digest, artifact_files
from harness.candidate.oci import ARTIFACT_TYPE, TITLE
from harness.config import HarnessConfig, load_config
from harness.deploy import get_target
from harness.deploy.state import env_dir, load_state
from harness.processes import port_is_free
from tests.support.oci_registry import RunningRegistry, registry_fixture, running_registry
from tests.support.project import EXAMPLE, TEARDOWN_GLASS
from tests.support.published import PASSWORD_ENV, harness, project, publish
from tests.support.service_process import free_port

registry = pytest.fixture(registry_fixture)


@pytest.fixture
def config(tmp_path: Path, model_artifact: Path, registry: RunningRegistry
           ) -> Iterator[HarnessConfig]:
    config = project(tmp_path / "project", model_artifact, registry)
    yield config
    for env in config.environments:
        get_target(config).stop(env)


def assert_nothing_started(config: HarnessConfig, env: str = "staging") -> None:
    assert port_is_free("127.0.0.1", config.environments[env].port or 0)
    folder = env_dir(config.resolve(config.deploy.state_dir), env)
    assert load_state(folder) is None or load_state(folder).current is None
    revisions = folder / "revisions"
    assert not revisions.exists() or not any(revisions.iterdir()), list(revisions.iterdir())


def test_publish_pushes_an_oras_artifact_and_pull_gets_the_same_bytes(
        config: HarnessConfig, registry: RunningRegistry, model_artifact: Path,
        tmp_path: Path) -> None:
    reference = publish(config, "--tag", "main", "--write", str(tmp_path / "candidate.ref"))
    assert (tmp_path / "candidate.ref").read_text() == reference + "\n"
    digest = reference.split("@")[1]
    manifest = httpx.get(f"http://{registry.host}/v2/credit/model/manifests/main",
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
                         timeout=5)
    assert manifest.headers["Docker-Content-Digest"] == digest
    body = manifest.json()
    assert body["artifactType"] == ARTIFACT_TYPE
    assert body["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert sorted(layer["annotations"][TITLE] for layer in body["layers"]) == [
        name for name, _ in artifact_files(model_artifact)]
    assert body["annotations"]["dev.harness.artifact.sha256"] == artifact_digest(model_artifact)

    result = harness(config, "pull", "--reference", reference, "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert artifact_digest(tmp_path / "out") == artifact_digest(model_artifact)


def test_deploy_by_digest_pulls_into_the_revision_folder(
        config: HarnessConfig, model_artifact: Path) -> None:
    reference = publish(config)
    result = harness(config, "deploy", "--env", "staging", "--candidate", reference)
    assert result.returncode == 0, result.stderr
    state = load_state(env_dir(config.resolve(config.deploy.state_dir), "staging"))
    [revision] = state.revisions
    assert revision.candidate.reference == reference
    assert revision.artifact_dir.is_relative_to(config.resolve(config.deploy.state_dir))
    assert artifact_digest(revision.artifact_dir) == artifact_digest(model_artifact)
    served = httpx.get(f"{config.environment_url('staging')}/version", timeout=5).json()
    assert served["model_reference"] == reference
    assert served["artifact_sha256"] == artifact_digest(model_artifact)


def test_bad_references_are_refused_and_nothing_starts(
        config: HarnessConfig, registry: RunningRegistry, model_artifact: Path,
        tmp_path: Path) -> None:
    from credit_model.train import train

    first = publish(config, "--tag", "release")
    other = train(EXAMPLE / "fixtures/credit/train.csv", tmp_path / "other" / "credit", seed=1,
                  sample=300)
    second = publish(config, "--tag", "release", "--artifact", str(other))
    assert first != second
    digest = first.split("@")[1]
    cases = {
        "no digest": (f"{registry.host}/credit/model:release",
                      "is not pinned by digest: a tag can move"),
        "tag moved": (f"{registry.host}/credit/model:release@{digest}",
                      (f"tag 'release' of {registry.host}/credit/model moved: it now names "
                       f"{second.split('@')[1]}, not {digest}")),
        "unknown digest": (first[:-4] + "0000", ("answered 404 (not found) while reading "
                                                 "the manifest")),
    }
    for name, (reference, message) in cases.items():
        result = harness(config, "deploy", "--env", "staging", "--candidate", reference)
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert message in result.stderr, (name, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert_nothing_started(config)


def test_a_blob_corrupted_in_the_registry_is_caught_by_the_pull(
        config: HarnessConfig, registry: RunningRegistry) -> None:
    reference = publish(config)
    manifest = httpx.get(f"http://{registry.host}/v2/credit/model/manifests/"
                         f"{reference.split('@')[1]}", timeout=5,
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    layer = max(manifest.json()["layers"], key=lambda layer: layer["size"])
    blob = registry.blob_file(layer["digest"])
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one bit pattern changed: only a digest sees it
    blob.write_bytes(bytes(data))

    result = harness(config, "deploy", "--env", "staging", "--candidate", reference)
    assert result.returncode == 2, result.stderr
    assert f"blob {layer['digest'][:19]}..." in result.stderr
    assert "does not match its digest" in result.stderr and "nothing was deployed" in result.stderr
    assert_nothing_started(config)
    assert not list((config.resolve(config.deploy.state_dir) / "oci").glob("*"))


def test_every_deploy_pulls_again_so_corruption_after_a_good_deploy_is_caught(
        config: HarnessConfig, registry: RunningRegistry) -> None:
    reference = publish(config)
    assert harness(config, "deploy", "--env", "staging", "--candidate", reference
                   ).returncode == 0
    manifest = httpx.get(f"http://{registry.host}/v2/credit/model/manifests/"
                         f"{reference.split('@')[1]}", timeout=5,
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    layer = max(manifest.json()["layers"], key=lambda layer: layer["size"])
    blob = registry.blob_file(layer["digest"])
    blob.write_bytes(bytes(b ^ 0x01 for b in blob.read_bytes()))

    # The candidate is in the local cache already; production's deploy pulls from the registry.
    result = harness(config, "deploy", "--env", "production", "--candidate", reference,
                     *TEARDOWN_GLASS)  # past the protection, to reach the pull
    assert result.returncode == 2
    assert f"blob {layer['digest'][:19]}..." in result.stderr
    assert_nothing_started(config, "production")
    assert get_target(config).status("staging").healthy


def test_a_registry_that_is_down_is_named(config: HarnessConfig,
                                          registry: RunningRegistry) -> None:
    down = f"127.0.0.1:{free_port()}"
    text = config.source.read_text().replace(registry.host, down)
    assert text != config.source.read_text()
    config.source.write_text(text)
    result = harness(config, "publish")
    assert result.returncode == 2
    assert f"registry {down} is not reachable (connection refused)" in result.stderr
    reference = f"{down}/credit/model@sha256:{'0' * 64}"
    result = harness(config, "deploy", "--env", "staging", "--candidate", reference)
    assert result.returncode == 2
    assert f"registry {down} is not reachable (connection refused)" in result.stderr
    assert_nothing_started(config)


def test_basic_auth_publish_and_deploy_and_a_wrong_password(
        tmp_path: Path, model_artifact: Path) -> None:
    with running_registry(tmp_path / "registry", auth=("ci", "s3cret-pw")) as registry:
        config = project(tmp_path / "project", model_artifact, registry)
        try:
            reference = publish(config, password="s3cret-pw")
            assert "s3cret-pw" not in config.source.read_text()

            result = harness(config, "deploy", "--env", "staging", "--candidate", reference,
                             password="wrong")
            assert result.returncode == 2
            assert (f"registry {registry.host} answered 401 while reading the manifest "
                    f"{reference}: the credentials in registry.username and its password "
                    "were refused") in result.stderr
            assert_nothing_started(config)

            result = harness(config, "publish")
            assert result.returncode == 2
            assert f"the environment variable {PASSWORD_ENV} is not set" in result.stderr

            result = harness(config, "deploy", "--env", "staging", "--candidate", reference,
                             password="s3cret-pw")
            assert result.returncode == 0, result.stderr
        finally:
            get_target(config).stop("staging")


def test_a_password_in_the_config_is_refused(tmp_path: Path, model_artifact: Path) -> None:
    registry = RunningRegistry("127.0.0.1:5000", tmp_path)
    config = project(tmp_path, model_artifact, registry)
    text = config.source.read_text().replace("insecure: true", "insecure: true\n  password: x")
    config.source.write_text(text)
    result = harness(config, "publish")
    assert result.returncode == 2
    assert "key 'registry.password': a password is never written in the config" in result.stderr


def test_the_password_comes_from_its_file_or_its_variable(tmp_path: Path,
                                                          model_artifact: Path) -> None:
    from harness.candidate.publish import credentials
    from harness.errors import ConfigError

    registry = RunningRegistry("127.0.0.1:5000", tmp_path, "ci", "unused")
    config = project(tmp_path, model_artifact, registry)
    text = config.source.read_text().replace(f"password_env: {PASSWORD_ENV}",
                                             "password_file: secrets/registry")
    config.source.write_text(text)
    config = load_config(config.source)
    with pytest.raises(ConfigError, match=r"key 'registry.password_file': cannot read .*"
                                          r"secrets/registry"):
        credentials(config)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets/registry").write_text("from-a-file\n")
    login = credentials(config)
    assert (login.username, login.password) == ("ci", "from-a-file")
