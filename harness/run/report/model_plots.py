"""The model itself, in pictures: per golden dataset, the candidate against its baseline on
the same rows, from the scores the quality gates judged (``harness.gates.scores``). One
PNG per figure beside the page, each with the numbers it shows in a table, found by the
model's kind: binary (ROC, precision-recall, calibration, confusion matrix, score
distributions, KS and lift), multiclass (confusion matrix, per-class metrics), regression
(predicted against actual, residuals). The curves come from ``sklearn.metrics``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from harness.gates.scores import Scores
from harness.run.report.plots import Plot, _safe, _save

CANDIDATE = "#263238"
BASELINE = "#1565c0"
CALIBRATION_BINS = 10
Z95 = 1.959964  # the normal quantile of a 95% interval


@dataclass(frozen=True)
class ModelFigure:
    """One picture and the numbers it shows."""

    plot: Plot
    head: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ModelSection:
    """The pictures of one golden dataset's scores."""

    dataset: str
    kind: str
    rows: int
    baseline: str  # the baseline's name ("passport #1", "production"), "" without one
    figures: list[ModelFigure] = field(default_factory=list)


def _f(value: float | None, digits: int = 4) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{value:.{digits}f}"


def _figure(width: float = 5.2, height: float = 4.0) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots()


def _series(scores: Scores) -> list[tuple[str, np.ndarray, str]]:
    """(label, scores, colour): the candidate, then the baseline where there is one."""
    series = [("candidate", scores.candidate, CANDIDATE)]
    if scores.baseline is not None:
        series.append((scores.baseline_name or "baseline", scores.baseline, BASELINE))
    return series


def _class_names(scores: Scores) -> tuple[str, str]:
    """(negative, positive) as the team calls them: ``bad`` and ``not bad``."""
    if scores.positive:
        return f"not {scores.positive}", scores.positive
    return "negative", "positive"


def _plot(figure: Figure, folder: Path, scores: Scores, name: str, alt: str,
          caption: str) -> Plot:
    return Plot(_save(figure, folder, f"model-{_safe(scores.dataset)}-{name}.png"), alt, caption)


# --- binary -----------------------------------------------------------------------------


def _ks(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """The KS statistic (the largest gap between the classes' score distributions, as
    max(TPR - FPR)) and the score where it is reached."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y, s)
    at = int(np.argmax(tpr - fpr))
    return float(tpr[at] - fpr[at]), float(min(thresholds[at], 1.0))


def _lift(y: np.ndarray, s: np.ndarray, share: float) -> float:
    """The positive rate in the top ``share`` of scores over the positive rate of all rows."""
    top = max(1, round(share * len(s)))
    chosen = np.argsort(-s, kind="stable")[:top]
    base = float(np.mean(y))
    return float(np.mean(y[chosen]) / base) if base > 0 else float("nan")


def _roc(scores: Scores, folder: Path) -> ModelFigure:
    from sklearn.metrics import roc_auc_score, roc_curve

    figure, axes = _figure()
    rows = []
    for label, s, colour in _series(scores):
        fpr, tpr, _ = roc_curve(scores.y, s)
        auc = float(roc_auc_score(scores.y, s))
        ks, at = _ks(scores.y, s)
        axes.plot(fpr, tpr, color=colour, linewidth=1.5, label=f"{label} (AUC {auc:.3f})")
        rows.append([label, _f(auc), _f(ks), _f(at, 3)])
    axes.plot([0, 1], [0, 1], color="#9e9e9e", linestyle=":", linewidth=1, label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1))
    axes.set_title("ROC curve", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    plot = _plot(figure, folder, scores, "roc", "ROC curves of the candidate and the baseline",
                 "ROC: true against false positive rate over every threshold; the KS "
                 "statistic is the largest vertical gap to the diagonal.")
    return ModelFigure(plot, ["model", "ROC AUC", "KS", "KS at score"], rows)


def _precision_recall(scores: Scores, folder: Path) -> ModelFigure:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    figure, axes = _figure()
    rows = []
    for label, s, colour in _series(scores):
        precision, recall, _ = precision_recall_curve(scores.y, s)
        ap = float(average_precision_score(scores.y, s))
        axes.step(recall, precision, where="post", color=colour, linewidth=1.5,
                  label=f"{label} (AP {ap:.3f})")
        rows.append([label, _f(ap), _f(_lift(scores.y, s, 0.1), 2), _f(_lift(scores.y, s, 0.2), 2)])
    base = float(np.mean(scores.y))
    axes.axhline(base, color="#9e9e9e", linestyle=":", linewidth=1, label=f"positive rate {base:.3f}")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.set_title("Precision-recall curve", fontsize=10)
    axes.legend(loc="upper right", fontsize=8)
    plot = _plot(figure, folder, scores, "pr", "precision-recall curves of the candidate and "
                 "the baseline", "Precision against recall over every threshold; lift: the "
                 "positive rate among the top-scored 10% (20%) of rows over the overall rate.")
    return ModelFigure(plot, ["model", "average precision", "lift top 10%", "lift top 20%"], rows)


def _calibration(scores: Scores, folder: Path) -> ModelFigure:
    """Reliability: the observed positive rate per bin of predicted probability (equal-count
    bins) with its 95% Wilson interval as a band."""
    from sklearn.metrics import brier_score_loss

    figure, axes = _figure()
    rows = []
    for label, s, colour in _series(scores):
        edges = np.unique(np.quantile(s, np.linspace(0, 1, CALIBRATION_BINS + 1)))
        bins = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)
        predicted, observed, low, high = [], [], [], []
        for b in range(len(edges) - 1):
            members = bins == b
            n = int(members.sum())
            if n == 0:
                continue
            p = float(np.mean(scores.y[members]))
            centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
            half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
            predicted.append(float(np.mean(s[members])))
            observed.append(p)
            low.append(centre - half)
            high.append(centre + half)
        axes.fill_between(predicted, low, high, color=colour, alpha=0.15, linewidth=0)
        axes.plot(predicted, observed, marker="o", markersize=3, color=colour, linewidth=1.5,
                  label=label)
        gap = float(np.mean(np.abs(np.array(predicted) - np.array(observed))))
        rows.append([label, _f(float(brier_score_loss(scores.y, s))), _f(gap),
                     str(len(predicted))])
    axes.plot([0, 1], [0, 1], color="#9e9e9e", linestyle=":", linewidth=1,
              label="perfectly calibrated")
    axes.set(xlabel="predicted probability (bin mean)", ylabel="observed positive rate",
             xlim=(0, 1), ylim=(0, 1))
    axes.set_title("Calibration (reliability)", fontsize=10)
    axes.legend(loc="upper left", fontsize=8)
    plot = _plot(figure, folder, scores, "calibration", "calibration curves with their "
                 "confidence bands", f"Observed positive rate per bin of {CALIBRATION_BINS} "
                 "equal-count bins of predicted probability, with its 95% (Wilson) interval as "
                 "a band; on the diagonal is calibrated.")
    return ModelFigure(plot, ["model", "Brier score", "mean |predicted - observed|", "bins"],
                       rows)


def _confusion(scores: Scores, folder: Path) -> ModelFigure:
    from sklearn.metrics import confusion_matrix

    series = _series(scores)
    figure = Figure(figsize=(4.2 * len(series), 3.6), layout="constrained")
    grid = figure.subplots(1, len(series), squeeze=False)
    rows = []
    for axes, (label, s, _) in zip(grid.flat, series):
        matrix = confusion_matrix(scores.y, (s >= scores.threshold).astype(int), labels=[0, 1])
        _matrix(axes, matrix, list(_class_names(scores)), f"{label} at threshold {scores.threshold:g}")
        tn, fp, fn, tp = (int(v) for v in matrix.ravel())
        rows.append([label, str(tp), str(fp), str(fn), str(tn),
                     _f(tp / (tp + fp) if tp + fp else float("nan")),
                     _f(tp / (tp + fn) if tp + fn else float("nan"))])
    plot = _plot(figure, folder, scores, "confusion", "confusion matrices at the decision "
                 "threshold", f"Rows: the true class; columns: the class predicted at the "
                 f"decision threshold {scores.threshold:g} (model.threshold).")
    return ModelFigure(plot, ["model", "TP", "FP", "FN", "TN", "precision", "recall"], rows)


def _distributions(scores: Scores, folder: Path) -> ModelFigure:
    from scipy.stats import ks_2samp

    series = _series(scores)
    figure = Figure(figsize=(4.2 * len(series), 3.4), layout="constrained")
    grid = figure.subplots(1, len(series), squeeze=False)
    bins = np.linspace(0, 1, 26)
    rows = []
    for axes, (label, s, _) in zip(grid.flat, series):
        positives, negatives = s[scores.y == 1], s[scores.y == 0]
        negative, positive = _class_names(scores)
        axes.hist(negatives, bins=bins, color="#2e7d32", alpha=0.55, label=f"true {negative}")
        axes.hist(positives, bins=bins, color="#c62828", alpha=0.55, label=f"true {positive}")
        axes.axvline(scores.threshold, color="#212121", linestyle="--", linewidth=1,
                     label=f"threshold {scores.threshold:g}")
        axes.set(xlabel=f"score (P({positive}))", ylabel="rows")
        axes.set_title(label, fontsize=10)
        axes.legend(fontsize=8)
        test = ks_2samp(positives, negatives)
        rows.append([label, str(len(positives)), _f(float(np.median(positives)), 3),
                     str(len(negatives)), _f(float(np.median(negatives)), 3),
                     _f(float(test.statistic)), f"{float(test.pvalue):.2g}"])
    plot = _plot(figure, folder, scores, "scores", "score distributions per class",
                 "Scores per true class; the further apart, the better the model separates "
                 "them (KS: the two-sample Kolmogorov-Smirnov statistic).")
    return ModelFigure(plot, ["model", "positives", "median score", "negatives", "median score",
                              "KS", "p-value"], rows)


def _matrix(axes: Any, matrix: np.ndarray, names: list[str], title: str) -> None:
    """A confusion matrix as a heat map, each cell's count and share of its row written in."""
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    small = len(names) <= 6
    for (i, j), count in np.ndenumerate(matrix):
        text = f"{count}\n{shares[i, j]:.0%}" if small else str(count)
        axes.text(j, i, text, ha="center", va="center", fontsize=9 if small else 7,
                  color="white" if shares[i, j] > 0.6 else "#212121")
    axes.set_xticks(range(len(names)), names, fontsize=8, rotation=30 if len(names) > 3 else 0)
    axes.set_yticks(range(len(names)), names, fontsize=8)
    axes.set(xlabel="predicted", ylabel="true")
    axes.set_title(title, fontsize=10)


def binary(scores: Scores, folder: Path) -> list[ModelFigure]:
    return [_roc(scores, folder), _precision_recall(scores, folder),
            _calibration(scores, folder), _confusion(scores, folder),
            _distributions(scores, folder)]


# --- multiclass -------------------------------------------------------------------------


def multiclass(scores: Scores, folder: Path) -> list[ModelFigure]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    names = scores.classes or [str(i) for i in range(scores.candidate.shape[1])]
    labels = list(range(len(names)))
    series = _series(scores)
    figure = Figure(figsize=(4.6 * len(series), 4.2), layout="constrained")
    grid = figure.subplots(1, len(series), squeeze=False)
    per_class: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for axes, (label, s, _) in zip(grid.flat, series):
        predicted = np.argmax(s, axis=1)
        _matrix(axes, confusion_matrix(scores.y, predicted, labels=labels), names, label)
        per_class[label] = precision_recall_fscore_support(
            scores.y, predicted, labels=labels, zero_division=0)
    confusion = ModelFigure(
        _plot(figure, folder, scores, "confusion", "confusion matrices",
              "Rows: the true class; columns: the class with the highest probability."),
        ["true class", *[f"{label} recall" for label, _, _ in series], "rows"],
        [[name, *[_f(float(per_class[label][1][i])) for label, _, _ in series],
          str(int(per_class["candidate"][3][i]))] for i, name in enumerate(names)])
    figure, axes = _figure(max(5.2, 0.9 * len(names) + 2), 3.6)
    width = 0.8 / len(series)
    for k, (label, _, colour) in enumerate(series):
        axes.bar(np.arange(len(names)) + (k - (len(series) - 1) / 2) * width,
                 per_class[label][1], width=width, color=colour, label=label)
    axes.set_xticks(range(len(names)), names, fontsize=8)
    axes.set(ylabel="recall", ylim=(0, 1.05))
    axes.set_title("Recall per class", fontsize=10)
    axes.legend(fontsize=8)
    recall = ModelFigure(
        _plot(figure, folder, scores, "recall", "recall per class",
              "Recall per true class: the share of its rows the model names correctly."),
        ["class", *[f"{label} {m}" for label, _, _ in series for m in ("precision", "F1")]],
        [[name, *[_f(float(per_class[label][j][i])) for label, _, _ in series
                  for j in (0, 2)]] for i, name in enumerate(names)])
    return [confusion, recall]


# --- regression -------------------------------------------------------------------------


def regression(scores: Scores, folder: Path) -> list[ModelFigure]:
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    series = _series(scores)
    y = scores.y.astype(float)
    figure = Figure(figsize=(4.4 * len(series), 4.0), layout="constrained")
    grid = figure.subplots(1, len(series), squeeze=False)
    low, high = float(np.min(y)), float(np.max(y))
    for axes, (label, s, colour) in zip(grid.flat, series):
        axes.scatter(y, s, s=6, alpha=0.5, color=colour)
        axes.plot([low, high], [low, high], color="#9e9e9e", linestyle=":", linewidth=1)
        axes.set(xlabel="actual", ylabel="predicted")
        axes.set_title(label, fontsize=10)
    rows = [[label, _f(float(mean_absolute_error(y, s))),
             _f(float(root_mean_squared_error(y, s))), _f(float(r2_score(y, s)))]
            for label, s, _ in series]
    scatter = ModelFigure(
        _plot(figure, folder, scores, "predicted", "predicted against actual values",
              "Each golden row: predicted against actual; on the dotted diagonal is exact."),
        ["model", "MAE", "RMSE", "R²"], rows)
    figure, axes = _figure(6.0, 3.6)
    residuals = {label: np.asarray(s, dtype=float) - y for label, s, _ in series}
    spread = max(float(np.max(np.abs(r))) for r in residuals.values()) or 1.0
    bins = np.linspace(-spread, spread, 41)
    for label, _, colour in series:
        axes.hist(residuals[label], bins=bins, histtype="step", linewidth=1.5, color=colour,
                  label=label)
    axes.axvline(0, color="#9e9e9e", linestyle=":", linewidth=1)
    axes.set(xlabel="residual (predicted - actual)", ylabel="rows")
    axes.set_title("Residuals", fontsize=10)
    axes.legend(fontsize=8)
    histogram = ModelFigure(
        _plot(figure, folder, scores, "residuals", "residual distributions",
              "Residuals of every golden row: centred on zero is unbiased, narrow is precise."),
        ["model", "mean residual", "median residual", "std residual", "95% within ±"],
        [[label, _f(float(np.mean(r))), _f(float(np.median(r))), _f(float(np.std(r))),
          _f(float(np.quantile(np.abs(r), 0.95)))] for label, r in residuals.items()])
    return [scatter, histogram]


FIGURES: dict[str, Callable[[Scores, Path], list[ModelFigure]]] = {
    "binary": binary, "multiclass": multiclass, "regression": regression,
}


def model_sections(all_scores: list[Scores], folder: Path) -> list[ModelSection]:
    """A section per golden dataset whose scores the run kept (kinds without pictures,
    e.g. a team's own, get none)."""
    sections = []
    for scores in all_scores:
        draw = FIGURES.get(scores.kind)
        if draw is None or len(scores.y) == 0:
            continue
        sections.append(ModelSection(scores.dataset, scores.kind, len(scores.y),
                                     scores.baseline_name if scores.baseline is not None else "",
                                     draw(scores, folder)))
    return sections
