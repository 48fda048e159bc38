# The database handle and the unit of work.
# Invariants: every write goes through `Database.transaction()`, which commits on success
# and rolls back on any exception, so a step either takes effect whole or not at all.
# SQLite runs in WAL mode with a busy timeout, and every transaction starts with
# BEGIN IMMEDIATE so that two writers queue instead of failing on a lock upgrade; within one
# process, write transactions also take turns on a lock (see Database.__init__).
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import storage.figure_stamp  # noqa: F401  (installs the hooks: a figure written bumps its kecamatan's stamp)
import storage.lengths  # noqa: F401  (installs the guard: String(n) lengths on both backends)
from storage import tenancy

WRITE_LOCK_TIMEOUT = 30.0


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'sigap.db').as_posix()}"


def _prepare_sqlite(engine: Engine, begin: str = "BEGIN IMMEDIATE") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Erased personal data (UU 27/2022) is overwritten with zeros in the file, not left
        # in free pages; see Database.truncate_wal for the WAL's old frames.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(begin)


class Database:
    def __init__(self, url: str, *, echo: bool = False, kecamatan: str | None = None) -> None:
        parsed = make_url(url)
        self.url = url
        # The tenant of every transaction that names none (storage/tenancy.py): the one
        # office of a single-office deployment.
        self.kecamatan = tenancy.check_kode(kecamatan or tenancy.DEFAULT_KECAMATAN)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.engine = create_engine(url, **kwargs)
        self._read_engine = self.engine
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
            # Readers take no write lock: in WAL mode they never wait for a writer, while a
            # BEGIN IMMEDIATE reader would queue behind every write (measured: 4x latency).
            self._read_engine = create_engine(url, **kwargs)
            _prepare_sqlite(self._read_engine, "BEGIN")
        # Sessions of this register work for its kecamatan unless a transaction names another.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"kecamatan": self.kecamatan})
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False,
                                           info={"kecamatan": self.kecamatan})
        # SQLite has one writer. Writers of this process queue on this lock instead of on
        # SQLite's busy handler, which polls in sleeps of 1 to 100 ms (measured with
        # bench/telegram_throughput.py: 83 -> 141 updates/s). Other processes (CLI commands)
        # still meet BEGIN IMMEDIATE and the busy timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def transaction(self, kecamatan: str | None = None) -> Iterator[Session]:
        lock = self._write_lock
        # A nested write transaction in one thread would wait for itself: fail like SQLite.
        if lock is not None and not lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise TimeoutError(f"database is locked: no write turn within {WRITE_LOCK_TIMEOUT:.0f} s")
        try:
            session = self._sessions(info={"kecamatan": tenancy.check_kode(kecamatan or self.kecamatan)})
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            with session.begin():
                yield session
        finally:
            session.close()
            if lock is not None:
                lock.release()

    @contextmanager
    def reading(self, kecamatan: str | None = None) -> Iterator[Session]:
        """A transaction that only reads (it is rolled back at the end)."""
        session = self._read_sessions(info={"kecamatan": tenancy.check_kode(kecamatan or self.kecamatan)})
        try:
            with session.begin():
                yield session
                session.rollback()
        finally:
            session.close()

    def truncate_wal(self) -> None:
        """SQLite: copy the WAL into the database file and empty it, so that old page
        versions holding erased text do not linger in it (after erasure and retention).
        A no-op on PostgreSQL: see reclaim_erased."""
        if not self.is_sqlite:
            return
        # On the driver connection: outside a transaction (SQLAlchemy would BEGIN first).
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.close()
        finally:
            raw.close()

    # The tables whose rows erasure and retention rewrite or delete (storage/erasure.py,
    # storage/retention.py): where the old row versions of erased text lie on PostgreSQL.
    ERASED_TABLES = ("people", "complaints", "photos", "status_history", "inbox", "outbox",
                     "dialog_states", "cards", "skm_responses")

    def reclaim_erased(self, *, compact: bool = False) -> None:
        """After erasure or retention, leave no old version of erased text where the
        database keeps it. SQLite (secure_delete zeroes what a write frees): empty the WAL.
        PostgreSQL: an UPDATE or DELETE leaves the old row version (the erased name, the
        description) in the table as a dead tuple. VACUUM makes it unreachable (no query,
        index or replica sees it) and its space reusable, but the bytes stay in the page
        until a later row overwrites them; only VACUUM FULL (`compact`) rewrites the table
        without them, holding an exclusive lock on each table meanwhile (seconds on a large
        register, so for a quiet hour: `sigap retensi --padatkan`). VACUUM cannot run inside
        a transaction: autocommit."""
        if self.is_sqlite:
            self.truncate_wal()
            return
        verb = "VACUUM FULL" if compact else "VACUUM"
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in self.ERASED_TABLES:
                conn.exec_driver_sql(f"{verb} {table}")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()


def redact_url(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<url tidak valid>"


def unreachable_reason(exc: BaseException) -> str | None:
    """For a failure to reach the database (server down, file not openable): the driver's
    first line, without a password; None for any other error. The CLI turns it into one
    Indonesian line instead of a traceback, without importing SQLAlchemy itself."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    line = text[0] if text else type(orig).__name__
    # psycopg puts the connection string in some messages; never echo a password.
    line = re.sub(r"(password=)\S+", r"\1***", line)
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", line)


def describe_url(url: str) -> str:
    """Which register a URL opens, for a person: the SQLite file as an absolute path (so a
    run from another working folder is visible at once), otherwise the URL without password."""
    try:
        parsed = make_url(url)
    except Exception:
        return redact_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return f"SQLite {Path(parsed.database).resolve()}"
    return redact_url(url)


def default_data_dir() -> Path:
    return Path(os.environ.get("SIGAP_DATA_DIR", "data"))
