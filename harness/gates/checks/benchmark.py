"""Benchmark gates: a micro-benchmark must not be slower than its baseline beyond a ratio."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import BenchmarkGate, HarnessConfig
from harness.errors import ConfigError, HarnessError
from harness.gates.benchmark_suite import BenchmarkRun, read_baseline, run_benchmarks, save_baseline
from harness.gates.context import RunContext
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult, GateSpec

if TYPE_CHECKING:
    from harness.gates.state import GateState


READS_DATA = False
CALLS_MODEL = False


def problems(context: RunContext) -> list[Problem]:
    """A benchmark gate is configured, its suite holds tests, its baseline reads."""
    config = context.config
    gate = config.gates.benchmark
    if gate is None:
        return [Problem("gates.benchmark", "the profile runs 'benchmark' but no benchmark gate "
                        "is configured; add gates.benchmark or drop the check")]
    found = []
    suite = config.resolve(gate.suite)
    if not suite.exists():
        found.append(Problem("gates.benchmark.suite", f"no such file or folder: {suite}"))
    elif suite.is_dir() and not any(suite.rglob("*.py")):
        found.append(Problem("gates.benchmark.suite", f"{suite} holds no Python test files"))
    try:
        read_baseline(config.resolve(gate.baseline))
    except HarnessError as exc:
        found.append(Problem("gates.benchmark.baseline", str(exc)))
    return found


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def check_slowdown(key: str, run: BenchmarkRun, baseline: BenchmarkRun,
                   gate: BenchmarkGate) -> GateResult:
    """Compare one benchmark's configured statistic with its baseline."""
    stat = gate.statistic
    base = baseline.figures[key]
    props = GateProperties(benchmark=key, statistic=stat,
                           baseline=f"{base.statistic(stat):.6g}",
                           max_slowdown=Figure(str(gate.max_slowdown)))
    current = run.figures.get(key)
    if current is None:
        return GateResult(Outcome.FAILED, f"{key} has a baseline but did not run: was it "
                                          "renamed or removed? Record a new baseline if so", props)
    ratio = current.statistic(stat) / base.statistic(stat)
    props = replace(props, measured=Figure.of(current.statistic(stat), ".6g"),
                    ratio=Figure.of(ratio, ".3f"), rounds=current.rounds)
    figures = (f"{stat} {_ms(current.statistic(stat))} vs baseline "
               f"{_ms(base.statistic(stat))}")
    if ratio > gate.max_slowdown:
        return GateResult(Outcome.FAILED, f"{key} is {ratio:.2f}x slower than its baseline "
                                          f"({figures}), beyond the allowed "
                                          f"{gate.max_slowdown:g}x", props)
    return GateResult(Outcome.PASSED, f"{key} at {ratio:.2f}x its baseline ({figures}), within "
                                      f"{gate.max_slowdown:g}x", props)


def check_complete(run: BenchmarkRun, baseline: BenchmarkRun) -> GateResult:
    """Every benchmark that ran has a baseline to be compared with."""
    new = sorted(set(run.figures) - set(baseline.figures))
    props = GateProperties(benchmarks=len(run.figures), without_baseline=",".join(new))
    if new:
        return GateResult(Outcome.FAILED, f"{len(new)} benchmarks have no baseline: "
                                          f"{', '.join(new)}; record them with "
                                          "`harness benchmark --save-baseline`", props)
    return GateResult(Outcome.PASSED, f"all {len(run.figures)} benchmarks have a baseline",
                      props)


def gates(state: GateState) -> Iterator[GateSpec]:
    """One criterion per benchmark in the baseline, and one that the baseline is complete;
    the suite runs once, in the first one's setup."""
    config = state.config
    gate = config.gates.benchmark
    if gate is None:
        raise ConfigError(f"{config.source}: the profile runs the benchmark check but "
                          "'gates.benchmark' is not configured")
    baseline = read_baseline(config.resolve(gate.baseline))
    for key in baseline.figures:
        group, _, name = key.partition("::")
        yield GateSpec("benchmark", group, name, state.benchmarks,
                       lambda key=key: check_slowdown(key, state.benchmarks(), baseline, gate))
    yield GateSpec("benchmark", "baseline", "complete", state.benchmarks,
                   lambda: check_complete(state.benchmarks(), baseline))


@dataclass(frozen=True)
class BenchmarkReport:
    """What ``harness benchmark`` prints, and whether every benchmark held its baseline."""

    text: str
    passed: bool


def benchmark_report(config: HarnessConfig, out_dir: Path, save: bool = False) -> BenchmarkReport:
    """Run the suite, compare it with the baseline (if any), and save it as the new one if asked."""
    gate = config.gates.benchmark
    if gate is None:
        raise ConfigError(f"{config.source}: 'gates.benchmark' is not configured")
    path = config.resolve(gate.baseline)
    run = run_benchmarks(config, out_dir)
    baseline = read_baseline(path) if path.exists() else None
    lines = [f"{'benchmark':<36} {gate.statistic + ' ms':>10} {'baseline':>10} {'ratio':>7}"]
    passed = True
    for key, figure in sorted(run.figures.items()):
        row = f"{key:<36} {figure.statistic(gate.statistic) * 1000:>10.3f}"
        if baseline is not None and key in baseline.figures:
            result = check_slowdown(key, run, baseline, gate)
            passed &= result.passed
            baseline_s, ratio = result.properties.baseline, result.properties.ratio
            assert baseline_s is not None and ratio is not None  # the benchmark ran
            row += (f" {float(baseline_s) * 1000:>10.3f} {float(ratio):>6.2f}x"
                    f"{'' if result.passed else '  SLOWER than ' + str(gate.max_slowdown) + 'x'}")
        lines.append(row)
    if save:
        save_baseline(run, path)
        lines.append(f"baseline saved: {path}")
    elif baseline is None:
        lines.append(f"no baseline at {path}; record one with `harness benchmark --save-baseline`")
    return BenchmarkReport("\n".join(lines), passed)
