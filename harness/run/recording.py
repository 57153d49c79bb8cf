"""Turn a finished run into a history record: its identity, verdict and every metric
read back from the JUnit testcases' properties (the same figures Jenkins shows)."""

from __future__ import annotations

from harness.candidate.artifact import artifact_digest
from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.data.digests import golden_digests
from harness.digests import sha256_file
from harness.gates.outcome import Outcome
from harness.gates.properties import number
from harness.history import MetricRecord, RunRecord
from harness.run.verdict import CaseOutcome, Verdict


def metric_records(verdict: Verdict) -> list[MetricRecord]:
    """One record per testcase that measured a figure (``metric`` and ``value`` properties):
    quality metrics, load SLOs, and whatever else a check measures."""
    records = []
    for case in verdict.cases:
        props = case.properties
        if props.metric is None or props.value is None:
            continue
        records.append(MetricRecord(
            gate=f"{case.classname}::{case.name}",
            dataset=case.dataset,
            segment=case.segment,
            metric=props.metric,
            value=props.value.number,
            status=case.status,
            ci_low=number(props.ci_low),
            ci_high=number(props.ci_high),
            baseline=props.baseline,
            baseline_value=number(props.baseline_value),
        ))
    return records


def model_identity(config: HarnessConfig) -> str:
    """The digest of the model under test: its artifact's, or where it is served."""
    spec = config.model
    if spec.artifact is not None and config.resolve(spec.artifact).exists():
        return artifact_digest(config.resolve(spec.artifact))
    return f"unknown ({spec.adapter} {spec.url or spec.entrypoint})"[:64]


def untested_candidate_id(config: HarnessConfig, model: str) -> str:
    """The id ``harness deploy`` gives the config's artifact (its digest, the code revision,
    the config and golden data), so an in-process run is recorded under the id that status,
    release and audit show; empty for a model without an artifact, which no deploy or promotion
    can take (its identity, ``model``, is where it is served)."""
    from harness.deploy.operations import candidate_for

    spec = config.model
    if spec.artifact is None or not config.resolve(spec.artifact).exists():
        return ""
    return candidate_for(config).id


def _count(cases: list[CaseOutcome], status: Outcome) -> int:
    return sum(1 for c in cases if c.status == status)


def run_record(config: HarnessConfig, profile: str, verdict: Verdict, duration_s: float,
               candidate: Candidate | None = None) -> RunRecord:
    """The run as history keeps it; ``candidate`` is what was tested when it is known
    (a deployed one), else the model under test is described from the config."""
    model = candidate.artifact_sha256 if candidate else model_identity(config)
    return RunRecord(
        project=config.project,
        profile=profile,
        candidate_id=candidate.id if candidate else untested_candidate_id(config, model),
        model_sha256=model,
        config_sha256=sha256_file(config.source),
        golden_sha256=golden_digests(config),
        verdict="passed" if verdict.passed else "failed",
        duration_s=duration_s,
        tests=len(verdict.cases),
        failures=_count(verdict.cases, Outcome.FAILED),
        errors=_count(verdict.cases, Outcome.ERROR),
        skipped=_count(verdict.cases, Outcome.SKIPPED),
        metrics=metric_records(verdict),
    )
