# Shared fixtures. Storage tests run on SQLite and, when SIGAP_TEST_POSTGRES_URL is set
# (CI sets it), on PostgreSQL too; each PostgreSQL test gets a schema of its own.
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import migrate
from storage.complaints import DeadlinePolicy
from storage.db import Database

PG_URL = os.environ.get("SIGAP_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_schema_url(schema: str) -> str:
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def make_database(backend: str, tmp_path: Path) -> tuple[Database, object]:
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
        migrate.upgrade(db)
        return db, None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(_pg_schema_url(schema))
    migrate.upgrade(db)
    return db, (admin, schema)


def drop_database(db: Database, handle: object) -> None:
    db.dispose()
    if handle is not None:
        admin, schema = handle  # type: ignore[misc]
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database, handle = make_database(request.param, tmp_path)
    try:
        yield database
    finally:
        drop_database(database, handle)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database, handle = make_database("sqlite", tmp_path)
    try:
        yield database
    finally:
        drop_database(database, handle)


@pytest.fixture
def policy() -> DeadlinePolicy:
    # A fixed holiday set keeps the tests independent of the holidays package's data.
    return DeadlinePolicy(verify_days=3, followup_days=5, holidays={date(2026, 12, 25)})
