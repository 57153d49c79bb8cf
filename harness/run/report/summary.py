"""The Markdown summary of a run, short enough for a pull-request comment: the verdict,
what failed and the key figures."""

from __future__ import annotations

from harness.run.report.content import MetricRow, ReportContent
from harness.run.verdict import STATUSES

MAX_FAILURES = 10
MAX_MESSAGE = 160


def _cell(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no message)"
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 1] + "…"
    return line.replace("|", "\\|")


def _interval(low: float | None, high: float | None) -> str:
    return f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""


def _metric_figure(row: MetricRow, baseline: str) -> str:
    """``credit-v1 roc_auc 0.8336 [0.808, 0.858]``, then the comparison with the baseline
    (``vs production 0.8400: -0.0064 [-0.0210, +0.0080], failed``) and the row's outcome."""
    text = f"{row.dataset} {row.metric} {row.value:.4f}{_interval(row.ci_low, row.ci_high)}"
    versus = row.comparison
    if versus is not None:
        text += f"; {versus.criterion.replace('_', ' ')}"
        if versus.baseline_value is not None:
            text += f" {versus.baseline_value:.4f}"
        if versus.difference is not None:
            text += f": difference {versus.difference:+.4f}"
            if versus.low is not None and versus.high is not None:
                text += f" [{versus.low:+.4f}, {versus.high:+.4f}]"
        text += f" ({versus.status})"
    elif baseline == "passport" and row.passport is not None:
        text += f"; passport {row.passport:.4f} (not gated)"
    return f"{text}: **{row.status}**" if row.status and row.status != "passed" else text


def markdown(content: ReportContent, report_link: str = "html/index.html") -> str:
    lines = [f"### {content.title}: **{content.verdict_word}**", ""]
    lines += [f"- {reason}" for reason in content.reasons]
    if content.run is not None and not content.run.candidate_id:
        lines.append(f"- model `{content.run.model_sha256}` (no artifact: nothing to promote), "
                     f"run {content.run.id}")
    elif content.run is not None:
        lines.append(f"- candidate `{content.run.candidate_id}` (artifact sha256 "
                     f"`{content.run.model_sha256[:12]}`), run {content.run.id}: "
                     f"`harness promote --candidate {content.run.candidate_id}` takes it")
    if content.lineage is not None:
        made = content.lineage
        training = (f", training data `{made.training_data}` (sha256 "
                    f"`{(made.training_sha256 or '')[:12]}`)" if made.training_data else "")
        lines.append(f"- built {made.finished_at[:19].replace('T', ' ')} UTC from code "
                     f"`{(made.code_revision or 'unknown')[:12]}`{training}")
    lines += ["", "| suite | " + " | ".join(STATUSES) + " |",
              "|---|" + "---:|" * len(STATUSES)]
    for suite in content.suites:
        lines.append(f"| {suite.suite} | " + " | ".join(str(suite.counts[s]) for s in STATUSES)
                     + " |")
    failures = content.verdict.failures
    if failures:
        lines += ["", "**What failed**", ""]
        for case in failures[:MAX_FAILURES]:
            lines.append(f"- `{case.classname}::{case.name}` ({case.status}): "
                         f"{_cell(case.message)}")
        if len(failures) > MAX_FAILURES:
            lines.append(f"- … and {len(failures) - MAX_FAILURES} more (see the report)")
    figures = [_metric_figure(m, content.baseline) for m in content.metrics
               if m.value is not None]
    figures += [f"{c.classname.removeprefix('load.')} {c.name} {c.properties.value}"
                for c in content.load if c.properties.value is not None and c.properties.value.text]
    if figures:
        lines += ["", "**Key figures**", ""] + [f"- {f}" for f in figures]
    lines += ["", f"Full report: `{report_link}`", ""]
    return "\n".join(lines)
