"""The HTTP API: predictions, validation errors naming the field, probes, metrics, faults."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import FaultInjection, create_app
from service.artifact import MODEL_FILE, sha256_file


def test_predict_one(client: TestClient, application: dict) -> None:
    response = client.post("/predict", json=application)
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert body["label"] == ("bad" if body["probability"] >= 0.5 else "good")
    assert body["model_version"] == "1.0.0"


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
    assert body["model_version"] == "1.0.0"
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


def test_probes_and_version(client: TestClient, artifact: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200
    version = client.get("/version").json()
    assert version["name"] == "credit-scoring"
    assert version["version"] == "1.0.0"
    assert version["artifact_sha256"] == sha256_file(artifact / MODEL_FILE)
    assert len(version["training_data_sha256"]) == 64


def test_metrics_count_requests_and_predictions(client: TestClient, application: dict) -> None:
    client.post("/predict", json=application)
    text = client.get("/metrics").text
    assert 'service_requests_total{endpoint="/predict",method="POST",status="200"}' in text
    assert "service_request_duration_seconds_bucket" in text
    assert "service_predictions_total" in text


def test_two_apps_in_one_process_have_separate_metrics(artifact: Path, application: dict) -> None:
    with (
        TestClient(create_app(artifact, faults=FaultInjection())) as one,
        TestClient(create_app(artifact, faults=FaultInjection())) as two,
    ):
        one.post("/predict", json=application)
        assert "/predict" in one.get("/metrics").text
        assert 'endpoint="/predict"' not in two.get("/metrics").text


def test_unloadable_model_is_live_but_not_ready(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as broken:
        assert broken.get("/health").status_code == 200
        ready = broken.get("/ready")
        assert ready.status_code == 503
        assert MODEL_FILE in ready.json()["reason"]
        assert broken.get("/version").status_code == 503


def test_injected_errors_give_500(artifact: Path, application: dict, monkeypatch) -> None:
    monkeypatch.setenv("SERVICE_INJECT_ERROR_RATE", "1.0")
    with TestClient(create_app(artifact)) as faulty:
        assert faulty.post("/predict", json=application).status_code == 500
        assert faulty.post("/predict/batch", json={"records": [application]}).status_code == 500
        assert faulty.get("/health").status_code == 200
        assert 'status="500"' in faulty.get("/metrics").text


def test_injected_latency_slows_predictions(artifact: Path, application: dict, monkeypatch) -> None:
    monkeypatch.setenv("SERVICE_INJECT_LATENCY_MS", "200")
    with TestClient(create_app(artifact)) as slow:
        started = time.perf_counter()
        response = slow.post("/predict", json=application)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.2
