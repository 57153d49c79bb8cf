"""The pull-request quality check on big golden sets: wall time and peak memory of
``harness check`` (scoring, five metrics paired against the passport, slices) from
10,000 to 1,000,000 rows, and the analytic and bootstrap intervals side by side.

    .venv/bin/python benchmarks/quality_scale.py [--rows 10000 100000 1000000]
        [--compare-rows 100000] [--method auto]

Each golden set is generated here, never committed: rows drawn with replacement from the
reference golden set (less the three rows missing Home or Job, which would become slices
of one applicant's copies), money columns jittered by up to 5% so rows rarely repeat. It is
recorded as a golden version in a temporary project and blessed with a model retrained
with another seed, so the paired comparison is of two different models. The check runs
as the CLI runs it (``python -m harness check``), under /usr/bin/time for its peak
memory. Figures on a shared machine are noisy: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from harness.config import load_config
from harness.data import golden
from harness.gates import passports
from harness.gates.checks import quality
from harness.gates.context import RunContext
from harness.gates.state import GateState
from harness.kinds import BINARY
from harness.model.adapters import open_model
from harness.run.verdict import read_junit
from harness.stats import analytic, bootstrap

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
MONEY = ["Income", "Assets", "Debt", "Amount", "Price"]
METRICS = ["roc_auc", "log_loss", "brier", "precision", "recall"]


def _golden_rows(rows: int, seed: int) -> pd.DataFrame:
    source = pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv")
    # Three source rows lack Home or Job: drawn thousands of times they would make slices
    # of copies of one or two applicants, which no real golden set has.
    source = source.dropna(subset=["Home", "Job"])
    rng = np.random.default_rng(seed)
    frame = source.iloc[rng.integers(0, len(source), rows)].reset_index(drop=True)
    for column in MONEY:
        jitter = rng.uniform(0.95, 1.05, rows)
        values = frame[column] * jitter
        frame[column] = values.round() if column in ("Amount", "Price") else values.round(1)
    frame["Amount"] = frame["Amount"].clip(100, 10_000).astype("Int64")
    frame["Price"] = frame["Price"].clip(100, 50_000).astype("Int64")
    return frame


def _artifact(seed: int, folder: Path) -> Path:
    from credit_model.train import train

    default = EXAMPLE / "artifacts/credit"
    if seed == 0 and (default / "model.joblib").exists():
        return default
    return train(EXAMPLE / "fixtures/credit/train.csv", folder / f"model-{seed}", seed=seed)


def _project(folder: Path, rows: int, candidate: Path, method: str) -> Path:
    """A project whose only golden set has ``rows`` rows, configured like the example."""
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    csv = folder / "credit.csv"
    _golden_rows(rows, seed=rows).to_csv(csv, index=False)
    golden.add_version(folder / "golden", "credit", "v1", [csv], source="benchmark")
    csv.unlink()
    data["model"]["artifact"] = str(candidate)
    data["golden"] = [{"name": "credit-v1", "path": "golden/credit/v1/credit.csv"}]
    data["training"] = None
    data["passports"] = "passports"
    data["gates"]["intervals"] = {"method": method}
    data["profiles"] = {"pr": {"checks": ["quality"], "baseline": "passport"}}
    (folder / "harness.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    # The entry point is imported from the config's folder, as in the team's repository.
    (folder / "credit_model").symlink_to(EXAMPLE / "credit_model", target_is_directory=True)
    return folder / "harness.yaml"


def _bless(config_path: Path, baseline: Path) -> float:
    config = load_config(config_path)
    started = time.perf_counter()
    model = open_model(config, config.model.model_copy(update={"artifact": baseline}))
    passports.bless(config, model, {"name": "baseline", "sha256": "seed 1"}, "benchmark",
                   "a retrain with another seed")
    return time.perf_counter() - started


def _check(config_path: Path) -> tuple[float, float, float, str, Counter[str]]:
    """Wall seconds, CPU seconds (user + system, all processes), peak resident MiB (the
    largest process), verdict line, interval methods used."""
    reports = config_path.parent / "reports"
    command = ["/usr/bin/time", "-f", "peak-kib %M cpu-s %U %S", sys.executable, "-m", "harness",
               "--config", str(config_path), "check", "--profile", "pr",
               "--reports", str(reports)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    usage = re.search(r"peak-kib (\d+) cpu-s ([\d.]+) ([\d.]+)", done.stderr)
    assert usage is not None, done.stderr
    peak, cpu = int(usage.group(1)) / 1024, float(usage.group(2)) + float(usage.group(3))
    verdict = next((line for line in done.stdout.splitlines() if "harness check" in line),
                   done.stdout.strip().splitlines()[0] if done.stdout.strip() else done.stderr)
    cases, _ = read_junit(sorted(reports.rglob("*.xml")))
    methods = Counter(c.properties.ci_method for c in cases if c.properties.ci_method)
    failed = [f"{c.classname}::{c.name}" for c in cases if c.status in ("failed", "error")]
    if failed:
        verdict += f" ({len(failed)} failed: {', '.join(failed[:4])})"
    return wall, cpu, peak, verdict.strip(), methods


def _stages(config_path: Path) -> dict[str, float]:
    """The check's own work in this process, stage by stage (CPU seconds): what grows with
    the rows, without the interpreter, pytest and report start-up the CLI adds."""
    config = load_config(config_path)
    state = GateState(RunContext.resolve(config, "pr"))
    name = config.golden[0].name
    seconds: dict[str, float] = {}
    for stage, work in (("read", lambda: state.dataset(name)),
                        ("score", lambda: state.evaluation(name)),
                        ("passport", lambda: state.compared(name)),
                        ("gates", lambda: [spec.judge() for spec in quality.gates(state)])):
        started = time.process_time()
        work()
        seconds[stage] = time.process_time() - started
    return seconds


def _compare(rows: int, candidate: Path, baseline: Path, resamples: int) -> None:
    """Analytic and bootstrap paired intervals of the five metrics on the same rows."""
    config = load_config(EXAMPLE / "harness.yaml")
    frame = _golden_rows(rows, seed=rows)
    y = (frame["Status"] == "bad").to_numpy(dtype=int)
    scores = [open_model(config, config.model.model_copy(update={"artifact": a}))
              .predict_proba(frame.drop(columns=["Status"])) for a in (candidate, baseline)]
    print(f"\npaired intervals of candidate - baseline on {rows:,} rows, 95%: analytic vs "
          f"bootstrap ({resamples} resamples); gap = largest bound difference / bootstrap width")
    print(f"  {'metric':<10}{'analytic':>24}{'s':>7}{'bootstrap':>24}{'s':>7}{'gap':>7}")
    for name in METRICS:
        started = time.perf_counter()
        fast = analytic.paired(name, y, scores[0], scores[1], 0.5, 0.95).difference
        t_fast = time.perf_counter() - started
        started = time.perf_counter()
        slow = bootstrap.paired(BINARY.row_metric(name, y, scores[0], [], 0.5),
                                BINARY.row_metric(name, y, scores[1], [], 0.5), resamples,
                                0.95, 0).difference
        t_slow = time.perf_counter() - started
        width = slow.interval.high - slow.interval.low
        gap = max(abs(fast.interval.low - slow.interval.low),
                  abs(fast.interval.high - slow.interval.high)) / width
        print(f"  {name:<10}{fast.interval!s:>24}{t_fast:>7.2f}{slow.interval!s:>24}"
              f"{t_slow:>7.2f}{gap:>7.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--compare-rows", type=int, default=100_000,
                        help="rows of the analytic-vs-bootstrap table (0: skip it)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--method", choices=["auto", "analytic", "bootstrap"], default="auto",
                        help="gates.intervals.method of the generated projects")
    args = parser.parse_args()
    sys.path.insert(0, str(EXAMPLE))  # credit_model, to train the baseline
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        candidate, baseline = _artifact(0, folder), _artifact(1, folder)
        print(f"harness check --profile pr (quality only: {', '.join(METRICS)}; paired vs "
              f"the passport; slices), intervals: {args.method}; {os.cpu_count()} cores")
        print(f"  {'rows':>10}{'bless s':>9}{'check s':>9}{'CPU s':>7}{'s/100k':>8}"
              f"{'peak MiB':>10}{'load':>6}  methods / verdict")
        stages = {}
        for rows in sorted(args.rows):
            project = folder / f"rows-{rows}"
            project.mkdir()
            config = _project(project, rows, candidate, args.method)
            blessing = _bless(config, baseline)
            wall, cpu, peak, verdict, methods = _check(config)
            used = ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
            print(f"  {rows:>10,}{blessing:>9.1f}{wall:>9.1f}{cpu:>7.1f}{wall / rows * 1e5:>8.2f}"
                  f"{peak:>10.0f}{os.getloadavg()[0]:>6.1f}  {used} / {verdict}")
            stages[rows] = _stages(config)
        print("\nthe same check's stages in one process, CPU seconds (read: verify + parse the "
              "CSV; score: the candidate; passport: its scores; gates: every interval and verdict)")
        print(f"  {'rows':>10}" + "".join(f"{s:>10}" for s in ("read", "score", "passport",
                                                                  "gates", "total", "us/row")))
        for rows, parts in stages.items():
            total = sum(parts.values())
            print(f"  {rows:>10,}" + "".join(f"{v:>10.2f}" for v in parts.values())
                  + f"{total:>10.2f}{total / rows * 1e6:>10.2f}")
        if args.compare_rows:
            _compare(args.compare_rows, candidate, baseline, args.resamples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
