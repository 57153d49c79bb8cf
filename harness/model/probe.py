"""Which protocol a running service speaks, so a service reached in the wrong one is
named as such (exit 2, the protocol and the URL) instead of failing every gate."""

from __future__ import annotations

import httpx

from harness.config import HarnessConfig
from harness.errors import ProtocolMismatch, TargetUnreachable
from harness.model.protocols import HARNESS, MLFLOW, OPEN_INFERENCE, Wire

_PROBE_TIMEOUT_S = 3.0


def _answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path, timeout=_PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def detect(client: httpx.Client) -> str | None:
    """The protocol whose health endpoint answers 200, if any: each protocol has one the
    others lack (MLServer: /v2/health/ready; the generic server: /ready; mlflow: /ping)."""
    for protocol, path in ((OPEN_INFERENCE, "/v2/health/ready"), (HARNESS, "/ready"),
                           (MLFLOW, "/ping")):
        if _answers(client, path):
            return protocol
    return None


def mismatch(client: httpx.Client, url: str, wire: Wire, request: str,
             response: httpx.Response) -> TargetUnreachable:
    """The error for a service that does not know a path of the protocol: another
    protocol (named when it can be told), or this one without the model asked for."""
    spoken = detect(client)
    answered = f"{request} answered {response.status_code}"
    if spoken == wire.protocol:
        return TargetUnreachable(
            f"{url} speaks '{spoken}' but {answered}: {response.text[:200]}; check "
            "model.served_name and model.served_version"
        )
    like = f"; it answers like '{spoken}': set model.protocol: {spoken}" if spoken else ""
    return ProtocolMismatch(
        f"{url} does not speak model.protocol '{wire.protocol}': {answered}{like}"
    )


def handshake(url: str, wire: Wire) -> None:
    """Refuse, before anything runs, a service that answers but in another protocol.
    A service that does not answer at all is left to the checks, which report it."""
    with httpx.Client(base_url=url.rstrip("/"), timeout=_PROBE_TIMEOUT_S) as client:
        try:
            response = client.get(wire.health_path)
        except httpx.HTTPError:
            return
        if response.status_code == 404:
            raise mismatch(client, url.rstrip("/"), wire, f"GET {wire.health_path}", response)


def check_service_protocol(config: HarnessConfig, checks: list[str],
                           target_url: str | None = None) -> None:
    """Before a profile runs: the model it reaches over HTTP (``target_url``, the service of
    the environment it checks, or ``model.url``) must speak ``model.protocol``; a mismatch
    stops the run (exit 2). Only the checks that call the model ask."""
    if not {"quality", "load"} & set(checks):
        return
    model = config.model
    url = target_url or (model.url if model.adapter == "http" else None)
    if url is None:
        return
    handshake(url, Wire.of(model, model))
