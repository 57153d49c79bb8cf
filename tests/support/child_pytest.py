"""The plugins of the pytest processes the harness starts during the tests (``harness
check``'s, the benchmark suite's): only the harness's and pytest-benchmark's.

Left to itself, pytest loads every plugin installed in the virtualenv, and ours holds the dev
dependencies' (hypothesis through schemathesis, kmock, pytest-asyncio, xdist, anyio,
typeguard, Locust's): about 2.4 s of CPU per process, paid by every real check in the suite
and never used there. A team's pytest loads its own plugins as always: the harness passes its
environment on unchanged, and only the tests set these variables (pytest's own, see its
"Plugin discovery order" documentation): the session fixture ``child_pytest_plugins`` for
the checks run here, and the replayed Jenkins agent's settings for its builds' checks (its
virtualenv holds the harness's dependencies only, whose anyio and typeguard plugins still
cost about a second a process).
"""

from __future__ import annotations

# What a check's pytest process uses: the harness's gates, and pytest-benchmark for a
# team's micro-benchmarks (the benchmark check), as their pytest11 entry points name them.
PLUGINS = ("harness.gates.plugin", "pytest_benchmark.plugin")


def environment() -> dict[str, str]:
    """The variables that make a child pytest load ``PLUGINS`` and no other installed one."""
    return {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTEST_PLUGINS": ",".join(PLUGINS)}
