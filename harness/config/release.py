"""The config's release and deploy sections: approvers, history, registry, deploy targets and
environments."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from harness.config.base import HttpUrl, Name, StrictModel
from harness.config.load import PromotionLoadSpec


class AttestationSpec(StrictModel):
    """Who vouches for a release: the public keys attestations are verified against (keyid ->
    a PEM file, relative to the config, or the PEM text itself), where the signing key is
    (an environment variable holding the PEM, or a file; never this repository), which
    testcases must have passed, and how old a test result may be.

    Without ``keys``, the harness signs with a key it generates under the state folder and
    trusts only that one: local-only, for one machine (see docs/release.md)."""

    keys: dict[Name, str] = Field(default_factory=dict)
    signing_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    signing_key_file: Path | None = None
    required_tests: list[str] = Field(default_factory=list)
    max_age_hours: float | None = Field(default=None, gt=0)  # default: evidence_max_age_hours

    @model_validator(mode="after")
    def _one_signing_key(self) -> AttestationSpec:
        if self.signing_key_env is not None and self.signing_key_file is not None:
            raise ValueError("give 'signing_key_env' or 'signing_key_file', not both")
        if not self.keys and (self.signing_key_env or self.signing_key_file):
            raise ValueError("a signing key needs the public 'keys' it is verified against "
                             "(keyid: PEM file or text)")
        return self


class ShadowSpec(StrictModel):
    """``harness shadow``: how a candidate mirrored beside production is judged.

    ``tolerance``: the share of requests on which the candidate may decide otherwise than
    production; ``margin``: how far its mean score may move from production's; both judged
    by anytime-valid tests at level ``alpha``, looked at after every joined request, never
    decided before ``min_requests``. ``latency_margin_ms``: how much slower (Hodges-Lehmann
    shift) it may answer; ``max_error_rate``: the share of its answers that may fail where
    production's did not. ``mirror_timeout_ms`` bounds how long nginx waits for the
    shadow's answer, so how much a slow shadow can delay production's next request on one
    keep-alive connection; ``nice`` lowers the shadow's CPU priority on the local target.
    ``on_inconclusive``: a window that ends undecided blocks (``fail``, exit 1) or only
    warns."""

    tolerance: float = Field(default=0.01, gt=0, lt=1)
    margin: float = Field(default=0.02, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    min_requests: int = Field(default=50, ge=1)
    latency_margin_ms: float = Field(default=10.0, ge=0)
    max_error_rate: float = Field(default=0.0, ge=0, lt=1)
    mirror_timeout_ms: int = Field(default=200, ge=1, le=60_000)
    # The local target: the shadow's CPU niceness, so production wins the cores they share
    # (what the mirror costs production's latency: docs/release.md). The shadow's extra
    # wait for a CPU is netted out of its latency judgment.
    nice: int = Field(default=10, ge=0, le=19)
    on_inconclusive: Literal["fail", "warn"] = "fail"
    # The kubernetes target: the share of requests the Gateway's RequestMirror filter copies
    # to the shadow (the local nginx mirrors every request).
    mirror_percent: int = Field(default=100, ge=1, le=100)


class CanaryStepSpec(StrictModel):
    """One traffic step of a canary: the canary's share (percent), the canary answers it
    needs before it may pass, and how long it may run before it is inconclusive."""

    percent: float = Field(gt=0, le=100)
    min_requests: int = Field(default=50, ge=1)
    max_duration_s: float = Field(default=300.0, gt=0)


def _default_steps() -> list[CanaryStepSpec]:
    return [CanaryStepSpec(percent=p) for p in (10, 50, 100)]


class CanarySpec(StrictModel):
    """``harness canary``: production's traffic stepped to a candidate, each step judged
    against the stable revision's answers in the same window.

    ``steps``: the shares in increasing order, the last one 100 or less. At a step with a
    stable arm, anytime-valid two-arm tests compare the canary with stable on the decision
    rate, the scores, the share of answers slower than ``slow_ms`` and the share of
    errors: each FAILs when the difference (canary - stable) is surely beyond its margin
    (``*_margin``; for latency and errors only the canary's worse side fails), PASSes when
    surely within its pass margin. At 100 % there is no stable arm: the canary's own error
    and slow shares are judged against ``max_error_rate`` and ``max_slow_share``. ``alpha``
    is the false-abort rate over every step and test (split evenly). A step still undecided
    after its ``max_duration_s`` is inconclusive: ``on_inconclusive: hold`` keeps it for
    ``hold_s`` more, then aborts; ``abort`` aborts at once. It never advances."""

    steps: list[CanaryStepSpec] = Field(default_factory=_default_steps, min_length=1,
                                        max_length=20)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    decision_margin: float = Field(default=0.0, ge=0, lt=1)
    decision_pass_margin: float = Field(default=0.03, gt=0, lt=1)
    score_margin: float = Field(default=0.0, ge=0, lt=1)
    score_pass_margin: float = Field(default=0.02, gt=0, lt=1)
    slow_ms: float = Field(default=100.0, gt=0)
    latency_margin: float = Field(default=0.02, ge=0, lt=1)
    latency_pass_margin: float = Field(default=0.05, gt=0, lt=1)
    error_margin: float = Field(default=0.0, ge=0, lt=1)
    error_pass_margin: float = Field(default=0.01, gt=0, lt=1)
    max_error_rate: float = Field(default=0.01, gt=0, lt=1)
    max_slow_share: float = Field(default=0.05, gt=0, lt=1)
    on_inconclusive: Literal["hold", "abort"] = "hold"
    hold_s: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _steps_and_margins(self) -> CanarySpec:
        shares = [step.percent for step in self.steps]
        if shares != sorted(set(shares)):
            raise ValueError(f"steps must rise, each share once: got {shares} percent")
        for name in ("decision", "score", "latency", "error"):
            margin, wide = getattr(self, f"{name}_margin"), getattr(self, f"{name}_pass_margin")
            if wide < margin:
                raise ValueError(f"{name}_pass_margin ({wide:g}) must be at least "
                                 f"{name}_margin ({margin:g})")
        return self


class ReleaseSpec(StrictModel):
    """Who may approve a promotion, how fresh its evidence must be, and which environments
    a release goes through."""

    managers: list[str] = Field(default_factory=list)
    evidence_max_age_hours: float = Field(default=24.0, gt=0)
    staging: Name = "staging"
    production: Name = "production"
    pr_profile: Name = "pr"            # run before deploying to staging
    staging_profile: Name = "release"  # run against staging; its evidence gates promotion
    load: PromotionLoadSpec | None = None  # a short load check on production after the switch
    attestations: AttestationSpec = Field(default_factory=AttestationSpec)
    shadow: ShadowSpec = Field(default_factory=ShadowSpec)
    canary: CanarySpec = Field(default_factory=CanarySpec)


class HistorySpec(StrictModel):
    """Where runs and passports are kept: a SQLAlchemy URL (SQLite file by default;
    a relative SQLite path is relative to the config file)."""

    url: str = "sqlite:///.harness/history.db"


class LocalDeploySpec(StrictModel):
    """How the ``local`` target starts the service: a command (a YAML list of words) with
    ``{python}``, ``{config}``, ``{artifact}``, ``{host}`` and ``{port}`` filled in, run from
    the config's folder with that folder importable. The default runs the harness's generic
    model server (``harness serve``).

    The service starts from a clean environment (a minimal base such as ``PATH``, ``HOME`` and
    ``LANG``), never the caller's: ``env`` declares variables for it and ``pass_env`` names
    the caller's variables it gets (a credential, a GPU selection), both recorded with each
    revision, so a rollback restarts a revision as it ran."""

    command: list[str] = Field(
        default_factory=lambda: [
            "{python}", "-m", "harness", "--config", "{config}", "serve",
            "--artifact", "{artifact}", "--host", "{host}", "--port", "{port}",
        ],
        min_length=1,
    )
    ready_path: str = Field(default="/ready", pattern=r"^/")
    env: dict[str, str] = Field(default_factory=dict)
    pass_env: list[str] = Field(default_factory=list)


class KubernetesDeploySpec(StrictModel):
    """How the ``kubernetes`` target reaches the cluster and which workload it manages."""

    kubeconfig: Path | None = None
    context: str | None = None
    deployment: Name | None = None  # default: the project's name
    container: Name = "service"


class DeploySpec(StrictModel):
    """Where candidates are deployed: the target, where its state lives, how long to wait."""

    target: Literal["local", "kubernetes"] = "local"
    state_dir: Path = Path(".harness")
    ready_timeout_s: float = Field(default=60.0, gt=0)
    history_limit: int = Field(default=5, ge=2, le=100)
    local: LocalDeploySpec = Field(default_factory=LocalDeploySpec)
    kubernetes: KubernetesDeploySpec = Field(default_factory=KubernetesDeploySpec)


_HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _hostname(value: str) -> str:
    """The Gateway API's Hostname: a lowercase DNS name, optionally behind one ``*.``."""
    if len(value) > 253 or not _HOSTNAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a hostname an HTTPRoute accepts: lowercase DNS "
                         "labels, optionally after '*.' (credit.example.com, *.example.com)")
    return value


Hostname = Annotated[str, AfterValidator(_hostname)]


class GatewaySpec(StrictModel):
    """The Gateway API ``Gateway`` an environment's ``HTTPRoute`` attaches to (the kubernetes
    target): its name, its namespace (default: the environment's), the listener
    (``section_name``) when it has several, and the hostnames the route answers for."""

    name: Name
    namespace: Name | None = None
    section_name: Name | None = None
    hostnames: list[Hostname] = Field(default_factory=list, max_length=16)


class EnvironmentSpec(StrictModel):
    """One environment (staging, production): its loopback port for ``local``, its
    namespace and kustomize overlay for ``kubernetes``, and the URL it serves at."""

    host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    port: int | None = Field(default=None, ge=1, le=65535)
    namespace: Name | None = None
    kustomize: Path | None = None
    url: HttpUrl | None = None
    # Only `harness promote` (and its rollback and recovery) or a release manager's
    # break-glass may change it. Unset: production is protected, other environments not.
    protected: bool | None = None
    # The local target only: an nginx in front of `port` (run by the harness as the user),
    # so a deploy starts the new revision beside the old one and switches with no gap.
    router: Literal["nginx"] | None = None
    # The kubernetes target only: the Gateway whose HTTPRoute fronts the environment's
    # Service, and carries a shadow's mirror.
    gateway: GatewaySpec | None = None

    def address(self) -> str:
        """Where the environment's service answers: ``url``, else its loopback port."""
        return self.url or f"http://{self.host}:{self.port}"


def default_environments() -> dict[str, EnvironmentSpec]:
    return {env: EnvironmentSpec(port=port) for env, port in (("staging", 8101),
                                                               ("production", 8102))}


class RegistrySpec(StrictModel):
    """The OCI registry candidates are published to and pulled from by digest.

    The password never sits in this file: it comes from the environment variable
    ``password_env`` or the file ``password_file`` (a Jenkins credential, a mounted secret).
    ``insecure`` speaks plain HTTP, for a registry on a loopback address."""

    host: str = Field(pattern=r"^[A-Za-z0-9.-]+(:\d+)?$")
    repository: str = Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
    insecure: bool = False
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    # Accepted only to refuse it with a message that says where a password belongs.
    password: None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)

    @field_validator("password", mode="before")
    @classmethod
    def _no_password_in_yaml(cls, value: object) -> None:
        if value is not None:
            raise ValueError("a password is never written in the config: name an environment "
                             "variable with 'password_env' or a file with 'password_file'")

    @model_validator(mode="after")
    def _credentials_are_whole(self) -> RegistrySpec:
        secret = self.password_env is not None or self.password_file is not None
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give 'password_env' or 'password_file', not both")
        if secret != (self.username is not None):
            raise ValueError("'username' goes with 'password_env' or 'password_file'")
        return self
