# Keys of runtime_settings (storage.models.Setting), built so that they fit their column.
# Invariant: every key is a short fixed name, optionally followed by ":" and a fixed-length
# digest of the data it is about (a file's content, a period, a chat) — never the data
# itself — so its length is at most SETTING_KEY_LENGTH whatever the data is. PostgreSQL
# enforces the column length and SQLite does not, so an over-long key used to pass the
# SQLite tests and fail an office's PostgreSQL (`sigap skm import`, issue 11).
from __future__ import annotations

import hashlib
import re

SETTING_KEY_LENGTH = 64
DIGEST_LENGTH = 40  # hex characters of SHA-256: 160 bits, no collision among an office's files
NAME_LENGTH = SETTING_KEY_LENGTH - 1 - DIGEST_LENGTH
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def setting_key(name: str, data: str | bytes | None = None) -> str:
    """`name`, or `name:<digest of data>`; at most SETTING_KEY_LENGTH characters always."""
    if not _NAME.fullmatch(name) or len(name) > NAME_LENGTH:
        raise ValueError(f"setting name must be [a-z0-9_], at most {NAME_LENGTH} characters: {name!r}")
    if data is None:
        return name
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return f"{name}:{hashlib.sha256(raw).hexdigest()[:DIGEST_LENGTH]}"


__all__ = ["DIGEST_LENGTH", "NAME_LENGTH", "SETTING_KEY_LENGTH", "setting_key"]
