"""The report's pictures of the model, drawn from kept scores: one PNG per figure with its
numbers in a table, per kind. The scores here are made up (seeded), not a run's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, r2_score, roc_auc_score

from harness.gates.scores import Scores, load
from harness.run.report.model_plots import model_sections

PNG = b"\x89PNG\r\n\x1a\n"


def _binary(rows: int = 400, baseline: bool = True) -> Scores:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, rows)
    candidate = np.clip(0.3 * y + rng.uniform(0, 0.7, rows), 0, 1)
    passport = np.clip(0.4 * y + rng.uniform(0, 0.6, rows), 0, 1)
    return Scores("golden-v1", "binary", y, candidate, 0.5, ["bad", "good"],
                  passport if baseline else None, "passport #1" if baseline else "")


def _figures(section) -> dict[str, object]:
    return {Path(f.plot.file).stem.rsplit("-", 1)[1]: f for f in section.figures}


def test_binary_figures_compare_candidate_and_baseline_with_their_numbers(tmp_path):
    scores = _binary()
    (section,) = model_sections([scores], tmp_path)
    figures = _figures(section)
    assert list(figures) == ["roc", "pr", "calibration", "confusion", "scores"]
    for figure in section.figures:
        assert (tmp_path / figure.plot.file).read_bytes()[:8] == PNG
        assert [row[0] for row in figure.rows] == ["candidate", "passport #1"]
    roc = figures["roc"].rows
    assert roc[0][1] == f"{roc_auc_score(scores.y, scores.candidate):.4f}"
    assert roc[1][1] == f"{roc_auc_score(scores.y, scores.baseline):.4f}"
    assert figures["pr"].rows[0][1] == f"{average_precision_score(scores.y, scores.candidate):.4f}"
    tp, fp, fn, tn = (int(v) for v in figures["confusion"].rows[0][1:5])
    predicted = scores.candidate >= 0.5
    assert (tp, fp, fn, tn) == (int(np.sum(predicted & (scores.y == 1))),
                                int(np.sum(predicted & (scores.y == 0))),
                                int(np.sum(~predicted & (scores.y == 1))),
                                int(np.sum(~predicted & (scores.y == 0))))
    assert tp + fp + fn + tn == len(scores.y)
    # KS is the same figure from the ROC curve and from the two score distributions.
    assert figures["roc"].rows[0][2] == figures["scores"].rows[0][5]


def test_without_a_baseline_only_the_candidate_is_drawn(tmp_path):
    (section,) = model_sections([_binary(baseline=False)], tmp_path)
    assert section.baseline == ""
    assert all([row[0] for row in f.rows] == ["candidate"] for f in section.figures)


def test_multiclass_shows_the_confusion_matrix_and_recall_per_class(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    probabilities = rng.dirichlet([1, 1, 1], 300)
    probabilities[np.arange(300), y] += 0.5
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    scores = Scores("wine-v1", "multiclass", y, probabilities, 0.5, ["a", "b", "c"])
    (section,) = model_sections([scores], tmp_path)
    confusion, recall = section.figures
    assert [row[0] for row in confusion.rows] == ["a", "b", "c"]
    predicted = probabilities.argmax(axis=1)
    assert confusion.rows[0][1] == f"{np.mean(predicted[y == 0] == 0):.4f}"
    assert sum(int(row[-1]) for row in confusion.rows) == 300
    assert (tmp_path / recall.plot.file).read_bytes()[:8] == PNG


def test_regression_shows_predicted_against_actual_and_residuals(tmp_path):
    rng = np.random.default_rng(2)
    y = rng.normal(100, 20, 250)
    scores = Scores("diabetes-v1", "regression", y, y + rng.normal(2, 5, 250), 0.5, [],
                    y + rng.normal(0, 8, 250), "production")
    (section,) = model_sections([scores], tmp_path)
    scatter, residuals = section.figures
    assert scatter.rows[0][3] == f"{r2_score(y, scores.candidate):.4f}"
    assert [row[0] for row in residuals.rows] == ["candidate", "production"]
    assert float(residuals.rows[0][1]) > float(residuals.rows[1][1])  # the candidate is biased


def test_kept_scores_are_read_back_exactly(tmp_path):
    from harness.config import BootstrapSpec
    from harness.gates.evaluation import Evaluation
    from harness.gates.scores import save

    scores = _binary()
    evaluation = Evaluation("golden-v1", scores.y, scores.candidate, 0.5, BootstrapSpec(), {},
                            baseline=scores.baseline, baseline_name="production",
                            classes=["bad", "good"])
    save(evaluation, tmp_path, positive="bad")
    (back,) = load(tmp_path)
    assert (back.dataset, back.kind, back.classes, back.baseline_name, back.positive) == (
        "golden-v1", "binary", ["bad", "good"], "production", "bad")
    assert np.array_equal(back.y, scores.y) and np.array_equal(back.candidate, scores.candidate)
    assert back.baseline is not None and np.array_equal(back.baseline, scores.baseline)
    assert load(tmp_path / "elsewhere") == []
