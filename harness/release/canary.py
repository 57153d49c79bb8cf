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

The approval is asked before the first step, or (``hold_before_last``) before the last:
the steps before it run on the evidence alone and the command stops with the canary held at
its share, the lock and its journal (a ``CanaryHold``) left for ``resume_canary`` (the
approval checked as ``harness promote`` checks it, what is held checked to be still the
same, the last step judged afresh, the switch) or ``abort_canary``. A held canary writes its
steps' JUnit only; the report and the evidence come with the last step.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.candidate.identity import Candidate
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.config.release import CanaryStepSpec
from harness.deploy.canary import (
    Canary,
    canarying,
    end_canary,
    held_problem,
    refuse_without_router,
    resumed,
)
from harness.errors import PromotionRefused
from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties
from harness.history import HistoryStore
from harness.history.release import Lock, LockHolder, append_audit
from harness.release.canary_judge import METRICS, StepJudge, StepOutcome, in_arrival_order
from harness.release.promotion import Admission, Hold, PromotionResult, promote
from harness.release.recovery import LOCK, CanaryHold, PromotionJournal, take_over_hold
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
        return 0 if self.promoted or self.promotion.held else 1


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


def _case_dict(case: Case) -> dict[str, object]:
    """A step's testcase as a held canary's journal keeps it, for the report at the end."""
    return {"classname": case.classname, "name": case.name, "outcome": case.outcome.value,
            "message": case.message, "properties": case.properties.to_pairs()}


def _case_of(data: dict[str, object]) -> Case:
    pairs = [(str(k), str(v)) for k, v in data["properties"]]  # type: ignore[union-attr]
    return Case(str(data["classname"]), str(data["name"]), Outcome(data["outcome"]),
                str(data["message"]), GateProperties.from_pairs(pairs))


class _Steps:
    """The canary's steps, run by the promotion between its lock and its switch: all of
    them; those before the last (``hold``), then held; or the last one of a ``resume``."""

    def __init__(self, config: HarnessConfig, steps: list[CanaryStepSpec], actor: str,
                 replay_golden: bool, max_requests: int, staging: Path, hold: bool = False,
                 resume: CanaryHold | None = None) -> None:
        self.config, self.steps, self.actor = config, steps, actor
        self.spec = config.release.canary
        # The same split when held and resumed: the last step keeps its share of alpha.
        self.budget: ErrorBudget = split_alpha(self.spec.alpha, len(steps), len(METRICS))
        self.replay_golden, self.max_requests, self.staging = replay_golden, max_requests, staging
        self.hold, self.resume = hold, resume
        self.first = resume.step + 1 if resume else 1
        self.last = len(steps) - 1 if hold else len(steps)
        self.earlier = [_case_of(c) for c in resume.cases] if resume else []
        self.earlier_summaries = list(resume.summaries) if resume else []
        positive = config.model.positive_label
        self.positive = None if positive is None else str(positive)
        self.judges: list[StepJudge] = []
        self.notes: dict[int, str] = {}
        self.aborted_step: int | None = None
        self.abort_s: float | None = None
        self.held: CanaryHold | None = None
        self.started = time.monotonic()

    def _canary(self, admission: Admission) -> contextlib.AbstractContextManager[Canary]:
        """The canary the steps run on: a new one, or the held one resumed (checked again
        under the environment's lock; a refusal here, with the lock already taken over,
        ends the canary as any failure does)."""
        if self.resume is None:
            return canarying(self.config, admission.env, admission.candidate)
        if admission.candidate.artifact_sha256 != self.resume.artifact_sha256:
            raise PromotionRefused(
                f"candidate {admission.candidate.id}'s evidence now names artifact "
                f"{admission.candidate.artifact_sha256[:12]}..., the held canary runs "
                f"{self.resume.artifact_sha256[:12]}...: the canary is given up",
                candidate=admission.candidate.id)
        return resumed(self.config, admission.env, admission.candidate, self.resume.port,
                       self.resume.percent)

    def __call__(self, admission: Admission, lock: Lock, journal: PromotionJournal,
                 store: HistoryStore) -> str | Hold | None:
        candidate = admission.candidate
        env = admission.env
        with self._canary(admission) as canary:
            traffic = self._traffic(env)
            try:
                for number in range(self.first, self.last + 1):
                    step = self.steps[number - 1]
                    lock.write_journal(replace(journal, phase=(
                        f"step {number} of {len(self.steps)} ({step.percent:g} %)")).to_dict())
                    judge = StepJudge(self.spec, step, number, self.budget.per_test)
                    self.judges.append(judge)
                    canary.route(step.percent)
                    why = self._window(canary, judge, traffic)
                    if judge.outcome is not StepOutcome.PASS:
                        self.notes[number] = why
                        return self._abort(canary, judge, why, admission, store)
                    append_audit(store, self.actor, "canary", candidate.id, "step passed",
                                 f"step {number} ({step.percent:g} %) passed on "
                                 f"{judge.canary_answers} canary answers",
                                 admission.bundle_sha)
                if self.hold:
                    return self._held(canary, candidate, lock, journal)
            finally:
                if traffic is not None:
                    traffic.stop()
                self._write(store, candidate, env)
        return None

    def _held(self, canary: Canary, candidate: Candidate, lock: Lock,
              journal: PromotionJournal) -> Hold:
        """The journal names the hold; the canary keeps its share and its process."""
        self.held = CanaryHold(self.last, tuple(step.percent for step in self.steps),
                               utc_now(), self.actor, candidate.artifact_sha256,
                               canary.port, tuple(_case_dict(case) for case in self.cases()),
                               tuple(self.summaries()))
        lock.write_journal(replace(journal, phase=(
            f"held at step {self.last} of {len(self.steps)} ({canary.percent:g} %)"),
            hold=self.held).to_dict())
        return Hold(f"canary of candidate {candidate.id} {self.held.describe()}; "
                    f"{CanaryHold.endings(canary.env)}")

    def _traffic(self, env: str) -> ReplayTraffic | None:
        if not self.replay_golden:
            return None
        hold = self.spec.hold_s if self.spec.on_inconclusive == "hold" else 0.0
        duration = sum(step.max_duration_s + hold
                       for step in self.steps[self.first - 1:self.last])
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
        append_audit(store, self.actor, "canary", admission.candidate.id, "aborted",
                     message, admission.bundle_sha)
        return message

    # -- the reports ----------------------------------------------------------------------

    def summaries(self) -> list[dict[str, object]]:
        return self.earlier_summaries + [judge.summary() for judge in self.judges]

    def cases(self) -> list[Case]:
        return self.earlier + [judge.case(self.notes.get(judge.number, ""))
                               for judge in self.judges]

    def _write(self, store: HistoryStore, candidate: Candidate, env: str) -> None:
        """The steps' JUnit, canary.json, the report and the evidence bundle; held, the
        steps' JUnit and canary.json only."""
        from harness.data.digests import identity_digests
        from harness.run.evidence import write_bundle
        from harness.run.recording import run_record
        from harness.run.report import write_report
        from harness.run.verdict import decide

        cases = self.cases()
        junit = write_junit(self.staging / "junit" / "canary.xml", "harness-canary", cases)
        (self.staging / "canary.json").write_text(json.dumps({
            "candidate": candidate.id, "environment": env,
            "held": self.held.to_dict() if self.held else None,
            "aborted_step": self.aborted_step, "abort_seconds": self.abort_s,
            "alpha": self.spec.alpha, "alpha_per_test": self.budget.per_test,
            "steps": self.summaries(),
            "settings": self.spec.model_dump()}, indent=2, default=str) + "\n", "utf-8")
        final = self.staging.parent / PROFILE
        if final.exists():
            shutil.rmtree(final)
        self.staging.rename(final)
        self.staging = final
        if self.held is not None:
            return
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
               reports_root: Path, hold_before_last: bool = False) -> CanaryResult:
    """Step ``env``'s traffic to ``candidate`` and promote it after the last step, or abort.
    ``hold_before_last``: run the steps before the last on the evidence alone, ``approver``
    naming who runs them, and hold there for ``resume_canary``."""
    _refuse_elsewhere(config, env)
    steps = steps_of(config, shares)
    if hold_before_last and len(steps) < 2:
        raise PromotionRefused("--hold-before-last needs two steps or more: the canary holds "
                               "after the one before the last", key="--steps")
    refuse_without_router(config, env)  # before any lock is taken or audit written
    return _run(config, env, candidate.id, approver, steps, replay_golden, max_requests,
                reports_root, hold=hold_before_last)


def resume_canary(config: HarnessConfig, env: str, approver: str, candidate: str | None,
                  replay_golden: bool, max_requests: int, reports_root: Path) -> CanaryResult:
    """The last step of the canary held in ``env``, once ``approver`` is admitted as
    ``harness promote`` admits; refused (the hold kept) when nothing is held, ``candidate``
    (an id or an artifact digest's start) names another, or the canary is not what it held."""
    _refuse_elsewhere(config, env)
    holder, journal, hold = _the_hold(config, env, approver)
    _refuse_another(config, env, approver, journal, hold, candidate)
    problem = held_problem(config, env, _held_candidate(journal, hold), hold.port, hold.percent)
    if problem is not None:
        raise _refused(config, approver, journal.candidate,
                       f"cannot resume the canary of candidate {journal.candidate} in {env}: "
                       f"{problem}; `harness canary --env {env} --abort` gives it up")
    steps = steps_of(config, list(hold.shares))
    return _run(config, env, journal.candidate, approver, steps, replay_golden, max_requests,
                reports_root, resume=(holder, hold))


def abort_canary(config: HarnessConfig, env: str, by: str, candidate: str | None = None,
                 if_held: bool = False) -> str:
    """Give up the canary held in ``env``: all traffic back on the stable revision, the
    canary stopped, the hold's lock released, audited. Refused when ``candidate`` (an id or
    an artifact digest's start) names another than the one held, and when nothing is held
    unless ``if_held`` (a build's clean-up: then it says so and changes nothing)."""
    _refuse_elsewhere(config, env)
    holder, journal = _read_lock(config, by)
    if if_held and (journal is None or journal.hold is None):
        return f"no canary is held in {env}: nothing to give up"
    holder, journal, hold = _held(config, env, by, holder, journal)
    _refuse_another(config, env, by, journal, hold, candidate)
    store = HistoryStore(config.history_url())
    try:
        lock = Lock(store, LOCK, by)
        take_over_hold(lock, holder, replace(journal, phase="aborting"))
        ended = end_canary(config, env) or "the canary had already stopped"
        message = (f"the canary of candidate {journal.candidate} {hold.describe()} was given "
                   f"up by {by}: {ended}")
        append_audit(store, by, "canary", journal.candidate, "aborted", message)
        lock.release()
        return message
    finally:
        store.close()


def _refuse_elsewhere(config: HarnessConfig, env: str) -> None:
    if env != config.release.production:
        raise PromotionRefused(
            f"harness canary promotes to release.production ('{config.release.production}'); "
            f"--env names '{env}'", key="--env")


def _read_lock(config: HarnessConfig,
               actor: str) -> tuple[LockHolder | None, PromotionJournal | None]:
    """The promotion lock's holder and its journal, if any."""
    store = HistoryStore(config.history_url())
    try:
        holder = Lock(store, LOCK, actor).read()
    finally:
        store.close()
    return holder, PromotionJournal.from_dict(holder.journal) if holder else None


def _the_hold(config: HarnessConfig, env: str,
              actor: str) -> tuple[LockHolder, PromotionJournal, CanaryHold]:
    """The held canary's lock, journal and hold; refused (and audited) when none is held."""
    return _held(config, env, actor, *_read_lock(config, actor))


def _held(config: HarnessConfig, env: str, actor: str, holder: LockHolder | None,
          journal: PromotionJournal | None) -> tuple[LockHolder, PromotionJournal, CanaryHold]:
    """The lock as read, when it holds a canary; refused (and audited) when not."""
    if holder is None or journal is None or journal.hold is None:
        doing = (f"a {journal.what} of candidate {journal.candidate} holds the lock "
                 f"('{journal.phase}')" if journal else "nothing holds the promotion lock")
        raise _refused(config, actor, journal.candidate if journal else "-",
                       f"no canary is held in {env} awaiting approval ({doing}); "
                       "`harness canary --hold-before-last` holds one")
    return holder, journal, journal.hold


def _refuse_another(config: HarnessConfig, env: str, actor: str, journal: PromotionJournal,
                    hold: CanaryHold, candidate: str | None) -> None:
    """Refused (audited, the hold kept) when ``candidate`` names another than the one held:
    its id, or at least 12 characters of its artifact's digest."""
    if candidate is not None and candidate != journal.candidate \
            and not (len(candidate) >= 12 and hold.artifact_sha256.startswith(candidate)):
        raise _refused(config, actor, journal.candidate,
                       f"the canary held in {env} is candidate {journal.candidate} (artifact "
                       f"{hold.artifact_sha256[:12]}...), not {candidate}")


def _refused(config: HarnessConfig, actor: str, candidate: str,
             message: str) -> PromotionRefused:
    """A refusal of --resume or --abort, audited; the hold (if any) is kept."""
    store = HistoryStore(config.history_url())
    try:
        append_audit(store, actor, "canary", candidate, "refused", message)
    finally:
        store.close()
    return PromotionRefused(message, candidate=None if candidate == "-" else candidate)


def _held_candidate(journal: PromotionJournal, hold: CanaryHold) -> Candidate:
    """The held candidate as far as its answers show it: its id and artifact digest."""
    return Candidate(journal.candidate, Path("."), hold.artifact_sha256)


def _run(config: HarnessConfig, env: str, candidate_id: str, actor: str,
         steps: list[CanaryStepSpec], replay_golden: bool, max_requests: int,
         reports_root: Path, hold: bool = False,
         resume: tuple[LockHolder, CanaryHold] | None = None) -> CanaryResult:
    """The promotion with the canary's steps before its switch; the canary ended after it
    unless a hold still stands (this one's, or the one a refused command found)."""
    reports_root = reports_root.absolute()
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PROFILE}-", dir=reports_root))
    staging.chmod(0o755)
    run = _Steps(config, steps, actor, replay_golden, max_requests, staging, hold=hold,
                 resume=resume[1] if resume else None)
    try:
        promotion = promote(config, candidate_id, actor, reports_root, before_switch=run,
                            approving=not hold, held=resume[0] if resume else None)
    finally:
        if run.staging == staging:  # nothing was written
            shutil.rmtree(staging, ignore_errors=True)
        if not _a_hold_stands(config):
            end_canary(config, env)  # the promotion's switch replaced it, or nothing ran
    result = CanaryResult(candidate_id, env, promotion, run.cases(), run.aborted_step,
                          run.abort_s)
    if run.staging != staging:
        result.junit = run.staging / "junit" / "canary.xml"
    return result


def _a_hold_stands(config: HarnessConfig) -> bool:
    store = HistoryStore(config.history_url())
    try:
        holder = Lock(store, LOCK, "canary").read()
        return holder is not None and "hold" in holder.journal
    finally:
        store.close()
