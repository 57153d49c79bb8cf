"""Ready means the model answers: one golden record scored through the service.

A service's ``/ready`` says the process loaded something; a ``/predict`` that answers 500
(a broken model, a fault injected by mistake) is still not ready. The deploy's readiness
wait and ``harness status`` both ask this after the readiness endpoint answers.
"""

from __future__ import annotations

from harness.config import HarnessConfig
from harness.errors import HarnessError


def scoring_problem(config: HarnessConfig, url: str) -> str | None:
    """None when the service at ``url`` scores the first record of the first golden set
    in ``model.protocol``; otherwise what it answered. None as well when there is nothing
    to score (no golden set, or one that cannot be read: the checks' preflight says so)."""
    if not config.golden:
        return None
    # Imported here: `harness status` imports this module and asks only a running service.
    import pandas as pd

    from harness.model.adapters import HttpModel, features

    spec = config.golden[0]
    try:
        frame = pd.read_csv(config.resolve(spec.path), nrows=1)
    except (OSError, ValueError):
        return None
    if frame.empty:
        return None
    try:
        model = HttpModel.open(config.model.over_http(url), config)
        try:
            model.score(features(frame, config.model))
        finally:
            model.close()
    except HarnessError as exc:
        return f"it could not score one record of golden set '{spec.name}': {exc}"
    return None
