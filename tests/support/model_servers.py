"""The standard model servers, installed from PyPI (the ``protocols`` test extra), started
for real on loopback ports: MLServer with its scikit-learn runtime (Open Inference
Protocol v2) and ``mlflow models serve --env-manager local`` (``/invocations``).

Each start is bounded in time; each server runs in its own process group, ended by its id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.processes import log_tail, wait_ready
from tests.support.service_process import free_port

BIN = Path(sys.executable).parent
READY_WITHIN_S = 120.0  # mlflow imports a lot; a shared 2-core host is slow to start it
# skops (mlflow's default format) refuses tree nodes unless trusted; these are our own
# (the credit model's one-hot encoder also keeps numpy dtypes).
TRUSTED = ["sklearn.tree._tree.Tree", "numpy.dtype"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def _serving(command: list[str], ready_path: str, port: int, folder: Path,
             log: Path) -> Iterator[str]:
    # The venv's bin first: mlflow runs `uvicorn` by name.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_ready(url + ready_path, READY_WITHIN_S, process.pid)
        if problem is not None:
            raise RuntimeError(f"{command[0]} did not start: {problem}\n{log_tail(log, 15)}")
        yield url
    finally:
        _stop(process)


@contextmanager
def mlserver(models: dict[str, Path], folder: Path) -> Iterator[str]:
    """MLServer serving each joblib file in ``models`` under its name; yields its URL."""
    for name, path in models.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "model-settings.json").write_text(json.dumps({
            "name": name, "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": str(path)}}))
    http, grpc, metrics = free_port(), free_port(), free_port()
    # parallel_workers 0: inference in the server process, no worker pool to start.
    (folder / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": http, "grpc_port": grpc, "metrics_port": metrics,
        "parallel_workers": 0}))
    command = [str(BIN / "mlserver"), "start", str(folder)]
    with _serving(command, "/v2/health/ready", http, folder, folder / "mlserver.log") as url:
        for name in models:  # ready means the server is; wait for each model too
            problem = wait_ready(f"{url}/v2/models/{name}/ready", 30)
            if problem is not None:
                raise RuntimeError(f"MLServer did not load '{name}': {problem}")
        yield url


def save_mlflow_models(models: list[tuple[Path, Path, str]]) -> None:
    """Save fitted scikit-learn models (joblib file, output folder, pyfunc method) in
    mlflow's format, in one process (mlflow is slow to import): the pyfunc calls the
    method named, ``predict_proba`` for a classifier's probabilities."""
    script = (
        "import sys, joblib, mlflow.sklearn\n"
        "for source, out, method in zip(*[iter(sys.argv[1:])] * 3):\n"
        "    mlflow.sklearn.save_model(joblib.load(source), out, pyfunc_predict_fn=method,\n"
        f"                              skops_trusted_types={TRUSTED!r})\n"
    )
    arguments = [str(part) for model in models for part in model]
    subprocess.run([sys.executable, "-c", script, *arguments], check=True, timeout=300,
                   capture_output=True)


@contextmanager
def mlflow_server(model_dir: Path, folder: Path) -> Iterator[str]:
    """``mlflow models serve`` on a saved model, in this environment; yields its URL."""
    port = free_port()
    command = [str(BIN / "mlflow"), "models", "serve", "-m", str(model_dir),
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    with _serving(command, "/ping", port, folder, folder / "mlflow.log") as url:
        yield url
