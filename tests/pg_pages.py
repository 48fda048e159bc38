# PostgreSQL: what the table pages hold, dead row versions included (pageinspect), for the
# tests that check erased text is gone from the database files and not only from queries.
from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text

from storage.db import Database


def compacted_pages(db: Database, secrets: tuple[bytes, ...], compact: Callable[[], object]) -> bytes:
    """Compact, then the raw pages. VACUUM FULL keeps a dead row version that a transaction
    open at that moment may still see (any connection to the same database: here, other
    test runs), so compact again until none of the secrets is left or 30 s have passed."""
    deadline = time.monotonic() + 30
    while True:
        compact()
        raw = raw_pages(db)
        if not any(s in raw for s in secrets) or time.monotonic() > deadline:
            return raw
        time.sleep(0.5)


def raw_pages(db: Database) -> bytes:
    """PostgreSQL: the bytes of every page of the tables erasure touches and of their
    indexes, as the server holds them (pageinspect reads the buffer or the file), so that
    a dead row version that no query returns is still seen."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public")
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        rels = conn.execute(text(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'i', 't')"), {"schema": schema}).scalars().all()
        pages = []
        for rel in rels:
            blocks = conn.execute(text("SELECT pg_relation_size(CAST(:r AS regclass)) / "
                                       "current_setting('block_size')::int"), {"r": rel}).scalar_one()
            for block in range(blocks):
                pages.append(conn.execute(text("SELECT public.get_raw_page(:r, :b)"),
                                          {"r": f"{schema}.{rel}" if "." not in rel else rel, "b": block}).scalar_one())
    return b"".join(bytes(p) for p in pages)

