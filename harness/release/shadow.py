"""``harness shadow``: a candidate judged on production's own requests, beside it.

The candidate runs as the environment's shadow (harness/deploy/shadow.py): nginx forwards
every request to production as before and copies its predict requests to the candidate.
Both log their answers by request id; this reads the two logs as the window runs, joins
them (shadow_logs.py) and feeds every joined request to the judge (shadow_judge.py),
whose sequential tests may stop the window early either way. With a noise floor, a copy of
production's own revision is mirrored too, and the candidate is judged on its excess over
the copy's differences from production (the A/A floor of a nondeterministic model). With ``replay_golden`` the
traffic is the harness's own Locust run replaying golden rows at production's router,
bounded by the window's requests and time; without it, the window waits for live traffic.

Afterwards: the mirror is off and the shadow stopped whatever happened, and
``<reports>/shadow/`` holds the JUnit (one testcase per judgment), the report, the joined
figures and an evidence bundle. A failed or inconclusive shadow is recorded as the
candidate's newest evidence, so a promotion is refused until the candidate is judged again;
a passed one is recorded only when the candidate already holds passing release-check
evidence (a shadow does not replace the release checks).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.deploy.shadow import Shadow, shadowing
from harness.errors import EvidenceError
from harness.load.results import LoadResults
from harness.release.replay import ReplayTraffic
from harness.release.shadow_judge import ShadowJudge, Verdict
from harness.release.shadow_logs import Join, LogReader, TripleJoin
from harness.run.junit import Case, write_junit

PROFILE = "shadow"
POLL_S = 0.25
# After the traffic ends: how long answers still on their way may take to be logged.
SETTLE_S = 1.0


@dataclass
class ShadowResult:
    """What a shadow window found, and where it is written."""

    candidate: Candidate
    env: str
    verdict: Verdict
    cases: list[Case]
    pairs: int
    reports: Path
    junit: Path
    evidence: Path | None = None
    evidence_note: str = ""
    traffic: LoadResults | None = None
    notes: list[str] = field(default_factory=list)

    on_inconclusive: str = "fail"

    @property
    def exit_code(self) -> int:
        """0 for a pass; 1 for a fail, and for an inconclusive window unless
        ``release.shadow.on_inconclusive`` is ``warn``."""
        if self.verdict is Verdict.PASS:
            return 0
        return 0 if self.verdict is Verdict.INCONCLUSIVE and self.on_inconclusive == "warn" \
            else 1


class _Joined:
    """The logs the window reads, joined: production's and the candidate's, and with a
    noise floor production's copy's too; ``feed`` gives the judge what is newly joined."""

    def __init__(self, shadow: Shadow) -> None:
        self.readers = [LogReader(shadow.production_direct_url, "production"),
                        LogReader(shadow.shadow_url, "candidate")]
        self.join: Join | TripleJoin = Join()
        if shadow.copy_url is not None:
            self.readers.append(LogReader(shadow.copy_url, "production's copy"))
            self.join = TripleJoin()

    def feed(self, judge: ShadowJudge, max_requests: int) -> None:
        room = max(max_requests - judge.requests, 0)
        read = [reader.read() for reader in self.readers]
        if isinstance(self.join, TripleJoin):
            judge.add_triples(self.join.add(*read)[:room])
        else:
            judge.add(self.join.add(*read)[:room])

    @property
    def unmatched(self) -> int:
        return self.join.unmatched

    @property
    def candidate_unanswered(self) -> int:
        """Production's answers the candidate never logged (a request only the copy missed
        is not the candidate's)."""
        if isinstance(self.join, TripleJoin):
            return self.join.shadow_unmatched
        return self.join.unmatched

    @property
    def copy_unanswered(self) -> int:
        return self.join.copy_unmatched if isinstance(self.join, TripleJoin) else 0


def _window(config: HarnessConfig, shadow: Shadow, judge: ShadowJudge, max_requests: int,
            max_duration_s: float,
            traffic_dir: Path | None) -> tuple[Join | TripleJoin, ReplayTraffic | None]:
    joined = _Joined(shadow)
    traffic = (ReplayTraffic(config, shadow.production_url, max_requests, max_duration_s,
                        traffic_dir) if traffic_dir is not None else None)
    deadline = time.monotonic() + max_duration_s
    try:
        while True:
            time.sleep(POLL_S)
            joined.feed(judge, max_requests)
            if judge.decided or judge.requests >= max_requests \
                    or time.monotonic() >= deadline:
                break
            if traffic is not None and not traffic.running:
                break
    finally:
        if traffic is not None:
            traffic.stop()
    # Answers still on their way: the shadow logs them within the mirror's timeout.
    settle = time.monotonic() + SETTLE_S + config.release.shadow.mirror_timeout_ms / 1000
    while joined.unmatched and time.monotonic() < settle and not judge.decided:
        time.sleep(POLL_S)
        joined.feed(judge, max_requests)
    judge.unanswered = 0 if judge.decided else min(joined.candidate_unanswered,
                                                   max(max_requests - judge.requests, 0))
    if judge.floor is not None and not judge.decided:
        judge.floor.copy_unanswered = joined.copy_unanswered
    if traffic is not None and traffic.error is not None:
        raise traffic.error
    return joined.join, traffic


def run_shadow(config: HarnessConfig, env: str, candidate: Candidate, max_requests: int,
               max_duration_s: float, replay_golden: bool, reports_root: Path,
               noise_floor: bool = False) -> ShadowResult:
    """Judge ``candidate`` as ``env``'s shadow for at most ``max_requests`` joined requests
    and ``max_duration_s`` seconds; write the reports and the evidence. With
    ``noise_floor``, a copy of production's revision is mirrored too and the candidate is
    judged on its excess over the copy's differences."""
    spec = config.release.shadow
    judge = ShadowJudge(spec, noise_floor=noise_floor)
    started = time.monotonic()
    reports_root = reports_root.absolute()
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PROFILE}-", dir=reports_root))
    staging.chmod(0o755)
    try:
        with shadowing(config, env, candidate, spec.mirror_timeout_ms, spec.nice,
                       noise_floor=noise_floor) as shadow:
            _, traffic = _window(config, shadow, judge, max_requests, max_duration_s,
                                 staging / "traffic" if replay_golden else None)
        cases = judge.cases()
        junit = write_junit(staging / "junit" / "shadow.xml", "harness-shadow", cases)
        (staging / "shadow.json").write_text(judge.summary_json(candidate, env), "utf-8")
        final = reports_root / PROFILE
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result = ShadowResult(candidate=candidate, env=env, verdict=judge.verdict, cases=cases,
                          pairs=judge.requests, reports=final,
                          junit=final / "junit" / junit.name,
                          traffic=traffic.results if traffic else None,
                          on_inconclusive=spec.on_inconclusive)
    _record(config, result, time.monotonic() - started)
    return result


def _record(config: HarnessConfig, result: ShadowResult, duration_s: float) -> None:
    """The report, then the evidence bundle (which digests the report) and its record."""
    from harness.data.digests import identity_digests
    from harness.history import HistoryStore
    from harness.run.evidence import verified_evidence, write_bundle
    from harness.run.recording import run_record
    from harness.run.report import write_report
    from harness.run.verdict import decide

    history = HistoryStore(config.history_url())
    try:
        verdict = decide([result.junit], [])
        record = run_record(config, PROFILE, verdict, duration_s, result.candidate)
        run_id = history.record_run(record)
        write_report(config, PROFILE, result.reports, history,
                     command=f"harness shadow --env {result.env} --candidate {result.candidate.id}")
        passed = result.verdict is Verdict.PASS
        if passed:
            try:
                verified_evidence(history, result.candidate.id,
                                  config.release.evidence_max_age_hours, config.root)
            except EvidenceError as exc:
                result.evidence_note = (
                    f"not recorded as release evidence: the candidate has no passing "
                    f"release checks to add it to ({exc})")
                return
        result.evidence, _ = write_bundle(
            result.reports, result.candidate, result.env, PROFILE, passed, run_id,
            identity_digests(config), history, config.root)
        result.evidence_note = (f"recorded as the candidate's newest evidence ({'passed' if passed else 'failed'}"
                                f"{'' if passed else ': a promotion is refused until it is judged again'})")
    finally:
        history.close()
