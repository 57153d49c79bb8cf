"""A canary step judged from fabricated prediction logs: the two-arm tests per metric, the
one-arm tests at 100 %, low traffic never passing, and the step as a testcase."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from harness.config import CanarySpec, CanaryStepSpec
from harness.errors import PromotionRefused
from harness.gates.outcome import Outcome
from harness.release.canary import steps_of
from harness.release.canary_judge import StepJudge, StepOutcome, in_arrival_order
from harness.server.prediction_log import LoggedPrediction
from harness.stats.sequential import split_alpha
from tests.support.cli import in_process
from tests.support.project import EXAMPLE
from tests.support.staged import release_project

SPEC = CanarySpec(decision_pass_margin=0.1, score_pass_margin=0.1, error_pass_margin=0.05)
ALPHA = split_alpha(0.05, 3, 4).per_test


def _logs(rng: np.random.Generator, n: int, approve: float, arm: str, start: float = 0.0,
          latency_ms: float = 5.0, error_rate: float = 0.0) -> list[LoggedPrediction]:
    """``n`` answers of one arm, every 10 ms from ``start``: approvals at rate ``approve``
    (label "good", score above 0.5), a share of failures, a latency."""
    records = []
    for i in range(n):
        failed = rng.random() < error_rate
        good = rng.random() < approve
        score = float(np.clip(rng.normal(0.7 if good else 0.3, 0.1), 0, 1))
        records.append(LoggedPrediction(
            seq=i + 1, request_id=f"{arm}-{i}", at=start + i * 0.01 + rng.random() * 0.001,
            endpoint="/predict", status=500 if failed else 200, latency_ms=latency_ms,
            input_sha256="0" * 64, probability=None if failed else score,
            label=None if failed else ("good" if good else "bad")))
    return records


def _judge(percent: float, stable: list[LoggedPrediction], canary: list[LoggedPrediction],
           min_requests: int = 20, spec: CanarySpec = SPEC) -> StepJudge:
    judge = StepJudge(spec, CanaryStepSpec(percent=percent, min_requests=min_requests), 1,
                      ALPHA)
    judge.add(in_arrival_order(stable, canary, spec.slow_ms, "good"))
    return judge


def test_an_equal_canary_passes_every_test() -> None:
    rng = np.random.default_rng(1)
    judge = _judge(50, _logs(rng, 4000, 0.7, "s"), _logs(rng, 4000, 0.7, "c"))
    assert judge.outcome is StepOutcome.PASS
    assert {n: judge.outcome_of(n) for n in judge.judged} == {
        "decision_rate": StepOutcome.PASS, "score": StepOutcome.PASS,
        "latency": StepOutcome.PASS, "errors": StepOutcome.PASS}


def test_a_canary_approving_more_fails_on_the_decision_rate() -> None:
    rng = np.random.default_rng(2)
    judge = _judge(10, _logs(rng, 9000, 0.6, "s"), _logs(rng, 1000, 0.8, "c"))
    assert judge.outcome is StepOutcome.FAIL and "decision_rate" in judge.failed
    case = judge.case()
    assert case.outcome is Outcome.FAILED and case.properties.decision == "fail"
    assert case.properties.extra["decision_rate_decision"] == "fail"
    assert case.properties.extra["share_percent"] == "10"
    assert "decision_rate: canary - stable approval rate +0.1" in case.message


def test_a_slow_canary_fails_on_latency_and_a_faster_or_cleaner_one_does_not() -> None:
    rng = np.random.default_rng(3)
    slow = _judge(50, _logs(rng, 300, 0.7, "s"), _logs(rng, 300, 0.7, "c", latency_ms=400))
    assert slow.failed == ["latency"]
    # Stable slow and failing, the canary neither: surely better is no reason to abort.
    better = _judge(50, _logs(rng, 300, 0.7, "s", latency_ms=400, error_rate=0.5),
                    _logs(rng, 300, 0.7, "c"))
    assert better.outcome_of("latency") is StepOutcome.PASS
    assert better.outcome_of("errors") is StepOutcome.PASS
    failing = _judge(50, _logs(rng, 300, 0.7, "s"), _logs(rng, 300, 0.7, "c", error_rate=0.5))
    assert "errors" in failing.failed


def test_low_traffic_never_passes_a_step() -> None:
    rng = np.random.default_rng(4)
    # Every test could pass on these, but the canary gave fewer answers than min_requests.
    judge = _judge(50, _logs(rng, 4000, 0.7, "s"), _logs(rng, 4000, 0.7, "c"),
                   min_requests=5000)
    assert judge.outcome is StepOutcome.INCONCLUSIVE
    assert _judge(10, [], []).outcome is StepOutcome.INCONCLUSIVE
    case = judge.case("undecided after its 300 s")
    assert case.outcome is Outcome.FAILED and case.properties.decision == "inconclusive"
    assert case.message.endswith("undecided after its 300 s")


def test_the_100_percent_step_judges_the_canarys_own_errors_and_latency() -> None:
    rng = np.random.default_rng(5)
    spec = SPEC.model_copy(update={"max_error_rate": 0.05, "max_slow_share": 0.05})
    clean = _judge(100, [], _logs(rng, 800, 0.7, "c"), spec=spec)
    assert clean.judged == ["latency", "errors"] and clean.outcome is StepOutcome.PASS
    assert "stable" not in " ".join(clean.describe(n) for n in clean.judged)
    failing = _judge(100, [], _logs(rng, 800, 0.7, "c", error_rate=0.3), spec=spec)
    assert failing.failed == ["errors"]


def test_answers_are_judged_in_the_order_they_were_sent() -> None:
    rng = np.random.default_rng(6)
    answers = in_arrival_order(_logs(rng, 5, 0.7, "s", start=0.005), _logs(rng, 5, 0.7, "c"),
                               100.0, "good")
    assert [a.at for a in answers] == sorted(a.at for a in answers)
    assert {a.arm.value for a in answers[:2]} == {"stable", "canary"}


def test_steps_from_the_command_line_take_the_configs_minimums() -> None:
    from harness.config import load_config

    config = load_config(EXAMPLE / "harness.yaml")
    configured = config.release.canary.steps
    assert steps_of(config, None) == configured
    steps = steps_of(config, [5, 50])
    assert [s.percent for s in steps] == [5, 50]
    assert steps[1] == next(s for s in configured if s.percent == 50)
    assert steps[0].min_requests == configured[0].min_requests
    with pytest.raises(PromotionRefused, match="--steps must be rising"):
        steps_of(config, [50, 10])


@pytest.mark.parametrize(("changes", "says"), [
    ({"steps": [{"percent": 50}, {"percent": 10}]}, "steps must rise"),
    ({"steps": [{"percent": 0}]}, "greater than 0"),
    ({"steps": []}, "at least 1"),
    ({"decision_margin": 0.05, "decision_pass_margin": 0.01},
     "decision_pass_margin (0.01) must be at least decision_margin (0.05)"),
    ({"on_inconclusive": "advance"}, "'hold' or 'abort'"),
])
def test_a_bad_canary_section_is_refused_naming_it(changes: dict, says: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(says)):
        CanarySpec(**changes)


# -- refusals before anything runs: one message, exit 2 --------------------------------------

@pytest.mark.parametrize(("args", "says"), [
    (("--env", "staging"), "harness canary promotes to release.production ('production')"),
    (("--env", "production"), ("a canary needs nginx in front of environment 'production': "
                              "set environments.production.router: nginx")),
    (("--env", "production", "--steps", "50,10"), "is not a rising list of percents"),
])
def test_a_canary_that_cannot_run_is_refused_with_one_message(
        tmp_path: Path, model_artifact: Path, args: tuple[str, ...], says: str) -> None:
    config = release_project(tmp_path, model_artifact)
    result = in_process(config.source, "canary", "--candidate", str(model_artifact),
                        "--approver", "ana", *args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert says in result.stderr and result.stderr.count("error:") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "reports").exists()
