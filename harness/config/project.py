"""The whole config of one model service: its sections, profiles, and the rules across
sections (names unique, metrics of the model's kind, environments that exist)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.config.base import Name, StrictModel, invalid_at
from harness.config.data import DatasetSpec, SchemaSpec, SliceSpec
from harness.config.gates import DeepchecksSpec, GatesSpec
from harness.config.load import LoadSpec
from harness.config.model import ModelAccess, ModelSpec
from harness.config.release import (
    DeploySpec,
    EnvironmentSpec,
    HistorySpec,
    RegistrySpec,
    ReleaseSpec,
    default_environments,
)
from harness.config.server import ServerSpec
from harness.errors import ConfigError
from harness.gates.checks import CHECKS

CheckName = Literal[CHECKS]  # type: ignore[valid-type]  # the modules of harness/gates/checks/
BaselineName = Literal["passport", "production", "none"]


class ProfileSpec(StrictModel):
    """What one profile runs: built-in checks and the team's own test paths."""

    checks: list[CheckName] = Field(default_factory=list)
    tests: list[Path] = Field(default_factory=list)
    baseline: BaselineName = "passport"
    # The deployed environment this profile checks: the model under test is reached over
    # HTTP at its URL, load goes there, and the run's evidence is bound to what runs there.
    environment: Name | None = None


class HarnessConfig(StrictModel):
    version: Literal[1] = 1
    project: Name
    model: ModelSpec
    golden: list[DatasetSpec] = Field(default_factory=list)
    # Where `harness golden add` records versions (<golden_root>/<dataset>/<version>/) and
    # the only folder `harness golden verify` looks in.
    golden_root: Path = Path("golden")
    training: DatasetSpec | None = None
    data_schema: SchemaSpec = Field(alias="schema")
    gates: GatesSpec = Field(default_factory=GatesSpec)
    slices: list[SliceSpec] = Field(default_factory=list)
    production: ModelAccess | None = None
    passports: Path = Path("golden/passports")
    history: HistorySpec = Field(default_factory=HistorySpec)
    release: ReleaseSpec = Field(default_factory=ReleaseSpec)
    load: LoadSpec = Field(default_factory=LoadSpec)
    profiles: dict[Name, ProfileSpec] = Field(min_length=1)
    deploy: DeploySpec = Field(default_factory=DeploySpec)
    environments: dict[Name, EnvironmentSpec] = Field(
        default_factory=default_environments, min_length=1
    )

    @field_validator("environments")
    @classmethod
    def _environments_fit_the_target(
        cls, environments: dict[str, EnvironmentSpec], info: ValidationInfo
    ) -> dict[str, EnvironmentSpec]:
        deploy = info.data.get("deploy")
        if deploy is None:  # the deploy section itself is invalid and reported
            return environments
        if deploy.target == "local":
            ports: dict[int, str] = {}
            for env, spec in environments.items():
                if spec.port is None:
                    raise ValueError(f"environment '{env}' needs a 'port' for deploy target 'local'")
                if spec.port in ports:
                    raise ValueError(
                        f"environments '{ports[spec.port]}' and '{env}' share port {spec.port}"
                    )
                ports[spec.port] = env
        else:
            for env, spec in environments.items():
                if spec.namespace is None or spec.kustomize is None:
                    raise ValueError(
                        f"environment '{env}' needs 'namespace' and 'kustomize' "
                        "for deploy target 'kubernetes'"
                    )
        return environments
    deepchecks: DeepchecksSpec = Field(default_factory=DeepchecksSpec)
    registry: RegistrySpec | None = None
    server: ServerSpec = Field(default_factory=ServerSpec)

    @model_validator(mode="after")
    def _metrics_fit_the_kind(self) -> HarnessConfig:
        allowed = self.model.model_kind.metric_names
        wrong = [m for m in self.gates.quality if m not in allowed]
        if wrong:
            raise ValueError(
                f"gates.quality.{wrong[0]} is not a metric of a {self.model.kind} model "
                f"(model.kind); use {', '.join(allowed)}"
            )
        return self

    @model_validator(mode="after")
    def _names_are_unique(self) -> HarnessConfig:
        # A dataset or slice named twice would run its gates twice under one JUnit id
        # (Jenkins merges them) and, for slices, mix the rows of both.
        for section, items in (("golden", self.golden), ("slices", self.slices)):
            first: dict[str, int] = {}
            for i, item in enumerate(items):
                if item.name in first:
                    raise invalid_at((section, i, "name"), f"'{item.name}' is also the name of "
                                   f"{section}[{first[item.name]}]; give each a name of its own",
                                   item.name)
                first[item.name] = i
        if self.training is not None and self.training.name in {d.name for d in self.golden}:
            raise invalid_at(("training", "name"), f"'{self.training.name}' is also a golden "
                           "dataset's name; give the training data a name of its own",
                           self.training.name)
        scenario = self.load.scenario.dataset
        if scenario is not None and scenario not in {d.name for d in self.golden}:
            known = ", ".join(d.name for d in self.golden) or "none"
            raise invalid_at(("load", "scenario", "dataset"), f"'{scenario}' is not a golden "
                           f"dataset's name (golden: {known})", scenario)
        return self

    @model_validator(mode="after")
    def _production_baseline_is_reachable(self) -> HarnessConfig:
        for name, profile in self.profiles.items():
            if profile.environment is not None and profile.environment not in self.environments:
                raise ValueError(
                    f"profile '{name}' checks environment '{profile.environment}', which is not "
                    f"under 'environments' ({', '.join(sorted(self.environments))})"
                )
        for role in ("staging", "production"):
            if getattr(self.release, role) not in self.environments:
                raise ValueError(f"release.{role} names environment "
                                 f"'{getattr(self.release, role)}', which is not under "
                                 "'environments'")
        return self

    _source: Path = PrivateAttr(default=Path("harness.yaml"))

    @property
    def source(self) -> Path:
        """The file this config was read from."""
        return self._source

    @property
    def root(self) -> Path:
        """The folder relative paths in the config are resolved against."""
        return self._source.parent

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    def profile(self, name: str) -> ProfileSpec:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ConfigError(
                f"{self.source}: no profile '{name}' under 'profiles' (known: {known})"
            ) from None

    def child_env(self) -> dict[str, str]:
        """The environment for processes run on the team's behalf (its tests, benchmarks,
        services): this one, with the config's folder importable, as for the entry point."""
        path = os.pathsep.join(p for p in (str(self.root), os.environ.get("PYTHONPATH")) if p)
        return {**os.environ, "PYTHONPATH": path}

    def state_dir(self) -> Path:
        """Where deploy targets keep their state: ``deploy.state_dir``, or, when
        ``$HARNESS_STATE_DIR`` is set (an agent shared by several Jenkins jobs), that folder's
        subfolder for this project, so every job on the agent sees the same environments."""
        shared = os.environ.get("HARNESS_STATE_DIR")
        if shared:
            return Path(shared).absolute() / self.project
        return self.resolve(self.deploy.state_dir)

    def history_url(self) -> str:
        """The history store's URL (``$HARNESS_HISTORY_URL`` overrides the config, so a
        Jenkins credential can carry a password), a relative SQLite path made absolute."""
        url = os.environ.get("HARNESS_HISTORY_URL") or self.history.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            return prefix + str(self.root / url[len(prefix):])
        return url

    def production_access(self) -> ModelAccess:
        """How to reach the model now in production: ``production`` when configured, else
        the release's production environment over HTTP."""
        if self.production is not None:
            return self.production
        return self.model.over_http(self.environment_url(self.release.production))

    def environment_url(self, name: str) -> str:
        """Where an environment's service answers."""
        return self.environment(name).address()

    def protected(self, name: str) -> bool:
        """Whether only a promotion (or a break-glass) may change environment ``name``:
        its ``protected`` key, by default true for the release's production only."""
        spec = self.environment(name)
        return spec.protected if spec.protected is not None else name == self.release.production

    def environment(self, name: str) -> EnvironmentSpec:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.environments))
            raise ConfigError(
                f"{self.source}: no environment '{name}' under 'environments' (known: {known})"
            ) from None

    def datasets(self) -> list[DatasetSpec]:
        """Every dataset the schema is checked against: golden sets, then training data."""
        return [*self.golden, *([self.training] if self.training else [])]
