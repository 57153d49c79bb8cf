"""The Markdown summary of a run, short enough for a pull-request comment: the verdict,
what failed and the key figures."""

from __future__ import annotations

from harness.run.report.content import ReportContent
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


def markdown(content: ReportContent, report_link: str = "html/index.html") -> str:
    lines = [f"### {content.title}: **{content.verdict_word}**", ""]
    lines += [f"- {reason}" for reason in content.reasons]
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
    figures = [f"{m.dataset} {m.metric} {m.value:.4f}{_interval(m.ci_low, m.ci_high)}"
               + (f" (passport {m.passport:.4f})" if m.passport is not None else "")
               for m in content.metrics if m.value is not None]
    figures += [f"{c.classname.removeprefix('load.')} {c.name} {c.properties.value}"
                for c in content.load if c.properties.value is not None and c.properties.value.text]
    if figures:
        lines += ["", "**Key figures**", ""] + [f"- {f}" for f in figures]
    lines += ["", f"Full report: `{report_link}`", ""]
    return "\n".join(lines)
