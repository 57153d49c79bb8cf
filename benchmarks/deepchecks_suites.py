"""Time deepchecks' default tabular suites, check by check, on the reference project's data
(training data against the golden set, with the reference model): what decides which
checks ``deepchecks.exclude`` leaves out of the nightly profile. Prints seconds per check;
the machine is shared, so treat the figures as rough.

    .venv/bin/python benchmarks/deepchecks_suites.py [examples/credit/harness.yaml]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.checks import deepchecks_suite
from harness.config import load_config
from harness.gate_state import GateState


def main(config_path: str = "examples/credit/harness.yaml") -> None:
    config = load_config(Path(config_path))
    started = time.perf_counter()
    deepchecks_suite.build_suite("data_integrity", [])
    print(f"import and build: {time.perf_counter() - started:6.2f} s")
    state = GateState(config, "benchmark", config.profile("nightly"))
    golden = config.golden[0].name
    total = 0.0
    for name in deepchecks_suite.SUITES:
        _, slots = deepchecks_suite.build_suite(name, [])
        for slot in slots:
            suite, alone = deepchecks_suite.build_suite(
                name, [s.key for s in slots if s.key != slot.key])
            run = deepchecks_suite.SuiteRun(state, name, golden, suite)
            started = time.perf_counter()
            result = run.result()
            seconds = time.perf_counter() - started
            total += seconds
            outcome = deepchecks_suite.judge_check(result, alone[0], name, golden)
            status = "skipped" if outcome.skipped else "passed" if outcome.passed else "failed"
            print(f"{seconds:6.2f} s  {name:<22} {slot.key:<36} {status}")
    print(f"total: {total:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
