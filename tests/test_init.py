"""What `harness init` writes fits the data: binary floors relative to the no-skill model,
average precision with a paired interval, a threshold from the data, and init's slices
gated. Constructed score vectors for the rules; one in-process init for the config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import average_precision_score

from harness.config import BootstrapSpec, IntervalSpec, MetricGate, load_config
from harness.gates import intervals
from harness.gates.checks.quality import check_floor
from harness.gates.outcome import Outcome
from harness.kinds import BINARY
from harness.kinds.metrics.binary import compute, resampled_metric
from tests.support.project import ROOT

CANCER = ROOT / "examples" / "cancer"
SETTINGS = BootstrapSpec()

# The cancer team's model, with the slice column left out of its features.
SLICED_MODEL = """
import joblib, pandas as pd
from pathlib import Path
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

def load(artifact):
    return joblib.load(Path(artifact) / "model.joblib")

if __name__ == "__main__":
    frame = pd.read_csv("data/train.csv")
    model = make_pipeline(make_column_transformer(("drop", ["clinic"]),
                                                  remainder=StandardScaler()),
                          LogisticRegression(max_iter=1000))
    model.fit(frame.drop(columns=["diagnosis"]), frame["diagnosis"])
    Path("artifacts/model").mkdir(parents=True, exist_ok=True)
    joblib.dump(model, "artifacts/model/model.joblib")
"""


def _imbalanced(rows: int = 2465, positives: int = 129) -> np.ndarray:
    """The lending golden set's class mix: about 5 % positives."""
    y = np.zeros(rows, dtype=int)
    y[np.random.default_rng(0).choice(rows, positives, replace=False)] = 1
    return y


def _judge(y: np.ndarray, scores: np.ndarray) -> dict[str, Outcome]:
    gates = BINARY.starter_gates(pd.Series(y))
    found = {}
    for name, bounds in gates.items():
        estimate = intervals.estimate(BINARY, name, y, scores, 0.5, IntervalSpec(), SETTINGS)
        found[name] = check_floor(name, MetricGate(**bounds), estimate, len(y), "golden").outcome
    return found


def test_a_constant_predictor_fails_the_starter_gates_on_imbalanced_data() -> None:
    y = _imbalanced()
    constant = np.full(len(y), y.mean())
    # The old absolute floors passed it: brier 0.0496 <= 0.25, log loss 0.205 <= 0.7.
    assert compute("brier", y, constant, 0.5) < 0.25 and compute("log_loss", y, constant, 0.5) < 0.7
    judged = _judge(y, constant)
    assert set(judged) == {"roc_auc", "average_precision", "brier_skill", "log_loss_skill"}
    assert all(outcome is Outcome.FAILED for outcome in judged.values()), judged
    assert abs(compute("brier_skill", y, constant, 0.5)) < 1e-12
    assert compute("average_precision", y, constant, 0.5) == pytest.approx(y.mean())
    # A constant off the base rate is worse than no skill.
    assert compute("log_loss_skill", y, np.full(len(y), 0.3), 0.5) < 0


def test_a_model_with_skill_passes_them() -> None:
    y = _imbalanced()
    rng = np.random.default_rng(1)
    logits = -3.2 + 1.5 * y + rng.normal(0, 1, len(y))  # binormal, AUC about 0.86
    judged = _judge(y, 1 / (1 + np.exp(-logits)))
    assert all(outcome is Outcome.PASSED for outcome in judged.values()), judged


def test_the_average_precision_floor_sits_above_the_base_rate() -> None:
    gates = BINARY.starter_gates(pd.Series(_imbalanced()))
    assert gates["average_precision"]["min"] == 0.15  # 0.052 + 10 % of the way to 1
    assert "brier" not in gates and "log_loss" not in gates
    assert not {"precision", "recall", "f1", "accuracy"} & set(gates)  # no threshold metric


def test_resampled_average_precision_is_scikit_learns_on_every_resample() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(300) < 0.15).astype(int)
    scores = np.round(0.3 * y + 0.7 * rng.random(300), 2)  # many tied scores
    rows = rng.integers(0, 300, (20, 300))
    expected = [average_precision_score(y[r], scores[r]) for r in rows]
    np.testing.assert_allclose(resampled_metric("average_precision", y, scores, 0.5)(rows),
                               expected, rtol=1e-12)


def test_average_precision_has_a_paired_bootstrap_interval() -> None:
    y = _imbalanced(800, 80)
    rng = np.random.default_rng(3)
    base = 1 / (1 + np.exp(-(-2.5 + 1.5 * y + rng.normal(0, 1, len(y)))))
    candidate = np.clip(base + rng.normal(0, 0.01, len(y)), 0, 1)
    paired = intervals.paired(BINARY, "average_precision", y, candidate, base, 0.5,
                              IntervalSpec(method="analytic"), SETTINGS)
    diff = paired.difference
    assert diff.method == "bootstrap"  # no analytic form: the bootstrap, whatever is asked
    assert diff.interval.low < diff.value < diff.interval.high
    assert diff.interval.high - diff.interval.low < 0.05


def test_a_skill_score_interval_is_the_loss_interval_over_the_prior() -> None:
    y = _imbalanced(800, 80)
    scores = 1 / (1 + np.exp(-(-2.5 + 1.5 * y + np.random.default_rng(4).normal(0, 1, 800))))
    prior = y.mean() * (1 - y.mean())
    skill = intervals.estimate(BINARY, "brier_skill", y, scores, 0.5,
                               IntervalSpec(method="analytic"), SETTINGS)
    brier = intervals.estimate(BINARY, "brier", y, scores, 0.5,
                               IntervalSpec(method="analytic"), SETTINGS)
    assert skill.value == pytest.approx(1 - brier.value / prior)
    assert skill.interval.low == pytest.approx(1 - brier.interval.high / prior)


def test_init_writes_a_threshold_from_the_data_and_gates_its_slices(tmp_path: Path) -> None:
    """init on data with a categorical column: the config loads, the threshold is the
    base rate, and each slice has a gap criterion that is judged (passed or skipped with
    its counts), so the report has slices to show."""
    from harness.gates.checks import quality
    from harness.gates.context import RunContext
    from harness.gates.state import GateState
    from harness.init import InitRequest, init_project

    frame = pd.read_csv(CANCER / "cancer.csv")
    frame["clinic"] = np.array(["north", "south", "east"])[np.arange(len(frame)) % 3]
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "model.py").write_text(SLICED_MODEL)
    init_project(InitRequest(data=tmp_path / "data.csv", label="diagnosis",
                             positive="malignant", entrypoint="model:load",
                             artifact=Path("artifacts/model"), folder=tmp_path,
                             managers=["ana"]))
    written = yaml.safe_load((tmp_path / "harness.yaml").read_text())
    assert written["slices"] == [{"name": "clinic", "column": "clinic"}]
    assert written["model"]["threshold"] == round((frame["diagnosis"] == "malignant").mean(), 3)
    assert written["gates"]["quality"]["roc_auc"]["max_slice_gap"] == 0.1
    subprocess.run([sys.executable, "model.py"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    written["profiles"]["pr"]["baseline"] = "none"  # no passport: the slices are the point
    (tmp_path / "harness.yaml").write_text(yaml.safe_dump(written, sort_keys=False))
    state = GateState(RunContext.resolve(load_config(tmp_path / "harness.yaml"), "pr"))
    judged = {}
    for spec in quality.gates(state):
        spec.prepare()
        judged[f"{spec.segment}::{spec.criterion}"] = spec.judged()
    gaps = {key: r for key, r in judged.items() if key.endswith("::roc_auc.gap")}
    assert set(gaps) == {f"clinic={c}::roc_auc.gap" for c in ("north", "south", "east")}
    for result in gaps.values():
        assert result.outcome in (Outcome.PASSED, Outcome.SKIPPED), result.message
        assert result.properties.positives is not None
    assert any(r.outcome is Outcome.PASSED for r in gaps.values())
