"""Write the HTML report: a page from a Jinja2 template, its stylesheet and its plots, side
by side in one folder, with nothing the Jenkins Content-Security-Policy would block."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from harness.run.report import plots
from harness.run.report.aside import aside
from harness.run.report.content import ReportContent
from harness.run.verdict import STATUSES

if TYPE_CHECKING:
    from harness.run.report.model_plots import ModelSection

MAX_FAILURES = 50
KNOWN_OUTCOMES = ("passed", "failed", "error", "skipped")


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _moment(timestamp: str) -> str:
    """An ISO timestamp to the second, in UTC as recorded (older history rows carry
    microseconds)."""
    try:
        return dt.datetime.fromisoformat(timestamp).isoformat(sep=" ", timespec="seconds")
    except ValueError:
        return timestamp


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.4f}"


def _outcome_class(status: str) -> str:
    """The stylesheet's class for an outcome; one it does not know is styled as 'other',
    never as passed."""
    return str(status) if str(status) in KNOWN_OUTCOMES else ("other" if status else "")


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("harness.run.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["figure"] = _figure
    environment.filters["first_line"] = _first_line
    environment.filters["signed"] = _signed
    environment.filters["moment"] = _moment
    environment.filters["outcome_class"] = _outcome_class
    return environment


def write_page(content: ReportContent, folder: Path,
               models: list[ModelSection] | None = None) -> Path:
    """Write ``index.html``, ``style.css`` and the PNG plots into ``folder`` (made anew),
    or, given ``models`` (the model's pictures, drawn into a new ``folder`` while pytest
    ran: ``report/ahead.py``), beside them."""
    if models is None and folder.exists():
        shutil.rmtree(folder)
    # Pictures drawn ahead left the folder in place; a run that kept no scores left none.
    folder.mkdir(parents=True, exist_ok=True)
    # The quality trends, the slowest of the plots, drawn beside the others (aside.py).
    with aside(plots.quality_trends, content, folder) as trends:
        figures = {
            "suites": plots.suite_counts(content.suites, folder),
            "slices": plots.slice_bars(content, folder),
            "load": plots.load_trends(content, folder),
            "deepchecks": plots.deepchecks_counts(content.deepchecks, folder),
            "drift": plots.feature_drift_bars(content, folder),
        }
        if models is None:
            from harness.gates import scores
            from harness.run.report.model_plots import model_sections

            # The scores are beside the html folder, in the run's report folder.
            models = model_sections(scores.load(folder.parent), folder)
        figures["quality"] = trends()
    failures = content.verdict.failures
    html = _environment().get_template("index.html.j2").render(
        c=content, plots=figures, models=models, statuses=STATUSES, failures=failures[:MAX_FAILURES],
        more_failures=max(0, len(failures) - MAX_FAILURES),
    )
    page = folder / "index.html"
    page.write_text(html, encoding="utf-8")
    shutil.copyfile(Path(__file__).parent / "static" / "style.css", folder / "style.css")
    return page
