"""Input values shown in messages, testcases and error bodies, kept small.

A value read from a team's data or a client's request (a 1 MiB category, a 900 KB field
name) is shown by its start, its length and a short digest, so a message stays a few
hundred characters and two long values still read apart. Standard library only.
"""

from __future__ import annotations

import hashlib

VALUE_LIMIT = 200  # characters of one input value
MESSAGE_LIMIT = 4000  # characters of one whole message, whatever it quotes


def clip(value: object, limit: int = VALUE_LIMIT) -> str:
    """``value`` as text of at most about ``limit`` characters: a longer one keeps its
    first ``limit`` characters and says how long it was and its sha256's start."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:12]
    # No dots in the marker: a clipped value may end up in a JUnit class name.
    return f"{text[:limit]}\u2026({len(text)} characters, sha256 {digest})"


def clip_repr(value: object, limit: int = VALUE_LIMIT) -> str:
    """``repr(value)``, clipped as ``clip`` does."""
    return clip(repr(value), limit)
