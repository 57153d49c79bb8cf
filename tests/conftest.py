"""Shared fixtures: a model trained once per session, a copy of the reference project
in a temporary folder, and the reference service running on a loopback port."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.gates import deepchecks_env
from tests.support import child_pytest
from tests.support.file_order import file_seconds, longest_first
from tests.support.once import once
from tests.support.project import EXAMPLE, reference_copy
from tests.support.service_process import running_service

# The reference project's model code is importable here as the harness makes it importable
# for the team (the config's folder is on the path).
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))


@pytest.fixture(scope="session", autouse=True)
def harness_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This session's cache folder, apart from the user's: deepchecks' virtualenv is created
    in it from PyPI on first use, once per session, as on a clean machine. Under xdist the
    session's workers share one folder (beside their own temporary roots): the first that
    needs the virtualenv builds it and the others wait on its lock."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.getbasetemp().parent / "harness-cache"
        folder.mkdir(exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("harness-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(deepchecks_env.CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def child_pytest_plugins() -> Iterator[None]:
    """The pytest processes the harness starts in this session load only the plugins a check
    uses (tests/support/child_pytest.py). Set in the session, not at import: the test
    processes themselves (xdist's workers too) keep every installed plugin."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in child_pytest.environment().items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def deepchecks_environment(harness_cache: Path) -> deepchecks_env.DeepchecksEnv:
    """deepchecks' virtualenv of this session (created here if nothing needed it before)."""
    return deepchecks_env.ensure()


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from credit_model.train import train

    return once(tmp_path_factory, "model_artifact", lambda: train(
        EXAMPLE / "fixtures/credit/train.csv", tmp_path_factory.mktemp("model") / "credit"))



@pytest.fixture(scope="session")
def second_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another model (other seed, smaller sample): a different artifact sha256."""
    from credit_model.train import train

    return once(tmp_path_factory, "second_artifact", lambda: train(
        EXAMPLE / "fixtures/credit/train.csv", tmp_path_factory.mktemp("model2") / "credit",
        seed=1, sample=400))


@pytest.fixture(scope="session")
def flipped_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A degraded model: trained with a third of its labels flipped (the shadow's and the
    canary's degraded candidate)."""
    import pandas as pd
    from credit_model.train import train

    folder = tmp_path_factory.mktemp("flipped")
    data = pd.read_csv(EXAMPLE / "fixtures/credit/train.csv")
    flip = data.sample(frac=0.35, random_state=7).index
    data.loc[flip, "Status"] = data.loc[flip, "Status"].map({"good": "bad", "bad": "good"})
    data.to_csv(folder / "train.csv", index=False)
    return train(folder / "train.csv", folder / "credit")


@pytest.fixture
def project(tmp_path: Path, model_artifact: Path) -> Path:
    """A copy of the reference project's data and config, using the session's model;
    its ``pr`` profile runs the built-in checks only."""
    return reference_copy(tmp_path, model_artifact)


@pytest.fixture(scope="session")
def service_url(model_artifact: Path) -> Iterator[str]:
    """The reference service, started for real on a loopback port for this session."""
    with running_service(model_artifact) as url:
        yield url


def _load_run(candidate: str, p50: float, p95: float, p99: float, rps: float):
    """A load-test run as the load suite records it (suite ``load``, one gate per figure)."""
    from harness.history import MetricRecord, RunRecord

    figures = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "rps": rps}
    return RunRecord(
        project="credit-scoring", profile="nightly", candidate_id=candidate,
        model_sha256="m" * 64, config_sha256="c" * 64, golden_sha256={}, verdict="passed",
        duration_s=30.0, tests=4, failures=0, errors=0, skipped=0,
        metrics=[MetricRecord(f"load.predict::{name}", "predict", "overall", name, value,
                              "passed") for name, value in figures.items()],
    )


@pytest.fixture(scope="session")
def nightly_run(tmp_path_factory: pytest.TempPathFactory, model_artifact: Path):
    """A real nightly run of the reference project (schema, quality, drift, feature drift
    and deepchecks' data-integrity suite) with a roc_auc floor the model cannot hold,
    after two load-test runs in its history: what the report tests read."""
    return once(tmp_path_factory, "nightly_run", lambda: _nightly_run(tmp_path_factory,
                                                                      model_artifact))


def _nightly_run(tmp_path_factory: pytest.TempPathFactory, model_artifact: Path):
    from harness.config import load_config
    from harness.history import HistoryStore
    from harness.run.engine import run_check

    folder = tmp_path_factory.mktemp("nightly")
    for name in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / name, folder / name)
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"]["artifact"] = str(model_artifact)
    data["gates"]["quality"]["roc_auc"]["min"] = 0.9
    data["deepchecks"] = {"suites": ["data_integrity"], "exclude": []}
    data["profiles"] = {"nightly": {"checks": ["schema", "quality", "drift", "feature_drift",
                                               "deepchecks"],
                                    "baseline": "passport"}}
    (folder / "harness.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    config = load_config(folder / "harness.yaml")
    store = HistoryStore(config.history_url())
    store.record_run(_load_run("older", 12.0, 40.0, 75.0, 180.0))
    store.record_run(_load_run("old", 11.0, 38.0, 90.0, 195.0))
    store.close()
    return run_check(config, "nightly", folder / "reports")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test files first, so two workers under ``--dist loadfile`` finish close
    together (tests/support/file_order.py)."""
    items[:] = longest_first(items, file_seconds())
