"""The benchmark gate: pytest-benchmark in its own process, compared with a saved baseline;
each comparison its own JUnit testcase."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import BenchmarkError
from harness.gates.benchmark_suite import read_baseline, run_benchmarks
from harness.run.verdict import CaseOutcome, read_junit
from tests.support.project import EXAMPLE, write_config

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _outside_xdist(monkeypatch: pytest.MonkeyPatch, model_artifact: Path) -> None:
    """The benchmark suite's own pytest process must not inherit this xdist worker's
    variables: pytest-benchmark turns itself off when it sees PYTEST_XDIST_WORKER. And the
    model (with numpy, scipy and scikit-learn) is loaded before any inline pytester session,
    which unloads what it imported: their extensions cannot be loaded twice in a process."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)

TINY_SUITE = """
import pytest

@pytest.mark.benchmark(group="math")
def test_sum(benchmark):
    benchmark(sum, range(1000))

@pytest.mark.benchmark(group="math")
def test_sorted(benchmark):
    benchmark(sorted, list(range(1000, 0, -1)))

def test_new_thing(benchmark):
    benchmark(len, "abc")
"""


def _figure(seconds: float) -> dict[str, float | int]:
    return {"min": seconds, "median": seconds, "rounds": 5}


def bench_project(folder: Path, suite: str = TINY_SUITE, baseline: dict | None = None,
                  **gate: object) -> Path:
    (folder / "bench").mkdir()
    (folder / "bench" / "test_tiny.py").write_text(suite)
    if baseline is not None:
        (folder / "baseline.json").write_text(json.dumps({"benchmarks": baseline}))
    return write_config(
        folder,
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None,
        gates={"benchmark": {"suite": "bench", "baseline": "baseline.json", **gate}},
        profiles={"bench": {"checks": ["benchmark"]}},
    )


def test_each_benchmark_is_a_testcase_judged_against_its_baseline(pytester):
    # Baselines far from any real figure, so the outcome cannot depend on machine load.
    config = bench_project(pytester.path, baseline={
        "math::sum": _figure(1.0),  # much faster now: passes
        "math::sorted": _figure(1e-12),  # much slower now: fails
        "math::gone": _figure(1e-3),  # no longer in the suite: fails
    }, max_slowdown=1.5, statistic="median")
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), "--harness-profile=bench", f"--junitxml={junit}",
                       f"--harness-reports={pytester.path / 'reports'}")
    cases, problems = read_junit([junit])
    assert not problems
    by_name: dict[str, CaseOutcome] = {f"{c.classname}::{c.name}": c for c in cases}
    assert set(by_name) == {"benchmark.math::sum", "benchmark.math::sorted",
                            "benchmark.math::gone", "benchmark.baseline::complete"}
    fast = by_name["benchmark.math::sum"]
    assert fast.status == "passed"
    assert fast.properties.statistic == "median" and fast.properties.baseline == "1"
    assert float(fast.properties.ratio) < 0.01 and float(fast.properties.measured) > 0
    slow = by_name["benchmark.math::sorted"]
    assert slow.status == "failed"
    assert "math::sorted is " in slow.message
    assert "slower than its baseline (median " in slow.message
    assert slow.message.endswith("beyond the allowed 1.5x")
    assert by_name["benchmark.math::gone"].status == "failed"
    assert "has a baseline but did not run" in by_name["benchmark.math::gone"].message
    complete = by_name["benchmark.baseline::complete"]
    assert complete.status == "failed" and "tiny::new_thing" in complete.message
    assert "harness benchmark --save-baseline" in complete.message
    assert (pytester.path / "reports/benchmark/benchmarks.json").is_file()


def test_a_missing_baseline_says_how_to_record_one(pytester):
    config = bench_project(pytester.path)
    result = pytester.runpytest(str(config), "--harness-profile=bench")
    result.stdout.fnmatch_lines(
        ["*baseline.json does not exist; record one with `harness benchmark --save-baseline`*"])


def test_a_broken_benchmark_suite_is_an_error_naming_the_log(tmp_path):
    config = load_config(bench_project(tmp_path, suite="import no_such_module\n",
                                       baseline={}))
    with pytest.raises(BenchmarkError, match=r"failed \(pytest exit 2\).*no_such_module"):
        run_benchmarks(config, tmp_path / "out")


def test_save_baseline_records_the_reference_suite(tmp_path, model_artifact):
    """`harness benchmark --save-baseline` on the shipped suite records the same benchmarks
    as the baseline under version control."""
    (tmp_path / "credit_model").symlink_to(EXAMPLE / "credit_model")  # the team's model code
    config = write_config(
        tmp_path,
        model={"artifact": str(model_artifact)},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None,
        gates={"benchmark": {"suite": str(EXAMPLE / "suites/benchmarks"),
                             "baseline": "baseline.json", "max_slowdown": 1000}},
        profiles={"bench": {"checks": ["benchmark"]}},
    )
    saved = subprocess.run(
        [sys.executable, "-m", "harness", "--config", str(config), "benchmark",
         "--save-baseline", "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=300, check=False)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert f"baseline saved: {tmp_path / 'baseline.json'}" in saved.stdout
    recorded = read_baseline(tmp_path / "baseline.json").figures
    shipped = read_baseline(EXAMPLE / "suites/benchmarks/baseline.json").figures
    assert set(recorded) == set(shipped) == {
        "inference::one_row", "inference::batch",
        "preprocessing::records_to_frame", "preprocessing::feature_transform"}
    assert all(0 < f.min <= f.median for f in recorded.values())
