"""What history recorded of each passport when it was blessed: the sha256 of its JSON, which
a passport read back must match (``harness.data.passport`` reads no history itself)."""

from __future__ import annotations

from harness.config import HarnessConfig
from harness.data.passport import Recorded


def passport_digests(config: HarnessConfig) -> Recorded:
    """For a golden dataset and a passport number, the JSON digests history recorded; none
    when the store does not exist (a fresh workspace reads passports from version control,
    and reading creates no store)."""
    def recorded(dataset: str, number: int) -> set[str]:
        from harness.history import HistoryStore, history_exists

        url = config.history_url()
        if not history_exists(url):
            return set()
        store = HistoryStore(url)
        try:
            return {r.file_sha256 for r in store.passports(dataset) if r.number == number}
        finally:
            store.close()
    return recorded
