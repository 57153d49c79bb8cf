"""What the test suite's real checks pay for pytest plugins: `harness check --profile pr` on
the credit example, whole processes, with every plugin of this virtualenv autoloaded (as a
team's pytest would) and with the plugins the test session gives its checks
(tests/support/child_pytest.py). Medians of N runs, the two alternating in one loop.

    .venv/bin/python benchmarks/child_pytest.py [--runs 5]

Prints CPU seconds (user and system of the check and every process it waited for: on a
shared machine they move less than wall time), wall seconds and the load average. The
credit model must be built first (`make model`).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import child_pytest

EXAMPLE = ROOT / "examples" / "credit"


def _check(env: dict[str, str], reports: Path) -> tuple[float, float]:
    """CPU and wall seconds of one `harness check --profile pr`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "harness", "check", "--profile", "pr",
                             "--reports", str(reports)], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"the check failed (exit {result.returncode}):\n{result.stdout[-2000:]}"
                 f"{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (EXAMPLE / "artifacts/credit/model.joblib").is_file():
        sys.exit("the credit model is not built: run `make model` first")
    variants = {"every plugin autoloaded": dict(os.environ),
                "the test session's plugins": {**os.environ, **child_pytest.environment()}}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            for name, env in variants.items():
                figures[name].append(_check(env, Path(folder) / f"{run}-{len(name)}"))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"harness check --profile pr, credit example, medians of {args.runs}:")
    for name, runs in figures.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"  {name:28s} CPU {cpu:6.2f} s   wall {wall:6.2f} s")
    saved = (statistics.median(c for c, _ in figures["every plugin autoloaded"])
             - statistics.median(c for c, _ in figures["the test session's plugins"]))
    print(f"CPU saved per check: {saved:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
