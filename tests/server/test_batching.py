"""Concurrent single records scored together: grouped as they arrive, each answer its own,
a refused record failing only its own request; and through a real server, a plain
pipeline's answers bit for bit those of its own predict_proba."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import joblib
import numpy as np

from harness.config import load_config
from harness.data.datasets import read_dataset
from harness.model.adapters import features
from harness.model.protocols import json_records
from harness.server.batching import Batcher
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import running_service


class _Model:
    """Doubles each record; refuses negative ones; each call can be held open."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def score(self, records: list[int]) -> list[int]:
        self.calls.append(list(records))
        await self.release.wait()
        if any(r < 0 for r in records):
            raise ValueError("a negative record")
        return [2 * r for r in records]


def test_records_that_arrive_together_are_scored_in_one_call_up_to_the_limit() -> None:
    async def run() -> tuple[list[int], list[list[int]]]:
        model = _Model()
        batcher = Batcher(model.score, max_records=3)
        answers = await asyncio.gather(*(batcher.score(r) for r in range(7)))
        return answers, model.calls

    answers, calls = asyncio.run(run())
    assert answers == [0, 2, 4, 6, 8, 10, 12]
    assert calls == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_lone_record_is_scored_at_once_and_later_ones_wait_for_the_running_call() -> None:
    async def run() -> tuple[list[int], list[list[int]]]:
        model = _Model()
        batcher = Batcher(model.score, max_records=100)
        assert await batcher.score(5) == 10
        model.release.clear()
        first = asyncio.create_task(batcher.score(1))
        while not model.calls[1:]:  # the call of record 1 has started, and is held
            await asyncio.sleep(0)
        later = [asyncio.create_task(batcher.score(r)) for r in (2, 3, 4)]
        await asyncio.sleep(0.01)
        model.release.set()
        return [await first, *[await t for t in later]], model.calls

    answers, calls = asyncio.run(run())
    assert answers == [2, 4, 6, 8]
    assert calls == [[5], [1], [2, 3, 4]]


def test_a_refused_record_fails_its_own_request_only() -> None:
    async def run() -> tuple[list[object], list[list[int]]]:
        model = _Model()
        batcher = Batcher(model.score, max_records=100)
        answers = await asyncio.gather(*(batcher.score(r) for r in (1, -1, 2)),
                                       return_exceptions=True)
        return answers, model.calls

    (one, refused, two), calls = asyncio.run(run())
    assert (one, two) == (2, 4)
    assert isinstance(refused, ValueError) and str(refused) == "a negative record"
    assert calls == [[1, -1, 2], [1], [-1], [2]]  # the failed call, then each alone


PLAIN_ENTRYPOINT = ("from pathlib import Path\n\nimport joblib\n\n\n"
                    "def load(artifact):\n    return joblib.load(Path(artifact) / 'model.joblib')\n")


def test_concurrent_requests_to_a_plain_pipeline_get_its_own_scores_bit_for_bit(
        tmp_path: Path, model_artifact: Path) -> None:
    # The fitted pipeline as it is (what the peers serve): its scores depend on the frame's
    # dtypes, so a record scored with others must be typed as one scored alone.
    (tmp_path / "plain_pipeline.py").write_text(PLAIN_ENTRYPOINT)
    loaded = load_config(EXAMPLE / "harness.yaml")
    spec = loaded.golden[0]
    config = write_config(tmp_path, model={"entrypoint": "plain_pipeline:load",
                                           "artifact": str(model_artifact)},
                          golden=[{"name": spec.name, "path": str(loaded.resolve(spec.path))}],
                          training=None, profiles={"load": {"checks": ["load"]}})
    golden = features(read_dataset(spec.name, loaded.resolve(spec.path)).frame, loaded.model)
    pipeline = joblib.load(model_artifact / "model.joblib")
    positive = list(pipeline.classes_).index(loaded.model.positive_label)
    # The rows with a missing value, and as many others.
    missing = golden.isna().any(axis=1)
    golden = golden[missing | (np.cumsum(~missing) <= missing.sum())]
    expected = pipeline.predict_proba(golden)[:, positive]
    records = json_records(golden)

    with running_service(model_artifact, config=config) as url:
        def send(rows: range) -> list[float]:
            with httpx.Client(base_url=url, timeout=60) as client:
                return [client.post("/predict", json=records[i]).json()["probability"]
                        for i in rows]

        clients = 8
        with ThreadPoolExecutor(clients) as pool:
            parts = list(pool.map(send, [range(c, len(records), clients)
                                         for c in range(clients)]))
        metrics = httpx.get(f"{url}/metrics").text

    answers = np.empty(len(records))
    for c, part in enumerate(parts):
        answers[c::clients] = part
    assert np.array_equal(answers, expected)
    calls = _metric(metrics, "harness_server_model_call_records_count")
    scored = _metric(metrics, "harness_server_model_call_records_sum")
    assert scored == len(records)
    assert calls < scored  # some calls scored more than one request's record


def _metric(text: str, name: str) -> float:
    found = re.search(rf'^{name}{{endpoint="/predict"}} (\S+)$', text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))

