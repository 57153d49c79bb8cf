"""The diabetes model: how its pipeline is built and how a trained one is loaded.

``load_model`` is the in-process entry point the harness imports as
"diabetes_model.model:load_model"; it returns the fitted scikit-learn pipeline, whose
``predict`` gives one number per row.
"""

from __future__ import annotations

from pathlib import Path

import joblib
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import Pipeline

MODEL_FILE = "model.joblib"
LABEL = "progression"


def build_pipeline(seed: int) -> Pipeline:
    # subsample < 1 makes the fit stochastic, so the seed really matters.
    booster = GradientBoostingRegressor(n_estimators=300, learning_rate=0.03, max_depth=2,
                                        subsample=0.8, random_state=seed)
    return Pipeline([("booster", booster)])


def load_model(artifact: str | Path) -> Pipeline:
    return joblib.load(Path(artifact) / MODEL_FILE)
