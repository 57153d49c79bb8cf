"""The one clock: UTC, ISO 8601, to the second, readable back as an aware time."""

from __future__ import annotations

import datetime as dt
import re

from harness.clock import utc_now


def test_now_is_utc_to_the_second_and_reads_back() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    text = utc_now()
    after = dt.datetime.now(dt.UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text), text
    when = dt.datetime.fromisoformat(text)
    assert when.utcoffset() == dt.timedelta(0) and before <= when <= after
