"""An environment's Gateway API HTTPRoute: rendered from the config and the overlay, written
by ``harness route``, and validated against the Gateway API's own schemas by
@kubernetes-models/gateway-api under node (tests/support/node, installed by ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.config import GatewaySpec, load_config
from harness.deploy.httproute import (
    Backend,
    canary_weights,
    http_route,
    route_for,
    weighted_route,
)
from harness.errors import ConfigError, DeployError
from tests.support.kubernetes import gateway_config
from tests.support.project import EXAMPLE, ROOT, write_config

NODE_DIR = ROOT / "tests" / "support" / "node"
GATEWAY = GatewaySpec(name="public", namespace="gateway-system",
                      hostnames=["credit.example.com"])
STABLE, SHADOW = Backend("credit-scoring", 80), Backend("credit-scoring-shadow", 80)
CANARY = Backend("credit-scoring-canary", 80)


def validated(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What @kubernetes-models/gateway-api's validate() says of each object."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules").is_dir():
        pytest.skip("node and tests/support/node/node_modules are needed: "
                    "run `npm ci` in tests/support/node (.ci/run does)")
    result = subprocess.run([node, str(NODE_DIR / "validate.mjs")], input=json.dumps(objects),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(answers) == len(objects)
    return answers


def mirror_of(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [f["requestMirror"] for rule in route["spec"]["rules"]
            for f in rule.get("filters", []) if f["type"] == "RequestMirror"]


def test_without_a_shadow_every_request_goes_to_the_stable_service() -> None:
    route = http_route("credit-scoring", "credit-production", GATEWAY, STABLE)
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["kind"] == "HTTPRoute"
    assert route["metadata"] == {"name": "credit-scoring", "namespace": "credit-production"}
    assert route["spec"]["parentRefs"] == [{
        "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public",
        "namespace": "gateway-system"}]
    assert route["spec"]["hostnames"] == ["credit.example.com"]
    assert route["spec"]["rules"] == [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{"name": "credit-scoring", "port": 80}]}]


def test_a_shadow_mirrors_predictions_and_only_predictions() -> None:
    route = http_route("credit-scoring", "credit-production", GATEWAY, STABLE, SHADOW)
    predict, rest = route["spec"]["rules"]
    assert predict["matches"] == [{"path": {"type": "PathPrefix", "value": "/predict"}}]
    assert predict["filters"] == [{"type": "RequestMirror", "requestMirror": {
        "backendRef": {"name": "credit-scoring-shadow", "port": 80}}}]
    # Production still answers: the mirror is a copy, both rules send to the stable Service.
    assert predict["backendRefs"] == rest["backendRefs"] == [
        {"name": "credit-scoring", "port": 80}]
    assert "filters" not in rest


def test_a_percent_below_100_is_written_and_100_is_left_to_the_default() -> None:
    half = http_route("r", "ns", GATEWAY, STABLE, SHADOW, percent=50)
    assert mirror_of(half) == [{"backendRef": {"name": "credit-scoring-shadow", "port": 80},
                                "percent": 50}]
    assert "percent" not in mirror_of(http_route("r", "ns", GATEWAY, STABLE, SHADOW))[0]
    with pytest.raises(ConfigError, match="between 1 and 100"):
        http_route("r", "ns", GATEWAY, STABLE, SHADOW, percent=0)


def test_a_gateway_in_the_routes_namespace_and_a_listener() -> None:
    gateway = GatewaySpec(name="internal", section_name="http")
    route = http_route("r", "ns", gateway, STABLE)
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io",
                                            "kind": "Gateway", "name": "internal",
                                            "sectionName": "http"}]
    assert "hostnames" not in route["spec"]




def test_the_route_takes_the_overlays_service_and_the_configs_percent(tmp_path: Path) -> None:
    config = gateway_config(tmp_path, mirror_percent=25)
    route = route_for(config, "production", shadow=True)
    assert route["metadata"]["namespace"] == "credit-production"
    assert route["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "harness"}
    # The base's Service listens on 80; the shadow's Service is expected on the same port.
    assert mirror_of(route) == [{"backendRef": {"name": "credit-scoring-shadow", "port": 80},
                                 "percent": 25}]
    assert route_for(config, "production")["spec"]["rules"][0]["backendRefs"] == [
        {"name": "credit-scoring", "port": 80}]
    with pytest.raises(ConfigError, match="environment 'staging' needs .*'gateway'"):
        route_for(config, "staging")


def test_an_overlay_without_the_service_is_refused(tmp_path: Path) -> None:
    config = gateway_config(tmp_path)
    config = config.model_copy(update={"deploy": config.deploy.model_copy(update={
        "kubernetes": config.deploy.kubernetes.model_copy(update={"deployment": "other"})})})
    with pytest.raises(DeployError, match="renders no Service named 'other'"):
        route_for(config, "production")


@pytest.mark.parametrize("release, environment, key", [
    ({"shadow": {"mirror_percent": 0}}, {}, "release.shadow.mirror_percent"),
    ({"shadow": {"mirror_percent": 101}}, {}, "release.shadow.mirror_percent"),
    ({}, {"gateway": {"name": "public", "hostnames": ["Credit.Example.com"]}},
     "environments.production.gateway.hostnames[0]': 'Credit.Example.com' is not a hostname"),
    ({}, {"gateway": {"namespace": "gw"}}, "environments.production.gateway.name"),
    ({}, {"gateway": {"name": "public", "port": 80}}, "environments.production.gateway.port"),
])
def test_bad_gateway_and_percent_keys_are_named(
        tmp_path: Path, release: dict[str, Any], environment: dict[str, Any], key: str) -> None:
    path = write_config(tmp_path, release=release,
                        environments={"production": {"port": 8102, **environment}})
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    assert key in str(excinfo.value)


def test_harness_route_writes_both_forms_beside_the_other_manifests(tmp_path: Path) -> None:
    config = str(EXAMPLE / "harness.yaml")
    out = tmp_path / "deploy"
    assert main(["--config", config, "route", "--out", str(out)]) == 0
    assert main(["--config", config, "route", "--shadow", "--out", str(out)]) == 0
    plain = yaml.safe_load((out / "httproute-production.yaml").read_text())
    shadow = yaml.safe_load((out / "httproute-production-shadow.yaml").read_text())
    assert mirror_of(plain) == [] and len(mirror_of(shadow)) == 1
    assert [a["valid"] for a in validated([plain, shadow])] == [True, True]
    # Staging has no gateway in the reference config: one message, exit 2, nothing written.
    assert main(["--config", config, "route", "--env", "staging", "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["httproute-production-shadow.yaml",
                                                     "httproute-production.yaml"]


def test_rendered_routes_pass_the_gateway_api_schema_and_broken_ones_do_not() -> None:
    good = [http_route("credit-scoring", "credit-production", GATEWAY, STABLE),
            http_route("credit-scoring", "credit-production", GATEWAY, STABLE, SHADOW),
            http_route("credit-scoring", "credit-production", GATEWAY, STABLE, SHADOW, 10)]
    assert validated(good) == [{"kind": "HTTPRoute", "name": "credit-scoring", "valid": True,
                                "error": None}] * 3

    over = http_route("r", "ns", GATEWAY, STABLE, SHADOW, 50)
    mirror_of(over)[0]["percent"] = 150
    headless = http_route("r", "ns", GATEWAY, STABLE, SHADOW)
    del mirror_of(headless)[0]["backendRef"]
    misnamed = http_route("r", "ns", GATEWAY, STABLE, SHADOW)
    misnamed["spec"]["rules"][0]["filters"][0]["type"] = "Mirror"
    portless = http_route("r", "ns", GATEWAY, STABLE)
    portless["spec"]["rules"][0]["backendRefs"][0]["port"] = "http"
    answers = validated([over, headless, misnamed, portless])
    assert not any(a["valid"] for a in answers)
    assert "requestMirror/percent must be <= 100" in answers[0]["error"]
    assert "requestMirror must have required property backendRef" in answers[1]["error"]
    assert "filters/0/type must be equal to one of the allowed values" in answers[2]["error"]
    assert "backendRefs/0/port must be integer" in answers[3]["error"]


def test_the_promote_role_may_route_and_delete_only_the_shadow(tmp_path: Path) -> None:
    from tests.support.kubernetes import validate

    assert main(["--config", str(EXAMPLE / "harness.yaml"), "rbac", "--account-namespace",
                 "jenkins", "--out", str(tmp_path)]) == 0
    objects = list(yaml.safe_load_all((tmp_path / "rbac-production.yaml").read_text()))
    validate(objects)
    rules = next(o for o in objects if o["kind"] == "Role")["rules"]
    assert {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"],
            "verbs": ["get", "create", "patch"]} in rules
    deleting = [r for r in rules if "delete" in r["verbs"]]
    assert deleting == [{"apiGroups": ["", "apps"], "resources": ["services", "deployments"],
                         "resourceNames": ["credit-scoring-shadow"], "verbs": ["delete"]}]


@pytest.mark.parametrize("share, weights", [(0.1, (9, 1)), (0.5, (1, 1)), (0.25, (3, 1)),
                                            (0.05, (19, 1)), (0.125, (7, 1)),
                                            (0.333, (667, 333)), (1.0, (0, 1))])
def test_a_canary_share_becomes_reduced_integer_weights(share, weights) -> None:
    assert canary_weights(share) == weights


@pytest.mark.parametrize("share, message", [(0.0, "above 0 and at most 1"),
                                            (1.5, "above 0 and at most 1"),
                                            (float("nan"), "above 0 and at most 1"),
                                            (0.0001, "rounds to no traffic")])
def test_a_share_outside_the_range_is_one_clear_error(share, message) -> None:
    with pytest.raises(ConfigError, match=message):
        weighted_route("r", "ns", GATEWAY, STABLE, CANARY, share)


def test_a_canary_step_splits_every_request_by_weight() -> None:
    route = weighted_route("credit-scoring", "credit-production", GATEWAY, STABLE, CANARY, 0.1)
    assert route["spec"]["parentRefs"] == http_route(
        "credit-scoring", "credit-production", GATEWAY, STABLE)["spec"]["parentRefs"]
    assert route["spec"]["rules"] == [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{"name": "credit-scoring", "port": 80, "weight": 9},
                        {"name": "credit-scoring-canary", "port": 80, "weight": 1}]}]
    assert mirror_of(route) == []


def test_weighted_routes_pass_the_gateway_api_schema_and_a_negative_weight_does_not() -> None:
    good = [weighted_route("credit-scoring", "credit-production", GATEWAY, STABLE, CANARY, s)
            for s in (0.1, 0.5, 1.0)]
    bad = weighted_route("r", "ns", GATEWAY, STABLE, CANARY, 0.5)
    bad["spec"]["rules"][0]["backendRefs"][0]["weight"] = -1
    answers = validated([*good, bad])
    assert [a["valid"] for a in answers] == [True, True, True, False]
    assert "backendRefs/0/weight must be >= 0" in answers[3]["error"]


def test_harness_route_renders_a_canary_step_and_refuses_a_bad_share(tmp_path: Path,
                                                                      capsys) -> None:
    config = str(EXAMPLE / "harness.yaml")
    out = tmp_path / "deploy"
    assert main(["--config", config, "route", "--canary", "0.25", "--out", str(out)]) == 0
    route = yaml.safe_load((out / "httproute-production-canary.yaml").read_text())
    assert [(b["name"], b["weight"]) for b in route["spec"]["rules"][0]["backendRefs"]] == [
        ("credit-scoring", 3), ("credit-scoring-canary", 1)]
    assert validated([route])[0]["valid"] is True
    for bad in (["--canary", "0"], ["--canary", "ten"], ["--canary", "0.1", "--shadow"]):
        with pytest.raises(SystemExit) as exited:
            main(["--config", config, "route", *bad, "--out", str(tmp_path / "other")])
        assert exited.value.code == 2
    assert "not a share of the traffic" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_a_route_is_not_both_a_shadow_and_a_canary(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        route_for(gateway_config(tmp_path), "production", shadow=True, canary_share=0.1)
