"""Which artifact ``harness verify`` looks at: a published reference, an artifact sha256, a
candidate id the release checks ran on (found through its evidence), or ``model.artifact``."""

from __future__ import annotations

import re

from harness.config import HarnessConfig
from harness.errors import AttestationError


def attested_digest(config: HarnessConfig, ref: str | None) -> tuple[str, str | None]:
    """The artifact digest (and pinned reference) ``harness verify`` looks at: a published
    reference, an artifact sha256, a candidate id with evidence, or model.artifact."""
    if ref is None:
        from harness.deploy import operations

        return operations.candidate_for(config).artifact_sha256, None
    if "@" in ref:
        from harness.candidate.publish import parse_pinned, session

        reference = parse_pinned(ref)
        return session(config, reference).manifest().artifact_sha256, reference.pinned
    if re.fullmatch(r"(sha256:)?[0-9a-f]{64}", ref):
        return ref.removeprefix("sha256:"), None
    from harness.history import HistoryStore
    from harness.history.release import latest_evidence
    from harness.run.evidence import Evidence

    store = HistoryStore(config.history_url())
    try:
        record = latest_evidence(store, ref)
    finally:
        store.close()
    if record is None:
        raise AttestationError(f"no candidate {ref} with evidence in the history; give a "
                               "published reference REGISTRY/REPO@sha256:..., an artifact "
                               "sha256, or a candidate id the release checks ran on",
                               candidate=ref)
    path = config.root / record.path
    try:
        candidate = Evidence.from_json(path.read_text(), path).candidate
    except OSError as exc:
        raise AttestationError(f"evidence {path} of candidate {ref} cannot be read "
                               f"({exc.strerror})", candidate=ref) from None
    return candidate.artifact_sha256, candidate.reference
