"""Quality gates on real models: a retrained seed passes, a worse model fails with its
interval shown, the nightly run compares with production over HTTP, and slow drift
across runs is flagged. One real ``harness check`` run (pytest in its own process, JUnit
read back) proves the wiring; the other rules are judged in this process, gate by gate as
the plugin judges them (tests/support/gate_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.config import load_config
from harness.history import HistoryStore, MetricRecord, RunRecord
from harness.run.engine import run_check
from harness.run.verdict import Verdict
from tests.support.gate_runs import case, judge
from tests.support.project import EXAMPLE, write_config

TRAIN = EXAMPLE / "fixtures/credit/train.csv"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A model trained with the given options, once per set of options (the tests only
    read it)."""
    from credit_model.train import train

    made: dict[str, Path] = {}

    def _train(**options) -> Path:
        key = repr(sorted(options.items()))
        if key not in made:
            made[key] = train(TRAIN, tmp_path_factory.mktemp("model") / "credit", **options)
        return made[key]

    return _train


def _configure(project: Path, artifact: Path, **changes) -> None:
    write_config(project, model={"artifact": str(artifact)},
                 profiles={"pr": {"checks": ["quality"]},
                           "nightly": {"checks": ["quality", "drift"], "baseline": "production"}},
                 **changes)


def _check(project: Path, artifact: Path, profile: str = "pr", **changes) -> Verdict:
    """The profile's gates judged in this process."""
    _configure(project, artifact, **changes)
    return judge(load_config(project / "harness.yaml"), profile)


def test_a_model_retrained_with_another_seed_passes(project: Path, trained) -> None:
    verdict = _check(project, trained(seed=1))
    assert verdict.passed, [c.message for c in verdict.failures]
    versus = case(verdict, "quality.credit-v1::roc_auc.vs_passport")
    assert float(versus.properties.difference) != 0, "a new seed must change the model"


def test_a_model_without_an_important_feature_fails_and_shows_the_interval(project, trained):
    """For real: ``harness check``'s pytest process, its JUnit read back."""
    _configure(project, trained(drop_features=["Records"]))
    run = run_check(load_config(project / "harness.yaml"), "pr", project / "reports")
    assert not run.verdict.passed
    floor = case(run.verdict, "quality.credit-v1::roc_auc")
    assert floor.status == "passed", "the absolute floor alone would let it through"
    versus = case(run.verdict, "quality.credit-v1::roc_auc.vs_passport")
    assert versus.status == "failed"
    assert "vs passport #1 0.8336" in versus.message
    assert "paired interval [" in versus.message and "more than the allowed 0.0200" in versus.message
    assert float(versus.properties.difference_ci_low) < -0.02


def test_the_analytic_interval_fails_the_same_worse_model(project, trained) -> None:
    gates = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())["gates"]
    verdict = _check(project, trained(drop_features=["Records"]),
                     gates={**gates, "intervals": {"method": "analytic"}})
    versus = case(verdict, "quality.credit-v1::roc_auc.vs_passport")
    assert versus.status == "failed" and versus.properties.ci_method == "analytic"
    assert "more than the allowed 0.0200" in versus.message
    assert float(versus.properties.difference_ci_low) < -0.02


def test_a_model_trained_on_a_small_sample_fails_its_floor(project, trained) -> None:
    verdict = _check(project, trained(sample=300))
    failed = {f"{c.classname}::{c.name}" for c in verdict.failures}
    assert {"quality.credit-v1::roc_auc", "quality.credit-v1::roc_auc.vs_passport"} <= failed
    assert "below its floor 0.8000" in case(verdict, "quality.credit-v1::roc_auc").message


def test_nightly_compares_the_candidate_with_production_over_http(project, trained,
                                                                  model_artifact,
                                                                  service_url) -> None:
    # The service on service_url is production; it serves the session's model.
    production = {"adapter": "http", "url": service_url}
    same = _check(project, model_artifact, "nightly", production=production)
    assert case(same, "quality.credit-v1::roc_auc.vs_production").status == "passed"
    worse = _check(project, trained(drop_features=["Records"]), "nightly", production=production)
    versus = case(worse, "quality.credit-v1::roc_auc.vs_production")
    assert versus.status == "failed" and "vs production 0.8336" in versus.message


def _record(store: HistoryStore, auc: float) -> None:
    store.record_run(RunRecord(
        project="credit-scoring", profile="nightly", candidate_id="x", model_sha256="x",
        config_sha256="x", golden_sha256={}, verdict="passed", duration_s=1, tests=1,
        failures=0, errors=0, skipped=0,
        metrics=[MetricRecord("quality.credit-v1::roc_auc", "credit-v1", "overall", "roc_auc",
                              auc, "passed")],
    ))


@pytest.mark.parametrize(("past", "flagged"), [
    ([0.858, 0.851, 0.845, 0.839], True),   # then 0.8336 now: five runs, each worse
    ([0.858, 0.829, 0.845, 0.839], False),  # one run went up: noise, not drift
])
def test_slow_drift_is_flagged_even_when_every_run_passes(project, model_artifact, service_url,
                                                          past, flagged) -> None:
    store = HistoryStore(load_config(project / "harness.yaml").history_url())
    for auc in past:
        _record(store, auc)
    store.close()
    verdict = _check(project, model_artifact, "nightly",
                     production={"adapter": "http", "url": service_url})
    drift = case(verdict, "drift.credit-v1::roc_auc")
    assert case(verdict, "quality.credit-v1::roc_auc").status == "passed"
    assert drift.status == ("failed" if flagged else "passed")
    if flagged:
        assert "worsened in each of the last 5 runs" in drift.message
