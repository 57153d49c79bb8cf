"""Preflight: every input a profile will use, checked before anything runs or is recorded.

One cause used to surface as dozens of identical ERROR testcases, a failed run in history
and exit 1. Instead, everything the profile reads or reaches is checked up front: paths,
golden integrity, the model's entry point and artifact, datasets (rows, the schema's
columns, label values), the locustfile, the benchmark suite and baseline, passports, and
the URLs the run will call. Every problem is collected, by the key that names it, and the
run is refused once with one ``PreflightError`` (exit 2). See docs/errors.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from harness.candidate.artifact import artifact_problem
from harness.config import DatasetSpec, HarnessConfig, ModelAccess
from harness.data import golden, passport
from harness.errors import ConfigError, HarnessError
from harness.gates.benchmark_suite import read_baseline
from harness.kinds.labels import label_problem
from harness.load.runner import probe, resolve_target
from harness.model.adapters import import_entrypoint

# Checks that read the datasets, and those that call the model under test.
_READS_DATA = {"schema", "quality", "drift", "load", "deepchecks"}
_CALLS_MODEL = {"quality", "deepchecks"}


class PreflightError(ConfigError):
    """A profile's inputs are missing or unusable; the message lists each, by its key."""


@dataclass(frozen=True)
class Problem:
    """One unusable input: the config key (or option) that names it, and what to do."""

    key: str
    message: str


def check_inputs(config: HarnessConfig, profile: str, target_url: str | None = None) -> None:
    """Refuse the run, once, when anything ``profile`` will use is missing or unusable."""
    found = problems(config, profile, target_url)
    if found:
        listed = "\n  ".join(f"key '{p.key}': {p.message}" for p in found)
        raise PreflightError(
            f"{config.source}: profile '{profile}' cannot run; nothing was run or recorded. "
            f"Fix {'this' if len(found) == 1 else f'these {len(found)} problems'} first:\n"
            f"  {listed}"
        )


def problems(config: HarnessConfig, profile: str,
             target_url: str | None = None) -> list[Problem]:
    """Every problem with the inputs of ``profile``, in the order of the config's keys."""
    spec = config.profile(profile)
    checks = set(spec.checks)
    found: list[Problem] = []
    if not spec.checks and not spec.tests:
        found.append(Problem(f"profiles.{profile}", "selects no checks and no tests; add some"))
    for i, test in enumerate(spec.tests):
        if not config.resolve(test).exists():
            found.append(Problem(f"profiles.{profile}.tests[{i}]",
                                 f"no such file or folder: {config.resolve(test)}"))
    if checks & _READS_DATA:
        for key, dataset in _datasets(config):
            found.extend(_dataset_problems(config, key, dataset))
    if checks & _CALLS_MODEL:
        if spec.environment is None:
            found.extend(_access_problems(config, "model", config.model))
        if "quality" in checks and spec.baseline == "production":
            found.extend(_production_problems(config))
        if "quality" in checks and spec.baseline == "passport":
            found.extend(_passport_problems(config))
    env_key = None
    if spec.environment is not None:
        environment = config.environment(spec.environment)
        env_key = ("--target-url" if target_url else f"environments.{spec.environment}.url"
                   if environment.url else f"environments.{spec.environment}.port")
        found.extend(_url_problems(env_key, target_url or environment.address(),
                                   f"deploy a candidate first (harness deploy --env "
                                   f"{spec.environment})"))
    if "load" in checks:
        # A profile with an environment loads that environment, whose URL is checked above.
        override = target_url or (config.environment_url(spec.environment)
                                  if spec.environment else None)
        key = env_key or ("--target-url" if target_url else "load.url" if config.load.url
                          else "model.url")
        found.extend(_load_problems(config, override, key,
                                    probe_target=spec.environment is None))
    if "benchmark" in checks:
        found.extend(_benchmark_problems(config))
    return found


def _datasets(config: HarnessConfig) -> Iterator[tuple[str, DatasetSpec]]:
    yield from ((f"golden[{i}].path", d) for i, d in enumerate(config.golden))
    if config.training is not None:
        yield "training.path", config.training


def _dataset_problems(config: HarnessConfig, key: str, spec: DatasetSpec) -> list[Problem]:
    path = config.resolve(spec.path)
    if not path.is_file():
        return [Problem(key, f"no such file: {path}")]
    if key.startswith("golden"):
        try:
            golden.verify(path.parent)
        except HarnessError as exc:
            return [Problem(key, str(exc))]
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return [Problem(key, f"{path} is empty; restore it from version control")]
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        return [Problem(key, f"{path} is not a readable CSV file ({exc})")]
    found = []
    if frame.empty:
        found.append(Problem(key, f"{path} has a header but no rows; a dataset needs rows"))
    wanted = [*config.data_schema.columns, config.model.label_column]
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        found.append(Problem(key, f"{path} lacks the column(s) {', '.join(missing)} that "
                             "schema.columns and model.label_column name; add them to the file "
                             "or correct the names"))
    # Binary labels only: a multiclass label of an unknown class is a schema failure.
    if (config.model.model_kind.needs_positive_label and not frame.empty
            and config.model.label_column in frame.columns):
        problem = label_problem(frame[config.model.label_column], config)
        if problem is not None:
            found.append(Problem(key, f"{path}: {problem}"))
    return found


def _access_problems(config: HarnessConfig, section: str, access: ModelAccess) -> list[Problem]:
    """The model as ``section`` reaches it: its entry point imports and its artifact holds
    something (in-process), or its URL answers (over HTTP)."""
    if access.adapter == "http":
        assert access.url is not None  # guaranteed by ModelAccess validation
        return _url_problems(f"{section}.url", access.url, "start the service or correct the URL")
    found = []
    assert access.entrypoint is not None  # guaranteed by ModelAccess validation
    try:
        loader = import_entrypoint(access.entrypoint, config.root)
    except HarnessError as exc:
        found.append(Problem(f"{section}.entrypoint", str(exc)))
    except Exception as exc:  # noqa: BLE001 - the team's module may raise anything on import
        found.append(Problem(f"{section}.entrypoint", f"'{access.entrypoint}' raised "
                             f"{type(exc).__name__} on import: {exc}; fix the module"))
    else:
        if not callable(loader):
            found.append(Problem(f"{section}.entrypoint", f"'{access.entrypoint}' is a "
                                 f"{type(loader).__name__}, not a function; name the loader"))
    if access.artifact is not None:
        problem = artifact_problem(config.resolve(access.artifact))
        if problem:
            found.append(Problem(f"{section}.artifact", problem))
    return found


def _production_problems(config: HarnessConfig) -> list[Problem]:
    if config.production is not None:
        return _access_problems(config, "production", config.production)
    env = config.release.production
    spec = config.environment(env)
    key = f"environments.{env}.url" if spec.url else f"environments.{env}.port"
    return _url_problems(key, spec.address(), "the baseline 'production' compares with the "
                         f"model running in {env}; deploy one there, or use another baseline")


def _passport_problems(config: HarnessConfig) -> list[Problem]:
    found = []
    for i, spec in enumerate(config.golden):
        try:
            blessed = passport.current(config, spec)
            missing = blessed is None
            if blessed is not None:
                blessed.baseline_scores()  # its scores file is checked against its digest
        except HarnessError as exc:
            found.append(Problem(f"golden[{i}]", str(exc)))
            continue
        if missing:
            found.append(Problem(f"golden[{i}]", f"no passport for '{spec.name}' as it is now "
                                 "(the quality gates compare with it); record one with "
                                 "`harness golden bless --by NAME --reason TEXT`"))
    return found


def _url_problems(key: str, url: str, what_to_do: str) -> list[Problem]:
    reason = probe(url.rstrip("/"))
    return [Problem(key, f"{reason}; {what_to_do}")] if reason else []


def _load_problems(config: HarnessConfig, target_url: str | None, key: str,
                   probe_target: bool) -> list[Problem]:
    found = []
    locustfile = config.load.locustfile
    if locustfile is not None:
        path = config.resolve(locustfile)
        try:
            compile(path.read_bytes(), str(path), "exec")
        except OSError as exc:
            found.append(Problem("load.locustfile", f"{path} cannot be read ({exc.strerror})"))
        except (SyntaxError, ValueError) as exc:
            line = f" line {exc.lineno}" if isinstance(exc, SyntaxError) else ""
            found.append(Problem("load.locustfile", f"{path}{line} is not valid Python ({exc})"))
        else:
            if not path.read_bytes().strip():
                found.append(Problem("load.locustfile", f"{path} is empty; write the scenario"))
    try:
        target = resolve_target(config, target_url)
    except HarnessError as exc:
        found.append(Problem(key, str(exc).removeprefix(f"{config.source}: ")))
    else:
        if probe_target:
            found.extend(_url_problems(key, target.url, "start the service the load test "
                                       "targets"))
    return found


def _benchmark_problems(config: HarnessConfig) -> list[Problem]:
    gate = config.gates.benchmark
    if gate is None:
        return [Problem("gates.benchmark", "the profile runs 'benchmark' but no benchmark gate "
                        "is configured; add gates.benchmark or drop the check")]
    found = []
    suite = config.resolve(gate.suite)
    if not suite.exists():
        found.append(Problem("gates.benchmark.suite", f"no such file or folder: {suite}"))
    elif suite.is_dir() and not any(suite.rglob("*.py")):
        found.append(Problem("gates.benchmark.suite", f"{suite} holds no Python test files"))
    try:
        read_baseline(config.resolve(gate.baseline))
    except HarnessError as exc:
        found.append(Problem("gates.benchmark.baseline", str(exc)))
    return found
