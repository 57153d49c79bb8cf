"""The prediction log: one record per answered row, keyed by request id, bounded in count
and age, holding a digest of the input and never the input."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harness.config import HarnessConfig, load_config
from harness.server import FaultInjection, create_app
from harness.server.prediction_log import PredictionLog
from tests.support.project import EXAMPLE

APPLICATION = {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30, "Marital": "married",
               "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0,
               "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}


def _config(**prediction_log: float) -> HarnessConfig:
    config = load_config(EXAMPLE / "harness.yaml")
    if prediction_log:
        return config.model_copy(update={"server": config.server.model_copy(update={
            "prediction_log": config.server.prediction_log.model_copy(update=prediction_log)})})
    return config


@pytest.fixture
def client(model_artifact: Path) -> Iterator[TestClient]:
    app = create_app(_config(max_records=5), model_artifact, faults=FaultInjection())
    with TestClient(app) as test_client:
        yield test_client


def _log(client: TestClient, since: int = 0) -> dict:
    response = client.get("/predictions/log", params={"since": since})
    assert response.status_code == 200, response.text
    return response.json()


def test_an_answer_is_logged_under_the_callers_request_id(client: TestClient) -> None:
    body = json.dumps(APPLICATION).encode()
    answer = client.post("/predict", content=body, headers={
        "X-Request-ID": "req-1", "Content-Type": "application/json"})
    assert answer.headers["X-Request-ID"] == "req-1"
    [record] = _log(client)["records"]
    assert record["request_id"] == "req-1" and record["status"] == 200
    assert record["input_sha256"] == hashlib.sha256(body).hexdigest()
    assert record["probability"] == answer.json()["probability"]
    assert record["label"] == answer.json()["label"]
    assert record["latency_ms"] > 0 and record["endpoint"] == "/predict"
    # Of it, the time the serving thread waited for a CPU (Linux schedstat).
    assert 0 <= record["cpu_wait_ms"] <= record["latency_ms"]
    # The digest, never the input: no field value of the record is in the log.
    assert "freelance" not in json.dumps(_log(client))


def test_a_request_without_an_id_gets_one_and_is_told_it(client: TestClient) -> None:
    answer = client.post("/predict", json=APPLICATION)
    made = answer.headers["X-Request-ID"]
    assert len(made) == 32
    assert _log(client)["records"][0]["request_id"] == made


def test_a_batch_is_one_record_per_row_and_a_refusal_one_without_an_answer(
        client: TestClient) -> None:
    client.post("/predict/batch", json={"records": [APPLICATION, APPLICATION]},
                headers={"X-Request-ID": "b"})
    client.post("/predict", json={**APPLICATION, "Age": "old"}, headers={"X-Request-ID": "bad"})
    records = _log(client)["records"]
    assert [(r["request_id"], r["index"], r["status"]) for r in records] == [
        ("b", 0, 200), ("b", 1, 200), ("bad", 0, 422)]
    assert "probability" not in records[2] and "label" not in records[2]


def test_the_log_is_bounded_and_read_after_a_number(client: TestClient) -> None:
    for number in range(8):
        client.post("/predict", json=APPLICATION, headers={"X-Request-ID": f"r{number}"})
    page = _log(client)
    assert [r["request_id"] for r in page["records"]] == ["r3", "r4", "r5", "r6", "r7"]
    assert page["first_seq"] == 4 and page["next"] == 8 and page["max_records"] == 5
    later = _log(client, since=7)  # r7 is number 8
    assert [r["request_id"] for r in later["records"]] == ["r7"]
    assert _log(client, since=8) | {"records": []} == _log(client, since=8)
    assert _log(client, since=8)["next"] == 8
    # Other endpoints are not logged.
    client.get("/version")
    assert _log(client, since=8)["records"] == []


def test_records_older_than_the_retention_are_dropped() -> None:
    log = PredictionLog(max_records=100, max_age_s=0.05)
    log.add("old", "/predict", 200, 1.0, "d", [{"label": "good"}])
    time.sleep(0.1)
    log.add("new", "/predict", 200, 1.0, "d", [{"label": "bad"}])
    page = log.page(0, 10)
    assert [r.request_id for r in page.records] == ["new"] and page.first_seq == 2


def test_no_records_keeps_none_and_serves_an_empty_log(model_artifact: Path) -> None:
    app = create_app(_config(max_records=0), model_artifact, faults=FaultInjection())
    with TestClient(app) as client:
        answer = client.post("/predict", json=APPLICATION)
        assert answer.status_code == 200 and "X-Request-ID" not in answer.headers
        assert _log(client)["records"] == []


def test_a_huge_request_id_is_clipped(client: TestClient) -> None:
    client.post("/predict", json=APPLICATION, headers={"X-Request-ID": "x" * 10_000})
    assert _log(client)["records"][0]["request_id"] == "x" * 128
