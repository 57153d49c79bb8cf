"""How long the local deploy target takes: deploy, redeploy, rollback, status, stop.

Runs the real service processes on free loopback ports, from a temporary
state folder, and prints the median and range of each operation over a few
rounds. The machine's other load makes these figures noisy: compare runs on
one machine, not across machines.

    .venv/bin/python benchmarks/deploy_local.py [--rounds 3] [--artifact artifacts/credit]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from harness.candidate.identity import build_candidate
from harness.config import load_config
from harness.deploy import get_target

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(figures: dict[str, list[float]], name: str, call: Callable[[], object]) -> None:
    started = time.perf_counter()
    call()
    figures.setdefault(name, []).append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--artifact", default=str(EXAMPLE / "artifacts/credit"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
        data["deploy"] = {"state_dir": str(Path(tmp) / "state")}
        data["environments"] = {"staging": {"port": free_port()},
                                "production": {"port": free_port()}}
        for name in ("golden", "fixtures", "suites", "credit_model"):
            (Path(tmp) / name).symlink_to(EXAMPLE / name)
        config_path = Path(tmp) / "harness.yaml"
        config_path.write_text(yaml.safe_dump(data))
        config = load_config(config_path)
        target = get_target(config)
        candidate = build_candidate(args.artifact)
        figures: dict[str, list[float]] = {}
        try:
            for _ in range(args.rounds):
                timed(figures, "deploy", lambda: target.deploy("staging", candidate))
                timed(figures, "redeploy", lambda: target.deploy("staging", candidate))
                timed(figures, "rollback", lambda: target.rollback("staging"))
                timed(figures, "status", lambda: target.status("staging"))
                timed(figures, "stop", lambda: target.stop("staging"))
        finally:
            target.stop("staging")
    print(f"local deploy target, {args.rounds} rounds (seconds: median [min-max])")
    for name, values in figures.items():
        print(f"  {name:<9} {statistics.median(values):7.3f}  [{min(values):.3f}-{max(values):.3f}]")


if __name__ == "__main__":
    main()
