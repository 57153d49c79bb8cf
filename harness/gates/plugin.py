"""pytest plugin: turns ``harness.yaml`` into one test item per gate criterion.

pytest collects a file named ``harness.yaml`` (or ``harness.yml``) through this
plugin. Each gate criterion the profile's checks describe (a schema rule per
dataset, a quality metric per golden dataset and slice, ...) becomes its own item, with a node id pytest's JUnit writer turns into
``classname="<check>.<dataset>[.<slice>]"`` and ``name="<criterion>"`` so Jenkins shows a
readable tree. Measured values and bounds travel as testcase properties.

The entry point pytest loads in every session of a virtualenv with the harness installed:
it imports pytest and the standard library only (see ``gates/items.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG_NAMES = ("harness.yaml", "harness.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "model gates from harness.yaml")
    group.addoption(
        "--harness-config",
        default=None,
        help="collect this configuration file too, whatever its name",
    )
    group.addoption(
        "--harness-profile",
        default=None,
        help="run only the checks this profile of harness.yaml names (default: all)",
    )
    group.addoption(
        "--harness-reports",
        default=None,
        help="folder for the load and benchmark checks' own reports "
        "(default: reports/pytest beside the configuration)",
    )
    group.addoption(
        "--harness-target-url",
        default=None,
        help="URL of the running service the load check targets (default: load.url, model.url)",
    )
    # `harness check --remote-workers/--master-bind` reach the load check through these: the
    # pytest process reads harness.yaml itself.
    group.addoption(
        "--harness-remote-workers",
        default=None,
        type=int,
        help="Locust workers on other hosts the load check waits for (default: load.remote_workers)",
    )
    group.addoption(
        "--harness-master-bind",
        default=None,
        help="HOST:PORT the load check's Locust master listens on (default: load.master_bind)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    named = parent.config.getoption("harness_config")
    if file_path.name in CONFIG_NAMES or (named and file_path == Path(named).resolve()):
        # Imported here: a session that collects no configuration loads none of the gates.
        from harness.gates.items import HarnessFile

        return HarnessFile.from_parent(parent, path=file_path)
    return None
