"""The run report from a real nightly run: the page, its plots and the Markdown summary."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.config import load_config
from harness.run.report import write_report
from tests.support.cli import in_process
from tests.support.project import EXAMPLE, write_config

FIXTURES = Path(__file__).parents[2] / "fixtures" / "runs"


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
    assert {"suites.png", "load.png", "deepchecks.png"} <= names
    # One quality run is recorded: a point is not a trend, the page says so in words.
    assert "quality-credit-v1.png" not in names
    assert "A trend needs two runs of this profile; one run is recorded so far." in html
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
    # Refused (exit 2, one message) as any error is: through the CLI's main in this process.
    missing = in_process(project / "harness.yaml", "report", "--profile", "nightly",
                         "--reports", "elsewhere", cwd=project)
    assert missing.returncode == 2
    assert "holds no JUnit reports; run `harness check --profile nightly` first" in missing.stderr


def _fixture_report(tmp_path: Path, name: str, profile: str):
    """The report of recorded JUnit (tests/fixtures/reports/<name>), under the reference
    config: no check runs."""
    reports = tmp_path / "reports" / profile
    shutil.copytree(FIXTURES / name, reports)
    return write_report(_config(tmp_path), profile, reports, history=None)


def _config(folder: Path):
    for name in ("golden", "fixtures"):
        shutil.copytree(EXAMPLE / name, folder / name)
    return load_config(write_config(folder, profiles={
        "pr": {"checks": ["schema", "quality"], "baseline": "passport"},
        "nightly": {"checks": ["schema", "quality"], "baseline": "production",
                    "environment": "staging"}}))


def _quality_rows(html: str) -> dict[str, list[str]]:
    """The quality table's cells per metric (tags stripped)."""
    table = html.split('<section id="quality">')[1].split("</table>")[0]
    rows = {}
    for row in re.findall(r"<tr><td>.*?</tr>", table, re.DOTALL):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        rows[cells[1]] = cells
    return rows


def test_banner_table_and_what_failed_agree_on_a_failing_run(tmp_path):
    files = _fixture_report(tmp_path, "pr-failing", "pr")
    html = files.page.read_text()
    assert "<h1>FAILED" in html
    failed = html.split('<section id="failures">')[1].split("</section>")[0]
    assert "quality.credit-v1::roc_auc.vs_passport" in failed
    assert "quality.credit-v1.job=partime::roc_auc.gap" in failed
    rows = _quality_rows(html)
    # roc_auc: its floor passed, its comparison with the passport failed: the row failed.
    assert rows["roc_auc"][2] == "failed"
    assert rows["roc_auc"][6] == "passed" and rows["roc_auc"][-1] == "failed"
    assert rows["roc_auc"][7:11] == ["0.8336", "-0.0126", "[-0.0251, -0.0010]", "0.0200"]
    assert rows["log_loss"][2] == "passed"
    # Timestamps to the second: no microseconds.
    assert re.search(r"report written \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00</p>", html)
    assert "<th colspan=\"5\">vs passport</th>" in html
    summary = files.summary.read_text()
    assert "**FAILED**" in summary and "`quality.credit-v1::roc_auc.vs_passport` (failed)" in summary
    assert ("- credit-v1 roc_auc 0.8210 [0.795, 0.846]; vs passport 0.8336: difference -0.0126 "
            "[-0.0251, -0.0010] (failed): **failed**") in summary


def test_a_slice_row_is_as_bad_as_its_gap(tmp_path):
    from harness.run.report.content import gather

    reports = tmp_path / "reports" / "pr"
    shutil.copytree(FIXTURES / "pr-failing", reports)
    content = gather(_config(tmp_path), "pr", reports, None)
    (partime,) = content.slices
    assert (partime.floor_status, partime.gap_status, partime.status) == (
        "passed", "failed", "failed")


def test_the_nightly_shows_its_comparison_with_production(tmp_path):
    files = _fixture_report(tmp_path, "nightly-failing", "nightly")
    html = files.page.read_text()
    assert "<th colspan=\"5\">vs production</th>" in html and "passport" not in html
    rows = _quality_rows(html)
    assert rows["roc_auc"][2] == "failed"
    assert rows["roc_auc"][7:] == ["0.8336", "-0.0126", "[-0.0251, -0.0010]", "0.0200",
                                   "failed"]
    summary = files.summary.read_text()
    assert "passport" not in summary
    assert "vs production 0.8336: difference -0.0126 [-0.0251, -0.0010] (failed)" in summary
    assert "`quality.credit-v1::roc_auc.vs_production` (failed)" in summary


def test_an_outcome_the_report_does_not_know_is_not_shown_as_passed():
    from harness.run.report.content import worst
    from harness.run.report.page import _outcome_class

    assert worst(["passed", "inconclusive"]) == "inconclusive"
    assert worst(["inconclusive", "failed"]) == "failed"
    assert worst(["skipped", "passed"]) == "skipped"
    assert _outcome_class("inconclusive") == "other" and _outcome_class("failed") == "failed"


def test_the_report_shows_the_lineage_of_the_artifact_it_tested(tmp_path):
    import json

    from harness.history import HistoryStore, RunRecord

    reports = tmp_path / "reports" / "pr"
    shutil.copytree(FIXTURES / "pr-failing", reports)
    config = _config(tmp_path)
    store = HistoryStore(config.history_url())
    store.record_run(RunRecord(
        project="credit-scoring", profile="pr", candidate_id="cand12345678",
        model_sha256="ab" * 32, config_sha256="c" * 64, golden_sha256={}, verdict="failed",
        duration_s=3.0, tests=7, failures=2, errors=0, skipped=0))
    (tmp_path / "artifacts").mkdir()
    lineage = {"artifact_sha256": "ab" * 32, "code_revision": "f00dfeed" * 5,
               "command": ["{python}", "-m", "credit_model.train"],
               "training_data": "fixtures/credit/train.csv", "training_sha256": "cd" * 32,
               "started_at": "2026-12-01T10:00:00+00:00",
               "finished_at": "2026-12-01T10:00:07+00:00"}
    (tmp_path / "artifacts/credit.lineage.json").write_text(json.dumps(lineage))
    files = write_report(config, "pr", reports, store)
    html = files.page.read_text()
    assert '<section id="lineage">' in html and "f00dfeed" * 5 in html
    assert "{python} -m credit_model.train" in html and "cd" * 32 in html
    assert "harness promote --candidate cand12345678" in html
    summary = files.summary.read_text()
    assert "`harness promote --candidate cand12345678` takes it" in summary
    assert "built 2026-12-01 10:00:07 UTC from code `f00dfeedf00d`" in summary
    # Another artifact's lineage is not this run's.
    lineage["artifact_sha256"] = "ef" * 32
    (tmp_path / "artifacts/credit.lineage.json").write_text(json.dumps(lineage))
    assert '<section id="lineage">' not in write_report(config, "pr", reports,
                                                         store).page.read_text()
    store.close()


def test_the_drift_section_ranks_columns_by_psi_with_a_plot(tmp_path):
    # Recorded from the feature_drift check on golden credit v2, whose Age was shifted by
    # 15 years and a third of whose Home values were set to "rent".
    files = _fixture_report(tmp_path, "drift-failing", "pr")
    html = files.page.read_text()
    section = html.split('<section id="feature-drift">')[1].split("</section>")[0]
    assert '<img src="feature-drift.png"' in section
    assert (files.page.parent / "feature-drift.png").stat().st_size > 0
    cells = [[html_lib.unescape(re.sub(r"<[^>]+>", "", c))
              for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
             for row in re.findall(r"<tr><td>.*?</tr>", section, re.DOTALL)]
    assert len(cells) == 28, "14 columns against two references"
    assert [(r[0], r[2]) for r in cells[:4]] == [
        ("Age", "training data 'train'"), ("Age", "credit v1"),
        ("Home", "credit v1"), ("Home", "training data 'train'")]
    psis = [float(r[5]) for r in cells]
    assert psis == sorted(psis, reverse=True)
    assert cells[1][5:] == ["3.4614", "failed", "KS", "0.5009", "2.05e-127", "failed"]
    assert {r[6] for r in cells[4:]} == {"passed"}
    assert "feature_drift.credit-v2.previous::Age.psi" in html.split(
        '<section id="failures">')[1].split("</section>")[0]
