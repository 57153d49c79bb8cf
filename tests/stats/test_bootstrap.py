"""The vectorised bootstrap: exact on each resample, paired, and honest intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from harness.kinds import BINARY
from harness.kinds.metrics import binary as metrics
from harness.stats import bootstrap

NAMES = list(BINARY.metric_names)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 800)
    scores = np.clip(y * 0.25 + rng.normal(0.4, 0.2, 800), 0, 1).round(2)  # many ties
    return y, scores


@pytest.mark.parametrize("name", NAMES)
def test_each_resample_matches_scikit_learn_on_the_rows_drawn(name, data):
    y, scores = data
    rows = np.random.default_rng(0).integers(0, len(y), size=(5, len(y)), dtype=np.int32)
    vectorised = metrics.resampled_metric(name, y, scores, 0.5)(rows)
    naive = [metrics.compute(name, y[r], scores[r], 0.5) for r in rows]
    np.testing.assert_allclose(vectorised, naive, rtol=1e-10, atol=1e-12)


def test_roc_auc_counts_ties_as_halves(data):
    y, scores = data
    identity = np.arange(len(y), dtype=np.int32)[None, :]
    auc = metrics.resampled_metric("roc_auc", y, scores, 0.5)(identity)[0]
    assert auc == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)


def test_identical_models_differ_by_exactly_nothing(data):
    y, scores = data
    paired = bootstrap.paired(BINARY.row_metric("roc_auc", y, scores, [], 0.5),
                              BINARY.row_metric("roc_auc", y, scores.copy(), [], 0.5),
                              500, 0.95, 0)
    assert paired.difference.value == 0
    assert (paired.difference.interval.low, paired.difference.interval.high) == (0, 0)


def test_pairing_narrows_the_interval_of_a_difference(data):
    y, scores = data
    noisy = np.clip(scores + np.random.default_rng(1).normal(0, 0.02, len(scores)), 0, 1)
    paired = bootstrap.paired(metrics.row_metric("roc_auc", y, noisy, 0.5),
                              metrics.row_metric("roc_auc", y, scores, 0.5), 1000, 0.95, 0)
    width_paired = paired.difference.interval.high - paired.difference.interval.low
    width_single = paired.candidate.interval.high - paired.candidate.interval.low
    assert width_paired < width_single / 3


def test_interval_covers_the_value_and_is_reproducible(data):
    y, scores = data
    log_loss = metrics.row_metric("log_loss", y, scores, 0.5)
    first = bootstrap.estimate(log_loss, 400, 0.9, seed=7)
    again = bootstrap.estimate(metrics.row_metric("log_loss", y, scores, 0.5), 400, 0.9, seed=7)
    assert first == again
    assert first.interval.low < first.value < first.interval.high


def test_blocks_cover_every_resample_requested():
    blocks = list(bootstrap.resample_rows(n=3000, resamples=2500, seed=0))
    assert sum(b.shape[0] for b in blocks) == 2500 and len(blocks) > 1
