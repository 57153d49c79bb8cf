"""``harness.yaml`` parsed once into typed, validated objects: one module per section, the
whole config in ``project``, reading the file in ``loader``. A bad file raises one
``ConfigError`` that names the file and every offending key; nothing runs on a config that
does not parse."""

from harness.config.data import ColumnRule, DatasetSpec, SchemaSpec, SliceSpec
from harness.config.gates import (
    BenchmarkGate,
    BootstrapSpec,
    DeepchecksSpec,
    DriftSpec,
    FeatureDriftSpec,
    GatesSpec,
    IntervalSpec,
    MetricGate,
)
from harness.config.load import LoadScenario, LoadSLO, LoadSpec, PromotionLoadSpec
from harness.config.loader import load_config
from harness.config.model import ModelAccess, ModelSpec
from harness.config.project import HarnessConfig, ProfileSpec
from harness.config.release import (
    CanarySpec,
    CanaryStepSpec,
    DeploySpec,
    EnvironmentSpec,
    GatewaySpec,
    HistorySpec,
    KubernetesDeploySpec,
    LocalDeploySpec,
    RegistrySpec,
    ReleaseSpec,
    ShadowSpec,
)
from harness.config.server import PredictionLogSpec, ServerSpec

__all__ = [
    "BenchmarkGate", "BootstrapSpec", "CanarySpec", "CanaryStepSpec", "ColumnRule", "DatasetSpec",
    "DeepchecksSpec", "DeploySpec", "DriftSpec", "EnvironmentSpec", "FeatureDriftSpec", "GatesSpec",
    "GatewaySpec",
    "HarnessConfig", "HistorySpec", "IntervalSpec", "KubernetesDeploySpec", "LoadSLO",
    "LoadScenario", "LoadSpec", "LocalDeploySpec", "MetricGate", "ModelAccess", "ModelSpec",
    "PredictionLogSpec", "ProfileSpec", "PromotionLoadSpec", "RegistrySpec", "ReleaseSpec", "SchemaSpec",
    "ServerSpec", "ShadowSpec", "SliceSpec", "load_config",
]
