"""The quality-check peers of ``benchmarks/peers.py``, one per process: MLflow's default
evaluator (``mlflow.models.evaluate``, binary classifier) and evidently's classification
preset, each on a golden CSV and a fitted scikit-learn model, as a team would call them.

    python benchmarks/peers_quality.py mlflow GOLDEN.csv MLFLOW_MODEL_DIR OUT.json
    python benchmarks/peers_quality.py evidently GOLDEN.csv MODEL.joblib OUT.json

Run by the interpreter of the environment the peer is installed in (evidently's own
virtualenv, benchmarks/peer_envs.py), so it imports neither the harness nor anything but
the peer, pandas and scikit-learn. Writes the seconds of each stage (import, read, score,
metrics) and the metrics it computed, so the caller can print them beside the harness's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LABEL, POSITIVE = "Status", "bad"


class Stages:
    """Seconds per named stage, each timed by a ``with stages("name"):`` block."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started


def _mlflow(golden: Path, model: Path) -> tuple[dict[str, float], dict[str, float]]:
    stages = Stages()
    with stages("import"):
        import mlflow
        import pandas as pd
    with stages("read"):
        frame = pd.read_csv(golden)
    with tempfile.TemporaryDirectory() as tracking:
        # A throw-away store on this disk: nothing leaves the machine. Creating it (mlflow
        # migrates a new SQLite store) is set-up, timed apart from the evaluation.
        with stages("tracking set-up"):
            mlflow.set_tracking_uri(f"sqlite:///{tracking}/mlflow.db")
            mlflow.start_run()
        with stages("score+metrics"):
            # The default evaluator scores the model itself (predict and predict_proba);
            # explainability (SHAP) is off: the harness computes none either.
            result = mlflow.models.evaluate(
                str(model), frame, targets=LABEL, model_type="classifier",
                evaluator_config={"pos_label": POSITIVE, "log_model_explainability": False})
        mlflow.end_run()
    metrics = {k: float(v) for k, v in result.metrics.items()
               if isinstance(v, (int, float)) and k in ("roc_auc", "log_loss", "precision_score",
                                                        "recall_score", "f1_score")}
    return stages.seconds, metrics


def _evidently(golden: Path, model: Path) -> tuple[dict[str, float], dict[str, float]]:
    stages = Stages()
    with stages("import"):
        import joblib
        import pandas as pd
        from evidently import BinaryClassification, DataDefinition, Dataset, Report
        from evidently.presets import ClassificationPreset
    with stages("read"):
        frame = pd.read_csv(golden)
    with stages("score"):
        pipeline = joblib.load(model)
        column = list(pipeline.classes_).index(POSITIVE)
        probability = pipeline.predict_proba(frame.drop(columns=[LABEL]))[:, column]
    with stages("metrics"):
        scored = pd.DataFrame({
            "target": frame[LABEL],
            "prediction": pd.Series(probability >= 0.5).map({True: POSITIVE, False: "good"}),
            POSITIVE: probability,
        })
        definition = DataDefinition(classification=[BinaryClassification(
            target="target", prediction_labels="prediction", prediction_probas=POSITIVE,
            pos_label=POSITIVE)])
        dataset = Dataset.from_pandas(scored, data_definition=definition)
        figures = Report([ClassificationPreset()]).run(current_data=dataset).dict()
    metrics: dict[str, float] = {}
    for entry in figures.get("metrics", []):
        value = entry.get("value")
        name = str(entry.get("metric_name", "")).split("(")[0]
        if isinstance(value, (int, float)) and name in (
                "RocAuc", "LogLoss", "Precision", "Recall", "F1Score", "Accuracy"):
            metrics[name] = float(value)
    return stages.seconds, metrics


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("mlflow", "evidently"):
        print(__doc__, file=sys.stderr)
        return 2
    peer, golden, model, out = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    stages, metrics = (_mlflow if peer == "mlflow" else _evidently)(golden, model)
    result: dict[str, Any] = {"peer": peer, "stages": stages, "metrics": metrics}
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
