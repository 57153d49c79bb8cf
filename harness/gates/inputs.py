"""The problems any check may find with its inputs, before anything runs.

Each check's ``problems(context)`` returns ``Problem``s; ``run/preflight.py`` collects them
with the problems every check shares (datasets, the model) and refuses the run once.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.candidate.artifact import artifact_problem
from harness.config import HarnessConfig, ModelAccess
from harness.errors import HarnessError
from harness.load.runner import probe
from harness.model.adapters import import_entrypoint


@dataclass(frozen=True)
class Problem:
    """One unusable input: the config key (or option) that names it, and what to do."""

    key: str
    message: str


def url_problems(key: str, url: str, what_to_do: str) -> list[Problem]:
    """A problem when nothing answers at ``url``."""
    reason = probe(url.rstrip("/"))
    return [Problem(key, f"{reason}; {what_to_do}")] if reason else []


def access_problems(config: HarnessConfig, section: str, access: ModelAccess,
                    entry_point: bool = True) -> list[Problem]:
    """The model as ``section`` reaches it: its entry point imports (unless not
    ``entry_point``: see ``entry_point_problems``) and its artifact holds something
    (in-process), or its URL answers (over HTTP)."""
    if access.adapter == "http":
        assert access.url is not None  # guaranteed by ModelAccess validation
        return url_problems(f"{section}.url", access.url, "start the service or correct the URL")
    found = entry_point_problems(config, section, access) if entry_point else []
    if access.artifact is not None:
        problem = artifact_problem(config.resolve(access.artifact))
        if problem:
            found.append(Problem(f"{section}.artifact", problem))
    return found


def entry_point_problems(config: HarnessConfig, section: str,
                         access: ModelAccess) -> list[Problem]:
    """The in-process model's entry point imports and names a function. Proving it imports
    the team's module, with whatever it loads (scikit-learn, torch): the one input that is
    costly to check, which is why the engine leaves it to the pytest process when nothing
    else is wrong (harness/run/pytest_process.py)."""
    assert access.entrypoint is not None  # guaranteed by ModelAccess validation
    try:
        loader = import_entrypoint(access.entrypoint, config.root)
    except HarnessError as exc:
        return [Problem(f"{section}.entrypoint", str(exc))]
    except Exception as exc:  # noqa: BLE001 - the team's module may raise anything on import
        return [Problem(f"{section}.entrypoint", f"'{access.entrypoint}' raised "
                        f"{type(exc).__name__} on import: {exc}; fix the module")]
    if not callable(loader):
        return [Problem(f"{section}.entrypoint", f"'{access.entrypoint}' is a "
                        f"{type(loader).__name__}, not a function; name the loader")]
    return []
