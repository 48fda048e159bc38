# Shared fixtures. Storage tests run on SQLite and, when SIGAP_TEST_POSTGRES_URL is set
# (CI sets it), on PostgreSQL too; each PostgreSQL test gets a schema of its own.
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from storage import migrate
from storage.complaints import DeadlinePolicy
from storage.db import Database, sqlite_url

PG_URL = os.environ.get("SIGAP_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
if os.environ.get("CI", "").lower() == "true" and not PG_URL:
    # In CI both backends run and none skips (.ci/run sets the URL and checks the server).
    raise pytest.UsageError("CI=true needs SIGAP_TEST_POSTGRES_URL: every path runs on PostgreSQL too")


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


# --- The register for CLI and end-to-end tests --------------------------------------------
# `register` is parametrised like `db`, but hands SIGAP itself the place to keep its data: on
# SQLite nothing is set (SIGAP opens sigap.db in its SIGAP_DATA_DIR, as a newcomer's does);
# on PostgreSQL an empty schema of its own, given as SIGAP_DATABASE_URL in the environment,
# so `sigap ...` via bot.cli.sigap.main, subprocesses, and tests.e2e's worlds all use it. SIGAP
# migrates the schema itself, as an office's first run does. A module whose tests all need it
# says `pytestmark = pytest.mark.usefixtures("register")`.


@dataclass(frozen=True)
class Register:
    backend: str
    pg_url: str | None = None

    def url(self, data_dir: Path) -> str:
        """The URL SIGAP opens when its SIGAP_DATA_DIR is `data_dir`."""
        return self.pg_url or sqlite_url(data_dir)

    def env(self) -> dict[str, str]:
        return {"SIGAP_DATABASE_URL": self.pg_url} if self.pg_url else {}


@pytest.fixture(params=BACKENDS)
def register(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Register]:
    if request.param == "sqlite":
        monkeypatch.delenv("SIGAP_DATABASE_URL", raising=False)
        yield Register("sqlite")
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _pg_schema_url(schema)
    monkeypatch.setenv("SIGAP_DATABASE_URL", url)
    try:
        yield Register("postgresql", url)
    finally:
        with admin.connect() as conn:
            # A failed test may leave a connection holding locks: do not hang the suite on it.
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# --- Every test that opens a register runs on both backends --------------------------------
# Database.__init__ is wrapped to note which backends the running test opened. A test that
# opened SQLite without being parametrised by backend (through `db` or `register`) fails, so
# that a new CLI or chat test cannot silently be SQLite-only. `sqlite_db` and the marker
# `sqlite_only` are for tests about SQLite itself (its file, its WAL).
PARAMETRISED = {"db", "register"}
_opened: list[str] = []
_database_init = Database.__init__


def _noting_init(self: Database, url: str, *args: object, **kwargs: object) -> None:
    _database_init(self, url, *args, **kwargs)  # type: ignore[arg-type]
    if self.engine.url.database not in (None, "", ":memory:"):  # in-memory: no register
        _opened.append("sqlite" if self.is_sqlite else "postgresql")


Database.__init__ = _noting_init  # type: ignore[method-assign]


def backend_problem(opened: set[str], fixtures: set[str], params: dict[str, object], sqlite_only: bool) -> str | None:
    """Why a test that opened registers of `opened` is not a test on both backends, or None."""
    if sqlite_only or "sqlite" not in opened:
        return None
    if not fixtures & (PARAMETRISED | {"sqlite_db"}):
        return ("opened a SQLite register but is not parametrised by backend: use the `db` or "
                "`register` fixture (tests/conftest.py) so it runs on PostgreSQL too")
    if "postgresql" in {params.get(name) for name in PARAMETRISED}:
        return ("opened a SQLite register in its PostgreSQL run: pass the backend's URL on "
                "(Register.url/env, tests.e2e.register_env, or db.url as SIGAP_DATABASE_URL)")
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself (file, WAL)")


# In CI nothing skips: a skipped test there is a path that did not run (e.g. on PostgreSQL).
IN_CI = os.environ.get("CI", "").lower() == "true"
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped:
        print(f"\nCI=true: {len(_skipped)} test(s) skipped, none may: " + ", ".join(_skipped[:10]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _every_register_on_both_backends(request: pytest.FixtureRequest) -> Iterator[None]:
    _opened.clear()
    yield
    callspec = getattr(request.node, "callspec", None)
    problem = backend_problem(set(_opened), set(request.fixturenames), dict(callspec.params) if callspec else {},
                              request.node.get_closest_marker("sqlite_only") is not None)
    if problem:
        pytest.fail(f"{request.node.nodeid} {problem}", pytrace=False)


# The end-to-end world (tests/e2e.py: the real bot against the Bot API emulator) on the
# `register` of the test; a module that needs officers or another setup defines its own.
@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    from tests.e2e import start_world, stop_world  # PTB and the emulator: only when asked

    w = await start_world(tmp_path)
    try:
        yield w
    finally:
        await stop_world(w)
