"""The order `make test` hands test files to its workers: the longest first.

Under ``--dist loadfile`` a file runs whole on one worker, and xdist hands files out in
collection order, so a long file collected last (tests/pipelines, tests/release) kept one
worker busy minutes after the other had finished. Handing out the longest files first
(longest-processing-time-first scheduling) lets the short ones fill in at the end. The
seconds per file are recorded in tests/file_seconds.json, from a run's durations:

    .venv/bin/python -m pytest -n 2 --dist loadfile --durations=0 -q tests > durations.txt
    .venv/bin/python -m tests.support.file_order durations.txt

A file not recorded yet (a new one, perhaps long) goes first, before the recorded ones, in
collection order; the tests in a file keep their order (module fixtures are made once per
file).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

RECORD = Path(__file__).resolve().parents[1] / "file_seconds.json"
_DURATION = re.compile(r"^([0-9.]+)s (?:call|setup|teardown)\s+([^:\s]+)::")


def file_seconds(record: Path = RECORD) -> dict[str, float]:
    """Seconds per test file (relative to the repository) as last recorded; none if unread."""
    try:
        return {str(k): float(v) for k, v in json.loads(record.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def longest_first(items: list[pytest.Item], seconds: dict[str, float]) -> list[pytest.Item]:
    """``items`` with whole files reordered: files not recorded first (a long new file
    handed out last would be the tail again), then the longest recorded; a stable sort, so
    unrecorded files and each file's own tests keep their order."""
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    return sorted(items, key=lambda item: -seconds.get(file_of(item), float("inf")))


def record_from(durations: str) -> dict[str, float]:
    """Seconds per file summed from pytest's ``--durations`` lines, rounded."""
    totals: dict[str, float] = defaultdict(float)
    for line in durations.splitlines():
        found = _DURATION.match(line.strip())
        if found:
            totals[found.group(2)] += float(found.group(1))
    return {name: round(total, 1) for name, total in sorted(totals.items(),
                                                           key=lambda kv: -kv[1])}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print("usage: python -m tests.support.file_order DURATIONS_OUTPUT (pytest "
              "--durations=0 output)", file=sys.stderr)
        return 2
    record = record_from(Path(argv[0]).read_text())
    if not record:
        print(f"{argv[0]}: no duration lines (run pytest with --durations=0)", file=sys.stderr)
        return 2
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{RECORD}: {len(record)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
