"""The router's request ids and its mirror: every request through nginx carries one id to
the revision and to the shadow, and a slow shadow costs production at most the mirror's
timeout."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.deploy.router import Mirror, NginxRouter, _conf
from tests.support.nginx import APPLICATION, nginx_test, stopped_router
from tests.support.service_process import free_port, running_service

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")

def test_the_conf_mirrors_predict_requests_only_with_a_bounded_wait(tmp_path: Path) -> None:
    plain = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3)
    assert "mirror " not in plain and "_harness_shadow" not in plain
    assert "proxy_set_header X-Request-ID $harness_request_id;" in plain
    mirrored = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3, Mirror(9002, 150))
    predict = mirrored.split("location /predict {", 1)[1].split("}", 1)[0]
    assert "mirror /_harness_shadow;" in predict and "mirror_request_body on;" in predict
    shadow = mirrored.split("location = /_harness_shadow {", 1)[1].split("}", 1)[0]
    for directive in ("proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"):
        assert f"{directive} 150ms;" in shadow
    assert "internal;" in shadow and "server 127.0.0.1:9002;" in mirrored
    # Both are configurations nginx itself accepts.
    for text in (plain, mirrored):
        checked = nginx_test(tmp_path, text)
        assert checked.returncode == 0, checked.stderr


def test_a_second_mirror_copies_each_predict_request_to_both(tmp_path: Path) -> None:
    both = _conf(tmp_path, "127.0.0.1", free_port(), 9001, 3, Mirror(9002, 150),
                 Mirror(9003, 150))
    predict = both.split("location /predict {", 1)[1].split("}", 1)[0]
    assert "mirror /_harness_shadow;" in predict and "mirror /_harness_second;" in predict
    second = both.split("location = /_harness_second {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://second$request_uri;" in second
    assert "proxy_set_header X-Request-ID $harness_request_id;" in second
    assert "server 127.0.0.1:9003;" in both and "server 127.0.0.1:9002;" in both
    # The single mirror's text is unchanged by the second's existence.
    assert _conf(tmp_path, "127.0.0.1", 1, 9001, 3, Mirror(9002, 150)) == \
        _conf(tmp_path, "127.0.0.1", 1, 9001, 3, Mirror(9002, 150), None)
    checked = nginx_test(tmp_path, both)
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def router(tmp_path: Path) -> Iterator[NginxRouter]:
    with stopped_router(tmp_path / "router") as router:
        yield router


def _log(url: str) -> list[dict]:
    return httpx.get(f"{url}/predictions/log", params={"limit": 10_000}).json()["records"]


@pytest.mark.end_to_end
def test_every_request_has_one_id_at_production_and_at_the_shadow(
        router: NginxRouter, model_artifact: Path) -> None:
    with running_service(model_artifact) as production, \
            running_service(model_artifact) as shadow:
        router.route(int(production.rsplit(":", 1)[1]), 1,
                     Mirror(int(shadow.rsplit(":", 1)[1]), 500))
        assert router.mirrors_to() == int(shadow.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{router.port}"
        given = httpx.post(f"{url}/predict", json=APPLICATION, headers={"X-Request-ID": "mine"})
        made = httpx.post(f"{url}/predict", json=APPLICATION)
        httpx.get(f"{url}/version")
        assert given.headers["X-Request-ID"] == "mine"
        made_id = made.headers["X-Request-ID"]
        assert len(made_id) == 32 and made_id != "mine"
        deadline = time.monotonic() + 5
        while len(_log(shadow)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        ours, theirs = _log(production), _log(shadow)
        assert [r["request_id"] for r in ours] == ["mine", made_id]
        assert sorted(r["request_id"] for r in theirs) == sorted(["mine", made_id])
        assert {r["input_sha256"] for r in ours} == {r["input_sha256"] for r in theirs}
        # The mirror off: the shadow sees nothing more.
        router.route(int(production.rsplit(":", 1)[1]), 1)
        assert router.mirrors_to() is None
        httpx.post(f"{url}/predict", json=APPLICATION)
        assert len(_log(production)) == 3 and len(_log(shadow)) == 2


@pytest.mark.end_to_end
def test_a_slow_shadow_costs_production_at_most_the_mirror_timeout(
        router: NginxRouter, model_artifact: Path) -> None:
    timeout_ms = 100
    with running_service(model_artifact) as production, \
            running_service(model_artifact, latency_ms=1000) as shadow:
        router.route(int(production.rsplit(":", 1)[1]), 1,
                     Mirror(int(shadow.rsplit(":", 1)[1]), timeout_ms))
        url = f"http://127.0.0.1:{router.port}"
        took = []
        with httpx.Client(timeout=10) as client:
            for _ in range(5):
                started = time.perf_counter()
                assert client.post(f"{url}/predict", json=APPLICATION).status_code == 200
                took.append((time.perf_counter() - started) * 1000)
        # A 1 s shadow, and no request waited for it past the timeout (plus scoring).
        assert max(took) < timeout_ms + 400, took
        # The shadow still logged its answers, after nginx stopped waiting.
        deadline = time.monotonic() + 10
        while len(_log(shadow)) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_log(shadow)) == 5
