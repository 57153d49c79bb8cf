"""What the nightly deep checks cost: the first run on a machine (deepchecks' virtualenv
created from PyPI, then the suites) and every later run (the suites alone), on the
reference project's data with its model, the nightly profile's deepchecks suites and
excludes; then the same later run with nothing excluded, to show what ``deepchecks.exclude``
saves. Per suite it prints deepchecks' own seconds; the rest of a run is starting
deepchecks' interpreter and importing it, writing the data, and saving deepchecks' HTML.
The machine is shared, so treat the figures as rough.

    make model
    .venv/bin/python benchmarks/deepchecks_suites.py [examples/credit/harness.yaml]

The first run uses a new, empty cache folder (pip's own download cache still helps if it
is warm). The model is scored in-process, not over HTTP in staging as the nightly profile
does, so no service needs to run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from harness.config import HarnessConfig, load_config
from harness.gates import deepchecks_env
from harness.gates.checks.deepchecks import DeepchecksRun, suite_slots
from harness.gates.context import RunContext
from harness.gates.state import GateState


def _suites(config: HarnessConfig, env: deepchecks_env.DeepchecksEnv, reports: Path,
            exclude: list[str]) -> tuple[float, dict[str, float]]:
    """One run of the configured suites on every golden dataset: its wall time, and
    deepchecks' seconds per suite and dataset. The data and the model's scores are loaded
    before the clock starts, as the quality gates load them in a nightly run."""
    profile = config.profile("nightly").model_copy(update={"environment": None})
    state = GateState(RunContext(config, "nightly", profile, reports=reports))
    listing = env.checks()
    run = DeepchecksRun(state, env)
    planned = []
    for suite in config.deepchecks.suites:
        keep = [slot.index for slot in suite_slots(listing[suite], exclude)]
        for golden in config.golden:
            run.plan(suite, golden.name, keep)
            planned.append((suite, golden.name))
            state.evaluation(golden.name)
    if config.training is not None:
        state.dataset(config.training.name)
    started = time.perf_counter()
    outcomes = {f"{suite}.{golden}": run.outcome(suite, golden).seconds
                for suite, golden in planned}
    return time.perf_counter() - started, outcomes


def _print(title: str, seconds: float, suites: dict[str, float]) -> None:
    print(f"{title:<48} {seconds:6.1f} s")
    for name, inside in suites.items():
        print(f"  {name:<46} {inside:6.1f} s  (deepchecks' own)")


def main(config_path: str = "examples/credit/harness.yaml") -> None:
    config = load_config(Path(config_path))
    with tempfile.TemporaryDirectory(prefix="deepchecks-benchmark-") as tmp:
        os.environ[deepchecks_env.CACHE_ENV] = str(Path(tmp) / "cache")
        started = time.perf_counter()
        env = deepchecks_env.ensure(announce=print)
        created = time.perf_counter() - started
        reports = Path(tmp) / "reports"
        first, suites = _suites(config, env, reports, config.deepchecks.exclude)
        print(f"excluded: {', '.join(config.deepchecks.exclude) or 'nothing'}")
        print(f"{'first run: creating the environment':<48} {created:6.1f} s")
        _print("first run: the suites", first, suites)
        print(f"{'first run: total':<48} {created + first:6.1f} s")
        later, suites = _suites(config, env, reports, config.deepchecks.exclude)
        _print("later run: the suites (environment cached)", later, suites)
        everything, suites = _suites(config, env, reports, [])
        _print("later run with nothing excluded", everything, suites)
        size = sum(p.stat().st_size for p in env.folder.rglob("*") if p.is_file())
        print(f"environment: {size / 1e6:.0f} MB on disk")


if __name__ == "__main__":
    main(*sys.argv[1:])
