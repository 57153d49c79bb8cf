"""What a run leaves in history: every measured figure, read back from JUnit properties."""

from __future__ import annotations

from harness.run.recording import metric_records
from harness.run.verdict import CaseOutcome, Verdict


def test_every_measured_figure_becomes_a_record() -> None:
    verdict = Verdict([
        CaseOutcome("quality.credit-v1", "roc_auc", "passed", "",
                    {"metric": "roc_auc", "dataset": "credit-v1", "value": "0.8336",
                     "ci_low": "0.8080", "ci_high": "0.8580"}),
        CaseOutcome("quality.credit-v1.job=fixed", "roc_auc.gap", "failed", "gap",
                    {"metric": "roc_auc", "dataset": "credit-v1", "value": "0.7"}),
        CaseOutcome("load.predict", "p95_ms", "passed", "", {"metric": "p95_ms", "value": "41.5"}),
        CaseOutcome("schema.train", "Age.present", "passed", "", {"column": "Age"}),
        CaseOutcome("quality.credit-v1", "roc_auc", "failed", "", {"metric": "roc_auc",
                                                                  "value": "nan"}),
    ])
    records = metric_records(verdict)
    assert [(r.gate, r.dataset, r.segment, r.value, r.status) for r in records] == [
        ("quality.credit-v1::roc_auc", "credit-v1", "overall", 0.8336, "passed"),
        ("quality.credit-v1.job=fixed::roc_auc.gap", "credit-v1", "job=fixed", 0.7, "failed"),
        ("load.predict::p95_ms", "predict", "overall", 41.5, "passed"),
        ("quality.credit-v1::roc_auc", "credit-v1", "overall", None, "failed"),
    ]
    assert records[0].ci_low == 0.808
