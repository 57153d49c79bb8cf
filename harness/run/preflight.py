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

import pandas as pd

from harness.config import DatasetSpec, HarnessConfig
from harness.data import golden
from harness.errors import HarnessError, PreflightError
from harness.gates.checks import check
from harness.gates.context import RunContext
from harness.gates.inputs import Problem, access_problems, entry_point_problems, url_problems
from harness.kinds.labels import label_problem


def check_inputs(context: RunContext, entry_point: bool = True) -> None:
    """Refuse the run, once, when anything its profile will use is missing or unusable.

    Without ``entry_point``, the model's entry point is imported only when something else
    is wrong (a refusal lists every problem); otherwise the caller proves it loads with
    ``check_entry_point`` before anything runs (the pytest process does, once)."""
    found = problems(context, entry_point)
    if found and not entry_point:
        found = problems(context)
    if found:
        raise refusal(context, found)


def check_entry_point(context: RunContext) -> None:
    """Refuse the run, as ``check_inputs`` would have, when the entry point it left out
    does not import: the last of its problems to look for, so the only one."""
    if imports_model(context):
        found = entry_point_problems(context.config, "model", context.config.model)
        if found:
            raise refusal(context, found)


def imports_model(context: RunContext) -> bool:
    """Whether preflight imports the model's entry point: a profile whose checks call the
    model in-process."""
    checks = [check(name) for name in context.profile.checks]
    return (any(c.CALLS_MODEL for c in checks) and context.profile.environment is None
            and context.config.model.adapter == "python")


def refusal(context: RunContext, found: list[Problem]) -> PreflightError:
    """The one error that refuses a run, listing every problem by its key."""
    config, profile = context.config, context.profile_name
    listed = "\n  ".join(f"key '{p.key}': {p.message}" for p in found)
    return PreflightError(
        f"{config.source}: profile '{profile}' cannot run; nothing was run or recorded. "
        f"Fix {'this' if len(found) == 1 else f'these {len(found)} problems'} first:\n"
        f"  {listed}",
        problems=tuple((p.key, p.message) for p in found), path=config.source,
    )


def problems(context: RunContext, entry_point: bool = True) -> list[Problem]:
    """Every problem with the inputs of the run's profile: what its checks share (tests,
    datasets, the model, the environment), then each check's own, in the profile's order;
    without ``entry_point``, all but the import of the model's entry point."""
    config, profile, spec = context.config, context.profile_name, context.profile
    checks = [check(name) for name in spec.checks]
    found: list[Problem] = []
    if not spec.checks and not spec.tests:
        found.append(Problem(f"profiles.{profile}", "selects no checks and no tests; add some"))
    for i, test in enumerate(spec.tests):
        if not config.resolve(test).exists():
            found.append(Problem(f"profiles.{profile}.tests[{i}]",
                                 f"no such file or folder: {config.resolve(test)}"))
    if any(c.READS_DATA for c in checks):
        for key, dataset in _datasets(config):
            found.extend(_dataset_problems(config, key, dataset))
    if any(c.CALLS_MODEL for c in checks) and spec.environment is None:
        found.extend(access_problems(config, "model", config.model, entry_point))
    if spec.environment is not None:
        assert context.target_key is not None and context.target_url is not None
        found.extend(url_problems(context.target_key, context.target_url,
                                  f"deploy a candidate first (harness deploy --env "
                                  f"{spec.environment})"))
    for each in checks:
        found.extend(each.problems(context))
    return found


def _datasets(config: HarnessConfig) -> Iterator[tuple[str, DatasetSpec]]:
    yield from ((f"golden[{i}].path", d) for i, d in enumerate(config.golden))
    if config.training is not None:
        yield "training.path", config.training


def _dataset_problems(config: HarnessConfig, key: str, spec: DatasetSpec) -> list[Problem]:
    path = config.resolve(spec.path)
    if path.is_dir():
        return [Problem(key, f"{path} is a folder; name a CSV file (inside a golden version "
                             "folder, for golden data)")]
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
