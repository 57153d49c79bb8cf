"""Input values stay small wherever they are shown: the shared clip, and a golden value of
1 MiB that once made junit/checks.xml megabytes (written seven times)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.text import VALUE_LIMIT, clip, clip_repr
from tests.support.cli import harness
from tests.support.project import edit_config, rewrite_golden


def test_clip_keeps_short_values_and_tells_long_ones_apart() -> None:
    assert clip("fixed") == "fixed" and clip(12.5) == "12.5"
    first, second = clip("a" * 5000), clip("a" * 4999 + "b")
    assert first.startswith("a" * VALUE_LIMIT + "\u2026(5000 characters, sha256 ")
    assert len(first) < VALUE_LIMIT + 50 and first != second
    assert "." not in first[VALUE_LIMIT:], "no dots: it may sit in a JUnit class name"
    assert clip_repr("x" * 10, limit=5).startswith("'xxxx\u2026(12 characters, sha256 ")


def test_a_huge_golden_value_is_clipped_in_every_testcase(project: Path) -> None:
    frame = pd.read_csv(project / "golden/credit/v1/credit.csv")
    frame["Job"] = frame["Job"].astype(object)
    frame.loc[3, "Job"] = "x" * (1 << 20)
    rewrite_golden(project, frame)
    edit_config(project, profiles={"pr": {"checks": ["schema", "quality"]}})
    blessed = harness(project, "golden", "bless", "--by", "ana", "--reason", "huge value")
    assert blessed.returncode == 0, blessed.stdout + blessed.stderr
    result = harness(project, "check", "--profile", "pr")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Job.allowed: column 'Job' in 'credit-v1' has 1 values outside the allowed set" \
        in result.stdout
    junit = project / "reports/pr/junit/checks.xml"
    assert junit.stat().st_size < 200_000, junit.stat().st_size
    text = junit.read_text()
    assert "x" * (VALUE_LIMIT + 1) not in text
    assert "x" * VALUE_LIMIT + "\u2026(1048576 characters, sha256 " in text
    assert (project / "reports/pr/pytest.log").stat().st_size < 200_000
    assert len(result.stdout) < 20_000
