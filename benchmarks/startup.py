"""Start-up costs of the harness, as whole processes: what every command and every pytest
run of a team that installs the harness pays before it does any work. Medians of N runs,
the commands of each comparison alternating in one loop (so a busy machine slows both).

    .venv/bin/python benchmarks/startup.py [--runs 5] [--config examples/credit/harness.yaml]
        [--only imports cli pytest check] [--before DIR]

Prints wall time, CPU time (user and system, of the command and every process it waited
for: on a busy machine it moves less than wall time) and peak memory (maximum resident set)
per command, the ratios the goals are stated in, and which heavy libraries
`import harness.gates.plugin` loads. The credit example's model must be built first
(`make model`) for the pull-request check.

`--before DIR` times the pull-request check a second time, in the same loop, with the
harness package of DIR (a checkout of another revision, e.g. `git archive main | tar -x -C
DIR`) first on the Python path: before and after on the same machine state. `--cold`
removes the project's cache (`<state_dir>/cache`: the model's pictures kept by their
scores) before each check, as for a change that retrained the model.
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("imports", "cli", "pytest", "check")
HEAVY = ("sklearn", "pandas", "matplotlib", "scipy", "alembic", "sqlalchemy", "locust")


def _measure(command: list[str], cwd: Path,
             env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak MiB, exit code) of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


Command = list[str] | tuple[list[str], dict[str, str]]  # a command, or one with its environment


def _compare(name: str, commands: dict[str, Command], cwd: Path, runs: int,
             prepare: Callable[[str], None] | None = None) -> dict[str, tuple[float, float]]:
    """Each command's median (wall, CPU) seconds, printed with its memory and exit codes."""
    walls: dict[str, list[float]] = {label: [] for label in commands}
    cpus: dict[str, list[float]] = {label: [] for label in commands}
    peaks: dict[str, list[float]] = {label: [] for label in commands}
    codes: dict[str, set[int]] = {label: set() for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            argv, env = command if isinstance(command, tuple) else (command, None)
            if prepare is not None:
                prepare(label)
            wall, cpu, peak, code = _measure(argv, cwd, env)
            walls[label].append(wall)
            cpus[label].append(cpu)
            peaks[label].append(peak)
            codes[label].add(code)
    print(f"\n{name} (medians; wall of each run in order)")
    medians = {}
    for label in commands:
        medians[label] = (statistics.median(walls[label]), statistics.median(cpus[label]))
        print(f"  {label:<44} {medians[label][0]:6.2f} s  cpu {medians[label][1]:6.2f} s"
              f"  {statistics.median(peaks[label]):6.0f} MiB"
              f"  (exit {', '.join(map(str, sorted(codes[label])))})"
              f"  [{' '.join(f'{w:.2f}' for w in walls[label])}]")
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
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="the comparisons to run (default: all)")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout whose harness package the check also runs with")
    parser.add_argument("--cold", action="store_true",
                        help="remove the project's cache before each check")
    args = parser.parse_args()
    if args.before is not None and not (args.before / "harness" / "__init__.py").is_file():
        parser.error(f"--before {args.before}: no harness package there; check out another "
                     "revision into it (git archive REV | tar -x -C DIR)")
    bin_dir = Path(sys.executable).parent
    harness, pytest = str(bin_dir / "harness"), str(bin_dir / "pytest")
    config = Path(args.config).resolve()
    project = config.parent
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.runs} runs each")
    try:
        _sections(args, harness, pytest, config, project)
    finally:
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _sections(args: argparse.Namespace, harness: str, pytest: str, config: Path,
              project: Path) -> None:
    if "imports" in args.only:
        for statement in ("import harness.errors", "import harness.gates.plugin",
                          "import harness.cli"):
            count, heavy = _modules_loaded(statement)
            print(f"{statement:<24} {count:5d} modules; heavy: {', '.join(heavy) or 'none'}")

    if "cli" in args.only:
        _compare("command-line start-up", {
            "harness --help": [harness, "--help"],
            "harness status": [harness, "--config", str(config), "status"],
        }, project, args.runs)
    if "pytest" in args.only:
        medians = _compare("pytest start-up in a venv with the harness installed", {
            "pytest --help": [pytest, "--help"],
            "pytest --help -p no:harness": [pytest, "--help", "-p", "no:harness"],
        }, project, args.runs)
        (wall, cpu), (bare_wall, bare_cpu) = (medians["pytest --help"],
                                              medians["pytest --help -p no:harness"])
        # Two pytest start-ups of seconds differ by more than the plugin on a shared host; its
        # import's CPU is what it adds to a session that uses none of its gates (its hooks
        # do nothing until a harness file is collected).
        imports = _compare("importing the plugin", {
            "import pytest": [sys.executable, "-c", "import pytest"],
            "import pytest, harness.gates.plugin": [sys.executable, "-c",
                                                    "import pytest, harness.gates.plugin"],
        }, project, args.runs)
        print(f"  the plugin adds {wall - bare_wall:.2f} s wall, {cpu - bare_cpu:.2f} s CPU "
              f"(medians of pytest --help); its import "
              f"{imports['import pytest, harness.gates.plugin'][1] - imports['import pytest'][1]:.3f}"
              " s CPU (goal: at most 0.1 s)")
    if "check" in args.only:
        _check(config, project, args.runs, args.before, args.cold)


def _check(config: Path, project: Path, runs: int, before: Path | None,
           cold: bool) -> None:
    from harness.config import load_config

    cache = load_config(config).state_dir() / "cache"

    def prepare(label: str) -> None:
        if cold and label.startswith("harness check"):
            shutil.rmtree(cache, ignore_errors=True)

    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp) / "reports"
        # `python -m harness`, as the `harness` script runs it: a --before checkout's own
        # entry point is the one run (the installed script names this revision's).
        check = [sys.executable, "-m", "harness", "--config", str(config), "check",
                 "--profile", "pr", "--reports", str(reports)]
        commands: dict[str, Command] = {"harness check --profile pr": check}
        if before is not None:
            path = os.pathsep.join(p for p in (str(before.resolve()),
                                               os.environ.get("PYTHONPATH")) if p)
            commands["harness check --profile pr (before)"] = (
                check, {**os.environ, "PYTHONPATH": path})
        # `python -m pytest` puts the project's folder on the path, as the harness does.
        commands["pytest suites/unit"] = [sys.executable, "-m", "pytest", "-q", "-p",
                                          "no:cacheprovider", "suites/unit"]
        medians = _compare("the pull-request check against bare pytest on the same suites"
                           + (" (cache removed before each check)" if cold else ""),
                           commands, project, runs, prepare)
        shutil.rmtree(reports, ignore_errors=True)
    bare_wall, bare_cpu = medians["pytest suites/unit"]
    for label in commands:
        if label.startswith("harness check"):
            wall, cpu = medians[label]
            print(f"  {label}: ratio {wall / bare_wall:.2f}x wall (goal: at most 1.2x), "
                  f"{cpu / bare_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
