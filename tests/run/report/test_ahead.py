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


def test_the_same_scores_are_drawn_once_then_copied_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    runs = [tmp_path / name for name in ("one", "two", "three")]
    for run, seed in zip(runs, (0, 0, 1)):
        _keep(run, seed)
        scores.mark_complete(run)
    first = Ahead.start(runs[0], cache=cache)
    first.stop()
    drawn = first.models(runs[0])
    assert drawn is not None
    (entry,) = cache.iterdir()
    # What is in the cache is what a run with the same scores shows, not drawn again.
    marked = drawn[0].figures[0].plot.file
    (entry / marked).write_bytes(PNG + b"kept")
    second = Ahead.start(runs[1], cache=cache)
    second.stop()
    assert second.models(runs[1]) == drawn
    assert (runs[1] / "html" / marked).read_bytes() == PNG + b"kept"
    third = Ahead.start(runs[2], cache=cache)  # other scores: drawn, kept apart
    third.stop()
    assert third.models(runs[2]) not in (None, drawn)
    assert len(list(cache.iterdir())) == 2
    assert (runs[2] / "html" / marked).read_bytes() != PNG + b"kept"
