"""Reading a real server's prediction log onward from the moment the reader is made, and
refusing a log that keeps nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.errors import DeployError
from harness.release.shadow_logs import LogReader
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import running_service

APPLICATION = {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30, "Marital": "married",
               "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0,
               "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}


def _config(folder: Path, max_records: int) -> Path:
    for name in ("golden", "fixtures", "credit_model"):
        (folder / name).symlink_to(EXAMPLE / name)
    return write_config(folder, profiles={"pr": {"checks": ["schema"]}},
                        server={"prediction_log": {"max_records": max_records}})


def test_a_reader_sees_only_what_came_after_it(tmp_path: Path, model_artifact: Path) -> None:
    with running_service(model_artifact, config=_config(tmp_path, 100)) as url:
        httpx.post(f"{url}/predict", json=APPLICATION, headers={"X-Request-ID": "before"})
        reader = LogReader(url, "production")
        httpx.post(f"{url}/predict", json=APPLICATION, headers={"X-Request-ID": "after"})
        assert [r.request_id for r in reader.read()] == ["after"]
        assert reader.read() == [] and reader.lost == 0


def test_a_log_that_keeps_nothing_is_refused_naming_the_key(
        tmp_path: Path, model_artifact: Path) -> None:
    with (running_service(model_artifact, config=_config(tmp_path, 0)) as url,
          pytest.raises(DeployError, match="server.prediction_log.max_records is 0")):
        LogReader(url, "candidate")


def test_a_service_without_a_log_is_named() -> None:
    with pytest.raises(DeployError, match="must serve /predictions/log"):
        LogReader("http://127.0.0.1:9", "production")
