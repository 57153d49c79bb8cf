"""How one gate criterion (or any testcase) came out: the one outcome type the gates,
the JUnit writer and the JUnit reader share."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A testcase's outcome, spelt as JUnit readers and the history store spell it."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"

    @classmethod
    def of(cls, passed: bool) -> Outcome:
        """A judgment that either holds or does not."""
        return cls.PASSED if passed else cls.FAILED

    @property
    def counts_against(self) -> bool:
        """Whether it fails a verdict: a failure or an error, not a skip."""
        return self in (Outcome.FAILED, Outcome.ERROR)
