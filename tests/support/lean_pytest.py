"""The pytest processes a test's real `harness check` starts, with the harness's plugin only.

Our virtualenv holds the dev dependencies' pytest plugins (pytest-benchmark, xdist,
schemathesis, hypothesis, kmock, ...), and pytest imports every installed plugin in every
process: about 1.7 s of CPU each, for plugins the gates never use. A team's own plugins must
still load in real use, so the harness leaves its pytest's command line alone; a test module
that runs real checks of the reference project (whose profiles need no other plugin) opts in
with ``lean = pytest.fixture(autouse=True)(lean_pytest)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

HARNESS_PLUGIN = "harness.gates.plugin"


def lean_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The variables that make a child pytest load the harness's plugin and no other
    installed one; options already in PYTEST_ADDOPTS (e.g. ``--durations``) are kept."""
    addopts = environ.get("PYTEST_ADDOPTS", "")
    return {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTEST_ADDOPTS": f"{addopts} -p {HARNESS_PLUGIN}".strip()}


def lean_pytest(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test's fixture: every pytest process its `harness check` runs starts lean."""
    for name, value in lean_environment(os.environ).items():
        monkeypatch.setenv(name, value)
    yield
