"""The run report: an HTML page with plots for Jenkins, and a Markdown summary.

The package face imports nothing heavy: the engine imports ``report.ahead`` before pytest
starts, and matplotlib is imported where the report is drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.history import HistoryStore
    from harness.run.report.model_plots import ModelSection

__all__ = ["ReportFiles", "write_report"]


@dataclass(frozen=True)
class ReportFiles:
    page: Path
    summary: Path


def write_report(config: HarnessConfig, profile: str, reports_dir: Path,
                 history: HistoryStore | None,
                 models: list[ModelSection] | None = None, command: str = "") -> ReportFiles:
    """Write ``<reports_dir>/html/index.html`` (with its stylesheet and plots) and
    ``<reports_dir>/summary.md`` from the run's JUnit files and the history store;
    ``models``: the model's pictures when they were drawn ahead (``ahead.py``);
    ``command`` names what made the run (default: ``harness check --profile P``)."""
    from harness.errors import ReportError
    from harness.run.report.content import gather
    from harness.run.report.page import write_page
    from harness.run.report.summary import markdown

    if not (reports_dir / "junit").is_dir():
        raise ReportError(f"{reports_dir} holds no JUnit reports; run `harness check "
                           f"--profile {profile}` first")
    content = gather(config, profile, reports_dir, history, command)
    page = write_page(content, reports_dir / "html", models)
    summary = reports_dir / "summary.md"
    summary.write_text(markdown(content), encoding="utf-8")
    return ReportFiles(page, summary)
