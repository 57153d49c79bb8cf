"""Turn a finished run into a history record: its identity, verdict and every metric
read back from the JUnit testcases' properties (the same figures Jenkins shows)."""

from __future__ import annotations

import math

from harness.candidate.artifact import artifact_digest
from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.data.digests import golden_digests
from harness.digests import sha256_file
from harness.history import MetricRecord, RunRecord
from harness.run.verdict import CaseOutcome, Verdict


def property_float(properties: dict[str, str], key: str) -> float | None:
    """A testcase property as a number; None when absent, not a number, or NaN."""
    try:
        value = float(properties[key])
    except (KeyError, ValueError):
        return None
    return None if math.isnan(value) else value


def metric_records(verdict: Verdict) -> list[MetricRecord]:
    """One record per testcase that measured a figure (``metric`` and ``value`` properties):
    quality metrics, load SLOs, and whatever else a check measures."""
    records = []
    for case in verdict.cases:
        props = case.properties
        if "metric" not in props or "value" not in props:
            continue
        # classname is <suite>.<dataset>[.<segment>]; a dataset property says where it ends.
        scope = case.classname.split(".", 1)[1] if "." in case.classname else case.classname
        dataset = props.get("dataset", scope)
        segment = scope[len(dataset) + 1:] if scope.startswith(dataset + ".") else "overall"
        records.append(MetricRecord(
            gate=f"{case.classname}::{case.name}",
            dataset=dataset,
            segment=segment,
            metric=props["metric"],
            value=property_float(props, "value"),
            status=case.status,
            ci_low=property_float(props, "ci_low"),
            ci_high=property_float(props, "ci_high"),
            baseline=props.get("baseline"),
            baseline_value=property_float(props, "baseline_value"),
        ))
    return records


def model_identity(config: HarnessConfig) -> str:
    """The digest of the model under test: its artifact's, or where it is served."""
    spec = config.model
    if spec.artifact is not None and config.resolve(spec.artifact).exists():
        return artifact_digest(config.resolve(spec.artifact))
    return f"unknown ({spec.adapter} {spec.url or spec.entrypoint})"[:64]


def _count(cases: list[CaseOutcome], status: str) -> int:
    return sum(1 for c in cases if c.status == status)


def run_record(config: HarnessConfig, profile: str, verdict: Verdict, duration_s: float,
               candidate: Candidate | None = None) -> RunRecord:
    """The run as history keeps it; ``candidate`` is what was tested when it is known
    (a deployed one), else the model under test is described from the config."""
    model = candidate.artifact_sha256 if candidate else model_identity(config)
    return RunRecord(
        project=config.project,
        profile=profile,
        candidate_id=candidate.id if candidate else model[:12],
        model_sha256=model,
        config_sha256=sha256_file(config.source),
        golden_sha256=golden_digests(config),
        verdict="passed" if verdict.passed else "failed",
        duration_s=duration_s,
        tests=len(verdict.cases),
        failures=_count(verdict.cases, "failed"),
        errors=_count(verdict.cases, "error"),
        skipped=_count(verdict.cases, "skipped"),
        metrics=metric_records(verdict),
    )
