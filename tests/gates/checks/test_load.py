"""The load check for real: the reference service on loopback, Locust in its own processes,
SLOs judged from what Locust measured. Each run is bounded to a few seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.config import LoadSLO, load_config
from harness.errors import ConfigError, LoadTestError
from harness.gates.checks.load import check_slo
from harness.load.runner import run_load
from harness.run.verdict import CaseOutcome, decide, read_junit
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port, running_service

pytest_plugins = ["pytester"]

# Generous bounds: these runs prove the gates pass and fail when they should, not how
# fast a shared 2-core machine is.
HEALTHY_SLOS = [
    {"endpoint": "overall", "metric": "error_ratio", "max": 0.01},
    {"endpoint": "overall", "metric": "p95_ms", "max": 1000},
    {"endpoint": "overall", "metric": "rps", "min": 1},
    {"endpoint": "/predict", "metric": "p95_ms", "max": 1000},
    {"endpoint": "/predict/batch", "metric": "p99_ms", "max": 2000},
]


def load_section(**changes: Any) -> dict[str, Any]:
    """A short, light load test: 2 users for 3 s, one worker."""
    section = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())["load"]
    section.update(users=2, spawn_rate=10,
                   run_time_s=3, max_requests=2000, workers=1, slos=HEALTHY_SLOS)
    section.update(changes)
    return section


def load_project(folder: Path, artifact: Path, url: str, **changes: Any) -> Path:
    return write_config(
        folder,
        model={"artifact": str(artifact), "url": url},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None,
        load=load_section(**changes),
        profiles={"load": {"checks": ["load"]}},
    )


@pytest.fixture(scope="module")
def slow_service(model_artifact: Path):
    """The reference service answering each prediction 300 ms late; only read."""
    with running_service(model_artifact, latency_ms=300) as url:
        yield url


def run_plugin(pytester: pytest.Pytester, config: Path) -> dict[str, CaseOutcome]:
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), "--harness-profile=load", f"--junitxml={junit}",
                       f"--harness-reports={pytester.path / 'reports'}")
    cases, problems = read_junit([junit])
    assert not problems
    return {f"{c.classname}::{c.name}": c for c in cases}


def harness(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_service_passes_its_slos_end_to_end(tmp_path, model_artifact, service_url):
    load_project(tmp_path, model_artifact, "http://127.0.0.1:1")
    result = harness(tmp_path, "check", "--profile", "load", "--target-url", service_url)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = {f"{c.classname}::{c.name}": c for c in
             decide([tmp_path / "reports/load/junit/checks.xml"]).cases}
    assert set(cases) == {"load.overall::error_ratio", "load.overall::p95_ms",
                          "load.overall::rps", "load.predict::p95_ms",
                          "load.predict_batch::p99_ms"}
    p95 = cases["load.overall::p95_ms"].properties
    assert p95.url == service_url and float(p95.max) == 1000
    assert 0 < float(p95.value) <= 1000 and p95.requests > 0
    assert p95.report == "load/locust.html"
    # Locust's own CPU, sampled by the monitor loaded next to the scenario.
    assert 0 <= float(p95.generator_cpu.text) and p95.generator_cpu_saturated is not None
    assert (p95.dataset, p95.segment) == ("overall", "overall")
    kept = tmp_path / "reports/load/load"
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv",
                 "locust_failures.csv", "locust-master.log", "locust_cpu.json"):
        assert (kept / name).is_file(), name


def test_injected_latency_fails_the_latency_slos(pytester, model_artifact, slow_service):
    slos = [{"endpoint": "/predict", "metric": "p95_ms", "max": 200},
            {"endpoint": "overall", "metric": "error_ratio", "max": 0.01}]
    cases = run_plugin(pytester, load_project(pytester.path, model_artifact, slow_service,
                                              slos=slos))
    p95 = cases["load.predict::p95_ms"]
    assert p95.status == "failed"
    assert p95.message.startswith("p95_ms = ") and "at /predict" in p95.message
    assert "above its ceiling 200.0 ms" in p95.message
    assert float(p95.properties.value) >= 300
    assert cases["load.overall::error_ratio"].status == "passed"
    assert "gevent" not in sys.modules, "Locust ran in its own processes, not in pytest's"


def test_injected_errors_fail_the_error_ratio_naming_the_error(pytester, model_artifact):
    slos = [{"endpoint": "overall", "metric": "error_ratio", "max": 0.01},
            {"endpoint": "/predict", "metric": "error_ratio", "max": 0.01},
            {"endpoint": "/health", "metric": "error_ratio", "max": 0.01}]
    with running_service(model_artifact, error_rate=0.5) as url:
        cases = run_plugin(pytester, load_project(pytester.path, model_artifact, url, slos=slos))
    predict = cases["load.predict::error_ratio"]
    assert predict.status == "failed"
    assert 0.25 < float(predict.properties.value) < 0.75
    assert "above its ceiling 0.0100; most common error:" in predict.message
    assert "500" in predict.message
    assert cases["load.overall::error_ratio"].status == "failed"
    assert cases["load.health::error_ratio"].status == "passed", "faults hit predictions only"


def test_a_down_service_fails_every_slo_quickly_with_a_clear_message(pytester, model_artifact):
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    cases = run_plugin(pytester, load_project(pytester.path, model_artifact, url))
    assert time.monotonic() - started < 15
    assert {c.status for c in cases.values()} == {"failed"}
    error_ratio = cases["load.overall::error_ratio"]
    assert error_ratio.message == (f"error_ratio = 1.0000 overall: no successful requests: "
                                   f"connection refused at {url}")
    assert str(error_ratio.properties.value) == "1.0"
    assert cases["load.predict::p95_ms"].message == \
        f"no successful requests: connection refused at {url}"


def test_a_down_service_is_refused_before_harness_check_runs(tmp_path, model_artifact):
    url = f"http://127.0.0.1:{free_port()}"
    load_project(tmp_path, model_artifact, url)
    result = harness(tmp_path, "check", "--profile", "load")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"key 'model.url': connection refused at {url}; start the service the load test " \
           "targets" in result.stderr
    assert not (tmp_path / "reports").exists()


def test_answers_slower_than_the_request_timeout_fail_without_hanging(tmp_path,
                                                                     model_artifact,
                                                                     slow_service):
    # Answers 300 ms late against a 0.1 s timeout (the service the latency test shares).
    config = load_config(load_project(tmp_path, model_artifact, slow_service,
                                      request_timeout_s=0.1, run_time_s=3))
    started = time.monotonic()
    results = run_load(config, tmp_path / "out")
    elapsed = time.monotonic() - started
    assert elapsed < 30
    predict = results.endpoints["/predict"]
    assert predict.requests > 0 and predict.failures == predict.requests
    result = check_slo(LoadSLO(endpoint="/predict", metric="p95_ms", max=1000), results)
    assert not result.passed
    assert result.message.startswith("no successful requests at /predict (")
    assert "timeout" in result.message.lower() or "timed out" in result.message.lower()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_remote_target_is_refused_before_any_traffic(tmp_path, model_artifact):
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    accepted: list[object] = []
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]

        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    accepted.append(listener.accept())
                except OSError:
                    continue

        watcher = threading.Thread(target=watch)
        watcher.start()
        url = f"http://{address}:{port}"
        config_path = load_project(tmp_path, model_artifact, url)
        result = harness(tmp_path, "check", "--profile", "load")
        with pytest.raises(ConfigError, match="allow_remote"):
            run_load(load_config(config_path), tmp_path / "out")
        time.sleep(0.5)  # time for a connection, had one been attempted, to be accepted
        done.set()
        watcher.join()
    assert result.returncode == 2
    assert f"load target {url} is not a loopback address" in result.stderr
    assert "'load.allow_remote: true'" in result.stderr
    assert not (tmp_path / "reports").exists()
    assert not accepted, "no connection may reach a remote target that was not allowed"


def test_distributed_mode_stops_at_its_request_bound(tmp_path, model_artifact, service_url):
    config = load_config(load_project(tmp_path, model_artifact, service_url, workers=2,
                                      users=4, run_time_s=60, max_requests=40))
    started = time.monotonic()
    results = run_load(config, tmp_path / "out")
    elapsed = time.monotonic() - started
    assert elapsed < 40, "the request bound, not the 60 s run time, ended the run"
    overall = results.endpoints["overall"]
    # Each worker stops at its share (20); requests already in flight may finish.
    assert 40 <= overall.requests <= 40 + 4
    assert (tmp_path / "out/locust-worker-0.log").exists()
    assert (tmp_path / "out/locust-worker-1.log").exists()
    master_log = (tmp_path / "out/locust-master.log").read_text()
    assert "Traceback" not in master_log


def test_locust_that_cannot_run_is_a_setup_error(pytester, model_artifact, service_url):
    broken = pytester.path / "broken_locustfile.py"
    broken.write_text("import no_such_module\n")
    config = load_project(pytester.path, model_artifact, service_url, locustfile=str(broken))
    cases = run_plugin(pytester, config)
    assert {c.status for c in cases.values()} == {"error"}
    message = next(iter(cases.values())).message
    assert "Locust exited" in message and "without results" in message
    with pytest.raises(LoadTestError, match="no_such_module"):
        run_load(load_config(config), pytester.path / "again")


def test_a_profile_with_load_but_no_slos_is_a_collection_error(pytester, model_artifact):
    config = load_project(pytester.path, model_artifact, "http://127.0.0.1:1", slos=[])
    result = pytester.runpytest(str(config), "--harness-profile=load")
    result.stdout.fnmatch_lines(["*'load.slos' lists no SLO to judge*"])


def test_a_service_that_accepts_but_never_answers_fails_within_seconds(tmp_path,
                                                                      model_artifact):
    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen()  # the kernel completes handshakes; nothing ever answers
        url = f"http://127.0.0.1:{frozen.getsockname()[1]}"
        config = load_config(load_project(tmp_path, model_artifact, url))
        started = time.monotonic()
        results = run_load(config, tmp_path / "out")
        assert time.monotonic() - started < 10
    result = check_slo(LoadSLO(endpoint="overall", metric="error_ratio", max=0.01), results)
    assert not result.passed
    assert result.message == (f"error_ratio = 1.0000 overall: no successful requests: "
                              f"no answer within 3s at {url}")


def test_a_missing_locustfile_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A configured scenario file that does not exist: exit 2 naming the key, no report."""
    for name in ("golden", "credit_model"):
        (tmp_path / name).symlink_to(EXAMPLE / name)
    load = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())["load"]
    write_config(tmp_path, training=None, load={**load, "locustfile": "load/missing.py"},
                 profiles={"nightly": {"checks": ["load"]}})
    result = subprocess.run([sys.executable, "-m", "harness", "check", "--profile", "nightly",
                             "--target-url", "http://127.0.0.1:9"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "key 'load.locustfile': no such file or folder" in result.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / ".harness").exists()
