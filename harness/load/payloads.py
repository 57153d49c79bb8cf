"""The requests a load scenario sends, built from golden rows in the service's protocol
(``model.protocol``), so the locustfile only replays them and counts the answers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.config import HarnessConfig
from harness.model.protocols import HARNESS, Wire, json_records

_MAX_BATCHES = 50  # distinct batch bodies; users cycle through them


def scenario_requests(config: HarnessConfig, frame: pd.DataFrame,
                      batch_size: int) -> dict[str, Any]:
    """Paths, stats names and JSON bodies of the scenario's single-row and batch requests.

    Stats are named after the paths: ``/predict``, ``/predict/batch`` and ``/health`` for
    the harness's protocol; the inference path, the same path with ``[batch]`` and the
    health path for the others (``/invocations``, ``/invocations[batch]``, ``/ping``)."""
    model = config.model
    wire = Wire.of(model, model)
    rows = len(frame)
    starts = range(0, max(rows, 1), batch_size)
    batches = [frame.iloc[start : start + batch_size] for start in starts][:_MAX_BATCHES]
    if wire.protocol == HARNESS:
        single_path, batch_path = "/predict", "/predict/batch"
        names = {"predict": single_path, "predict_batch": batch_path}
        singles: list[Any] = json_records(frame)  # /predict takes one bare record
    else:
        single_path = batch_path = wire.infer_path
        names = {"predict": single_path, "predict_batch": f"{batch_path}[batch]"}
        singles = [wire.body(frame.iloc[i : i + 1]) for i in range(rows)]
    return {
        "records": json_records(frame),  # the rows themselves, for a team's own locustfile
        "protocol": wire.protocol,
        "paths": {"predict": single_path, "predict_batch": batch_path,
                  "health": wire.health_path},
        "names": {**names, "health": wire.health_path},
        "singles": singles,
        "batches": [{"rows": len(b), "body": wire.body(b)} for b in batches],
    }
