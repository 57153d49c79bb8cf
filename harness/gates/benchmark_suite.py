"""Run the micro-benchmark suite (pytest-benchmark) in its own process, and keep its baseline.

A benchmark is named ``<group>::<name>``: its pytest-benchmark group (default: its
module without ``test_``) and its test name without ``test_``, e.g. ``inference::one_row``.
The baseline is a small JSON file under version control; ``harness benchmark
--save-baseline`` rewrites it from a fresh run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.clock import utc_now
from harness.config import BenchmarkGate, HarnessConfig
from harness.errors import BenchmarkError, ConfigError

ARTIFACT_ENV = "HARNESS_MODEL_ARTIFACT"
_TIMEOUT_S = 600.0
_MAX_TIME_S = 0.5  # per benchmark, after calibration: enough rounds for a stable min/median


@dataclass(frozen=True)
class BenchmarkFigure:
    """One benchmark's timing, in seconds per call."""

    min: float
    median: float
    rounds: int

    def statistic(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True)
class BenchmarkRun:
    """Figures by benchmark name, and the file they were read from."""

    figures: dict[str, BenchmarkFigure]
    source: Path


def _gate(config: HarnessConfig) -> BenchmarkGate:
    if config.gates.benchmark is None:
        raise ConfigError(f"{config.source}: 'gates.benchmark' is not configured")
    return config.gates.benchmark


def _key(bench: dict) -> str:
    module = Path(bench["fullname"].split("::")[0]).stem.removeprefix("test_")
    name = bench["name"].split("[")[0].removeprefix("test_") + (
        f"[{bench['param']}]" if bench.get("param") else "")
    return f"{bench.get('group') or module}::{name}"


def read_run(path: Path) -> BenchmarkRun:
    """Figures from a pytest-benchmark ``--benchmark-json`` file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    figures = {
        _key(b): BenchmarkFigure(min=b["stats"]["min"], median=b["stats"]["median"],
                                 rounds=b["stats"]["rounds"])
        for b in data["benchmarks"]
    }
    return BenchmarkRun(figures, path)


def run_benchmarks(config: HarnessConfig, out_dir: Path) -> BenchmarkRun:
    """Run the configured suite once; its JSON and log stay in ``out_dir``."""
    gate = _gate(config)
    suite = config.resolve(gate.suite)
    if not suite.exists():
        raise ConfigError(f"{config.source}: key 'gates.benchmark.suite': no such file or "
                          f"folder: {suite}")
    out_dir.mkdir(parents=True, exist_ok=True)
    results, log = out_dir / "benchmarks.json", out_dir / "benchmarks.log"
    env = config.child_env()
    if config.model.artifact is not None:
        env[ARTIFACT_ENV] = str(config.resolve(config.model.artifact))
    command = [sys.executable, "-m", "pytest", str(suite), "--benchmark-only",
               f"--benchmark-json={results}", f"--benchmark-max-time={_MAX_TIME_S}",
               "-p", "no:cacheprovider", "-p", "no:locust", "-q", "-rfE"]
    try:
        with log.open("wb") as out:
            code = subprocess.run(command, cwd=config.root, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=_TIMEOUT_S,
                                  check=False).returncode
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"the benchmark suite {suite} ran over {_TIMEOUT_S:.0f}s; "
                             f"see {log}") from None
    if code != 0 or not results.exists():
        lines = log.read_text(errors="replace").strip().splitlines()
        # pytest's error lines and short summary say what broke; else the last lines.
        reasons = [ln.strip() for ln in lines if ln.startswith(("E ", "ERROR ", "FAILED "))]
        tail = " | ".join(reasons[:3] or lines[-3:])
        raise BenchmarkError(f"the benchmark suite {suite} failed (pytest exit {code}): {tail} "
                             f"(log: {log})")
    return read_run(results)


def read_baseline(path: Path) -> BenchmarkRun:
    """The saved baseline; a missing or broken file says how to record one."""
    how = "record one with `harness benchmark --save-baseline`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        figures = {key: BenchmarkFigure(**value) for key, value in data["benchmarks"].items()}
    except FileNotFoundError:
        raise BenchmarkError(f"benchmark baseline {path} does not exist; {how}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchmarkError(f"benchmark baseline {path} is unreadable ({exc}); {how}") from None
    return BenchmarkRun(figures, path)


def save_baseline(run: BenchmarkRun, path: Path) -> None:
    """Write ``run`` as the new baseline, atomically, noting the machine it was measured on."""
    data = {
        "recorded": utc_now(),
        "machine": {"node": platform.node(), "processor": platform.machine(),
                    "cpus": os.cpu_count(), "python": platform.python_version()},
        "benchmarks": {key: asdict(figure) for key, figure in sorted(run.figures.items())},
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)

