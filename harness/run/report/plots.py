"""The report's plots, drawn with matplotlib's Agg backend into PNG files beside the page
(Jenkins' Content-Security-Policy allows images from the report's own folder only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from harness.history import RunMetric
from harness.run.report.content import (
    LOAD_LATENCIES,
    LOAD_THROUGHPUT,
    DeepchecksGroup,
    MetricRow,
    ReportContent,
    SuiteCounts,
)
from harness.run.verdict import STATUSES

COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#6a1b9a", "skipped": "#9e9e9e"}
_DPI = 100


@dataclass(frozen=True)
class Plot:
    """A PNG file in the report folder, what it shows (its alt text) and its caption."""

    file: str
    alt: str
    caption: str


def _save(figure: Figure, folder: Path, name: str, crop: bool = True) -> str:
    """Save as PNG; ``crop``: to what was drawn (Matplotlib draws the figure once more to
    find it), for a figure whose margins are not set to hold its labels."""
    # Figure() without pyplot uses the Agg canvas: no display, no global state.
    figure.savefig(folder / name, dpi=_DPI, bbox_inches="tight" if crop else None)
    return name


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def suite_counts(suites: list[SuiteCounts], folder: Path) -> Plot | None:
    if not suites:
        return None
    return Plot(_save(_counts_figure(suites), folder, "suites.png"),
                "testcases per suite by outcome",
                "Testcases per suite: passed, failed, error, skipped.")


MIN_TREND_RUNS = 2  # one run is a point, not a trend: below this the page says so in words


def quality_trends(content: ReportContent, folder: Path) -> list[Plot]:
    """Per golden dataset, once two runs are recorded: each metric over past runs with its
    interval band, its floor or ceiling, and the baseline's figure. The caption names only
    what was drawn."""
    plots = []
    runs = len(_runs(content))
    if runs < MIN_TREND_RUNS:
        return plots
    for dataset in dict.fromkeys(m.dataset for m in content.metrics):
        rows = [m for m in content.metrics if m.dataset == dataset]
        figure, grid = _trend_grid((len(rows) + 1) // 2)
        drawn: set[str] = set()
        for axes, row in zip(grid.flat, rows):
            gate = f"quality.{dataset}::{row.metric}"
            history = [r for r in content.quality_history if r.gate == gate]
            drawn |= _trend(axes, row, history, content.gates.get(row.metric, (None, None)),
                            _baseline_figure(row, content.baseline))
        for axes in list(grid.flat)[len(rows):]:
            axes.set_visible(False)
        figure.suptitle(f"{dataset}: quality over the last {runs} runs")
        parts = ["each metric per run (line)"]
        parts += ["its confidence interval (grey band)"] if "band" in drawn else []
        parts += ["the gate's bound (red dashes)"] if "bound" in drawn else []
        parts += [f"the {content.baseline}'s figure in this run (blue)"] if "baseline" in drawn else []
        parts += ["runs where its floor or ceiling failed (red dots)"] if "failed" in drawn else []
        plots.append(Plot(_save(figure, folder, f"quality-{_safe(dataset)}.png", crop=False),
                          f"quality metrics of {dataset} over past runs",
                          f"{dataset}: " + ", ".join(parts) + "."))
    return plots


_PANEL_IN = 2.4  # the height of a row of trend panels, in inches


def _trend_grid(rows: int) -> tuple[Figure, Any]:
    """A figure of ``rows`` x 2 trend panels with margins fixed in inches, enough for a
    panel's title, its tick labels and its axis label, and the figure's title. The quality
    trends are the last picture a check waits for: constrained layout measured every label
    twice per save and took half their drawing time (docs/performance.md)."""
    height = _PANEL_IN * rows
    figure = Figure(figsize=(9, height))
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.55 / height, top=1 - 0.6 / height,
                           hspace=0.55, wspace=0.22)
    return figure, figure.subplots(rows, 2, squeeze=False)


def _baseline_figure(row: MetricRow, baseline: str) -> float | None:
    """What the candidate was compared with: the comparison's baseline figure (production's
    or the passport's), else the passport's figure when the passport is the baseline."""
    if row.comparison is not None and row.comparison.baseline_value is not None:
        return row.comparison.baseline_value
    return row.passport if baseline == "passport" else None


def _runs(content: ReportContent) -> list[int]:
    return sorted({r.run_id for r in content.quality_history})


def _trend(axes: Any, row: MetricRow, history: list[RunMetric],
           bounds: tuple[float | None, float | None], baseline: float | None) -> set[str]:
    """Draw one metric's trend; what was drawn ("band", "bound", "baseline", "failed")."""
    drawn = set()
    xs = list(range(1, len(history) + 1))
    values = [h.value for h in history]
    if history:
        if any(h.ci_low is not None and h.ci_high is not None for h in history):
            low = [h.ci_low if h.ci_low is not None else h.value for h in history]
            high = [h.ci_high if h.ci_high is not None else h.value for h in history]
            axes.fill_between(xs, low, high, color="#90a4ae", alpha=0.4, linewidth=0)
            drawn.add("band")
        axes.plot(xs, values, marker="o", color="#263238", markersize=3, linewidth=1)
        failed = [(x, v) for x, v, h in zip(xs, values, history) if h.status != "passed"]
        if failed:
            axes.scatter(*zip(*failed), color=COLOURS["failed"], zorder=3, s=18)
            drawn.add("failed")
    for bound in bounds:
        if bound is not None:
            axes.axhline(bound, color=COLOURS["failed"], linestyle="--", linewidth=1)
            drawn.add("bound")
    if baseline is not None:
        axes.axhline(baseline, color="#1565c0", linewidth=1)
        drawn.add("baseline")
    axes.set_title(row.metric, fontsize=10)
    _run_axis(axes)
    return drawn


def _run_axis(axes: Any) -> None:
    """Runs are counted, oldest first: whole numbers only, even with a single run."""
    axes.set_xlabel("run (oldest to newest)", fontsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    low, high = axes.get_xlim()
    if high - low < 2:
        axes.set_xlim(low - 0.5, high + 0.5)
    axes.tick_params(labelsize=8)


def slice_bars(content: ReportContent, folder: Path) -> list[Plot]:
    """Per golden dataset and metric: each slice's figure with its interval, beside the
    overall figure and the slice floor."""
    plots = []
    groups: dict[tuple[str, str], list[MetricRow]] = defaultdict(list)
    for row in content.slices:
        if row.value is not None:
            groups[(row.dataset, row.metric)].append(row)
    for (dataset, metric), rows in groups.items():
        figure = Figure(figsize=(9, 0.6 + 0.32 * len(rows)))
        axes = figure.subplots()
        names = [r.segment for r in rows]
        values = [r.value for r in rows]
        errors = [[max(0.0, r.value - (r.ci_low if r.ci_low is not None else r.value))
                   for r in rows],
                  [max(0.0, (r.ci_high if r.ci_high is not None else r.value) - r.value)
                   for r in rows]]
        colours = [COLOURS.get(r.status, "#546e7a") for r in rows]
        axes.barh(names, values, xerr=errors, color=colours, capsize=2)
        overall = next((m.value for m in content.metrics
                        if m.dataset == dataset and m.metric == metric), None)
        if overall is not None:
            axes.axvline(overall, color="#263238", linewidth=1, label=f"overall {overall:.3f}")
            axes.legend(loc="lower right", fontsize=8)
        axes.invert_yaxis()
        axes.set_title(f"{dataset}: {metric} per slice (grey: too few rows to gate)",
                       fontsize=10)
        axes.tick_params(labelsize=8)
        plots.append(Plot(_save(figure, folder, f"slices-{_safe(dataset)}-{metric}.png"),
                          f"{metric} per slice of {dataset}",
                          f"{metric} per slice of {dataset} with its interval; green passed, "
                          "red failed, grey reported only."))
    return plots


def load_trends(content: ReportContent, folder: Path) -> list[Plot]:
    """Latency percentiles and throughput per endpoint over past runs, once two runs are
    recorded; the caption names only the figures drawn."""
    series: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for row in content.load_history:
        if row.value is not None:
            endpoint = row.gate.split("::")[0].removeprefix("load.")
            series[(endpoint, row.metric)].append((row.run_id, row.value))
    endpoints = sorted({e for e, _ in series})
    runs = sorted({r.run_id for r in content.load_history})
    if not endpoints or len(runs) < MIN_TREND_RUNS:
        return []
    position = {run: i + 1 for i, run in enumerate(runs)}
    figure = Figure(figsize=(9, 2.6 * len(endpoints)), layout="constrained")
    grid = figure.subplots(len(endpoints), 2, squeeze=False)
    for (latency, throughput), endpoint in zip(grid, endpoints):
        _lines(latency, series, endpoint, LOAD_LATENCIES, position, "latency (ms)")
        _lines(throughput, series, endpoint, LOAD_THROUGHPUT, position, "requests/s")
        latency.set_title(f"{endpoint}: latency percentiles", fontsize=10)
        throughput.set_title(f"{endpoint}: throughput", fontsize=10)
    drawn = [m.removesuffix("_ms") for m in LOAD_LATENCIES if any(k[1] == m for k in series)]
    throughput_drawn = any(k[1] in LOAD_THROUGHPUT for k in series)
    parts = ([f"{', '.join(drawn)} latency"] if drawn else []) + (
        ["requests per second"] if throughput_drawn else [])
    return [Plot(_save(figure, folder, "load.png"), "load-test latency and throughput over runs",
                 f"Load tests per endpoint over the last {len(runs)} runs: "
                 f"{'; '.join(parts)} (only the figures the SLOs name are recorded).")]


def _lines(axes: Any, series: dict[tuple[str, str], list[tuple[int, float]]], endpoint: str,
           metrics: Iterable[str], position: dict[int, int], label: str) -> None:
    for metric in metrics:
        points = series.get((endpoint, metric), [])
        if points:
            axes.plot([position[r] for r, _ in points], [v for _, v in points], marker="o",
                      markersize=3, label=metric)
    axes.set_ylabel(label, fontsize=8)
    _run_axis(axes)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    else:
        # Only the figures a profile's SLOs name are measured and recorded.
        axes.text(0.5, 0.5, "not recorded for this endpoint", ha="center", va="center",
                  transform=axes.transAxes, fontsize=9, color="#757575")
        axes.set_xticks([])
        axes.set_yticks([])


def deepchecks_counts(groups: list[DeepchecksGroup], folder: Path) -> Plot | None:
    if not groups:
        return None
    counts = [SuiteCounts(f"{g.suite} ({g.dataset})", g.counts) for g in groups]
    return Plot(_save(_counts_figure(counts), folder, "deepchecks.png"),
                "deepchecks checks per suite by outcome",
                "deepchecks checks per suite: passed, failed (a condition failed), skipped "
                "(could not run on this data).")


def _counts_figure(suites: list[SuiteCounts]) -> Figure:
    figure = Figure(figsize=(7, 0.5 + 0.45 * len(suites)))
    axes = figure.subplots()
    names = [s.suite for s in suites]
    left = [0] * len(suites)
    for status in STATUSES:
        widths = [s.counts[status] for s in suites]
        axes.barh(names, widths, left=left, color=COLOURS[status], label=status)
        left = [a + b for a, b in zip(left, widths)]
    axes.invert_yaxis()
    axes.set_xlabel("testcases")
    axes.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return figure


DRIFT_PLOT_ROWS = 12  # the worst columns drawn; the table beside lists them all


def feature_drift_bars(content: ReportContent, folder: Path) -> Plot | None:
    """The columns that moved most, by PSI, against the gate's threshold."""
    rows = [r for r in content.drift if r.psi is not None][:DRIFT_PLOT_ROWS]
    if not rows:
        return None
    figure = Figure(figsize=(9, 0.8 + 0.32 * len(rows)))
    axes = figure.subplots()
    names = [f"{r.column} ({r.dataset} vs {r.comparison})" for r in rows]
    axes.barh(names, [r.psi for r in rows],
              color=[COLOURS.get(r.psi_status, "#546e7a") for r in rows])
    if content.psi_max is not None:
        axes.axvline(content.psi_max, color="#263238", linewidth=1, linestyle="--",
                     label=f"threshold {content.psi_max:g}")
        axes.legend(loc="lower right", fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("PSI", fontsize=9)
    axes.set_title(f"Feature drift: the {len(rows)} columns with the highest PSI", fontsize=10)
    axes.tick_params(labelsize=8)
    return Plot(_save(figure, folder, "feature-drift.png"),
                "PSI per column, highest first, against the threshold",
                "PSI of each column against its reference (training data, previous golden "
                "version), highest first; green passed, red failed, dashed: the threshold.")
