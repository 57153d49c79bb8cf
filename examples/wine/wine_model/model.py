"""The wine model: how its pipeline is built and how a trained one is loaded.

``load_model`` is the in-process entry point the harness imports as
"wine_model.model:load_model"; it returns the fitted scikit-learn pipeline, whose
``classes_`` name the columns of ``predict_proba``.
"""

from __future__ import annotations

from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

MODEL_FILE = "model.joblib"
LABEL = "cultivar"


def build_pipeline(seed: int) -> Pipeline:
    # max_features and bootstrap rows make the forest depend on the seed.
    forest = RandomForestClassifier(n_estimators=200, min_samples_leaf=2, random_state=seed)
    return Pipeline([("forest", forest)])


def load_model(artifact: str | Path) -> Pipeline:
    return joblib.load(Path(artifact) / MODEL_FILE)
