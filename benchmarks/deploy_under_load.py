"""What a deploy costs the clients of an environment: failed requests and the longest gap
between answers, with and without the nginx router in front (environments.<env>.router).

Threads ask the environment's ``/version`` over and over while the local target deploys
the candidate again (a new revision, started and checked as any other). Without a router
the old process stops before the new one starts; with one, nginx switches once the new
one is ready. Needs nginx on PATH for the second half.

    .venv/bin/python benchmarks/deploy_under_load.py [--rounds 3] [--users 4] [--artifact DIR]
        [--locust]    # also the configured Locust load, counting its failed requests
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
sys.path[:0] = [str(ROOT), str(EXAMPLE)]  # the credit model's code, as a team's

from harness.candidate.identity import build_candidate
from harness.config import load_config
from harness.deploy.local import LocalTarget
from tests.support.load_loop import LoadLoop
from tests.support.service_process import free_port


def measure(folder: Path, artifact: Path, router: str | None, rounds: int,
            users: int) -> list[tuple[int, int, float]]:
    """(answers, failures, longest gap in seconds) of each redeploy under load."""
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"]["artifact"] = str(artifact)
    data["deploy"] = {"state_dir": str(folder / "state")}
    data["environments"] = {"staging": {"port": free_port(),
                                        **({"router": router} if router else {})},
                            "production": {"port": free_port()}}
    for name in ("golden", "fixtures", "suites", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    (folder / "harness.yaml").write_text(yaml.safe_dump(data))
    config = load_config(folder / "harness.yaml")
    target, candidate = LocalTarget(config), build_candidate(artifact)
    figures = []
    try:
        target.deploy("staging", candidate)
        for _ in range(rounds):
            with LoadLoop(config.environments["staging"].address() + "/version", users) as load:
                target.deploy("staging", candidate)
            figures.append((len(load.log.answers), len(load.log.failures),
                            load.log.longest_gap_s()))
    finally:
        target.stop("staging")
    return figures


def measure_locust(folder: Path, artifact: Path, router: str | None,
                   redeploys: int) -> tuple[int, int, str | None]:
    """(requests, failures, top error) of the configured Locust load (golden rows to
    /predict) over ``redeploys`` redeploys."""
    import threading
    import time

    from harness.load.results import OVERALL
    from harness.load.runner import run_load

    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"]["artifact"] = str(artifact)
    data["deploy"] = {"state_dir": str(folder / "state")}
    data["environments"] = {"staging": {"port": free_port(),
                                        **({"router": router} if router else {})},
                            "production": {"port": free_port()}}
    data["load"].update(run_time_s=8 + 6 * redeploys, max_requests=10_000_000, workers=1)
    data["load"].pop("slo", None)
    for name in ("golden", "fixtures", "suites", "credit_model", "load"):
        if (EXAMPLE / name).exists() and not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    (folder / "harness.yaml").write_text(yaml.safe_dump(data))
    config = load_config(folder / "harness.yaml")
    target, candidate = LocalTarget(config), build_candidate(artifact)
    results = []
    try:
        target.deploy("staging", candidate)
        load = threading.Thread(target=lambda: results.append(run_load(
            config, folder / "locust", config.environments["staging"].address())))
        load.start()
        time.sleep(5)  # Locust's start-up; a benchmark, not a test
        for _ in range(redeploys):
            target.deploy("staging", candidate)
        load.join()
    finally:
        target.stop("staging")
    overall = results[0].endpoints[OVERALL]
    return overall.requests, overall.failures, results[0].top_error(OVERALL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--artifact", help="a model artifact folder (default: one trained now)")
    parser.add_argument("--locust", action="store_true",
                        help="also run the configured Locust load (golden rows to /predict)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(args.artifact) if args.artifact else None
        if artifact is None:
            from credit_model.train import train

            artifact = train(EXAMPLE / "fixtures/credit/train.csv", Path(tmp) / "model")
        routers = [None] + (["nginx"] if shutil.which("nginx") else [])
        print(f"redeploy under load ({args.users} threads GETting /version), "
              f"{args.rounds} rounds each")
        for router in routers:
            folder = Path(tmp) / (router or "none")
            folder.mkdir()
            for answers, failures, gap in measure(folder, artifact, router, args.rounds,
                                                  args.users):
                print(f"  router {router or 'none':<6} answers {answers:6d}  "
                      f"failed {failures:5d}  longest gap {gap * 1000:8.1f} ms")
        if args.locust:
            print(f"Locust (the config's scenario) over {args.rounds} redeploys")
            for router in routers:
                folder = Path(tmp) / f"locust-{router or 'none'}"
                folder.mkdir()
                requests, failures, top = measure_locust(folder, artifact, router, args.rounds)
                print(f"  router {router or 'none':<6} requests {requests:6d}  "
                      f"failed {failures:5d}  {top or ''}")


if __name__ == "__main__":
    main()
