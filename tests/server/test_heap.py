"""``harness serve`` exempts the loaded model from garbage collection (harness/server/heap.py):
a full collection over it stalled every request in flight for 90-180 ms."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.project import EXAMPLE

# In a child: freezing is process-wide and permanent, not for the test session's heap.
CHILD = textwrap.dedent("""
    import gc, sys
    from fastapi.testclient import TestClient
    from harness.config import load_config
    from pathlib import Path
    from harness.server import FaultInjection, create_app

    freeze = sys.argv[3] == "freeze"
    app = create_app(load_config(sys.argv[1]), Path(sys.argv[2]), faults=FaultInjection(),
                     freeze_heap=freeze)
    before = gc.get_freeze_count()
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200
        frozen = gc.get_freeze_count()
    print(before, frozen)
""")


def _frozen(artifact: Path, mode: str) -> tuple[int, int]:
    """The process's frozen-object count before the app starts and once it is ready."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(EXAMPLE / "harness.yaml"),
                           str(artifact), mode], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    before, frozen = (int(word) for word in done.stdout.split())
    return before, frozen


def test_serving_process_freezes_what_it_loaded(model_artifact: Path) -> None:
    before, frozen = _frozen(model_artifact, "freeze")
    assert before == 0
    # The model, sklearn, pandas and the app: far more than a bare interpreter's objects.
    assert frozen > 100_000


def test_app_in_a_shared_process_does_not_freeze(model_artifact: Path) -> None:
    assert _frozen(model_artifact, "no") == (0, 0)
