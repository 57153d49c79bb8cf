"""The report in a real browser under Jenkins' default Content-Security-Policy.

The report folder is served from loopback with the exact header Jenkins sends and opened
in Debian's headless Chromium through Playwright. With ``default-src 'none'`` no script
can be put into the page to listen for violations, so the test reads Chromium's console
(where it logs every CSP violation) and asks each ``<img>`` whether it loaded, from
Playwright's side. A deliberately broken page must produce violations, so the test can
fail. The screenshot is kept under ``reports/test-output/``.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.project import ROOT

JENKINS_CSP = "sandbox allow-same-origin; default-src 'none'; img-src 'self'; style-src 'self';"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "reports" / "test-output"


class _CspHandler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", JENKINS_CSP)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator:
    """Serve a folder on a loopback port with Jenkins' CSP on every response."""
    servers = []

    def start(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_CspHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _open(browser, url: str, screenshot: Path | None = None,
          until: Callable[[list[str]], bool] | None = None) -> tuple[list[str], list[dict]]:
    """Load a page; (console messages, each image's src and natural width). ``until``: the
    console messages expected, waited for (up to 10 s), since a violation's message may
    reach us after the load event on a busy machine."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.headers["content-security-policy"] == JENKINS_CSP
    for _ in range(200):
        if until is None or until(console):
            break
        page.wait_for_timeout(50)
    images = page.evaluate(
        "Array.from(document.images).map(i => ({src: i.getAttribute('src'),"
        " loaded: i.complete, width: i.naturalWidth}))")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return console, images


def _violations(console: list[str]) -> list[str]:
    return [m for m in console if "Content Security Policy" in m or "Refused to" in m]


def test_the_report_renders_under_jenkins_csp(nightly_run, browser, serve, record_property):
    url = serve(nightly_run.report.page.parent)
    screenshot = SCREENSHOTS / "report.png"
    console, images = _open(browser, f"{url}/index.html", screenshot)
    record_property("screenshot", str(screenshot))
    print(f"screenshot: {screenshot}")
    assert _violations(console) == [], console
    assert len(images) >= 9, "suites, slices, load, deepchecks and the model's five"
    assert {f"model-credit-v1-{n}.png" for n in ("roc", "pr", "calibration", "confusion",
                                               "scores")} <= {i["src"] for i in images}
    assert "feature-drift.png" in {i["src"] for i in images}
    assert [i for i in images if not (i["loaded"] and i["width"] > 0)] == []
    assert screenshot.stat().st_size > 10_000


def test_a_page_breaking_the_policy_is_caught(nightly_run, browser, serve, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(nightly_run.report.page.parent, folder)
    page = folder / "index.html"
    broken = ('<p style="color: red">inline style</p>'
              '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="inline image">')
    page.write_text(page.read_text().replace("<body>", "<body>" + broken, 1))
    console, images = _open(
        browser, f"{serve(folder)}/index.html",
        until=lambda seen: (any("style" in v for v in _violations(seen))
                            and any("data:image/gif" in v for v in _violations(seen))))
    violations = _violations(console)
    assert any("style" in v for v in violations), console
    assert any("data:image/gif" in v for v in violations), console
    data_image = next(i for i in images if i["src"].startswith("data:"))
    assert data_image["width"] == 0, "the policy kept the data: image from loading"
