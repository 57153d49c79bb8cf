"""Start-up costs of the harness, as whole processes: what every command and every pytest
run of a team that installs the harness pays before it does any work. Medians of N runs,
the commands of each comparison alternating in one loop (so a busy machine slows both).

    .venv/bin/python benchmarks/startup.py [--runs 5] [--config examples/credit/harness.yaml]

Prints wall time and peak memory (maximum resident set) per command, the ratios the goals
are stated in, and which heavy libraries `import harness.gates.plugin` loads. The credit
example's model must be built first (`make model`) for the pull-request check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "pandas", "matplotlib", "scipy", "alembic", "sqlalchemy", "locust")


def _measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak MiB, exit code) of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, process.returncode


def _compare(name: str, commands: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, float]:
    walls: dict[str, list[float]] = {label: [] for label in commands}
    peaks: dict[str, list[float]] = {label: [] for label in commands}
    codes: dict[str, set[int]] = {label: set() for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            wall, peak, code = _measure(command, cwd)
            walls[label].append(wall)
            peaks[label].append(peak)
            codes[label].add(code)
    print(f"\n{name}")
    medians = {}
    for label in commands:
        medians[label] = statistics.median(walls[label])
        print(f"  {label:<44} {medians[label]:6.2f} s  {statistics.median(peaks[label]):6.0f} MiB"
              f"  (exit {', '.join(map(str, sorted(codes[label])))})")
    return medians


def _modules_loaded(statement: str) -> tuple[int, list[str]]:
    code = (f"import sys; {statement}; "
            f"print(len(sys.modules)); print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return int(out[0]), out[1].split() if len(out) > 1 else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--config", default=str(ROOT / "examples/credit/harness.yaml"))
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    harness, pytest = str(bin_dir / "harness"), str(bin_dir / "pytest")
    config = Path(args.config).resolve()
    project = config.parent
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.runs} runs each")

    for statement in ("import harness.errors", "import harness.gates.plugin", "import harness.cli"):
        count, heavy = _modules_loaded(statement)
        print(f"{statement:<24} {count:5d} modules; heavy: {', '.join(heavy) or 'none'}")

    _compare("command-line start-up", {
        "harness --help": [harness, "--help"],
        "harness status": [harness, "--config", str(config), "status"],
    }, project, args.runs)
    medians = _compare("pytest start-up in a venv with the harness installed", {
        "pytest --help": [pytest, "--help"],
        "pytest --help -p no:harness": [pytest, "--help", "-p", "no:harness"],
    }, project, args.runs)
    print(f"  the plugin adds {medians['pytest --help'] - medians['pytest --help -p no:harness']:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp) / "reports"
        medians = _compare("the pull-request check against bare pytest on the same suites", {
            "harness check --profile pr": [harness, "--config", str(config), "check",
                                           "--profile", "pr", "--reports", str(reports)],
            # `python -m pytest` puts the project's folder on the path, as the harness does.
            "pytest suites/unit": [sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", "suites/unit"],
        }, project, args.runs)
        shutil.rmtree(reports, ignore_errors=True)
    ratio = medians["harness check --profile pr"] / medians["pytest suites/unit"]
    print(f"  ratio {ratio:.2f}x (goal: at most 1.2x)")


if __name__ == "__main__":
    main()
