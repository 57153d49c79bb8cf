"""Locust's CSV writer, ended quietly when its files are closed at shutdown
(harness/load/assets/csv_shutdown.py), and only then."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from harness.load.runner import CSV_SHUTDOWN

# In a child: importing Locust patches the standard library for gevent. Each writer is
# closed while it runs, as Locust's shutdown does: first Locust's own, then the patched.
CHILD = textwrap.dedent("""
    import runpy, sys
    import gevent
    from locust.env import Environment
    from locust.stats import StatsCSVFileWriter, PERCENTILES_TO_REPORT

    def after_close(prefix):
        writer = StatsCSVFileWriter(Environment(), PERCENTILES_TO_REPORT, prefix)
        running = gevent.spawn(writer.stats_writer)
        gevent.sleep(0.2)  # its first round is written
        writer.close_files()
        running.join(timeout=3)
        return f"{'dead' if running.dead else 'alive'} {type(running.exception).__name__}"

    print(after_close(sys.argv[1] + "/plain"))
    runpy.run_path(sys.argv[2])
    print(after_close(sys.argv[1] + "/patched"))
""")


def test_the_harness_ends_locusts_csv_writer_quietly(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(CSV_SHUTDOWN)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    plain, patched = done.stdout.splitlines()
    # What the asset is for: once Locust stops failing here, it can go.
    assert plain == "dead ValueError"
    assert patched == "dead NoneType"
    assert (tmp_path / "patched_stats.csv").read_text().startswith("Type,Name")
