"""What a run leaves in history: every measured figure, read back from JUnit properties."""

from __future__ import annotations

from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.run.recording import metric_records
from harness.run.verdict import CaseOutcome, Verdict


def test_every_measured_figure_becomes_a_record() -> None:
    verdict = Verdict([
        CaseOutcome("quality.credit-v1", "roc_auc", Outcome.PASSED, "",
                    GateProperties(metric="roc_auc", dataset="credit-v1", segment="overall",
                                   value=Figure("0.8336"), ci_low=Figure("0.8080"),
                                   ci_high=Figure("0.8580"))),
        CaseOutcome("quality.credit-v1.job=fixed", "roc_auc.gap", Outcome.FAILED, "gap",
                    GateProperties(metric="roc_auc", dataset="credit-v1", segment="job=fixed",
                                   value=Figure("0.7"))),
        CaseOutcome("load.predict", "p95_ms", Outcome.PASSED, "",
                    GateProperties(metric="p95_ms", dataset="predict", segment="overall",
                                   value=Figure("41.5"))),
        CaseOutcome("schema.train", "Age.present", Outcome.PASSED, "",
                    GateProperties(column="Age")),
        CaseOutcome("quality.credit-v1", "roc_auc", Outcome.FAILED, "",
                    GateProperties(metric="roc_auc", value=Figure("nan"))),
    ])
    records = metric_records(verdict)
    assert [(r.gate, r.dataset, r.segment, r.value, r.status) for r in records] == [
        ("quality.credit-v1::roc_auc", "credit-v1", "overall", 0.8336, "passed"),
        ("quality.credit-v1.job=fixed::roc_auc.gap", "credit-v1", "job=fixed", 0.7, "failed"),
        ("load.predict::p95_ms", "predict", "overall", 41.5, "passed"),
        ("quality.credit-v1::roc_auc", "credit-v1", "overall", None, "failed"),
    ]
    assert records[0].ci_low == 0.808


def test_a_report_of_an_older_harness_says_dataset_and_segment_in_its_classname() -> None:
    """Before the writer wrote ``dataset``/``segment``, readers took them from the classname."""
    old = [("quality.credit-v1.job=fixed", "roc_auc.gap",
            [("metric", "roc_auc"), ("dataset", "credit-v1"), ("value", "0.7")]),
           ("load.predict", "p95_ms", [("metric", "p95_ms"), ("value", "41.5")]),
           ("quality.credit-v1", "roc_auc", [("metric", "roc_auc"), ("value", "0.8")])]
    verdict = Verdict([CaseOutcome(classname, name, Outcome.PASSED, "",
                                   GateProperties.from_pairs(pairs))
                       for classname, name, pairs in old])
    assert [(r.dataset, r.segment) for r in metric_records(verdict)] == [
        ("credit-v1", "job=fixed"), ("predict", "overall"), ("credit-v1", "overall")]


def test_the_writer_s_dataset_and_segment_win_over_the_classname() -> None:
    case = CaseOutcome("quality.a.b", "roc_auc", Outcome.PASSED, "",
                       GateProperties(metric="roc_auc", dataset="a.b", segment="overall",
                                      value=Figure("0.9")))
    assert (case.dataset, case.segment) == ("a.b", "overall")


def test_an_in_process_run_is_recorded_under_the_id_its_deploy_will_have(project) -> None:
    """One id everywhere: history, the pull-request report, status and audit."""
    from harness.config import load_config
    from harness.deploy.operations import candidate_for
    from harness.run.recording import run_record

    config = load_config(project / "harness.yaml")
    verdict = Verdict([CaseOutcome("schema.train", "Age.present", Outcome.PASSED)])
    record = run_record(config, "pr", verdict, 1.0)
    deployed = candidate_for(config)
    assert record.candidate_id == deployed.id
    assert record.model_sha256 == deployed.artifact_sha256


def test_a_run_without_an_artifact_has_no_candidate_to_promote(project) -> None:
    """A model served elsewhere (no model.artifact): recorded with where it is served and no
    candidate id, so nothing prints a `harness promote --candidate` that cannot work."""
    import yaml

    from harness.config import load_config
    from harness.run.recording import run_record

    raw = yaml.safe_load((project / "harness.yaml").read_text())
    del raw["model"]["artifact"]
    (project / "harness.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    config = load_config(project / "harness.yaml")
    verdict = Verdict([CaseOutcome("schema.train", "Age.present", Outcome.PASSED)])
    record = run_record(config, "pr", verdict, 1.0)
    assert record.candidate_id == ""
    assert record.model_sha256.startswith("unknown (")
