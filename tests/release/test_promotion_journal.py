"""The journal a promotion in flight keeps in its lock: typed, in the format it always had."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.candidate.identity import Candidate
from harness.errors import HarnessError
from harness.release.promotion import PromotionJournal

PREVIOUS = Candidate("abc123abc123", Path("/models/credit"), "f" * 64, code_revision="r1")


def test_a_journal_reads_back_what_it_wrote_and_keeps_its_keys() -> None:
    journal = PromotionJournal("def456def456", "deploying", PREVIOUS)
    written = journal.to_dict()
    assert written == {"candidate": "def456def456", "phase": "deploying",
                       "previous_candidate": PREVIOUS.id, "previous": PREVIOUS.to_dict()}
    assert PromotionJournal.from_dict(written) == journal
    empty = PromotionJournal.from_dict({"candidate": "x", "phase": "verifying",
                                        "previous_candidate": None, "previous": None})
    assert empty.previous is None and empty.previous_candidate is None


def test_a_journal_that_cannot_be_read_says_so() -> None:
    with pytest.raises(HarnessError, match="journal cannot be read"):
        PromotionJournal.from_dict({"candidate": "x", "phase": "p", "previous": {"id": 1}})


def test_a_canarys_journal_says_so_and_older_journals_are_promotions() -> None:
    journal = PromotionJournal("def456def456", "step 2 of 3 (50 %)", PREVIOUS, canary=True)
    written = journal.to_dict()
    assert written["canary"] is True and PromotionJournal.from_dict(written) == journal
    assert journal.what == "canary"
    older = PromotionJournal.from_dict({"candidate": "x", "phase": "deploying",
                                        "previous": None})
    assert not older.canary and older.what == "promotion"
