"""A property-based run of the generic model server from its own OpenAPI document.

schemathesis generates valid and invalid requests for every operation the document
describes, and every check it has (status codes, content types, response schemas,
positive data accepted, negative data rejected, no server error...) runs on every answer.
Its generator never writes non-finite numbers or bodies past the size limit, so both are
mixed in here: a numeric field of a record becomes NaN or +/-Infinity, or the body grows
past the limit. The server runs for real on a loopback port; the run is deterministic and
bounded (well under a minute on two shared cores)."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.generation import GenerationMode

from tests.support.service_process import running_service

MAX_BODY_BYTES = 16 * 1024
EXAMPLES = {"GET": 15, "POST": 120}
BUDGET_S = 60.0
NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.fixture(scope="module")
def server(model_artifact: Path) -> Iterator[str]:
    with running_service(model_artifact, max_body_bytes=MAX_BODY_BYTES) as url:
        yield url


def _numeric_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numeric_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _numeric_paths(item, (*path, i))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@st.composite
def _mutated(draw: st.DrawFn, case: Any) -> tuple[Any, str]:
    """The case as generated, or with a non-finite number, or past the size limit."""
    kind = draw(st.sampled_from(["as generated", "non-finite", "oversize"]))
    if case.method != "POST" or not isinstance(case.body, dict):
        return case, "as generated"
    if kind == "non-finite":
        paths = list(_numeric_paths(case.body))
        if not paths:
            return case, "as generated"
        path = draw(st.sampled_from(paths))
        case.body = _replace(case.body, path, draw(st.sampled_from(NON_FINITE)))
    elif kind == "oversize":
        case.body = {**case.body, "padding": "x" * (MAX_BODY_BYTES + 1)}
    return case, kind


def test_the_server_meets_its_openapi_document_and_never_answers_5xx(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    checks = CHECKS.get_all()
    # A mutated case is invalid on purpose, while schemathesis still believes it valid (or
    # invalid for another reason, which the size limit answers before the schema).
    believes_valid = [c for c in checks if c.__name__ in ("positive_data_acceptance",
                                                          "negative_data_rejection")]
    seen: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                          operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES[operation.method.upper()], deadline=None,
                  database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(mutated=cases.flatmap(_mutated))
        def exercise(mutated: tuple[Any, str]) -> None:
            case, kind = mutated
            if kind != "oversize" and isinstance(case.body, dict) and len(
                    json.dumps(case.body)) > MAX_BODY_BYTES:
                # A generated body can outgrow the limit too (a negative case past
                # maxItems, with or without a non-finite number): the size limit refuses
                # it first, with 413, as it should.
                kind = "oversize"
            if kind == "as generated":
                response = case.call_and_validate(base_url=server, checks=checks)
            else:
                # Python's encoder writes NaN and Infinity as JavaScript does; requests' refuses.
                response = case.call_and_validate(base_url=server, checks=checks,
                                                  excluded_checks=believes_valid,
                                                  data=json.dumps(case.body).encode())
            seen[(kind, response.status_code)] += 1
            assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
            if kind == "non-finite":
                assert response.status_code == 422, response.text
                assert "nan" not in response.text.lower() and "inf" not in response.text.lower()
            if kind == "oversize":
                assert response.status_code == 413, response.text
                assert len(response.content) < 200, "the refusal does not echo the body"

        exercise()
        assert time.monotonic() - started < BUDGET_S, f"over budget after {operation.label}"
    # The run reached what it is for: answers, refusals, and both mutations.
    assert seen[("as generated", 200)] and seen[("as generated", 422)], seen
    assert seen[("non-finite", 422)] and seen[("oversize", 413)], seen


# What the property-based run found, each pinned by a plain test.

def test_a_whole_number_written_with_a_fraction_is_an_integer(server: str) -> None:
    """JSON Schema (and so the OpenAPI document) counts 21.0 as an integer; the server
    refused it. 21.5 and true are still refused."""
    import httpx

    record = {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30.0, "Marital": "married",
              "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129,
              "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}
    assert httpx.post(f"{server}/predict", json=record).status_code == 200
    for age in (30.5, True, "30"):
        response = httpx.post(f"{server}/predict", json={**record, "Age": age})
        assert response.status_code == 422, age
        assert response.json()["detail"][0]["loc"] == ["body", "Age"]


def test_the_openapi_document_states_bounds_and_refusals(server: str) -> None:
    """Bounds of nullable numbers were emitted as ge/le, which JSON Schema ignores, and the
    400/413/415/503 answers and /metrics' text were undocumented."""
    import httpx

    document = httpx.get(f"{server}/openapi.json").json()
    record = document["components"]["schemas"]["Record"]["properties"]
    income = record["Income"]["anyOf"][0]
    assert (income["type"], income["minimum"], income["maximum"]) == ("number", 0, 10000)
    assert '"ge":' not in json.dumps(record) and '"le":' not in json.dumps(record)
    for path in ("/predict", "/predict/batch"):
        assert {"200", "400", "413", "415", "422", "503"} <= set(
            document["paths"][path]["post"]["responses"])
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
