"""Parse ``harness.yaml`` once into typed, validated objects.

A bad file raises one ``ConfigError`` that names the file and every offending
key; nothing runs on a config that does not parse.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from harness.errors import ConfigError

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
# Every kind's metrics (see harness/kinds.py); which apply is checked against model.kind.
MetricName = Literal[
    "roc_auc", "log_loss", "brier", "precision", "recall", "accuracy", "f1",
    "f1_macro", "f1_weighted", "roc_auc_ovr", "recall_per_class",
    "rmse", "mae", "r2", "abs_error_p50", "abs_error_p90", "abs_error_p95", "abs_error_p99",
]
ProtocolName = Literal["harness", "open-inference-v2", "mlflow"]
CheckName = Literal["schema", "quality", "drift", "load", "benchmark", "deepchecks", "contract"]
BaselineName = Literal["passport", "production", "none"]

# The values each metric can take: a bound outside them can never be met (or never fail).
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0), "precision": (0.0, 1.0), "recall": (0.0, 1.0),
    "accuracy": (0.0, 1.0), "f1": (0.0, 1.0), "brier": (0.0, 1.0), "log_loss": (0.0, math.inf),
    "f1_macro": (0.0, 1.0), "f1_weighted": (0.0, 1.0), "roc_auc_ovr": (0.0, 1.0),
    "recall_per_class": (0.0, 1.0), "rmse": (0.0, math.inf), "mae": (0.0, math.inf),
    "r2": (-math.inf, 1.0), "abs_error_p50": (0.0, math.inf),
    "abs_error_p90": (0.0, math.inf), "abs_error_p95": (0.0, math.inf),
    "abs_error_p99": (0.0, math.inf),
}


def _invalid(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """An error at ``loc`` below the value being validated, so the message names the exact
    key (``gates.quality.roc_auc.min``) rather than the section that holds it."""
    error = PydanticCustomError("invalid", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        "harness.yaml", [InitErrorDetails(type=error, loc=loc, input=value)])


def _http_url(value: str) -> str:
    """An http(s) URL with a host and a valid port; refused at load, not at first use."""
    how = "write it as http://HOST[:PORT][/PATH]"
    if any(c.isspace() for c in value):
        raise ValueError(f"'{value}' contains whitespace; {how}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"'{value}' is not an http:// or https:// URL; {how}")
    if not parts.hostname:
        raise ValueError(f"'{value}' has no host; {how}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError:
        raise ValueError(f"'{value}' has an invalid port; {how}") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Strict(BaseModel):
    # Non-finite numbers (.nan, .inf) are refused: every comparison with NaN is false, so a
    # gate bound of .nan would pass or fail silently.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ColumnRule(_Strict):
    """What one column must look like: dtype, nullability, and allowed values or a range."""

    dtype: Literal["integer", "float", "number", "string", "boolean"]
    nullable: bool = False
    allowed: list[str | int | float] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _range_is_ordered(self) -> ColumnRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.allowed is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either 'allowed' or a 'min'/'max' range, not both")
        return self


class SchemaSpec(_Strict):
    columns: dict[str, ColumnRule] = Field(min_length=1)


class MetricGate(_Strict):
    """The bounds one quality metric must hold.

    ``min``/``max`` bound the figure on the whole golden set; ``max_drop`` is the
    non-inferiority margin: how much worse than the baseline the candidate may be at the
    far end of the paired bootstrap interval. ``slice_min``/``slice_max`` bound each
    slice, and ``max_slice_gap`` how far a slice may fall behind the overall figure.
    """

    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(default=None, ge=0)
    slice_min: float | None = None
    slice_max: float | None = None
    max_slice_gap: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError("a metric gate needs 'min' or 'max'")
        for low, high in (("min", "max"), ("slice_min", "slice_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise _invalid((low,), f"{low} ({a}) is greater than {high} ({b}); no figure "
                               "could pass", a)
        return self

    def range_problems(self, metric: str) -> list[tuple[str, str, float]]:
        """(key, message, value) for each bound outside what ``metric`` can take."""
        low, high = METRIC_RANGES[metric]
        span = f"{low:g}..{high:g}"
        problems = []
        for key in ("min", "max", "slice_min", "slice_max"):
            value = getattr(self, key)
            if value is not None and not low <= value <= high:
                problems.append((key, (f"{value} is outside {metric}'s range {span}; give a "
                                 f"bound within {span}"), value))
        for key in ("max_drop", "max_slice_gap"):
            value = getattr(self, key)
            if value is not None and value > high - low:
                problems.append((key, (f"{value} is more than {metric}'s whole range {span}; "
                                 "the gate could never fail"), value))
        return problems


class BootstrapSpec(_Strict):
    """The paired bootstrap over golden rows; ``confidence`` is that of every interval,
    bootstrap or analytic."""

    resamples: int = Field(default=1000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    seed: int = 0


class IntervalSpec(_Strict):
    """Which method gives an interval. ``auto``: analytic (DeLong, the central limit
    theorem, the delta method) on at least ``analytic_min_rows`` rows, the bootstrap on
    fewer, where the normal approximation is poorest and resampling is cheap."""

    method: Literal["auto", "bootstrap", "analytic"] = "auto"
    analytic_min_rows: int = Field(default=5000, ge=1)


class DriftSpec(_Strict):
    """Slow drift: a metric that worsened in each of the last ``window`` runs, by at least
    ``min_total_change`` in all, is flagged even when every run passed its gates."""

    window: int = Field(default=5, ge=3, le=100)
    min_total_change: float = Field(default=0.005, ge=0)


class BenchmarkGate(_Strict):
    """Micro-benchmarks compared with a saved baseline: a slowdown beyond ``max_slowdown``
    (current / baseline of ``statistic``) fails. ``min`` is the least noisy on a shared host."""

    suite: Path = Path("suites/benchmarks")
    baseline: Path = Path("suites/benchmarks/baseline.json")
    max_slowdown: float = Field(default=2.0, gt=1)
    statistic: Literal["min", "median"] = "min"


class GatesSpec(_Strict):
    quality: dict[MetricName, MetricGate] = Field(default_factory=dict)
    bootstrap: BootstrapSpec = Field(default_factory=BootstrapSpec)
    intervals: IntervalSpec = Field(default_factory=IntervalSpec)
    min_slice_rows: int = Field(default=30, ge=1)
    drift: DriftSpec = Field(default_factory=DriftSpec)
    benchmark: BenchmarkGate | None = None

    @field_validator("quality")
    @classmethod
    def _bounds_within_range(cls, quality: dict[str, MetricGate]) -> dict[str, MetricGate]:
        details = [
            InitErrorDetails(type=PydanticCustomError("range", "{message}", {"message": m}),
                             loc=(metric, key), input=value)
            for metric, gate in quality.items()
            for key, m, value in gate.range_problems(metric)
        ]
        if details:
            raise ValidationError.from_exception_data("harness.yaml", details)
        return quality


class SliceSpec(_Strict):
    """A segment of the data, by a categorical column's values or a numeric column's bins."""

    name: Name
    column: str
    bins: list[float] | None = Field(default=None, min_length=2)

    @model_validator(mode="after")
    def _bins_increase(self) -> SliceSpec:
        if self.bins is not None and any(a >= b for a, b in zip(self.bins, self.bins[1:])):
            raise ValueError("bins must be strictly increasing")
        return self


class ModelAccess(_Strict):
    """How to reach a model: in-process through an import path, or over HTTP."""

    adapter: Literal["python", "http"] = "python"
    entrypoint: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")
    artifact: Path | None = None
    url: HttpUrl | None = None
    batch_size: int = Field(default=256, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0)
    # The HTTP protocol the service speaks (docs/protocols.md); for open-inference-v2, the
    # model's name and version on the server (default: model.name, no version).
    protocol: ProtocolName = "harness"
    served_name: Name | None = None
    served_version: Name | None = None
    # open-inference-v2: one input tensor per column (named, typed) or one 2-D matrix.
    tensors: Literal["columns", "matrix"] = "columns"

    def over_http(self, url: str) -> ModelAccess:
        """The same model reached over HTTP at ``url``, in the same protocol."""
        return ModelAccess(adapter="http", url=url, batch_size=self.batch_size,
                           timeout_s=self.timeout_s, protocol=self.protocol,
                           served_name=self.served_name, served_version=self.served_version,
                           tensors=self.tensors)

    @model_validator(mode="after")
    def _adapter_has_what_it_needs(self) -> ModelAccess:
        if self.adapter == "python" and self.entrypoint is None:
            raise ValueError("adapter 'python' needs 'entrypoint' (module:function)")
        if self.adapter == "http" and self.url is None:
            raise ValueError("adapter 'http' needs 'url'")
        return self


class ModelSpec(ModelAccess):
    """The model under test: how to reach it, how to read its answers, and how the team's
    own build makes its artifact."""

    name: Name
    # The team's command that trains or fetches the artifact (`harness build` runs it from
    # the config's folder; a YAML list of words, ``{python}`` is the harness's interpreter).
    build: list[str] | None = Field(default=None, min_length=1)
    label_column: str
    kind: Literal["binary", "multiclass", "regression"] = "binary"
    positive_label: str | int | None = None  # binary only
    threshold: float = Field(default=0.5, gt=0, lt=1)
    # Multiclass: the columns of the probability matrix, in order. Default: the in-process
    # model's classes_, else the label column's allowed values, sorted (as scikit-learn does).
    classes: list[str | int] | None = Field(default=None, min_length=2)

    @model_validator(mode="after")
    def _kind_has_what_it_needs(self) -> ModelSpec:
        if self.kind == "binary" and self.positive_label is None:
            raise ValueError("a binary model needs 'positive_label' (the class scored)")
        if self.kind != "binary" and self.positive_label is not None:
            raise ValueError(f"'positive_label' is for binary models; this one is {self.kind}")
        if self.classes is not None and self.kind != "multiclass":
            raise ValueError(f"'classes' is for multiclass models; this one is {self.kind}")
        return self


class ReleaseSpec(_Strict):
    """Who may approve a promotion, how fresh its evidence must be, and which environments
    a release goes through."""

    managers: list[str] = Field(default_factory=list)
    evidence_max_age_hours: float = Field(default=24.0, gt=0)
    staging: Name = "staging"
    production: Name = "production"
    pr_profile: Name = "pr"            # run before deploying to staging
    staging_profile: Name = "release"  # run against staging; its evidence gates promotion
    load: PromotionLoadSpec | None = None  # a short load check on production after the switch


class HistorySpec(_Strict):
    """Where runs and passports are kept: a SQLAlchemy URL (SQLite file by default;
    a relative SQLite path is relative to the config file)."""

    url: str = "sqlite:///.harness/history.db"
LoadMetric = Literal["p50_ms", "p95_ms", "p99_ms", "error_ratio", "rps"]


class LoadSLO(_Strict):
    """One service-level objective of a load test, on one endpoint or ``overall``."""

    endpoint: str = Field(pattern=r"^(overall|/\S*)$")
    metric: LoadMetric
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> LoadSLO:
        if (self.min is None) == (self.max is None):
            raise ValueError("an SLO needs exactly one of 'min' or 'max'")
        return self


class LoadScenario(_Strict):
    """What each simulated user sends: task weights, and the golden rows requests are built from."""

    predict: int = Field(default=8, ge=0)
    predict_batch: int = Field(default=1, ge=0)
    health: int = Field(default=1, ge=0)
    batch_size: int = Field(default=16, ge=1, le=1000)
    dataset: str | None = None  # a golden dataset's name; default: the first
    wait_s: float = Field(default=0.0, ge=0)  # think time between a user's requests

    @model_validator(mode="after")
    def _something_to_send(self) -> LoadScenario:
        if self.predict + self.predict_batch + self.health == 0:
            raise ValueError("every task weight is 0: the scenario would send nothing")
        return self


class LoadSpec(_Strict):
    """A bounded Locust run against a running service, and the SLOs it must meet.

    ``url`` defaults to ``model.url``; a target that is not loopback is refused unless
    ``allow_remote`` says so on purpose. ``workers`` defaults to the cores available."""

    url: HttpUrl | None = None
    allow_remote: bool = False
    # The team's own Locust scenario; default: the generic one shipped with the harness,
    # which speaks the harness's HTTP contract.
    locustfile: Path | None = None
    users: int = Field(default=10, ge=1, le=10_000)
    spawn_rate: float = Field(default=10.0, gt=0)
    run_time_s: float = Field(default=10.0, gt=0, le=3600)
    max_requests: int = Field(default=10_000, ge=1)
    workers: int | None = Field(default=None, ge=0, le=256)
    # Load past one machine: the master also waits for this many workers started on other
    # hosts (`harness load worker --master HOST:PORT`), listening for them on master_bind.
    remote_workers: int = Field(default=0, ge=0, le=1024)
    master_bind: str | None = Field(default=None, pattern=r"^[^\s:]+:\d{1,5}$")
    request_timeout_s: float = Field(default=5.0, gt=0)
    scenario: LoadScenario = Field(default_factory=LoadScenario)
    slos: list[LoadSLO] = Field(default_factory=list)

    @model_validator(mode="after")
    def _slos_are_unique(self) -> LoadSpec:
        seen = set()
        for slo in self.slos:
            key = (slo.endpoint, slo.metric)
            if key in seen:
                raise ValueError(f"two SLOs for {slo.metric} on {slo.endpoint}; keep one")
            seen.add(key)
        return self

    def worker_count(self) -> int:
        """Local Locust worker processes: as configured, else one per core available (none
        when workers on other hosts are expected)."""
        if self.workers is not None:
            return self.workers
        return 0 if self.remote_workers else os.cpu_count() or 1

    @model_validator(mode="after")
    def _someone_sends_load(self) -> LoadSpec:
        if self.workers == 0 and self.remote_workers == 0:
            raise ValueError("'workers' is 0 and no 'remote_workers' are expected: nothing "
                             "would send load")
        return self


class DatasetSpec(_Strict):
    name: Name
    path: Path


class ProfileSpec(_Strict):
    """What one profile runs: built-in checks and the team's own test paths."""

    checks: list[CheckName] = Field(default_factory=list)
    tests: list[Path] = Field(default_factory=list)
    baseline: BaselineName = "passport"
    # The deployed environment this profile checks: the model under test is reached over
    # HTTP at its URL, load goes there, and the run's evidence is bound to what runs there.
    environment: Name | None = None


class LocalDeploySpec(_Strict):
    """How the ``local`` target starts the service: a command (a YAML list of words) with
    ``{python}``, ``{config}``, ``{artifact}``, ``{host}`` and ``{port}`` filled in, run from
    the config's folder with that folder importable. The default runs the harness's generic
    model server (``harness serve``)."""

    command: list[str] = Field(
        default_factory=lambda: [
            "{python}", "-m", "harness", "--config", "{config}", "serve",
            "--artifact", "{artifact}", "--host", "{host}", "--port", "{port}",
        ],
        min_length=1,
    )
    ready_path: str = Field(default="/ready", pattern=r"^/")


class KubernetesDeploySpec(_Strict):
    """How the ``kubernetes`` target reaches the cluster and which workload it manages."""

    kubeconfig: Path | None = None
    context: str | None = None
    deployment: Name | None = None  # default: the project's name
    container: Name = "service"


class DeploySpec(_Strict):
    """Where candidates are deployed: the target, where its state lives, how long to wait."""

    target: Literal["local", "kubernetes"] = "local"
    state_dir: Path = Path(".harness")
    ready_timeout_s: float = Field(default=60.0, gt=0)
    history_limit: int = Field(default=5, ge=2, le=100)
    local: LocalDeploySpec = Field(default_factory=LocalDeploySpec)
    kubernetes: KubernetesDeploySpec = Field(default_factory=KubernetesDeploySpec)


class EnvironmentSpec(_Strict):
    """One environment (staging, production): its loopback port for ``local``, its
    namespace and kustomize overlay for ``kubernetes``, and the URL it serves at."""

    host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    port: int | None = Field(default=None, ge=1, le=65535)
    namespace: Name | None = None
    kustomize: Path | None = None
    url: HttpUrl | None = None

    def address(self) -> str:
        """Where the environment's service answers: ``url``, else its loopback port."""
        return self.url or f"http://{self.host}:{self.port}"


def _default_environments() -> dict[str, EnvironmentSpec]:
    return {env: EnvironmentSpec(port=port) for env, port in (("staging", 8101),
                                                               ("production", 8102))}


class DeepchecksSpec(_Strict):
    """The nightly deep checks: which of deepchecks' default tabular suites run, and which
    of their checks are left out (by testcase name, e.g. ``multivariate_drift``, which
    trains a domain classifier and takes most of the suites' time on two cores)."""

    suites: list[Literal["data_integrity", "train_test_validation", "model_evaluation"]] = Field(
        default_factory=lambda: ["data_integrity", "train_test_validation", "model_evaluation"],
        min_length=1)
    exclude: list[str] = Field(default_factory=lambda: ["multivariate_drift"])
    # deepchecks runs in a process of its own; past this it is stopped and its items error.
    timeout_s: float = Field(default=1800.0, gt=0)


class RegistrySpec(_Strict):
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


class PromotionLoadSpec(_Strict):
    """A short load check against production once a promotion switched it: its own bounds
    and SLOs (the scenario and locustfile are ``load``'s). A failed SLO rolls back."""

    users: int = Field(default=5, ge=1, le=10_000)
    spawn_rate: float = Field(default=5.0, gt=0)
    run_time_s: float = Field(default=5.0, gt=0, le=600)
    max_requests: int = Field(default=2000, ge=1)
    workers: int | None = Field(default=1, ge=1, le=256)
    slos: list[LoadSLO] = Field(min_length=1)


class HarnessConfig(_Strict):
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
        default_factory=_default_environments, min_length=1
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

    @model_validator(mode="after")
    def _metrics_fit_the_kind(self) -> HarnessConfig:
        from harness.kinds import METRICS

        allowed = METRICS[self.model.kind]
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
                    raise _invalid((section, i, "name"), f"'{item.name}' is also the name of "
                                   f"{section}[{first[item.name]}]; give each a name of its own",
                                   item.name)
                first[item.name] = i
        if self.training is not None and self.training.name in {d.name for d in self.golden}:
            raise _invalid(("training", "name"), f"'{self.training.name}' is also a golden "
                           "dataset's name; give the training data a name of its own",
                           self.training.name)
        scenario = self.load.scenario.dataset
        if scenario is not None and scenario not in {d.name for d in self.golden}:
            known = ", ".join(d.name for d in self.golden) or "none"
            raise _invalid(("load", "scenario", "dataset"), f"'{scenario}' is not a golden "
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _describe(error: ValidationError, source: Path) -> str:
    lines = []
    for item in error.errors():
        # Pydantic appends the failing union member or validator name; drop them.
        loc = tuple(
            p for p in item["loc"] if not str(p).startswith(("function-", "list[", "[key]"))
        )
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and indentation)"
        lines.append(f"key '{_key_path(loc)}': {message}")
    return f"{source}: invalid configuration\n  " + "\n  ".join(lines)


def _named_paths(config: HarnessConfig) -> list[tuple[str, Path]]:
    """Every path the config names that must exist before anything runs, by its key."""
    return [
        *((f"golden[{i}].path", d.path) for i, d in enumerate(config.golden)),
        *((("training.path", config.training.path),) if config.training else ()),
        *((("load.locustfile", config.load.locustfile),) if config.load.locustfile else ()),
    ]


def _check_files_exist(config: HarnessConfig) -> None:
    missing = [
        (f"{where}", config.resolve(path))
        for where, path in [
            *_named_paths(config),
            *(
                (f"profiles.{name}.tests[{i}]", test)
                for name, profile in config.profiles.items()
                for i, test in enumerate(profile.tests)
            ),
        ]
        if not config.resolve(path).exists()
    ]
    if missing:
        listed = "\n  ".join(f"key '{key}': no such file or folder: {path}" for key, path in missing)
        raise ConfigError(f"{config.source}: a path in the configuration does not exist\n  {listed}")


def load_config(path: str | Path) -> HarnessConfig:
    """Read and validate a harness configuration file."""
    source = Path(path).resolve()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read configuration: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}:{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level")
    try:
        config = HarnessConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    config._source = source
    _check_files_exist(config)
    return config
