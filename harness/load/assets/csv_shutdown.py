"""Locust's CSV writer, ended quietly when Locust closes its files at shutdown. Loaded by
Locust next to the scenario's locustfile, as ``generator_cpu.py`` is; never imported by the
harness.

Since Locust 2.47 its shutdown closes the CSV files while the greenlet that rewrites them
every second may still run once more; that round fails on a closed file and leaves a
traceback in the master's log (once in a full run of the harness's own tests, which
start Locust a few dozen times). The rows it would have written were written a moment
earlier, and the harness reads the files only after Locust has exited, so the round is
dropped, not retried.
"""

from __future__ import annotations

from locust.stats import StatsCSVFileWriter

_write_rows = StatsCSVFileWriter.stats_writer


def _stats_writer(self: StatsCSVFileWriter) -> None:
    try:
        _write_rows(self)
    except ValueError:
        # close_files() closes this one first: anything else is a real failure.
        if not self.requests_csv_filehandle.closed:
            raise


StatsCSVFileWriter.stats_writer = _stats_writer  # type: ignore[method-assign]
