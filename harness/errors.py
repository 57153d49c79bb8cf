"""The harness's error hierarchy: one class per thing a user can fix.

The CLI turns a ``HarnessError`` into one line and a non-zero exit; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: something the user can fix; the message says what and how."""

    exit_code = 2


class ConfigError(HarnessError):
    """The configuration file is malformed, names an unknown key or a missing file."""


class DatasetError(HarnessError):
    """A dataset cannot be read as the schema describes it."""


class GoldenIntegrityError(HarnessError):
    """Golden data does not match its manifest: it changed since it was recorded."""


class ModelLoadError(HarnessError):
    """The model under test cannot be loaded or called."""


class TargetUnreachable(HarnessError):
    """A deployed service does not answer, or answers with an error."""


class EvidenceError(HarnessError):
    """Evidence for a candidate is missing, stale, failing or tampered with."""


class PromotionRefused(HarnessError):
    """A promotion was refused; the message gives the reason."""


class LoadTestError(HarnessError):
    """A load test could not run: Locust failed to start, wrote no results, or overran."""


class BenchmarkError(HarnessError):
    """The micro-benchmark suite could not run, or its baseline is missing or unreadable."""


class DeployError(HarnessError):
    """A deployment could not be made, checked, rolled back or stopped; the message says why."""


class RegistryError(HarnessError):
    """An OCI registry cannot be reached, refuses the credentials, or holds other bytes than
    a reference names (a moved tag, a corrupted blob); the message names the reference."""


class BuildError(HarnessError):
    """The team's build command (``model.build``) failed or made no artifact."""
