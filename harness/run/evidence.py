"""Evidence bundles: the verdict of a release run against an environment, and the digests
of its reports, bound to the identity of the candidate that was deployed there.

The bundle is a JSON file beside the reports; its sha256 is recorded in the history
store, so an edited bundle, an edited report, a stale bundle or one for another
candidate is refused when a promotion asks for it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from harness.candidate.artifact import artifact_digest
from harness.candidate.identity import Candidate
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.data.readback import field, unknown_fields
from harness.deploy.registry import get_target
from harness.deploy.target import Deployment
from harness.digests import sha256_file
from harness.errors import EvidenceError
from harness.history import HistoryStore
from harness.history.release import latest_evidence, record_evidence
from harness.text import clip

BUNDLE = "evidence.json"


@dataclass(frozen=True)
class Evidence:
    candidate: Candidate
    environment: str
    profile: str
    verdict: str
    run_id: int
    created_at: str
    reports: dict[str, str]
    digests: dict[str, Any]

    @property
    def candidate_id(self) -> str:
        return self.candidate.id

    def to_json(self) -> str:
        """The bundle's text: the candidate as its digests, as deploy targets record it."""
        data = {**asdict(self), "candidate": self.candidate.to_dict()}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: Path) -> Evidence:
        """Read a bundle back, each field checked for its type and ``created_at`` for a
        timezone-aware time; ``EvidenceError`` says what makes it unreadable."""
        advice = "rerun the release checks"
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError(f"it holds {type(data).__name__}, not an object")
        except (ValueError, TypeError) as exc:
            raise EvidenceError(f"evidence bundle {where} is unreadable ({clip(exc)}); "
                                f"{advice}", path=where) from None
        unknown_fields(data, {f.name for f in fields(cls)}, where, EvidenceError, advice)

        def get(name: str, *types: type) -> Any:
            return field(data, name, types, where, EvidenceError, advice)

        values = {"environment": get("environment", str), "profile": get("profile", str),
                  "verdict": get("verdict", str), "run_id": get("run_id", int),
                  "created_at": get("created_at", str), "reports": get("reports", dict),
                  "digests": get("digests", dict)}
        if not all(isinstance(k, str) and isinstance(v, str)
                   for k, v in values["reports"].items()):
            raise EvidenceError(f"evidence bundle {where}: field 'reports' must map report "
                                f"paths to sha256 strings; {advice}", path=where)
        created_at(values["created_at"], where)
        try:
            candidate = Candidate.parse(data.get("candidate"))
        except (ValueError, TypeError) as exc:
            raise EvidenceError(f"evidence bundle {where} names no valid candidate "
                                f"({clip(exc)}); {advice}", path=where) from None
        return cls(candidate=candidate, **values)


# How far ahead of this machine's clock a bundle's time may be (another agent's clock).
CLOCK_SKEW = dt.timedelta(minutes=5)


def created_at(text: str, where: Path) -> dt.datetime:
    """A bundle's ``created_at`` as a time: ISO 8601 with its timezone, else
    ``EvidenceError`` naming the bundle and the field."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise EvidenceError(f"evidence bundle {where}: field 'created_at' "
                            f"{clip(text, 60)!r} is not an ISO 8601 time; rerun the release "
                            "checks", path=where) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise EvidenceError(f"evidence bundle {where}: field 'created_at' {text!r} has no "
                            "timezone, so its age cannot be told; rerun the release checks",
                            path=where)
    return when


def deployed(config: HarnessConfig, environment: str) -> Deployment | None:
    """What runs in an environment now."""
    return get_target(config).status(environment)


def deployment_problems(environment: str, before: Deployment | None,
                        after: Deployment | None) -> list[str]:
    """Why a run against ``environment`` cannot count as evidence for what runs there."""
    if before is None:
        return [(f"nothing is deployed in {environment}: deploy the candidate first "
                f"(harness deploy --env {environment})")]
    if not before.healthy:
        return [f"{environment} is not healthy ({before.detail}); redeploy it"]
    if after is None or (after.candidate.id, after.revision) != (before.candidate.id,
                                                                 before.revision):
        return [f"what runs in {environment} changed during the run; run the checks again"]
    return []


def write_bundle(reports_dir: Path, candidate: Candidate, environment: str, profile: str,
                 passed: bool, run_id: int, digests: dict[str, Any], store: HistoryStore,
                 root: Path) -> tuple[Path, Evidence]:
    """Write the bundle for a finished run (atomically) and record its digest in history,
    with its path relative to ``root`` when inside it (a Jenkins workspace may move)."""
    reports = {
        str(path.relative_to(reports_dir)): sha256_file(path)
        for path in sorted(reports_dir.rglob("*"))
        if path.is_file() and path.name != BUNDLE
    }
    evidence = Evidence(
        candidate=candidate, environment=environment, profile=profile,
        verdict="passed" if passed else "failed", run_id=run_id,
        created_at=utc_now(),
        reports=reports, digests=digests,
    )
    path = reports_dir / BUNDLE
    temporary = path.with_name(f".{BUNDLE}.tmp")
    temporary.write_text(evidence.to_json())
    os.replace(temporary, path)
    where = path.resolve()
    recorded = where.relative_to(root) if where.is_relative_to(root) else where
    record_evidence(store, candidate.id, environment, evidence.verdict, sha256_file(path),
                    str(recorded), run_id)
    return path, evidence


def verified_evidence(store: HistoryStore, candidate_id: str, max_age_hours: float, root: Path,
                      now: dt.datetime | None = None) -> tuple[Evidence, str]:
    """The newest evidence for a candidate, checked from end to end; ``EvidenceError`` says
    why it cannot be trusted. Returns the evidence and its bundle's sha256."""
    record = latest_evidence(store, candidate_id)
    if record is None:
        raise EvidenceError(
            f"no evidence for candidate {candidate_id}: run the release checks against staging "
            "first (harness check --profile release)",
            candidate=candidate_id,
        )
    path = root / record.path  # an absolute recorded path stays as it is
    if not path.is_file():
        raise EvidenceError(f"evidence bundle {path} for candidate {candidate_id} is missing; "
                            "rerun the release checks", candidate=candidate_id)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise EvidenceError(f"evidence bundle {path} is not UTF-8 text; rerun the release "
                            "checks", candidate=candidate_id, path=path) from None
    evidence = Evidence.from_json(text, path)
    if evidence.candidate_id != candidate_id:
        raise EvidenceError(
            f"evidence bundle {path} now holds the evidence of candidate "
            f"{evidence.candidate_id}, not {candidate_id} (a later release run replaced it); "
            f"rerun the release checks for {candidate_id}",
            candidate=candidate_id,
        )
    actual = sha256_file(path)
    if actual != record.bundle_sha256:
        raise EvidenceError(
            f"evidence bundle {path} was changed after it was recorded (sha256 {actual[:12]}..., "
            f"recorded {record.bundle_sha256[:12]}...); rerun the release checks",
            candidate=candidate_id,
        )
    if evidence.verdict != "passed":
        raise EvidenceError(
            f"the release checks of candidate {candidate_id} failed (run {evidence.run_id}); "
            f"see {path.parent}",
            candidate=candidate_id,
        )
    for name, digest in evidence.reports.items():
        report = path.parent / name
        if not report.is_file() or sha256_file(report) != digest:
            raise EvidenceError(f"report {report} changed or went missing since the evidence "
                                "was recorded; rerun the release checks", candidate=candidate_id)
    age = (now or dt.datetime.now(dt.UTC)) - created_at(evidence.created_at, path)
    if age < -CLOCK_SKEW:
        raise EvidenceError(
            f"evidence bundle {path}: field 'created_at' {evidence.created_at} is "
            f"{-age.total_seconds() / 60:.0f} minutes in the future, more than the "
            f"{CLOCK_SKEW.total_seconds() / 60:.0f} a clock may be ahead; check the clocks of "
            "the agents and rerun the release checks",
            candidate=candidate_id, path=path,
        )
    if age > dt.timedelta(hours=max_age_hours):
        raise EvidenceError(
            f"evidence for candidate {candidate_id} is {age.total_seconds() / 3600:.1f} hours "
            f"old, more than the {max_age_hours:g} allowed; rerun the release checks",
            candidate=candidate_id,
        )
    candidate = evidence.candidate
    if not candidate.artifact.exists() or artifact_digest(candidate.artifact) != \
            candidate.artifact_sha256:
        raise EvidenceError(
            f"the artifact of candidate {candidate_id} at {candidate.artifact} is gone or "
            "changed since it was tested; rebuild and rerun the release checks",
            candidate=candidate_id,
        )
    return evidence, actual
