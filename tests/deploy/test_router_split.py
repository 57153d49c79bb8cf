"""The router's canary split: a share of the predict requests to a canary chosen by request
id, switched by a reload, and all of them back on the stable revision at once."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.deploy.router import ARM_HEADER, NginxRouter, Split, _conf
from tests.support.nginx import APPLICATION, nginx_test, stopped_router
from tests.support.service_process import free_port, running_service

nginx = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@nginx
def test_the_conf_splits_predict_requests_only_by_request_id(tmp_path: Path) -> None:
    plain = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3)
    assert "split_clients" not in plain and "upstream canary" not in plain
    tenth = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3, split=Split(9002, 10))
    assert 'split_clients "${harness_request_id}" $harness_arm' in tenth
    assert "10.00% canary;" in tenth and "* stable;" in tenth
    assert "server 127.0.0.1:9002;" in tenth
    predict = tenth.split("location /predict {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://$harness_arm;" in predict
    # Everything else answers from the active revision.
    rest = tenth.split("location / {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://revision;" in rest
    whole = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3, split=Split(9002, 100))
    assert "split_clients" not in whole and "default canary;" in whole
    for text in (plain, tenth, whole):
        checked = nginx_test(tmp_path, text)
        assert checked.returncode == 0, checked.stderr


def test_a_share_outside_0_to_100_percent_is_refused() -> None:
    for percent in (0, -5, 100.5):
        with pytest.raises(ValueError, match="share"):
            Split(9002, percent)


@pytest.fixture
def router(tmp_path: Path) -> Iterator[NginxRouter]:
    with stopped_router(tmp_path / "router") as router:
        yield router


@nginx
@pytest.mark.end_to_end
def test_a_share_goes_to_the_canary_and_all_comes_back_at_once_under_traffic(
        router: NginxRouter, model_artifact: Path) -> None:
    with running_service(model_artifact) as stable, running_service(model_artifact) as canary:
        router.route(_port(stable), 1, split=Split(_port(canary), 30))
        assert router.splits_to() == (_port(canary), 30.0)
        url = f"http://127.0.0.1:{router.port}"
        with httpx.Client(timeout=10) as client:
            arms = [client.post(f"{url}/predict", json=APPLICATION).headers[ARM_HEADER]
                    for _ in range(300)]
        # 30 % of 300: 90 expected, sd 7.9; outside 55..125 by chance about once in 10^5.
        assert 55 <= arms.count("canary") <= 125, arms.count("canary")

        # Traffic keeps flowing while the split is taken away.
        stop, seen = threading.Event(), []

        def traffic() -> None:
            with httpx.Client(timeout=10) as client:
                while not stop.is_set():
                    # When it was sent: one sent before route() returned may still be
                    # answered by the canary, and its answer read after.
                    sent = time.time()
                    answer = client.post(f"{url}/predict", json=APPLICATION)
                    seen.append((sent, answer.headers.get(ARM_HEADER)))

        thread = threading.Thread(target=traffic)
        thread.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            router.route(_port(stable), 1)
            took = time.monotonic() - started
            back = time.time()
            time.sleep(0.5)
        finally:
            stop.set()
            thread.join()
        assert router.splits_to() is None
        print(f"all traffic back on stable {took * 1000:.0f} ms after the abort")
        # Once route() returned, no request reached the canary: none sent then answered by
        # it, none in its own log.
        assert not [at for at, arm in seen if at > back and arm != "stable"]
        log = httpx.get(f"{canary}/predictions/log", params={"limit": 10_000}).json()
        assert not [r for r in log["records"] if r["at"] > back]
        assert any(at > back for at, _ in seen)
