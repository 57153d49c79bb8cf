"""harness: CI/CD and model-testing harness for ML model services.

The public API; everything the CLI does can be done from here.
"""

from harness.candidate.identity import Candidate, build_candidate
from harness.config import HarnessConfig, load_config
from harness.deploy import Deployment, DeployTarget, get_target
from harness.errors import (
    ConfigError,
    DatasetError,
    DeployError,
    EvidenceError,
    GoldenIntegrityError,
    HarnessError,
    ModelLoadError,
    PromotionRefused,
    TargetUnreachable,
)
from harness.model.adapters import Model, open_model
from harness.run.engine import CheckRun, run_check
from harness.run.verdict import Verdict, decide, summarize

__all__ = [
    "CheckRun", "ConfigError", "DatasetError", "EvidenceError", "GoldenIntegrityError",
    "HarnessConfig", "HarnessError", "Model", "ModelLoadError", "PromotionRefused",
    "TargetUnreachable", "Verdict", "decide", "load_config", "open_model", "run_check",
    "summarize",
]
__all__ += [
    "Candidate", "DeployError", "DeployTarget", "Deployment", "build_candidate", "get_target",
]
