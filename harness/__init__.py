"""harness: CI/CD and model-testing harness for ML model services.

The public API; everything the CLI does can be done from here. Names are imported on first
use (PEP 562), so ``import harness`` (and the pytest plugin, and ``harness --help``) loads
none of the libraries the commands use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each public name, and the module that defines it.
_API = {
    "Candidate": "harness.candidate.identity",
    "build_candidate": "harness.candidate.identity",
    "HarnessConfig": "harness.config",
    "load_config": "harness.config",
    "Deployment": "harness.deploy",
    "DeployTarget": "harness.deploy",
    "get_target": "harness.deploy",
    "Model": "harness.model.adapters",
    "open_model": "harness.model.adapters",
    "CheckRun": "harness.run.engine",
    "run_check": "harness.run.engine",
    "Verdict": "harness.run.verdict",
    "decide": "harness.run.verdict",
    "summarize": "harness.run.verdict",
    **{name: "harness.errors" for name in (
        "ConfigError", "DatasetError", "DeployError", "EvidenceError", "GoldenIntegrityError",
        "HarnessError", "ModelLoadError", "PromotionRefused", "TargetUnreachable")},
}
__all__ = [
    "Candidate", "CheckRun", "ConfigError", "DatasetError", "DeployError", "DeployTarget",
    "Deployment", "EvidenceError", "GoldenIntegrityError", "HarnessConfig", "HarnessError",
    "Model", "ModelLoadError", "PromotionRefused", "TargetUnreachable", "Verdict",
    "build_candidate", "decide", "get_target", "load_config", "open_model", "run_check",
    "summarize",
]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'harness' has no attribute '{name}'")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # found once; later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:
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
