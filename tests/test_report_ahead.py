"""The model's pictures drawn while pytest runs (harness/run/report/ahead.py): drawn once
the gates mark their scores complete, and used only for the scores they were drawn from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.config import BootstrapSpec
from harness.gates import scores
from harness.gates.evaluation import Evaluation
from harness.run.report.ahead import Ahead

PNG = b"\x89PNG\r\n\x1a\n"


def _keep(reports: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    candidate = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    scores.save(Evaluation("golden-v1", y, candidate, 0.5, BootstrapSpec(), {}), reports, "bad")


def test_pictures_drawn_ahead_are_used_for_the_scores_they_show_only(tmp_path: Path) -> None:
    _keep(tmp_path, seed=0)
    scores.mark_complete(tmp_path)
    ahead = Ahead.start(tmp_path)
    ahead.stop()
    sections = ahead.models(tmp_path)
    assert sections is not None and [s.dataset for s in sections] == ["golden-v1"]
    for figure in sections[0].figures:
        assert (tmp_path / "html" / figure.plot.file).read_bytes()[:8] == PNG
    _keep(tmp_path, seed=1)  # the scores changed after they were drawn
    assert ahead.models(tmp_path) is None


def test_nothing_is_drawn_before_the_gates_are_done(tmp_path: Path) -> None:
    _keep(tmp_path, seed=0)
    ahead = Ahead.start(tmp_path)
    ahead.stop()  # pytest ended without marking the scores complete
    assert ahead.models(tmp_path) is None
    assert not (tmp_path / "html").exists()
