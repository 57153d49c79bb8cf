"""The cancer team's model: a few lines of scikit-learn, and the entry point the harness loads.

Train:  python model.py              (data/train.csv -> artifacts/model/model.joblib)
Load:   model:load, called by the harness with the artifact folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

LABEL = "diagnosis"


def train(data: str = "data/train.csv", out: str = "artifacts/model", seed: int = 0) -> Path:
    frame = pd.read_csv(data)
    # Fitted on the string labels: classes_ is ['benign', 'malignant'], and the harness
    # scores the column of model.positive_label ('malignant').
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    model.fit(frame.drop(columns=[LABEL]), frame[LABEL])
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    return folder


def load(artifact: Path):
    return joblib.load(Path(artifact) / "model.joblib")


if __name__ == "__main__":
    print(f"wrote {train(*sys.argv[1:])}")
