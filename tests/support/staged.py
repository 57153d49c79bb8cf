"""What a candidate's release checks against staging leave behind, made from files in a
temporary folder: the release reports, the evidence bundle recorded in a SQLite history
store, and the signed test result. Nothing is deployed and no check runs, so a rule of
promotion that reads only these files is tested in milliseconds.

The files are written by the same library functions a real release run calls
(``write_bundle``, ``sign_test_result``); only the run's verdict is given instead of judged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from harness.attest.keys import signer
from harness.attest.release import sign_test_result
from harness.candidate.identity import Candidate
from harness.config import HarnessConfig, load_config
from harness.data.digests import identity_digests
from harness.deploy import operations
from harness.digests import sha256_file
from harness.gates.outcome import Outcome
from harness.history import HistoryStore, MetricRecord, RunRecord
from harness.history.release import audit_trail, record_evidence
from harness.run.evidence import BUNDLE, write_bundle
from harness.run.junit import Case, write_junit
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port

PROFILE = "release"
ENVIRONMENT = "staging"


def release_project(folder: Path, artifact: Path, **changes: object) -> HarnessConfig:
    """The reference project as the promotion tests configure it (its own loopback ports,
    state and history, ana the one release manager); its data is linked, not copied."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    sections: dict[str, object] = {
        "model": {"artifact": str(artifact)},
        "environments": {"staging": {"port": free_port()}, "production": {"port": free_port()}},
        "deploy": {"target": "local", "ready_timeout_s": 30,
                   "local": {"pass_env": ["HARNESS_INJECT_ERROR_RATE"]}},
        "profiles": {PROFILE: {"checks": ["quality"], "environment": ENVIRONMENT}},
        "release": {"managers": ["ana"], "evidence_max_age_hours": 24},
    }
    write_config(folder, **(sections | changes))
    return load_config(folder / "harness.yaml")


@dataclass(frozen=True)
class Staged:
    """A candidate whose release run is on record, and where its files are."""

    candidate: Candidate
    run_id: int
    bundle: Path

    @property
    def id(self) -> str:
        return self.candidate.id


def stage(config: HarnessConfig, artifact: Path | None = None, passed: bool = True,
          candidate: Candidate | None = None) -> Staged:
    """Record a release run of ``candidate`` (default: the one for ``artifact``, or the
    config's) as a real one records it: a run in history, its JUnit, the evidence bundle over
    the reports (recorded with its sha256), and, for a passed run, the signed test result."""
    candidate = candidate or operations.candidate_for(config, artifact)
    outcome = Outcome.PASSED if passed else Outcome.FAILED
    store = HistoryStore(config.history_url())
    try:
        run_id = store.record_run(RunRecord(
            project=config.project, profile=PROFILE, candidate_id=candidate.id,
            model_sha256=candidate.artifact_sha256, config_sha256=sha256_file(config.source),
            golden_sha256={}, verdict=str(outcome), duration_s=1.0, tests=1,
            failures=0 if passed else 1, errors=0, skipped=0,
            metrics=[MetricRecord("quality.credit-v1::roc_auc", "credit-v1", "overall",
                                  "roc_auc", 0.83 if passed else 0.61, str(outcome))]))
        reports = config.root / "reports" / PROFILE
        case = Case("quality.credit-v1", "roc_auc", outcome, "roc_auc 0.83 >= 0.8" if passed
                    else "roc_auc 0.61 < 0.8")
        write_junit(reports / "junit" / "checks.xml", "harness", [case])
        bundle, evidence = write_bundle(reports, candidate, ENVIRONMENT, PROFILE, passed, run_id,
                                        identity_digests(config), store, config.root)
    finally:
        store.close()
    if passed:
        sign_test_result(config, signer(config), candidate,
                         [(f"{case.classname}.{case.name}", "passed")], bundle, evidence.reports,
                         {"profile": PROFILE, "environment": ENVIRONMENT, "runId": run_id})
    return Staged(candidate, run_id, bundle)


def backdate(config: HarnessConfig, staged: Staged, hours: float) -> None:
    """Make the staged evidence ``hours`` old, as if its run had ended then: the bundle's
    time moved back and recorded again (so its sha256 is the one history holds)."""
    data = json.loads(staged.bundle.read_text())
    then = dt.datetime.fromisoformat(data["created_at"]) - dt.timedelta(hours=hours)
    staged.bundle.write_text(json.dumps(data | {"created_at": then.isoformat()}))
    store = HistoryStore(config.history_url())
    try:
        record_evidence(store, staged.id, ENVIRONMENT, data["verdict"],
                        sha256_file(staged.bundle), f"reports/{PROFILE}/{BUNDLE}",
                        staged.run_id)
    finally:
        store.close()


def audit(config: HarnessConfig) -> list[tuple[str, str, str]]:
    """The audit trail as (candidate, action, outcome), oldest first."""
    store = HistoryStore(config.history_url())
    try:
        return [(e.candidate_id, e.action, e.outcome) for e in audit_trail(store)]
    finally:
        store.close()
