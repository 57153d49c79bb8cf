"""sha256 of files, streamed in chunks, and of bytes: the same digests as hashlib's."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.digests import _CHUNK, sha256_bytes, sha256_file


def test_a_file_larger_than_a_chunk_has_the_digest_of_its_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * (_CHUNK // 256 * 2 + 3)  # over two chunks, a partial one last
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_bytes(data) == hashlib.sha256(data).hexdigest()


def test_an_empty_file_has_the_digest_of_no_bytes(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
