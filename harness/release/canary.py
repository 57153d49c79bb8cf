"""``harness canary``: production's traffic stepped to a candidate (10 %, 50 %, 100 % by
default), each step judged continuously against the stable revision, aborted by itself,
and promoted at the end as ``harness promote`` promotes.

It is a promotion (harness/release/promotion.py) with the traffic steps run between its
checks and its switch: the approver, the evidence and the attestations are checked before
the first step; the promotion's lock is held throughout, its journal naming the step, so a
killed canary is found by ``harness status`` and ended by ``harness recover``. At each step
nginx sends the step's share of the predict requests to the candidate, started beside
production (harness/deploy/canary.py); both revisions' prediction logs are read as the
step runs and every answer goes to the step's judge (canary_judge.py).

- A step that fails sends all traffic back to stable at once (the seconds it took are
  measured and reported), stops the candidate, audits the step and the failed tests, and
  the command exits 1.
- A step still undecided after its ``max_duration_s`` is inconclusive: held for
  ``hold_s`` more (``on_inconclusive: hold``), then aborted as a failed one. It never
  advances; too little traffic leaves it undecided, so low traffic never advances either.
- After the last step: the promotion's switch deploys the candidate as production's new
  revision, with its post-deploy checks and rollback, and the canary process is stopped.

``<reports>/canary/`` holds the JUnit (one testcase per step run), ``canary.json``, the
report and the evidence bundle, recorded as the candidate's newest evidence.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.config.release import CanaryStepSpec
from harness.deploy.canary import Canary, canarying, end_canary, refuse_without_router
from harness.errors import PromotionRefused
from harness.history import HistoryStore
from harness.history.release import Lock, append_audit
from harness.release.canary_judge import METRICS, StepJudge, StepOutcome, in_arrival_order
from harness.release.promotion import Admission, PromotionResult, promote
from harness.release.recovery import PromotionJournal
from harness.release.replay import ReplayTraffic
from harness.release.shadow_logs import LogReader
from harness.run.junit import Case, write_junit
from harness.stats.sequential import ErrorBudget, split_alpha

PROFILE = "canary"
POLL_S = 0.25


@dataclass
class CanaryResult:
    """What a canary did: its steps as testcases, where it stopped, the promotion."""

    candidate_id: str
    env: str
    promotion: PromotionResult
    steps: list[Case] = field(default_factory=list)
    aborted_step: int | None = None
    abort_s: float | None = None
    junit: Path | None = None

    @property
    def promoted(self) -> bool:
        return self.promotion.promoted

    @property
    def exit_code(self) -> int:
        return 0 if self.promoted else 1


def steps_of(config: HarnessConfig, shares: list[float] | None) -> list[CanaryStepSpec]:
    """The steps to run: the config's, or ``shares`` (``--steps``), each taking the
    config's step of that share, else the config's first step's minimum and duration."""
    spec = config.release.canary
    if not shares:
        return list(spec.steps)
    if any(not 0 < share <= 100 for share in shares) or shares != sorted(set(shares)):
        raise PromotionRefused(f"--steps must be rising shares in (0, 100] percent, each "
                               f"once; got {','.join(f'{s:g}' for s in shares)}",
                               key="--steps")
    configured = {step.percent: step for step in spec.steps}
    first = spec.steps[0]
    return [configured.get(share) or first.model_copy(update={"percent": share})
            for share in shares]


class _Steps:
    """The canary's steps, run by the promotion between its lock and its switch."""

    def __init__(self, config: HarnessConfig, steps: list[CanaryStepSpec], approver: str,
                 replay_golden: bool, max_requests: int, staging: Path) -> None:
        self.config, self.steps, self.approver = config, steps, approver
        self.spec = config.release.canary
        self.budget: ErrorBudget = split_alpha(self.spec.alpha, len(steps), len(METRICS))
        self.replay_golden, self.max_requests, self.staging = replay_golden, max_requests, staging
        positive = config.model.positive_label
        self.positive = None if positive is None else str(positive)
        self.judges: list[StepJudge] = []
        self.notes: dict[int, str] = {}
        self.aborted_step: int | None = None
        self.abort_s: float | None = None
        self.started = time.monotonic()

    def __call__(self, admission: Admission, lock: Lock, journal: PromotionJournal,
                 store: HistoryStore) -> str | None:
        candidate = admission.candidate
        env = admission.env
        with canarying(self.config, env, candidate) as canary:
            traffic = self._traffic(env)
            try:
                for number, step in enumerate(self.steps, 1):
                    lock.write_journal(replace(journal, phase=(
                        f"step {number} of {len(self.steps)} ({step.percent:g} %)")).to_dict())
                    judge = StepJudge(self.spec, step, number, self.budget.per_test)
                    self.judges.append(judge)
                    canary.route(step.percent)
                    why = self._window(canary, judge, traffic)
                    if judge.outcome is not StepOutcome.PASS:
                        self.notes[number] = why
                        return self._abort(canary, judge, why, admission, store)
                    append_audit(store, self.approver, "canary", candidate.id, "step passed",
                                 f"step {number} ({step.percent:g} %) passed on "
                                 f"{judge.canary_answers} canary answers",
                                 admission.bundle_sha)
            finally:
                if traffic is not None:
                    traffic.stop()
                self._write(store, candidate, env)
        return None

    def _traffic(self, env: str) -> ReplayTraffic | None:
        if not self.replay_golden:
            return None
        hold = self.spec.hold_s if self.spec.on_inconclusive == "hold" else 0.0
        duration = sum(step.max_duration_s + hold for step in self.steps)
        return ReplayTraffic(self.config, self.config.environment(env).address(),
                             self.max_requests, duration, self.staging / "traffic")

    def _window(self, canary: Canary, judge: StepJudge, traffic: ReplayTraffic | None) -> str:
        """Judge the step until it decides, or its time (and hold) runs out; returns why
        an undecided step stopped."""
        stable = LogReader(canary.stable_url, "stable revision")
        mine = LogReader(canary.canary_url, "canary")
        step = judge.step
        deadline = time.monotonic() + step.max_duration_s
        held = deadline + (self.spec.hold_s if self.spec.on_inconclusive == "hold" else 0.0)
        while True:
            time.sleep(POLL_S)
            judge.add(in_arrival_order(stable.read(), mine.read(), self.spec.slow_ms,
                                       self.positive))
            if judge.outcome is not StepOutcome.INCONCLUSIVE:
                return ""
            if traffic is not None and not traffic.running:
                if traffic.error is not None:
                    raise traffic.error
                return (f"the replayed traffic ended (--max-requests {self.max_requests}) "
                        "before the step decided")
            now = time.monotonic()
            if now >= held:
                waited = (f"its {step.max_duration_s:g} s and a hold of {self.spec.hold_s:g} s"
                          if held > deadline else f"its {step.max_duration_s:g} s")
                return f"undecided after {waited}"

    def _abort(self, canary: Canary, judge: StepJudge, why: str, admission: Admission,
               store: HistoryStore) -> str:
        self.abort_s = canary.abort()
        canary.stop()
        self.aborted_step = judge.number
        step = judge.step
        if judge.outcome is StepOutcome.FAIL:
            cause = "failed: " + "; ".join(judge.describe(name) for name in judge.failed)
        else:
            undecided = [n for n in judge.judged if judge.outcome_of(n) is None]
            cause = (f"inconclusive ({why}; {judge.canary_answers} canary answers, "
                     f"min_requests {step.min_requests}; undecided: "
                     f"{', '.join(undecided) or 'none judged'}), never advanced")
        message = (f"canary of candidate {admission.candidate.id} aborted at step "
                   f"{judge.number} ({step.percent:g} %): {cause}; all traffic back on the "
                   f"stable revision in {self.abort_s:.2f} s and the canary stopped")
        append_audit(store, self.approver, "canary", admission.candidate.id, "aborted",
                     message, admission.bundle_sha)
        return message

    # -- the reports ----------------------------------------------------------------------

    def cases(self) -> list[Case]:
        return [judge.case(self.notes.get(judge.number, "")) for judge in self.judges]

    def _write(self, store: HistoryStore, candidate: Candidate, env: str) -> None:
        """The steps' JUnit, canary.json, the report and the evidence bundle."""
        from harness.data.digests import identity_digests
        from harness.run.evidence import write_bundle
        from harness.run.recording import run_record
        from harness.run.report import write_report
        from harness.run.verdict import decide

        cases = self.cases()
        junit = write_junit(self.staging / "junit" / "canary.xml", "harness-canary", cases)
        (self.staging / "canary.json").write_text(json.dumps({
            "candidate": candidate.id, "environment": env,
            "aborted_step": self.aborted_step, "abort_seconds": self.abort_s,
            "alpha": self.spec.alpha, "alpha_per_test": self.budget.per_test,
            "steps": [judge.summary() for judge in self.judges],
            "settings": self.spec.model_dump()}, indent=2, default=str) + "\n", "utf-8")
        final = self.staging.parent / PROFILE
        if final.exists():
            shutil.rmtree(final)
        self.staging.rename(final)
        self.staging = final
        passed = bool(cases) and all(case.passed for case in cases) \
            and len(cases) == len(self.steps)
        record = run_record(self.config, PROFILE, decide([final / "junit" / junit.name], []),
                            time.monotonic() - self.started, candidate)
        run_id = store.record_run(record)
        write_report(self.config, PROFILE, final, store,
                     command=f"harness canary --env {env} --candidate {candidate.id}")
        write_bundle(final, candidate, env, PROFILE, passed, run_id,
                     identity_digests(self.config), store, self.config.root)


def run_canary(config: HarnessConfig, env: str, candidate: Candidate, approver: str,
               shares: list[float] | None, replay_golden: bool, max_requests: int,
               reports_root: Path) -> CanaryResult:
    """Step ``env``'s traffic to ``candidate`` and promote it after the last step, or abort."""
    if env != config.release.production:
        raise PromotionRefused(
            f"harness canary promotes to release.production ('{config.release.production}'); "
            f"--env names '{env}'", key="--env")
    steps = steps_of(config, shares)
    refuse_without_router(config, env)  # before any lock is taken or audit written
    reports_root = reports_root.absolute()
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PROFILE}-", dir=reports_root))
    staging.chmod(0o755)
    run = _Steps(config, steps, approver, replay_golden, max_requests, staging)
    try:
        promotion = promote(config, candidate.id, approver, reports_root, before_switch=run)
    finally:
        if run.staging == staging:  # nothing was written
            shutil.rmtree(staging, ignore_errors=True)
        end_canary(config, env)  # the promotion's switch replaced it, or nothing ran
    result = CanaryResult(candidate.id, env, promotion, run.cases(), run.aborted_step,
                          run.abort_s)
    if run.staging != staging:
        result.junit = run.staging / "junit" / "canary.xml"
    return result
