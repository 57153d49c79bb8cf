"""Gates that know when they don't know: the three outcomes of a comparative gate from
constructed score vectors, evidence minimums, degenerate resamples, clipped intervals and
the minimum detectable effect; pure functions, no model."""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pytest

from harness.config import BootstrapSpec, IntervalSpec, MetricGate
from harness.gates import decision, intervals
from harness.gates.checks.quality import check_non_inferiority, too_little
from harness.gates.decision import Decision
from harness.gates.evidence import Counts, counts, shortfall
from harness.gates.outcome import Outcome
from harness.kinds import BINARY, REGRESSION
from harness.kinds.metrics.binary import resampled_metric
from harness.stats import analytic, bootstrap
from harness.stats.bootstrap import RowMetric

ANALYTIC = IntervalSpec(method="analytic")
BOOTSTRAP = IntervalSpec(method="bootstrap")
SETTINGS = BootstrapSpec()


@pytest.mark.parametrize(("value", "low", "high", "expected"), [
    (-0.005, -0.015, 0.005, Decision.PASS),          # worst end within the margin
    (-0.010, -0.030, 0.010, Decision.INCONCLUSIVE),  # straddles -0.02
    (-0.040, -0.060, -0.025, Decision.FAIL),         # wholly beyond it
    (-0.025, -0.060, 0.010, Decision.FAIL),          # the point estimate is beyond it
    (0.000, float("nan"), float("nan"), Decision.INCONCLUSIVE),  # no interval to read
    (float("nan"), float("nan"), float("nan"), Decision.FAIL),
])
def test_the_rule_of_three_outcomes(value, low, high, expected) -> None:
    assert decision.decide(value, low, high, 0.02) is expected
    # A loss (lower is better): the same verdict with the signs turned.
    assert decision.decide(-value, -high, -low, 0.02, higher_is_better=False) is expected


def _pair(positives: int, negatives: int, noise: float, shift: float, seed: int):
    """Labels, a baseline, and a candidate that is the baseline plus noise, moved towards
    the wrong class by ``shift`` (a worse model the larger it is)."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(positives), np.zeros(negatives)]
    base = 1 / (1 + np.exp(-(1.5 * y - 0.75 + rng.normal(0, 1, len(y)))))
    logit = np.log(base / (1 - base)) + rng.normal(0, noise, len(y)) - shift * (2 * y - 1)
    return y, 1 / (1 + np.exp(-logit)), base


def _judge(y, cand, base, on_inconclusive: str = "fail", max_drop: float = 0.02):
    gate = MetricGate(min=0.5, max_drop=max_drop, on_inconclusive=on_inconclusive)
    paired = intervals.paired(BINARY, "roc_auc", y, cand, base, 0.5, ANALYTIC, SETTINGS)
    return check_non_inferiority("roc_auc", gate, paired, len(y), "golden", "passport",
                                 0.95, counts(BINARY, y))


def test_a_near_copy_on_many_rows_passes() -> None:
    result = _judge(*_pair(1000, 1000, 0.1, 0.0, 0))
    assert result.outcome is Outcome.PASSED and result.properties.decision == "pass"
    assert float(result.properties.mde) < 0.02
    assert "detectable drop" in result.message


def test_a_clearly_worse_model_fails() -> None:
    result = _judge(*_pair(1000, 1000, 0.1, 0.6, 0))
    assert result.outcome is Outcome.FAILED and result.properties.decision == "fail"
    assert "more than the allowed 0.0200" in result.message
    assert not result.message.startswith("inconclusive")


def test_a_golden_set_too_small_to_tell_is_inconclusive_and_blocks_by_default() -> None:
    y, cand, base = _pair(30, 30, 0.3, 0.0, 0)
    result = _judge(y, cand, base)
    props = result.properties
    assert result.outcome is Outcome.FAILED and props.decision == "inconclusive"
    assert result.message.startswith("inconclusive: roc_auc = ")
    assert "straddles the allowed drop 0.0200" in result.message
    assert "(60 rows, 30 positive, 30 negative)" in result.message
    assert props.rows == 60 and props.positives == 30 and props.negatives == 30
    # The rows that would decide the margin scale as (MDE / margin)^2.
    mde = float(props.mde)
    assert mde > 0.02
    # (the property's MDE is rounded to 4 places)
    assert props.rows_needed == pytest.approx(60 * (mde / 0.02) ** 2, rel=0.01)
    assert props.positives_needed == pytest.approx(30 * (mde / 0.02) ** 2, rel=0.01)
    assert f"about {props.rows_needed} rows ({props.positives_needed} positives)" in result.message


def test_warn_passes_an_inconclusive_gate_with_a_warning_property() -> None:
    result = _judge(*_pair(30, 30, 0.3, 0.0, 0), on_inconclusive="warn")
    assert result.outcome is Outcome.PASSED
    assert result.properties.decision == "inconclusive"
    assert result.properties.warning == result.message
    assert result.message.startswith("inconclusive")


def test_the_mde_is_z_plus_z_power_standard_errors() -> None:
    # A 95% interval of half-width 1.96 is an SE of 1: MDE = 1.96 + 0.8416.
    se = decision.standard_error(-1.959964, 1.959964, 0.95)
    assert se == pytest.approx(1.0, abs=1e-6)
    assert decision.mde(se, 0.95) == pytest.approx(1.959964 + 0.841621, abs=1e-5)
    assert decision.needed(1000, 100, 0.04, 0.02) == decision.Plan(4000, 400)
    assert decision.needed(1000, 100, 0.0, 0.02) is None


def test_two_rows_and_one_positive_are_too_little_evidence() -> None:
    assert shortfall(counts(BINARY, np.array([1, 0])), 10, 10) == (
        "1 positive(s), fewer than gates.min_positives (10) and 1 negative(s), fewer than "
        "gates.min_negatives (10)")
    one = counts(BINARY, np.r_[np.ones(1), np.zeros(99)])
    assert one == Counts(100, 1, 99)
    assert shortfall(one, 10, 10) == "1 positive(s), fewer than gates.min_positives (10)"
    assert shortfall(counts(BINARY, np.r_[np.ones(10), np.zeros(10)]), 10, 10) is None
    # A kind without classes needs min_positives + min_negatives rows.
    assert "2 rows, fewer than the 20" in shortfall(counts(REGRESSION, np.zeros(2)), 10, 10)


@pytest.mark.parametrize("positives", [0, 1])
def test_a_slice_with_zero_or_one_positive_is_skipped_with_its_counts(positives) -> None:
    y = np.r_[np.ones(positives), np.zeros(136)]
    found = counts(BINARY, y)
    scores = np.linspace(0, 1, len(y))
    estimate = intervals.estimate(BINARY, "roc_auc", y, scores, 0.5, BOOTSTRAP, SETTINGS)
    result = too_little("roc_auc", found, shortfall(found, 10, 10), (10, 10), "lending",
                        "grade=B2", estimate)
    assert result.outcome is Outcome.SKIPPED
    assert result.message.startswith(
        f"slice grade=B2 of 'lending' ({136 + positives} rows, {positives} positive, 136 "
        f"negative) has too little evidence: {positives} positive(s), fewer than "
        "gates.min_positives (10)")
    assert result.properties.positives == positives and result.properties.min_positives == 10


def test_the_two_row_bootstrap_gives_no_interval_to_pass_on() -> None:
    # With 2 rows the paired bootstrap's interval has zero width: minimums keep it from
    # ever passing a gate, and stratified resampling keeps both rows in every resample.
    y, cand, base = np.array([1.0, 0.0]), np.array([0.6, 0.4]), np.array([0.9, 0.1])
    paired = intervals.paired(BINARY, "roc_auc", y, cand, base, 0.5, BOOTSTRAP, SETTINGS)
    assert paired.difference.interval.low == paired.difference.interval.high == 0.0
    assert shortfall(counts(BINARY, y), 10, 10) is not None


def _one_positive() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(1), np.zeros(99)]
    return y, rng.random(100)


def test_degenerate_resamples_are_counted_and_refuse_the_interval() -> None:
    y, scores = _one_positive()
    unstratified = RowMetric(0.6, resampled_metric("roc_auc", y, scores, 0.5), len(y))
    refused = bootstrap.estimate(unstratified, 1000, 0.95, 0)
    # About (99/100)^100 = 37 % of resamples hold no positive.
    assert 300 < refused.degenerate < 440
    assert math.isnan(refused.interval.low) and math.isnan(refused.interval.high)


def test_the_auc_bootstrap_is_stratified_so_no_resample_is_degenerate() -> None:
    y, scores = _one_positive()
    estimate = intervals.estimate(BINARY, "roc_auc", y, scores, 0.5, BOOTSTRAP, SETTINGS)
    assert estimate.degenerate == 0 and not math.isnan(estimate.interval.low)


def test_an_auc_interval_is_clipped_to_its_range() -> None:
    y, scores = _clipped_fixture()
    raw = analytic.estimate("roc_auc", y, scores, 0.5, 0.95)
    assert raw.interval.high > 1, "the fixture's normal interval runs past 1"
    clipped = intervals.estimate(BINARY, "roc_auc", y, scores, 0.5, ANALYTIC, SETTINGS)
    assert clipped.interval.high == 1.0 and clipped.interval.low == raw.interval.low
    assert clipped.value == raw.value


def _clipped_fixture() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = np.r_[np.ones(12), np.zeros(40)]
    return y, np.r_[rng.normal(2.0, 1, 12), rng.normal(0, 1, 40)]


_PROC = """
suppressMessages(library(pROC))
d <- read.csv(file("stdin"))
r <- roc(d$y, d$s, quiet = TRUE, direction = "<", levels = c(0, 1))
cat(sprintf("%.15f", as.numeric(ci.auc(r, method = "delong"))), sep = " ")
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript (r-cran-proc) missing")
def test_the_clipped_auc_interval_is_procs() -> None:
    y, scores = _clipped_fixture()
    text = "y,s\n" + "".join(f"{int(a)},{float(b)!r}\n" for a, b in zip(y, scores, strict=True))
    done = subprocess.run(["Rscript", "-e", _PROC], input=text, capture_output=True,
                          text=True, timeout=60, check=False)
    if "there is no package called" in done.stderr:
        pytest.skip("R's pROC is not installed (apt-get install r-cran-proc)")
    low, auc, high = (float(v) for v in done.stdout.split())
    ours = intervals.estimate(BINARY, "roc_auc", y, scores, 0.5, ANALYTIC, SETTINGS)
    assert ours.value == pytest.approx(auc, abs=1e-12)
    assert ours.interval.low == pytest.approx(low, abs=1e-9)
    assert ours.interval.high == high == 1.0


def test_slices_with_zero_or_one_positive_are_skipped_on_a_real_golden_set(project) -> None:
    """The reference model on its golden set with relabelled slices: Job=partime holds no
    positive, Job=freelance one; both are skipped with their counts, never failed as
    "undefined", while the other slices are still gated."""
    import pandas as pd

    from harness.config import load_config
    from harness.gates.checks import quality
    from harness.gates.context import RunContext
    from harness.gates.state import GateState
    from tests.support.project import GOLDEN, edit_config, rewrite_golden

    frame = pd.read_csv(project / GOLDEN / "credit.csv")
    frame.loc[frame["Job"] == "partime", "Status"] = "good"
    freelance = frame.index[frame["Job"] == "freelance"]
    frame.loc[freelance, "Status"] = "good"
    frame.loc[freelance[0], "Status"] = "bad"
    rewrite_golden(project, frame)
    edit_config(project, profiles={"pr": {"checks": ["quality"], "baseline": "none"}},
                slices=[{"name": "job", "column": "Job"}])
    state = GateState(RunContext.resolve(load_config(project / "harness.yaml"), "pr"))
    results = {}
    for spec in quality.gates(state):
        spec.prepare()
        results[f"{spec.segment}::{spec.criterion}"] = spec.judged()
    for segment, positives in (("job=partime", 0), ("job=freelance", 1)):
        for criterion in ("roc_auc", "roc_auc.gap"):
            result = results[f"{segment}::{criterion}"]
            assert result.outcome is Outcome.SKIPPED, result.message
            assert f"{positives} positive(s), fewer than gates.min_positives (10)" \
                in result.message
            assert result.properties.positives == positives
    fixed = results["job=fixed::roc_auc"]
    assert fixed.outcome is Outcome.PASSED, fixed.message
    assert fixed.properties.positives == 135 and fixed.properties.negatives == 555


def test_golden_plan_says_how_many_rows_a_margin_needs(project, tmp_path) -> None:
    import re

    from credit_model.train import train

    from tests.support.cli import harness, in_process
    from tests.support.project import EXAMPLE, edit_config

    artifact = train(EXAMPLE / "fixtures/credit/train.csv", tmp_path / "seed-1", seed=1)
    edit_config(project, model={"artifact": str(artifact)})
    done = harness(project, "golden", "plan", "--margin", "0.002", "--metric", "roc_auc")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ("credit-v1 (1114 rows, 314 positive, 800 negative), candidate vs "
                        "passport #1:")
    found = re.fullmatch(r"  roc_auc: paired SE ([\d.]+), detects a drop of ([\d.]+) \(at 95%, "
                         r"power 80%\); to decide a drop of 0\.0020 it needs about (\d+) rows "
                         r"\((\d+) positives\): (.*)", lines[1])
    assert found, lines[1]
    se, mde, rows, positives = (float(found[1]), float(found[2]), int(found[3]),
                                int(found[4]))
    assert mde == pytest.approx(se * (1.959964 + 0.841621), abs=2e-4)
    assert rows == pytest.approx(1114 * (mde / 0.002) ** 2, rel=0.05)
    assert positives == pytest.approx(314 * (mde / 0.002) ** 2, rel=0.05)
    assert found[5] == ("enough" if rows <= 1114 else f"{rows - 1114} more than it has")

    # (The CLI's main in this process: exit 2 and its one line are wired as above.)
    refused = in_process(project / "harness.yaml", "golden", "plan", "--metric", "nope",
                         cwd=project)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "no comparative gate to plan for: nope" in refused.stderr


@pytest.fixture(scope="module")
def small_golden(tmp_path_factory: pytest.TempPathFactory, model_artifact):
    """The reference project's golden data cut to 40 rows (12 positives) with the passport
    blessed on it (by `harness golden bless`, in this process), and a candidate with other
    hyperparameters: made once, its golden folder copied into each test's project."""
    import pandas as pd
    from credit_model.train import train

    from tests.support.cli import in_process
    from tests.support.project import EXAMPLE, GOLDEN, rewrite_golden, write_config

    folder = tmp_path_factory.mktemp("small-golden")
    shutil.copytree(EXAMPLE / "golden", folder / "golden")
    for name in ("fixtures", "credit_model"):
        (folder / name).symlink_to(EXAMPLE / name)
    config = write_config(folder, model={"artifact": str(model_artifact)},
                          profiles={"pr": {"checks": ["quality"]}})
    frame = pd.read_csv(folder / GOLDEN / "credit.csv").dropna()
    rewrite_golden(folder, pd.concat([frame[frame["Status"] == "bad"].head(12),
                                      frame[frame["Status"] == "good"].head(28)]))
    shutil.rmtree(folder / "golden/passports")
    blessed = in_process(config, "golden", "bless", "--by", "test", "--reason", "small set",
                         cwd=folder)
    assert blessed.returncode == 0, blessed.stderr
    artifact = train(EXAMPLE / "fixtures/credit/train.csv", folder / "variant", seed=7,
                     params={"max_depth": 2, "n_estimators": 400})
    return folder / "golden", artifact


def _small_golden_project(project, small_golden, on_inconclusive: str) -> None:
    import yaml

    from tests.support.project import edit_config

    golden, artifact = small_golden
    shutil.rmtree(project / "golden")
    shutil.copytree(golden, project / "golden")
    gates = yaml.safe_load((project / "harness.yaml").read_text())["gates"]
    gates["quality"] = {"roc_auc": {"min": 0.5, "max_drop": 0.02,
                                    "on_inconclusive": on_inconclusive}}
    edit_config(project, model={"artifact": str(artifact)}, gates=gates, slices=[],
                profiles={"pr": {"checks": ["quality"]}})


def _inconclusive(case) -> None:
    props = case.properties
    assert props.decision == "inconclusive", case.message
    assert props.rows == 40 and props.positives == 12 and props.rows_needed > 40
    assert props.ci_method == "analytic", "under auto, 12 positives get the analytic interval"


def test_a_small_golden_set_makes_harness_check_say_inconclusive(project, small_golden) -> None:
    """End to end: a 40-row golden set (12 positives), the passport blessed on it, and a
    candidate with other hyperparameters; `harness check` writes the inconclusive ROC AUC
    comparison into JUnit as the docs say, and fails (on_inconclusive: fail)."""
    from harness.run.verdict import decide
    from tests.support.cli import harness

    _small_golden_project(project, small_golden, "fail")
    done = harness(project, "check", "--profile", "pr")
    verdict = decide([project / "reports/pr/junit/checks.xml"])
    case = next(c for c in verdict.cases if c.name == "roc_auc.vs_passport")
    _inconclusive(case)
    assert done.returncode == 1 and case.status == "failed"
    assert case.message.startswith("inconclusive: roc_auc = ")


def test_warn_lets_the_small_golden_set_s_inconclusive_gate_pass(project, small_golden) -> None:
    """The same set and candidate under on_inconclusive: warn, judged in this process as
    the plugin judges it: the gate passes with its warning, and so does the verdict."""
    from harness.config import load_config
    from tests.support.gate_runs import case, judge

    _small_golden_project(project, small_golden, "warn")
    verdict = judge(load_config(project / "harness.yaml"), "pr")
    found = case(verdict, "quality.credit-v1::roc_auc.vs_passport")
    _inconclusive(found)
    assert verdict.passed, [c.message for c in verdict.failures]
    assert found.status == "passed" and found.properties.warning.startswith("inconclusive: ")
