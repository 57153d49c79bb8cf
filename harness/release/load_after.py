"""Load after promotion: a short Locust run against production once it was switched, judged
by its own SLOs (``release.load``), one JUnit testcase per SLO as in the release checks.

It is part of promotion's post-deploy checks, so a failed SLO rolls production back. The
scenario and locustfile are the load check's; only the bounds and the SLOs differ.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.gates.checks.load import check_slo
from harness.gates.outcome import Outcome
from harness.gates.result import GateResult
from harness.load.results import OVERALL
from harness.load.runner import run_load
from harness.run.junit import Case, judged_case

CLASSNAME = "post_deploy.load"


def load_after_promotion(config: HarnessConfig, url: str, out_dir: Path) -> list[Case]:
    """Run ``release.load`` against ``url``; one case per SLO (none when not configured)."""
    spec = config.release.load
    if spec is None:
        return []
    bounded = config.load.model_copy(update={
        "users": spec.users, "spawn_rate": spec.spawn_rate, "run_time_s": spec.run_time_s,
        "max_requests": spec.max_requests, "workers": spec.workers, "slos": spec.slos,
    })
    names = [_name(slo.endpoint, slo.metric) for slo in spec.slos]
    try:
        results = run_load(config.model_copy(update={"load": bounded}), out_dir, url)
    except HarnessError as exc:
        failed = GateResult(Outcome.FAILED, f"the load check could not run: {exc}")
        return [judged_case(CLASSNAME, name, failed) for name in names]
    return [judged_case(CLASSNAME, name, check_slo(slo, results))
            for name, slo in zip(names, spec.slos, strict=True)]


def _name(endpoint: str, metric: str) -> str:
    where = OVERALL if endpoint == OVERALL else endpoint.strip("/").replace("/", "_") or "root"
    return f"{where}.{metric}"
