"""``harness run``: the whole release on one machine, step by step, each step a library
call: the pull-request checks, deploy to staging (with ``--publish``, published to the
registry first and pulled from it by digest), the release checks against staging
(which write the evidence), promotion to production on the approver's word, and a last
look at what runs where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.config import HarnessConfig
from harness.deploy import operations
from harness.deploy.target import describe
from harness.release.promotion import promote
from harness.run.engine import run_check
from harness.run.verdict import summarize


def run_release(config: HarnessConfig, approver: str, reports_root: Path,
                say: Callable[[str], None] = print, publish_first: bool = False) -> bool:
    """Run every step until one fails; True when the candidate reached production. With
    ``publish_first`` the candidate goes through the configured registry."""
    release = config.release
    say(f"== 1/5 pull-request checks (profile {release.pr_profile})")
    checks = run_check(config, release.pr_profile, reports_root)
    say(summarize(checks.verdict, f"harness check --profile {release.pr_profile}"))
    if not checks.verdict.passed:
        say("stopped: the pull-request checks failed; nothing was deployed")
        return False

    say(f"== 2/5 deploy to {release.staging}")
    candidate = operations.candidate_for(config)
    if publish_first:
        # Imported here: the registry client costs about a second at import.
        from harness.candidate.publish import candidate_from_reference, publish

        # Built once: from here on every environment pulls the published bytes by digest.
        published = publish(config)
        say(f"published {published.pinned}")
        candidate = candidate_from_reference(config, published.pinned)
    say(describe(release.staging, operations.deploy(config, release.staging, candidate)))

    say(f"== 3/5 release checks against {release.staging} (profile {release.staging_profile})")
    staged = run_check(config, release.staging_profile, reports_root)
    say(summarize(staged.verdict, f"harness check --profile {release.staging_profile}"))
    say(f"  evidence: {staged.evidence}")
    if not staged.verdict.passed:
        say(f"stopped: the release checks failed; {release.production} is unchanged")
        return False

    say(f"== 4/5 promote candidate {candidate.id} to {release.production}, "
        f"approved by {approver}")
    result = promote(config, candidate.id, approver, reports_root)
    say(result.message)

    say("== 5/5 what runs where")
    for env, deployment in operations.status(config).items():
        say(describe(env, deployment))
    return result.promoted
