"""What a killed promotion left, as ``harness status`` reads it: nothing where there is no
history store, and a store that cannot be opened said as such."""

from __future__ import annotations

from pathlib import Path

from harness.config import load_config


def test_status_reads_history_only_where_there_is_one(project: Path, monkeypatch) -> None:
    from harness.release.recovery import interrupted_promotion

    config = load_config(project / "harness.yaml")
    assert interrupted_promotion(config) is None
    assert not (project / ".harness").exists(), "status creates no history store"
    monkeypatch.setenv("HARNESS_HISTORY_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    found = interrupted_promotion(config)
    assert found is not None and found.startswith(
        "cannot tell whether a promotion was interrupted: history store "
        "postgresql+psycopg://nobody@127.0.0.1:1/none cannot be opened")
