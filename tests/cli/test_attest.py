"""Attestations through the CLI: `harness verify`, `harness keygen`, and `harness pull --env`
as the Kubernetes init container runs it, against a real registry on loopback (which has
no referrers API, so attestations go through the OCI 1.1 fallback tag)."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.attest import dsse, keys, referrers, statement, store
from harness.attest.release import approve
from harness.candidate.artifact import artifact_digest
from harness.candidate.oci import MANIFEST_MEDIA_TYPE
from harness.candidate.publish import candidate_from_reference, parse_pinned, session
from harness.config import HarnessConfig
from harness.deploy.manifests import find, kustomize_build, stamp_candidate
from harness.deploy.model_pull import ARTIFACT
from harness.errors import AttestationError
from tests.support.oci_registry import RunningRegistry, registry_fixture
from tests.support.project import EXAMPLE
from tests.support.published import harness, project, publish

registry = pytest.fixture(registry_fixture)


@pytest.fixture
def ci_key(tmp_path: Path) -> Path:
    """The signing key CI holds, outside the project folder."""
    path = tmp_path / "secrets" / "ci.pem"
    keys.generate(path)
    return path


def _release(ci_key: Path, **extra: object) -> dict[str, object]:
    return {"managers": ["ana", "ben"], "evidence_max_age_hours": 24,
            "attestations": {"keys": {"ci": str(ci_key) + ".pub"},
                             "signing_key_file": str(ci_key), **extra}}


@pytest.fixture
def config(tmp_path: Path, model_artifact: Path, registry: RunningRegistry, ci_key: Path
           ) -> Iterator[HarnessConfig]:
    yield project(tmp_path / "project", model_artifact, registry, release=_release(ci_key))


def _key(path: Path) -> Ed25519PrivateKey:
    return keys._private(path.read_bytes(), str(path))


def _result(digest: str, key: Ed25519PrivateKey, keyid: str = "ci",
            failed: tuple[str, ...] = ()) -> bytes:
    payload = statement.result_statement(
        "credit/model", digest, ["quality.credit.roc_auc"], list(failed), {},
        {"candidate": "c0ffee", "profile": "release", "environment": "staging"})
    return dsse.sign(payload, key, keyid)


def _approval(result: bytes, digest: str, key: Ed25519PrivateKey, approver: str = "ana"
              ) -> bytes:
    tested = statement.payload_digest(base64.b64decode(json.loads(result)["payload"]))
    return dsse.sign(statement.approval_statement("credit/model", digest, approver, "c0ffee",
                                                  "production", tested), key, "ci")


def test_keygen_writes_a_key_pair_and_never_overwrites(tmp_path: Path, config) -> None:
    out = tmp_path / "keys" / "release.pem"
    made = harness(config, "keygen", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "keys" / "release.pem.pub").read_bytes()
    again = harness(config, "keygen", "--out", str(out))
    assert again.returncode == 2 and "never overwrites" in again.stderr


def test_verify_prints_each_attestation_and_exits_2_without_an_approval(
        config: HarnessConfig, ci_key: Path) -> None:
    digest = "ab" * 32
    nothing = harness(config, "verify", digest)
    assert nothing.returncode == 2
    assert "REFUSED: attestation check failed: no attestation for artifact sha256" in \
        nothing.stdout
    result = _result(digest, _key(ci_key))
    store.save(config, digest, "test-result", result)
    unapproved = harness(config, "verify", digest)
    assert unapproved.returncode == 2
    assert "test-result  signed by ci" in unapproved.stdout
    assert "PASSED, 1 passed, 0 failed, profile release in staging" in unapproved.stdout
    assert "REFUSED: approval check failed: the test result has no approval" in \
        unapproved.stdout
    store.save(config, digest, "approval", _approval(result, digest, _key(ci_key)))
    allowed = harness(config, "verify", digest)
    assert allowed.returncode == 0, allowed.stdout
    assert "approval     signed by ci" in allowed.stdout
    assert "approved by ana for production" in allowed.stdout
    assert allowed.stdout.splitlines()[-1].startswith("allowed: ")


def test_verify_names_a_stranger_key(config: HarnessConfig, ci_key: Path) -> None:
    digest = "ab" * 32
    stranger = Ed25519PrivateKey.generate()
    result = _result(digest, stranger, keyid="mallory")
    store.save(config, digest, "test-result", result)
    store.save(config, digest, "approval", _approval(result, digest, stranger))
    refused = harness(config, "verify", digest)
    assert refused.returncode == 2
    assert "REFUSED: signature check failed" in refused.stdout
    assert "signed by key 'mallory', which is not among the trusted keys (ci)" in refused.stdout


def test_a_signing_key_the_config_does_not_trust_is_refused(
        tmp_path: Path, model_artifact: Path, registry: RunningRegistry, ci_key: Path) -> None:
    other = tmp_path / "other.pem"
    keys.generate(other)
    config = project(tmp_path / "p2", model_artifact, registry,
                     release=_release(ci_key) | {"attestations": {
                         "keys": {"ci": str(ci_key) + ".pub"}, "signing_key_file": str(other)}})
    with pytest.raises(AttestationError, match=r"the signing key \(public key sha256:"
                                               r"[0-9a-f]{16}\) is not among"):
        keys.signer(config)


def _pull(config: HarnessConfig, reference: str, out: Path) -> tuple[int, str]:
    result = harness(config, "pull", "--reference", reference, "--out", str(out),
                     "--env", "production")
    return result.returncode, result.stderr


def test_pull_for_production_verifies_the_attestations_in_the_registry_first(
        config: HarnessConfig, model_artifact: Path, ci_key: Path, tmp_path: Path) -> None:
    reference = publish(config)
    digest = artifact_digest(model_artifact)
    pinned = parse_pinned(reference)
    registry_session = session(config, pinned)
    out = tmp_path / "pod" / "models" / "artifact"

    code, err = _pull(config, reference, out)
    assert code == 2 and "may not enter production: attestation check failed: no " \
        "attestation" in err and not out.exists()

    stranger = Ed25519PrivateKey.generate()
    forged = _result(digest, stranger, keyid="ci")
    referrers.attach(registry_session, forged, "test-result")
    code, err = _pull(config, reference, out)
    assert code == 2 and "signature check failed" in err and "does not verify" in err
    assert not out.exists()

    other = _result("cd" * 32, _key(ci_key))
    referrers.attach(registry_session, other, "test-result")
    code, err = _pull(config, reference, out)
    assert code == 2 and "subject check failed" in err and not out.exists()

    failed = _result(digest, _key(ci_key), failed=("quality.credit.roc_auc",))
    referrers.attach(registry_session, failed, "test-result")
    code, err = _pull(config, reference, out)
    assert code == 2 and "tests check failed" in err and not out.exists()

    result = _result(digest, _key(ci_key))
    referrers.attach(registry_session, result, "test-result")
    code, err = _pull(config, reference, out)
    assert code == 2 and "approval check failed: the test result has no approval" in err
    assert not out.exists()

    referrers.attach(registry_session, _approval(result, digest, _key(ci_key), "mallory"),
                     "approval")
    code, err = _pull(config, reference, out)
    assert code == 2 and "approved by mallory, who is not among release.managers" in err
    assert not out.exists()

    referrers.attach(registry_session, _approval(result, digest, _key(ci_key)), "approval")
    code, err = _pull(config, reference, out)
    assert code == 0, err
    assert artifact_digest(out) == digest

    # Every attestation is a referrer of the model, listed by the fallback tag.
    tag = "sha256-" + pinned.require_digest().removeprefix("sha256:")
    index = httpx.get(f"http://{config.registry.host}/v2/credit/model/manifests/{tag}",
                      headers={"Accept": referrers.INDEX_MEDIA_TYPE}, timeout=5).json()
    assert index["mediaType"] == referrers.INDEX_MEDIA_TYPE and len(index["manifests"]) == 6
    first = httpx.get(f"http://{config.registry.host}/v2/credit/model/manifests/"
                      f"{index['manifests'][0]['digest']}", timeout=5,
                      headers={"Accept": MANIFEST_MEDIA_TYPE}).json()
    assert first["subject"]["digest"] == pinned.require_digest()
    assert first["artifactType"] == "application/vnd.in-toto+json"

    # `harness verify` reads them from the registry (nothing is kept on this machine).
    shutil.rmtree(config.state_dir(), ignore_errors=True)
    verified = harness(config, "verify", reference)
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.count("signed by ci") == 6 and "approved by ana" in verified.stdout


def test_a_pull_without_env_or_for_staging_does_not_ask_for_attestations(
        config: HarnessConfig, model_artifact: Path, tmp_path: Path) -> None:
    reference = publish(config)
    result = harness(config, "pull", "--reference", reference, "--out",
                     str(tmp_path / "a"), "--env", "staging")
    assert result.returncode == 0, result.stderr


def test_production_manifests_pull_with_verification(config: HarnessConfig,
                                                     model_artifact: Path) -> None:
    reference = publish(config)
    candidate = candidate_from_reference(config, reference,
                                         "registry.example.com/credit@sha256:" + "1" * 64)
    objects = kustomize_build(EXAMPLE / "deploy/k8s/overlays/production")
    stamped = stamp_candidate(objects, candidate, "credit-scoring", "service", "now",
                              config.registry, "production")
    pod = find(stamped, "Deployment", "credit-scoring")["spec"]["template"]["spec"]
    [puller] = pod["initContainers"]
    assert puller["command"] == ["harness", "pull", "--reference", reference, "--out",
                                 ARTIFACT, "--env", "production", "--as-of", "now"]


def test_an_approval_needs_a_signed_test_result_of_the_candidate(config: HarnessConfig,
                                                                model_artifact: Path) -> None:
    from harness.deploy import operations

    candidate = operations.candidate_for(config)
    with pytest.raises(AttestationError, match="no attestation for artifact sha256"):
        approve(config, keys.signer(config), candidate, "ana", "production")


def test_rbac_binds_only_the_promote_account_in_productions_namespace(tmp_path: Path) -> None:
    import yaml

    from harness.cli import main
    from tests.support.kubernetes import validate

    config = str(EXAMPLE / "harness.yaml")
    assert main(["--config", config, "rbac", "--account-namespace", "jenkins",
                 "--out", str(tmp_path)]) == 0
    objects = list(yaml.safe_load_all((tmp_path / "rbac-production.yaml").read_text()))
    validate(objects)
    kinds = {o["kind"]: o for o in objects}
    assert sorted(kinds) == ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                             "ServiceAccount"]
    namespace = "credit-production"
    assert kinds["Role"]["metadata"]["namespace"] == namespace
    assert kinds["RoleBinding"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "harness-promote", "namespace": "jenkins"}]
    assert kinds["ClusterRole"]["rules"][0]["resourceNames"] == [namespace]
    assert main(["--config", config, "rbac", "--env", "staging", "--account-namespace", "j",
                 "--out", str(tmp_path)]) == 2


def _aged(envelope: bytes, key: Ed25519PrivateKey, when: str) -> bytes:
    """The envelope's statement dated ``when``, signed again."""
    data = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    if "approvedAt" in data["predicate"]:
        data["predicate"]["approvedAt"] = when
    else:
        data["predicate"]["harness"]["createdAt"] = when
    return dsse.sign(json.dumps(data).encode(), key, "ci")


def test_freshness_is_judged_as_of_the_deploy_so_a_restarted_pod_still_starts(
        config: HarnessConfig, model_artifact: Path, ci_key: Path, tmp_path: Path) -> None:
    import datetime as dt

    reference = publish(config)
    digest = artifact_digest(model_artifact)
    key = _key(ci_key)
    then = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    result = _aged(_result(digest, key), key, then.isoformat())
    approval = _aged(_approval(result, digest, key), key, (then + dt.timedelta(minutes=5))
                     .isoformat())
    registry_session = session(config, parse_pinned(reference))
    referrers.attach(registry_session, result, "test-result")
    referrers.attach(registry_session, approval, "approval")

    code, err = _pull(config, reference, tmp_path / "now")
    assert code == 2 and "freshness check failed" in err and "30.0 hours old" in err
    deployed_at = (then + dt.timedelta(minutes=10)).isoformat()
    restarted = harness(config, "pull", "--reference", reference, "--out",
                        str(tmp_path / "later"), "--env", "production", "--as-of", deployed_at)
    assert restarted.returncode == 0, restarted.stderr
    bad = harness(config, "pull", "--reference", reference, "--out", str(tmp_path / "x"),
                  "--env", "production", "--as-of", "yesterday")
    assert bad.returncode == 2 and "--as-of 'yesterday' is not an ISO 8601 time" in bad.stderr


def test_the_signed_test_result_carries_the_lineage_of_these_bytes(
        tmp_path: Path, model_artifact: Path, registry: RunningRegistry, ci_key: Path
) -> None:
    """What `harness build` recorded beside the artifact (code revision, training data,
    parameters) travels signed in the test result, and `harness verify` prints it."""
    from harness.attest.release import sign_test_result
    from harness.candidate import lineage
    from harness.deploy.operations import candidate_for

    own = tmp_path / "built" / model_artifact.name  # the lineage is written beside it
    shutil.copytree(model_artifact, own)
    config = project(tmp_path / "project", own, registry, release=_release(ci_key))
    candidate = candidate_for(config)
    artifact = config.resolve(config.model.artifact)
    lineage.record(config, artifact, candidate.artifact_sha256, ["python", "train.py"],
                   "2026-12-01T10:00:00+00:00", "2026-12-01T10:05:00+00:00",
                   {"learning_rate": 0.1})
    bundle = tmp_path / "evidence.json"
    bundle.write_text("{}")
    kept = sign_test_result(config, keys.signer(config), candidate,
                            [("quality.credit.roc_auc", "passed")], bundle, {},
                            {"profile": "release", "environment": "staging"})
    payload = json.loads(base64.b64decode(json.loads(kept.read_bytes())["payload"]))
    made = payload["predicate"]["harness"]["lineage"]
    assert made["artifact_sha256"] == candidate.artifact_sha256
    assert made["parameters"] == {"learning_rate": 0.1}
    shown = harness(config, "verify", candidate.artifact_sha256)
    assert 'parameters {"learning_rate": 0.1}' in shown.stdout, shown.stdout
