"""Was the load generator itself the bottleneck? Locust's own CPU measure of each of its
processes, sampled once a second during the run (harness/load/assets/generator_cpu.py),
read back and judged.

A Locust process at or above Locust's warning threshold (90 % of one core) cannot send
faster and times its requests late, so latencies rise and throughput falls on the
generator's account. The run is *saturated* when, in at least ``SATURATED_SHARE`` of the
samples, some process was at or above the threshold; a shorter spike (start-up, one
garbage collection) is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SATURATED_PERCENT = 90.0  # Locust's own CPU_WARNING_THRESHOLD
SATURATED_SHARE = 0.25  # of the samples with users running


@dataclass(frozen=True)
class CPUSample:
    """One second of the run: percent of one core per Locust process (master, workers)."""

    processes: dict[str, float]

    @property
    def busiest(self) -> tuple[str, float]:
        return max(self.processes.items(), key=lambda item: item[1])


@dataclass(frozen=True)
class GeneratorCPU:
    """The generator's CPU over a run, and whether it was saturated."""

    samples: tuple[CPUSample, ...]
    threshold: float = SATURATED_PERCENT

    @property
    def peak(self) -> float:
        return max((s.busiest[1] for s in self.samples), default=0.0)

    @property
    def saturated_share(self) -> float:
        """Share of the samples in which some process was at or above the threshold."""
        if not self.samples:
            return 0.0
        hot = sum(1 for s in self.samples if s.busiest[1] >= self.threshold)
        return hot / len(self.samples)

    @property
    def saturated(self) -> bool:
        return bool(self.samples) and self.saturated_share >= SATURATED_SHARE

    def busiest_process(self) -> str:
        """The process most often at the top (``master``, ``worker <id>``)."""
        counts: dict[str, int] = {}
        for sample in self.samples:
            name = sample.busiest[0]
            counts[name] = counts.get(name, 0) + 1
        return max(counts, key=lambda name: counts[name]) if counts else "master"

    def describe(self) -> str:
        return (f"the load generator's CPU was at {self.peak:.0f} % (at or above "
                f"{self.threshold:.0f} % in {self.saturated_share:.0%} of the run's seconds, "
                f"{self.busiest_process()})")


def read_generator_cpu(path: Path) -> GeneratorCPU | None:
    """The samples a run wrote to ``path``; None when there are none to read (the run
    ended before its first second, or Locust did not load the monitor)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    samples = tuple(CPUSample({str(k): float(v) for k, v in s["cpu"].items()})
                    for s in data.get("samples", []) if s.get("cpu"))
    if not samples:
        return None
    return GeneratorCPU(samples, float(data.get("threshold", SATURATED_PERCENT)))
