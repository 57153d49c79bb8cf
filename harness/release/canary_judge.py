"""The judgment of one canary step, answer by answer, as one JUnit testcase.

At a step with a stable arm (a share below 100 %), the canary's answers and the stable
revision's in the same window are not paired (each request went to one of them), so each
test is a ``TwoArmTest`` (harness/stats/sequential.py) of the canary's mean minus stable's,
with the arms' batch sizes from the step's share:

- ``decision_rate``: the share of answers with the positive label (two proportions);
- ``score``: the mean score (the probability of the positive class, else of the most
  probable one), which moves when the score distribution does;
- ``latency``: the share of answers slower than ``slow_ms``. A bounded transform, so the
  test stays exact whatever the latency's tail: a mean of raw milliseconds has no bound
  and no anytime-valid test of it holds without one;
- ``errors``: the share of failed answers.

Each FAILs when the difference is surely beyond its margin and PASSes when surely within
its pass margin; for latency and errors only the canary's worse side fails (a canary
surely better passes). A failed test aborts the step at once, at any time (the tests are
anytime-valid); the step passes only when every test has passed and the canary has given
``min_requests`` answers, so low traffic never advances it.

At 100 % there is no stable arm in the window: comparing with stable's answers from an
earlier step would confound the revision with the time of day. The step judges what a
canary carrying all the traffic can still show on its own: its error share against
``max_error_rate`` and its slow share against ``max_slow_share`` (one-sample anytime-valid
tests of a rate against a tolerance). The decision rate and scores were judged at the
earlier steps, against stable, on the same error budget.

``alpha`` is split evenly over steps x 4 tests (``split_alpha``), so the chance of any
false abort over the whole canary, looking after every answer, is at most ``alpha``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from harness.config.release import CanarySpec, CanaryStepSpec
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.release.shadow_judge import score_of
from harness.run.junit import Case
from harness.server.prediction_log import LoggedPrediction
from harness.stats import sequential

CLASSNAME = "canary"
METRICS = ("decision_rate", "score", "latency", "errors")
# A worse canary fails; a surely better one passes (higher is worse for these).
ONE_SIDED = frozenset({"latency", "errors"})


class StepOutcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Answer:
    """One answer of a step, as the tests read it."""

    arm: sequential.Arm
    at: float
    failed: bool
    slow: bool
    decision: float | None  # 1 for the positive label, 0 for another, None: not a label
    score: float | None


def answer_of(record: LoggedPrediction, arm: sequential.Arm, slow_ms: float,
              positive_label: str | None) -> Answer:
    failed = record.status != 200
    decision = None
    if not failed and positive_label is not None and record.label is not None:
        decision = float(record.label == positive_label)
    return Answer(arm, record.at, failed, record.latency_ms > slow_ms, decision,
                  None if failed else score_of(record))


def in_arrival_order(stable: list[LoggedPrediction], canary: list[LoggedPrediction],
                     slow_ms: float, positive_label: str | None) -> list[Answer]:
    """Both arms' records as answers, in the order they were sent (the log's ``at``)."""
    answers = [answer_of(r, sequential.Arm.STABLE, slow_ms, positive_label) for r in stable]
    answers += [answer_of(r, sequential.Arm.CANARY, slow_ms, positive_label) for r in canary]
    return sorted(answers, key=lambda a: a.at)


class StepJudge:
    """Takes a step's answers as they come; says when the step has decided, and writes it
    as a testcase."""

    def __init__(self, spec: CanarySpec, step: CanaryStepSpec, number: int,
                 alpha_per_test: float) -> None:
        self.spec, self.step, self.number = spec, step, number
        self.alpha = alpha_per_test
        self.seen = {sequential.Arm.CANARY: 0, sequential.Arm.STABLE: 0}
        self.judged_once = step.percent >= 100
        self.two_arm: dict[str, sequential.TwoArmTest] = {}
        self.one_arm: dict[str, sequential.DisagreementTest] = {}
        if self.judged_once:
            self.one_arm = {
                "latency": sequential.DisagreementTest(spec.max_slow_share, alpha_per_test),
                "errors": sequential.DisagreementTest(spec.max_error_rate, alpha_per_test)}
        else:
            canary_batch, stable_batch = sequential.batches_for_share(step.percent / 100)
            self.two_arm = {name: sequential.TwoArmTest(
                margin=getattr(spec, f"{_key(name)}_margin"),
                pass_margin=getattr(spec, f"{_key(name)}_pass_margin"),
                alpha=alpha_per_test, canary_batch=canary_batch, stable_batch=stable_batch)
                for name in METRICS}
        self.applies = {name: True for name in (*self.two_arm, *self.one_arm)}

    @property
    def canary_answers(self) -> int:
        return self.seen[sequential.Arm.CANARY]

    def add(self, answers: list[Answer]) -> None:
        """Judge ``answers`` (both arms, in arrival order)."""
        for answer in answers:
            self.seen[answer.arm] += 1
        if self.judged_once:
            mine = [a for a in answers if a.arm is sequential.Arm.CANARY]
            if mine:
                self.one_arm["latency"].update_many([a.slow for a in mine])
                self.one_arm["errors"].update_many([a.failed for a in mine])
            return
        values = {"latency": [float(a.slow) for a in answers],
                  "errors": [float(a.failed) for a in answers],
                  "decision_rate": [a.decision for a in answers],
                  "score": [a.score for a in answers]}
        for name, column in values.items():
            kept = [(a.arm, v) for a, v in zip(answers, column, strict=True) if v is not None]
            if kept:
                arms, numbers = zip(*kept, strict=True)
                self.two_arm[name].update_many(np.array([a.value for a in arms], dtype=object),
                                               np.asarray(numbers, dtype=float))

    # -- where it stands ------------------------------------------------------------------

    def outcome_of(self, name: str) -> StepOutcome | None:
        """A test's decision (None while it looks); a canary surely better than stable
        on a one-sided test passes."""
        if name in self.one_arm:
            decided = self.one_arm[name].decision()
        else:
            if not self.two_arm[name].seen[sequential.Arm.CANARY]:
                return None
            decided = self.two_arm[name].decision()
        if decided.outcome is sequential.Outcome.CONTINUE:
            return None
        if decided.outcome is sequential.Outcome.FAIL and not (
                name in ONE_SIDED and name in self.two_arm and decided.high < 0):
            return StepOutcome.FAIL
        return StepOutcome.PASS

    def _decision(self, name: str) -> sequential.SequentialDecision:
        test = self.one_arm.get(name) or self.two_arm[name]
        return test.decision()

    @property
    def judged(self) -> list[str]:
        """The tests this step runs that have seen an answer to judge."""
        if self.judged_once:
            return list(self.one_arm) if self.canary_answers else []
        return [n for n, t in self.two_arm.items() if t.seen[sequential.Arm.CANARY]
                and t.seen[sequential.Arm.STABLE]]

    @property
    def failed(self) -> list[str]:
        return [n for n in self.judged if self.outcome_of(n) is StepOutcome.FAIL]

    @property
    def outcome(self) -> StepOutcome:
        """FAIL as soon as a test fails; PASS once every test that applies has passed and
        the canary gave ``min_requests`` answers; else INCONCLUSIVE (still looking)."""
        if self.failed:
            return StepOutcome.FAIL
        judged = self.judged
        # decision_rate and score may not apply (a model without labels or scores); latency
        # and errors always do, so a step with answers always has something to pass.
        needed = {"latency", "errors"}
        if self.canary_answers >= self.step.min_requests and needed <= set(judged) and all(
                self.outcome_of(n) is StepOutcome.PASS for n in judged):
            return StepOutcome.PASS
        return StepOutcome.INCONCLUSIVE

    # -- the testcase ---------------------------------------------------------------------

    def describe(self, name: str) -> str:
        decided = self._decision(name)
        state = self.outcome_of(name)
        word = state.value if state else "undecided"
        if name in self.one_arm:
            bound = self.spec.max_slow_share if name == "latency" else self.spec.max_error_rate
            what = (f"slower than {self.spec.slow_ms:g} ms" if name == "latency"
                    else "failed")
            return (f"{name}: {decided.estimate:.2%} of the canary's answers {what} "
                    f"[{decided.low:.2%}, {decided.high:.2%}], at most {bound:.2%}: {word}")
        margin = getattr(self.spec, f"{_key(name)}_margin")
        wide = getattr(self.spec, f"{_key(name)}_pass_margin")
        unit = {"decision_rate": "approval rate", "score": "mean score",
                "latency": f"share slower than {self.spec.slow_ms:g} ms",
                "errors": "error share"}[name]
        return (f"{name}: canary - stable {unit} {decided.estimate:+.4f} "
                f"[{decided.low:+.4f}, {decided.high:+.4f}] over {decided.n} pairs "
                f"(fail beyond ±{margin:g}, pass within ±{wide:g}): {word}")

    def case(self, why: str = "") -> Case:
        """The step as one testcase: its share, the answers of each arm, and each test's
        statistic, interval and decision (as properties)."""
        outcome = self.outcome
        tests = self.judged
        extra: dict[str, str] = {
            "share_percent": f"{self.step.percent:g}",
            "canary_answers": str(self.canary_answers),
            "stable_answers": str(self.seen[sequential.Arm.STABLE]),
            "alpha_per_test": f"{self.alpha:.6g}"}
        for name in tests:
            decided = self._decision(name)
            state = self.outcome_of(name)
            extra |= {f"{name}_estimate": f"{decided.estimate:.6g}",
                      f"{name}_low": f"{decided.low:.6g}", f"{name}_high": f"{decided.high:.6g}",
                      f"{name}_e_value": f"{decided.statistic:.6g}",
                      f"{name}_decision": state.value if state else "inconclusive"}
        lines = "; ".join(self.describe(n) for n in tests) or "no answer reached both arms"
        message = (f"{self.step.percent:g} % to the canary: {self.canary_answers} canary and "
                   f"{self.seen[sequential.Arm.STABLE]} stable answers; {lines}"
                   + (f"; {why}" if why else ""))
        gate = Outcome.PASSED if outcome is StepOutcome.PASS else Outcome.FAILED
        return Case(CLASSNAME, self.name, gate, message, GateProperties(
            metric="canary_step", value=Figure.of(self.step.percent / 100),
            requests=self.canary_answers, decision=outcome.value,
            min_rows=self.step.min_requests, extra=extra))

    @property
    def name(self) -> str:
        return f"step_{self.number}_{self.step.percent:g}_percent"

    def summary(self) -> dict[str, object]:
        return {"step": self.number, "percent": self.step.percent,
                "outcome": self.outcome.value, "canary_answers": self.canary_answers,
                "stable_answers": self.seen[sequential.Arm.STABLE],
                "tests": {n: {"outcome": (o.value if (o := self.outcome_of(n)) else
                                          "inconclusive"),
                              **json.loads(json.dumps(vars(self._decision(n)), default=str))}
                          for n in self.judged}}


def _key(name: str) -> str:
    return {"decision_rate": "decision", "score": "score", "latency": "latency",
            "errors": "error"}[name]
