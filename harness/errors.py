"""The harness's error hierarchy: one class per thing a user can fix, all of them here.

The CLI turns a ``HarnessError`` into one line and a non-zero exit; any other exception is a
bug and keeps its traceback. Besides its message, an error carries what it is about, as
fields a caller can act on without parsing the message (as httpx's errors carry their
request and response): ``key`` (the config key or option at fault), ``path`` (the file or
folder) and ``candidate`` (the release candidate's id). Standard library only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class HarnessError(Exception):
    """Base class: something the user can fix; the message says what and how."""

    exit_code = 2

    def __init__(self, message: str, *, key: str | None = None, path: Path | None = None,
                 candidate: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.path = path
        self.candidate = candidate

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the fields across pickling (a pytest worker, a multiprocessing pool).
        return (_rebuild, (type(self), str(self), self.key, self.path, self.candidate))


def _rebuild(cls: type[HarnessError], message: str, key: str | None, path: Path | None,
             candidate: str | None) -> HarnessError:
    return cls(message, key=key, path=path, candidate=candidate)


class ConfigError(HarnessError):
    """The configuration file is malformed, names an unknown key or a missing file."""


class PreflightError(ConfigError):
    """A profile's inputs are missing or unusable; the message lists each, by its key
    (``problems`` holds them as (key, message) pairs, ``key`` the first)."""

    def __init__(self, message: str, *, problems: tuple[tuple[str, str], ...] = (),
                 path: Path | None = None) -> None:
        super().__init__(message, key=problems[0][0] if problems else None, path=path)
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_preflight, (str(self), self.problems, self.path))


def _rebuild_preflight(message: str, problems: tuple[tuple[str, str], ...],
                       path: Path | None) -> PreflightError:
    return PreflightError(message, problems=problems, path=path)


class DatasetError(HarnessError):
    """A dataset cannot be read as the schema describes it."""


class GoldenIntegrityError(HarnessError):
    """Golden data does not match its manifest: it changed since it was recorded."""


class BaselineError(HarnessError):
    """The baseline a profile compares with (a passport, production's model) cannot be
    compared: it is missing, or scored other rows or other classes."""


class ModelLoadError(HarnessError):
    """The model under test cannot be loaded or called."""


class TargetUnreachable(HarnessError):
    """A deployed service does not answer, or answers with an error."""


class ProtocolMismatch(TargetUnreachable):
    """The service answers, but not in the protocol ``model.protocol`` names."""


class UnexpectedAnswer(TargetUnreachable):
    """The service answered in the right protocol, but not in the shape expected."""


class WrongService(TargetUnreachable):
    """The service answering for an environment is not the candidate this project deployed
    there (another project's, or nothing this project deployed)."""


class EvidenceError(HarnessError):
    """Evidence for a candidate is missing, stale, failing or tampered with."""


class PromotionRefused(HarnessError):
    """A promotion was refused; the message gives the reason."""


class ProtectedEnvironment(HarnessError):
    """A deploy, rollback or stop on a protected environment outside ``harness promote``
    (or a break-glass that is not a release manager's)."""


class AttestationError(HarnessError):
    """A candidate's signed attestations are missing, do not verify, or would not let it
    into a protected environment; the message names the check that failed."""


class LoadTestError(HarnessError):
    """A load test could not run: Locust failed to start, wrote no results, or overran."""


class BenchmarkError(HarnessError):
    """The micro-benchmark suite could not run, or its baseline is missing or unreadable."""


class DeepchecksEnvError(HarnessError):
    """deepchecks' virtualenv cannot be created or is broken; the message says what ran."""


class DeepchecksRunError(HarnessError):
    """deepchecks' side crashed, wrote no result or overran its time, or its results do not
    fit the data sent; the message has the tail of its output."""


class DeployError(HarnessError):
    """A deployment could not be made, checked, rolled back or stopped; the message says why."""


class RegistryError(HarnessError):
    """An OCI registry cannot be reached, refuses the credentials, or holds other bytes than
    a reference names (a moved tag, a corrupted blob); the message names the reference."""


class BuildError(HarnessError):
    """The team's build command (``model.build``) failed or made no artifact."""


class HistoryError(HarnessError):
    """The history store cannot be reached or is not a harness history."""


class HistorySchemaError(HistoryError):
    """The history store has a schema revision a newer harness wrote: this one must neither
    read nor write it."""


class ReportError(HarnessError):
    """A report cannot be written: there is nothing to report on."""


class StatisticsInputError(HarnessError, ValueError):
    """A statistical test was given a parameter or an observation outside its range (an
    alpha outside (0, 1), a score outside its bounds); the message names which and the
    range it must lie in. Also a ``ValueError``, since ``harness.stats`` is a library."""
