"""The generic model server: predictions, validation from the config's schema, limits,
error bodies that never echo the input, probes, metrics, faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.candidate.artifact import artifact_digest
from harness.config import HarnessConfig, load_config
from harness.server import FaultInjection, create_app
from harness.server.placement import ScoringPlace
from tests.support.project import EXAMPLE
from tests.support.service_process import running_service


@pytest.fixture(scope="module")
def credit_config() -> HarnessConfig:
    return load_config(EXAMPLE / "harness.yaml")


@pytest.fixture(scope="module")
def client(credit_config: HarnessConfig, model_artifact: Path) -> Iterator[TestClient]:
    # No faults, whatever the environment says: these tests check correct behaviour.
    app = create_app(credit_config, model_artifact, faults=FaultInjection(),
                     max_body_bytes=256 * 1024)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def application() -> dict[str, object]:
    """A valid credit application (the first row of the training data)."""
    return {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30, "Marital": "married",
            "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0,
            "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}


def test_predict_one(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json=application)
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert body["label"] == ("bad" if body["probability"] >= 0.5 else "good")
    assert len(body["model_version"]) == 12


def test_predict_accepts_nulls(client: TestClient, application: dict) -> None:
    record = {**application, "Home": None, "Income": None}
    del record["Debt"]
    assert client.post("/predict", json=record).status_code == 200


def test_predict_batch(client: TestClient, application: dict) -> None:
    records = [
        application,
        {**application, "Records": "yes", "Amount": 3000},
        {**application, "Job": None},
    ]
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["predictions"]) == 3
    assert len(body["model_version"]) == 12
    single = client.post("/predict", json=application).json()["probability"]
    assert abs(body["predictions"][0]["probability"] - single) < 1e-12


def test_invalid_record_422_names_field(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json={**application, "Age": 7})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Age"]


def test_invalid_batch_record_422_names_index_and_field(
    client: TestClient, application: dict
) -> None:
    records = [application] * 3 + [{**application, "Home": "castle"}]
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records", 3, "Home"]


def test_extra_field_422(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json={**application, "Status": "good"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Status"]


def test_batch_size_limits(client: TestClient, application: dict) -> None:
    assert client.post("/predict/batch", json={"records": []}).status_code == 422
    assert client.post("/predict/batch", json={"records": [application] * 1001}).status_code == 422


def test_probes_and_version(client: TestClient, model_artifact: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200
    version = client.get("/version").json()
    assert version["name"] == "credit-scoring"
    assert version["artifact_sha256"] == artifact_digest(model_artifact)
    assert version["version"] == version["artifact_sha256"][:12]


def test_metrics_count_requests_and_predictions(client: TestClient, application: dict) -> None:
    client.post("/predict", json=application)
    text = client.get("/metrics").text
    assert 'harness_server_requests_total{endpoint="/predict",method="POST",status="200"}' in text
    assert "harness_server_request_duration_seconds_bucket" in text
    assert "harness_server_predictions_total" in text


def test_two_apps_in_one_process_have_separate_metrics(
        credit_config: HarnessConfig, model_artifact: Path, application: dict) -> None:
    with (
        TestClient(create_app(credit_config, model_artifact, faults=FaultInjection())) as one,
        TestClient(create_app(credit_config, model_artifact, faults=FaultInjection())) as two,
    ):
        one.post("/predict", json=application)
        assert "/predict" in one.get("/metrics").text
        assert 'endpoint="/predict"' not in two.get("/metrics").text


def test_unloadable_model_is_live_but_not_ready(credit_config: HarnessConfig,
                                                 tmp_path: Path) -> None:
    with TestClient(create_app(credit_config, tmp_path)) as broken:
        assert broken.get("/health").status_code == 200
        ready = broken.get("/ready")
        assert ready.status_code == 503
        assert "model.joblib" in ready.json()["reason"]
        assert broken.get("/version").status_code == 503


def test_injected_errors_give_500(credit_config: HarnessConfig, model_artifact: Path,
                                  application: dict, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_INJECT_ERROR_RATE", "1.0")
    with TestClient(create_app(credit_config, model_artifact)) as faulty:
        assert faulty.post("/predict", json=application).status_code == 500
        assert faulty.post("/predict/batch", json={"records": [application]}).status_code == 500
        assert faulty.get("/health").status_code == 200
        assert 'status="500"' in faulty.get("/metrics").text


def test_injected_latency_slows_predictions(credit_config: HarnessConfig, model_artifact: Path,
                                            application: dict, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_INJECT_LATENCY_MS", "200")
    with TestClient(create_app(credit_config, model_artifact)) as slow:
        started = time.perf_counter()
        response = slow.post("/predict", json=application)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.2


def test_injected_score_jitter_differs_between_two_copies(
        credit_config: HarnessConfig, model_artifact: Path, application: dict,
        monkeypatch) -> None:
    # Two servers of one model given the same requests: without jitter they agree to the
    # last digit; with it each draws its own noise, within the jitter of the model's score.
    monkeypatch.setenv("HARNESS_INJECT_SCORE_JITTER", "0.05")
    body = {"records": [application] * 50}
    with (TestClient(create_app(credit_config, model_artifact)) as one,
          TestClient(create_app(credit_config, model_artifact)) as two,
          TestClient(create_app(credit_config, model_artifact,
                                faults=FaultInjection())) as exact):
        truth = exact.post("/predict/batch", json=body).json()["predictions"][0]["probability"]
        first, second = ([p["probability"] for p in c.post("/predict/batch",
                                                              json=body).json()["predictions"]]
                         for c in (one, two))
    assert first != second and len(set(first)) > 1
    assert all(abs(p - truth) <= 0.05 + 1e-12 for p in first + second)
    with pytest.raises(ValueError, match="HARNESS_INJECT_SCORE_JITTER must be in 0..1"):
        FaultInjection(score_jitter=2.0)


def test_a_slow_prediction_does_not_hold_health(model_artifact: Path, application: dict) -> None:
    # A real server: /health is answered while a single-record prediction is in flight.
    with (running_service(model_artifact, latency_ms=3000) as url,
          ThreadPoolExecutor(max_workers=1) as pool):
        pending = pool.submit(httpx.post, f"{url}/predict", json=application, timeout=30)
        time.sleep(0.5)  # let the prediction start first
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        assert not pending.done()
        assert pending.result().status_code == 200


def test_a_model_slower_than_the_inline_limit_is_scored_in_a_thread(
        client: TestClient, application: dict) -> None:
    places: dict[str, ScoringPlace] = client.app.state.scoring_places  # type: ignore[attr-defined]
    inline = client.post("/predict", json=application).json()
    inline_batch = client.post("/predict/batch", json={"records": [application] * 3}).json()
    limits = {name: place.inline_limit_s for name, place in places.items()}
    try:
        for place in places.values():
            place.inline_limit_s = 0.0  # every model is slower than that
            assert not place.inline()
        assert client.post("/predict", json=application).json() == inline
        assert client.post("/predict/batch",
                           json={"records": [application] * 3}).json() == inline_batch
    finally:
        for name, place in places.items():
            place.inline_limit_s = limits[name]


def test_scoring_place_follows_the_average_time_a_record_takes() -> None:
    place = ScoringPlace("/predict/batch", inline_limit_s=0.005, weight=0.5)
    assert place.inline(1) and not place.inline(2)  # before any timing
    place.add(0.010, records=10)  # 1 ms a record
    assert place.inline(5) and not place.inline(6)
    place.add(0.050)  # one slow record moves the average over the limit
    assert not place.inline(1)
    for _ in range(10):
        place.add(0.001)
    assert place.inline(1)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_422_naming_the_field(client: TestClient, application: dict,
                                                     value: str) -> None:
    body = json.dumps({**application, "Income": 1.5}).replace("1.5", value)
    response = client.post("/predict", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert ["body", "Income"] == response.json()["detail"][0]["loc"][:2]
    batch = json.dumps({"records": [application, {**application, "Income": 1.5}]})
    response = client.post("/predict/batch", content=batch.replace("1.5", value),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:4] == ["body", "records", 1, "Income"]


def test_a_boolean_is_not_an_integer(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json={**application, "Price": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "Price"]


def test_oversize_body_is_413_and_not_echoed(client: TestClient, application: dict) -> None:
    huge = {**application, "Home": "x" * 300_000}
    response = client.post("/predict", json=huge)
    assert response.status_code == 413
    assert len(response.content) < 200
    chunks = (b"x" * 10_000 for _ in range(30))  # no Content-Length: counted as it arrives
    response = client.post("/predict", content=chunks,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_wrong_content_type_is_415(client: TestClient, application: dict) -> None:
    response = client.post("/predict", content=json.dumps(application),
                           headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_error_bodies_never_echo_the_input(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json={**application, "Home": "castle" * 1000})
    assert response.status_code == 422
    assert "castle" not in response.text


@pytest.mark.parametrize(("body", "detail"), [
    (b"", "the body is empty; send one JSON object"),
    (b'{"Age": 30', "the body is not valid JSON (Expecting ',' delimiter); send one JSON object"),
    (b"not json", "the body is not valid JSON (Expecting value); send one JSON object"),
])
@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_an_empty_or_malformed_body_is_400(client: TestClient, path: str, body: bytes,
                                           detail: str) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": detail}


def test_well_formed_json_that_is_no_record_stays_422(client: TestClient) -> None:
    for body in (b"null", b"[1, 2]", b'"a record"'):
        response = client.post("/predict", content=body,
                               headers={"content-type": "application/json"})
        assert response.status_code == 422, (body, response.text)


def test_an_unknown_field_name_is_clipped_in_the_422(credit_config: HarnessConfig,
                                                     model_artifact: Path,
                                                     application: dict) -> None:
    """A 900 KB field name under the default 1 MiB body limit: not echoed whole."""
    name = "y" * 900_000
    with TestClient(create_app(credit_config, model_artifact, faults=FaultInjection())) as big:
        response = big.post("/predict", json={**application, name: 1})
    assert response.status_code == 422
    assert len(response.content) < 1000
    [error] = response.json()["detail"]
    assert error["type"] == "extra_forbidden"
    assert error["loc"][1].startswith("y" * 200 + "\u2026(900000 characters, sha256 ")
