# Scheduled work that every process of one register schedules, but only one may run at a
# time (the nightly retention purge): a PostgreSQL advisory lock on a connection of its own,
# held while the work runs. Invariant: of the processes that ask at once, exactly one gets
# it; the others skip this round (the work is idempotent, so a later run finds nothing
# left). SQLite is one process: always granted.
from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from storage.db import Database


def _key(name: str) -> int:
    return zlib.crc32(f"sigap:{name}".encode())  # fits PostgreSQL's bigint lock key


@contextmanager
def exclusive(db: Database, name: str) -> Iterator[bool]:
    """Yields True when this process may run the work `name` now, False when another does."""
    if db.is_sqlite:
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)}))
        conn.commit()  # the lock is the session's: no transaction stays open meanwhile
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                conn.commit()
