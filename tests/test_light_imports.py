"""What starting the harness loads: the pytest plugin, loaded in every pytest session of a
virtualenv with the harness installed, and the command line before a command runs, load
none of the heavy libraries (timings are for benchmarks/startup.py, not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

HEAVY = ("sklearn", "pandas", "numpy", "matplotlib", "scipy", "sqlalchemy", "alembic",
         "pydantic", "httpx", "locust")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_the_registered_pytest_plugin_loads_no_heavy_library() -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "harness"]
    assert plugin.value == "harness.gates.plugin"
    assert _loaded_after(f"import pytest, {plugin.value}") == []


@pytest.mark.parametrize("module", ["harness", "harness.errors", "harness.cli",
                                    "harness.gates.checks"])
def test_the_package_face_and_the_command_line_load_no_heavy_library(module: str) -> None:
    assert _loaded_after(f"import {module}") == []


def test_help_builds_every_command_without_importing_them() -> None:
    code = ("from harness.cli import build_parser\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    build_parser().parse_args(['--help'])")
    assert _loaded_after(code) == []


def test_the_api_is_still_there_on_first_use() -> None:
    import harness

    assert set(harness.__all__) == set(harness._API)
    assert harness.ConfigError.__module__ == "harness.errors"
    assert callable(harness.run_check)


def test_status_loads_only_the_config() -> None:
    # `harness status` runs in every Jenkins stage: what it reads is the config (pydantic),
    # the deploy state, the promotion lock and the break-glass audit (a SQLite store with
    # sqlite3: tests/history/test_glance.py), nothing of the checks.
    loaded = _loaded_after("import harness.deploy.operations, harness.deploy.local, "
                           "harness.deploy.protection, harness.release.recovery")
    assert set(loaded) <= {"pydantic"}, loaded


def test_preflight_and_the_checks_registry_load_no_statistics_or_plotting() -> None:
    # Preflight looks every check of a profile up before pytest starts; scikit-learn, scipy
    # and matplotlib are for the pytest process and the report.
    modules = ", ".join(f"harness.gates.checks.{name}" for name in
                        ("schema", "quality", "drift", "load", "benchmark", "contract",
                         "deepchecks", "feature_drift"))
    loaded = _loaded_after(f"import harness.run.preflight, {modules}")
    assert not set(loaded) & {"sklearn", "scipy", "matplotlib", "locust"}, loaded
