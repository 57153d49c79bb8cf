"""The HTTP protocols against the real servers teams use, installed from PyPI and started
here on loopback ports: MLServer's scikit-learn runtime (Open Inference Protocol v2) and
``mlflow models serve`` (``/invocations``), each serving the multiclass (wine) and
regression (diabetes) examples' models trained by the tests.

Scored in-process or through either server, a model gets the same verdicts and figures;
a service in another protocol stops ``harness check`` with exit 2; an answer in another
shape names the field expected; the load scenario speaks each protocol. The verdicts are
judged in this process, gate by gate as the plugin judges them (tests/support/gate_runs.py),
except one real run over HTTP (``run_check``: pytest in its own process, JUnit read back) and
one real ``harness check`` refused."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.config import load_config
from harness.errors import UnexpectedAnswer
from harness.kinds import MULTICLASS
from harness.load.runner import run_load
from harness.model.adapters import features, open_model
from harness.model.protocols import Wire
from harness.run.engine import run_check
from harness.run.verdict import Verdict
from tests.support.gate_runs import judge
from tests.support.kind_examples import copy_example, train
from tests.support.model_servers import mlflow_server, mlserver, save_mlflow_models
from tests.support.service_process import running_service

pytest.importorskip("mlserver_sklearn", reason="the protocols test extra is not installed")
pytest.importorskip("mlflow", reason="the protocols test extra is not installed")

KINDS = {"wine": "predict_proba", "diabetes": "predict"}
NUMBERS = ("value", "ci_low", "ci_high", "baseline_value", "difference", "difference_ci_low",
           "difference_ci_high")


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example copied and trained once (seed 0, as its passport was blessed)."""
    folders = {}
    for name in KINDS:
        project = copy_example(name, tmp_path_factory.mktemp(name))
        train(name, project, project / "artifacts" / name)
        folders[name] = project
    return folders


@pytest.fixture(scope="module")
def servers(projects: dict[str, Path],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """MLServer serving both models, and one ``mlflow models serve`` and one generic
    server (``harness serve``) per model."""
    joblibs = {name: projects[name] / "artifacts" / name / "model.joblib" for name in KINDS}
    saved = tmp_path_factory.mktemp("mlflow-models")
    save_mlflow_models([(joblibs[name], saved / name, method) for name, method in KINDS.items()])
    with ExitStack() as stack:
        urls = {"open-inference-v2": stack.enter_context(
            mlserver(joblibs, tmp_path_factory.mktemp("mlserver")))}
        for name in KINDS:
            urls[f"mlflow/{name}"] = stack.enter_context(
                mlflow_server(saved / name, tmp_path_factory.mktemp(f"mlflow-{name}")))
            urls[f"harness/{name}"] = stack.enter_context(running_service(
                joblibs[name].parent, config=projects[name] / "harness.yaml"))
        yield urls


def _config(project: Path, variant: str, **model) -> Path:
    data = yaml.safe_load((project / "harness.yaml").read_text())
    data["model"].update({"artifact": f"artifacts/{project.name.rstrip('0123456789')}",
                          **model})
    path = project / f"harness-{variant}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _url(servers: dict[str, str], protocol: str, example: str) -> str:
    return servers.get(protocol) or servers[f"{protocol}/{example}"]


def _check(project: Path, variant: str, **model) -> Verdict:
    return judge(load_config(_config(project, variant, **model)), "pr")


def _cases(verdict: Verdict) -> dict[str, tuple[str, dict[str, str]]]:
    """Each testcase's status and its properties as written."""
    return {f"{c.classname}::{c.name}": (c.status, dict(c.properties.to_pairs()))
            for c in verdict.cases}


@pytest.fixture(scope="module")
def in_process(projects: dict[str, Path]) -> dict[str, Verdict]:
    return {name: _check(project, "python") for name, project in projects.items()}


@pytest.mark.parametrize("example", list(KINDS))
@pytest.mark.parametrize("protocol", ["harness", "open-inference-v2", "mlflow"])
def test_a_real_server_gives_the_same_verdicts_and_figures_as_in_process(
        projects, servers, in_process, example: str, protocol: str) -> None:
    project, url = projects[example], _url(servers, protocol, example)
    config = load_config(_config(project, f"{protocol}-scores", adapter="http", url=url,
                                 protocol=protocol))
    frame = pd.read_csv(project / config.golden[0].path)
    local = open_model(load_config(_config(project, "python")))
    remote = open_model(config)
    rows = features(frame, config.model)
    gap = float(np.max(np.abs(local.score(rows) - remote.score(rows))))
    print(f"\n{example} via {protocol}: max |in-process - server| score = {gap:.3g}")
    assert gap <= 1e-9, "the server must score exactly what the model does in-process"

    over_http = _check(project, protocol, adapter="http", url=url, protocol=protocol)
    expected, measured = _cases(in_process[example]), _cases(over_http)
    assert in_process[example].passed and over_http.passed
    assert measured.keys() == expected.keys()
    for gate, (status, properties) in expected.items():
        assert measured[gate][0] == status, gate
        for key in NUMBERS:
            if key in properties:
                a, b = float(properties[key]), float(measured[gate][1][key])
                assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-4, (gate, key)


@pytest.mark.parametrize("example", list(KINDS))
def test_one_2d_tensor_scores_as_one_tensor_per_column(projects, servers, example) -> None:
    project, url = projects[example], servers["open-inference-v2"]
    columns = open_model(load_config(_config(project, "oip-columns", adapter="http", url=url,
                                             protocol="open-inference-v2")))
    matrix = open_model(load_config(_config(project, "oip-matrix", adapter="http", url=url,
                                            protocol="open-inference-v2", tensors="matrix")))
    config = load_config(project / "harness-oip-matrix.yaml")
    rows = features(pd.read_csv(project / config.golden[0].path), config.model)
    assert np.array_equal(columns.score(rows), matrix.score(rows))


def test_the_binary_reference_model_gets_the_same_verdicts_through_the_generic_server(
        project: Path, service_url: str) -> None:
    """Over HTTP for real: pytest in its own process, its JUnit read back."""
    in_process = judge(load_config(project / "harness.yaml"), "pr")
    data = yaml.safe_load((project / "harness.yaml").read_text())
    data["model"].update(adapter="http", url=service_url, protocol="harness")
    (project / "harness-http.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    over_http = run_check(load_config(project / "harness-http.yaml"), "pr", project / "http")
    assert over_http.verdict.passed == in_process.passed
    expected, measured = _cases(in_process), _cases(over_http.verdict)
    assert measured.keys() == expected.keys()
    for gate, (status, properties) in expected.items():
        assert measured[gate][0] == status, gate
        assert {k: measured[gate][1].get(k) for k in NUMBERS} == {
            k: properties.get(k) for k in NUMBERS}, gate


def test_a_service_in_another_protocol_stops_the_check_with_exit_2(projects, servers) -> None:
    url = servers["mlflow/diabetes"]
    config = _config(projects["diabetes"], "mismatch", adapter="http", url=url,
                     protocol="open-inference-v2")
    result = subprocess.run(
        [sys.executable, "-m", "harness", "--config", str(config), "check", "--profile", "pr"],
        check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert f"{url} does not speak model.protocol 'open-inference-v2'" in message
    assert "GET /v2/health/ready answered 404" in message
    assert "it answers like 'mlflow': set model.protocol: mlflow" in message


def test_an_answer_in_another_shape_names_the_field_expected(projects, servers) -> None:
    import httpx

    frame = pd.read_csv(projects["wine"] / "golden/wine/v1/wine.csv").drop(columns="cultivar")
    oip = Wire("open-inference-v2", MULTICLASS, "wine")
    mlserver_answer = httpx.post(servers["open-inference-v2"] + oip.infer_path,
                                 json=oip.body(frame.head(2))).json()
    mlflow_wire = Wire("mlflow", MULTICLASS)
    mlflow_answer = httpx.post(servers["mlflow/wine"] + mlflow_wire.infer_path,
                               json=mlflow_wire.body(frame.head(2))).json()
    with pytest.raises(UnexpectedAnswer, match="expected 'predictions'"):
        mlflow_wire.read(mlserver_answer, 2, "http://x/invocations")
    with pytest.raises(UnexpectedAnswer, match="expected 'outputs'"):
        oip.read(mlflow_answer, 2, "http://x/v2/models/wine/infer")
    with pytest.raises(UnexpectedAnswer, match=r"expected 'predictions\[\]\.probabilities'"):
        Wire("harness", MULTICLASS).read(mlflow_answer, 2, "http://x/predict/batch")


@pytest.mark.parametrize(("protocol", "names"), [
    ("harness", ["/predict", "/predict/batch", "/health"]),
    ("open-inference-v2", ["/v2/models/diabetes/infer", "/v2/models/diabetes/infer[batch]",
                           "/v2/health/ready"]),
    ("mlflow", ["/invocations", "/invocations[batch]", "/ping"]),
])
def test_the_load_scenario_speaks_each_protocol(projects, servers, tmp_path, protocol,
                                                names) -> None:
    project = projects["diabetes"]
    path = _config(project, f"load-{protocol}", adapter="http",
                   url=_url(servers, protocol, "diabetes"), protocol=protocol)
    data = yaml.safe_load(path.read_text())
    data["load"] = {"users": 2, "spawn_rate": 2, "run_time_s": 3, "workers": 1,
                    "max_requests": 300,
                    "scenario": {"predict": 3, "predict_batch": 1, "health": 1,
                                 "batch_size": 8}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    results = run_load(load_config(path), tmp_path / "load")
    assert results.unreachable is None
    for name in names:
        stats = results.endpoints[name]
        assert stats.requests > 0 and stats.failures == 0, (name, results.errors)
