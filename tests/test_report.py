"""The run report from a real nightly run: the page, its plots and the Markdown summary."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.config import load_config
from harness.run.report import write_report


def test_the_page_shows_verdict_suites_metrics_slices_load_and_deepchecks(nightly_run):
    page = nightly_run.report.page
    html = page.read_text()
    assert page == nightly_run.reports_dir / "html/index.html"
    assert "<h1>FAILED" in html and "quality testcase(s) failed" in html
    assert "quality.credit-v1::roc_auc" in html and "below its floor 0.9000" in html
    auc = next(c for c in nightly_run.verdict.cases if c.title == "quality.credit-v1.roc_auc")
    assert f"<td class=\"num\">{float(auc.properties.value):.4f}</td>" in html
    assert "≥ 0.9" in html, "the bound is shown beside the figure"
    assert "data_integrity" in html and 'href="../deepchecks/data_integrity.credit-v1.html"' in html
    assert (page.parent / "../deepchecks/data_integrity.credit-v1.html").resolve().is_file()
    images = re.findall(r'<img src="([^"]+)"', html)
    names = {Path(i).name for i in images}
    assert {"suites.png", "quality-credit-v1.png", "load.png", "deepchecks.png"} <= names
    assert any(n.startswith("slices-credit-v1-roc_auc") for n in names)
    for image in images:
        assert (page.parent / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


def test_the_page_has_nothing_jenkins_csp_blocks(nightly_run):
    html = nightly_run.report.page.read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html), "no inline style attribute"
    assert "<style" not in html.lower()
    assert "data:" not in html
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["style.css"]
    css = (nightly_run.report.page.parent / "style.css").read_text()
    assert "@font-face" not in css and "url(" not in css


def test_the_summary_is_short_and_names_failures_and_figures(nightly_run):
    summary = nightly_run.report.summary.read_text()
    assert summary.startswith("### credit-scoring: harness check --profile nightly: **FAILED**")
    assert "`quality.credit-v1::roc_auc` (failed)" in summary
    assert re.search(r"- credit-v1 roc_auc 0\.\d{4} \[0\.\d{3}, 0\.\d{3}\]", summary)
    assert "| deepchecks |" in summary
    assert len(summary) < 4000 and len(summary.splitlines()) < 60


def test_load_trends_come_from_history_and_an_empty_history_says_so(nightly_run, tmp_path):
    config = load_config(nightly_run.reports_dir.parents[1] / "harness.yaml")
    copy = tmp_path / "nightly"
    shutil.copytree(nightly_run.reports_dir, copy)
    files = write_report(config, "nightly", copy, history=None)
    html = files.page.read_text()
    assert "No load test has been recorded" in html and 'src="load.png"' not in html
    assert "No load test" not in nightly_run.report.page.read_text()


def test_harness_report_regenerates_from_junit_and_history(nightly_run):
    project = nightly_run.reports_dir.parents[1]
    page = nightly_run.report.page
    page.unlink()
    result = subprocess.run([sys.executable, "-m", "harness", "report", "--profile", "nightly"],
                            cwd=project, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    # --reports (default: reports) is relative to the current folder; printed in full.
    assert f"report:  {project / 'reports/nightly/html/index.html'}" in result.stdout
    assert page.is_file() and "<h1>FAILED" in page.read_text()
    missing = subprocess.run([sys.executable, "-m", "harness", "report", "--profile", "nightly",
                              "--reports", "elsewhere"], cwd=project, capture_output=True,
                             text=True, timeout=120, check=False)
    assert missing.returncode == 2
    assert "holds no JUnit reports; run `harness check --profile nightly` first" in missing.stderr
