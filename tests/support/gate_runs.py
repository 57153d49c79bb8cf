"""A profile's gates judged in this process, each as the plugin's item judges it in
pytest's process (harness/gates/items.py: setup loads, a HarnessError there is an error;
then the criterion is judged), read back as the testcases JUnit would hold. No pytest
process, no report and no history record: a second instead of a run, for the tests of a
check's rule; a file keeps one real run (``run_check`` or the CLI) to prove the wiring."""

from __future__ import annotations

from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.gates.checks import check
from harness.gates.context import RunContext
from harness.gates.outcome import Outcome
from harness.gates.state import GateState
from harness.run.verdict import CaseOutcome, Verdict
from harness.text import MESSAGE_LIMIT, clip


def judge(config: HarnessConfig, profile: str, target_url: str | None = None) -> Verdict:
    """The verdict on every gate of ``profile``, its cases in the order the plugin
    collects them."""
    context = RunContext.resolve(config, profile, target_url)
    state = GateState(context)
    cases: list[CaseOutcome] = []
    try:
        for name in context.profile.checks:
            for gate in check(name).gates(state):
                try:
                    gate.prepare()
                except HarnessError as exc:
                    cases.append(CaseOutcome(gate.classname, gate.criterion, Outcome.ERROR,
                                             clip(f"{type(exc).__name__}: {exc}",
                                                  MESSAGE_LIMIT)))
                    continue
                result = gate.judged()
                cases.append(CaseOutcome(gate.classname, gate.criterion, result.outcome,
                                         clip(result.message, MESSAGE_LIMIT),
                                         result.properties))
    finally:
        state.finished()
    return Verdict(cases)


def case(verdict: Verdict, gate: str) -> CaseOutcome:
    """The testcase ``classname::name``."""
    return next(c for c in verdict.cases if f"{c.classname}::{c.name}" == gate)
