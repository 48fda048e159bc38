"""The large register every bench fills: N complaints of 2026 with their status history and
N SKM responses, generated the same way for bench/digest.py, bench/reports.py and
bench/officer_commands.py (one generator, so their figures are about the same data).

The complaints are spread over 2026 up to the digest week 2026-W48 (every complaint in the
reported year: the worst case for the year's figures): 80% resolved, 5% duplicates, 3%
forwarded, 2% rejected, the rest open. The status history has one row per move, dated, as
storage.lifecycle writes them (about 3.5 N rows). The responses are spread over the same
days. Bulk inserts: executemany in chunks on SQLite, COPY on PostgreSQL; ANALYZE after (PostgreSQL: VACUUM
first, `settle`).
"Now" is Monday 30 November 2026, 07:00 WIB: nothing happens after it.
"""
from __future__ import annotations

import contextlib
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from bot.config.office import load_office
from kpi.periods import parse_period
from kpi.workdays import add_working_days
from storage import migrate
from storage.db import Database

# Where the PostgreSQL parts of every bench run (a schema of their own, dropped after).
PG_URL = os.environ.get("SIGAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WIB = ZoneInfo("Asia/Jakarta")
WEEK = parse_period("2026-W48")
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=WIB)
CHUNK = 50_000

COMPLAINT_COLUMNS = (
    "ticket", "year", "seq", "kind", "category", "desa", "description", "channel", "anonim",
    "rahasia", "status", "received_at", "created_at", "verify_due", "followup_due",
    "verified_at", "followed_up_at", "resolved_at", "closed_at", "reopen_count", "version",
)
SKM_COLUMNS = (
    "source", "service", "period", "tanggal", "answered_at", "jenis_kelamin", "usia",
    "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "created_at",
)


def bench_holidays() -> Any:
    return holidays_lib.country_holidays("ID", years=(2025, 2026, 2027))


def complaints(n: int, seed: int, categories: list[str], desa: list[str], hol: Any,
               prefix: str = "TRB") -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=WIB)
    span = (WEEK.end(WIB) - start).total_seconds()
    dues: dict[date, tuple[date, date]] = {}
    for seq in range(1, n + 1):
        received = start + timedelta(seconds=rnd.random() * span)
        day = received.date()
        if day not in dues:
            dues[day] = (add_working_days(day, 3, hol), add_working_days(day, 5, hol))
        verify_due, followup_due = dues[day]
        r = rnd.random()
        verified = followed = resolved = closed = None
        if r < 0.80:
            status = "selesai"
            verified = received + timedelta(hours=rnd.uniform(1, 96))
            followed = verified + timedelta(hours=rnd.uniform(1, 96))
            resolved = closed = followed + timedelta(hours=rnd.uniform(1, 240))
        elif r < 0.85:
            status, closed = "duplikat", received + timedelta(hours=2)
        elif r < 0.88:
            status, closed = "diteruskan", received + timedelta(hours=5)
        elif r < 0.90:
            status, closed = "ditolak", received + timedelta(hours=5)
        elif r < 0.95:
            status = "diterima"
        elif r < 0.98:
            status, verified = "diverifikasi", received + timedelta(hours=30)
        else:
            status = "ditindaklanjuti"
            verified = received + timedelta(hours=3)
            followed = received + timedelta(hours=50)
        if resolved is not None and resolved > NOW:  # nothing happens after "now"
            status, resolved, closed = "ditindaklanjuti", None, None
        yield (
            f"{prefix}-2026-{seq:07d}", 2026, seq, "pengaduan", rnd.choice(categories), rnd.choice(desa),
            "uraian", rnd.choice(("telegram", "lisan", "surat", "whatsapp")), False, True, status,
            received, received, verify_due, followup_due, verified, followed, resolved, closed, 0, 1,
        )


def responses(n: int, seed: int, services: list[str]) -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(seed)
    first = date(2026, 1, 1)
    days = (WEEK.last_day() - first).days + 1
    for _ in range(n):
        d = first + timedelta(days=rnd.randrange(days))
        at = datetime(d.year, d.month, d.day, 10, tzinfo=WIB)
        answers = [rnd.choice((2, 3, 3, 4, 4)) for _ in range(9)]
        yield (
            "kertas", rnd.choice(services), f"{d.year}-Q{(d.month - 1) // 3 + 1}", d, at,
            rnd.choice("LP"), rnd.randrange(18, 70), *answers, at,
        )


def sqlite_value(v: Any) -> Any:
    # As SQLAlchemy stores them on SQLite: naive UTC text for datetimes, ISO dates, 0/1.
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def insert(db: Database, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if db.is_sqlite:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            cur.execute("BEGIN")
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(tuple(sqlite_value(v) for v in row))
                if len(chunk) == CHUNK:
                    cur.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cur.executemany(sql, chunk)
            cur.execute("COMMIT")
        else:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        cur.close()
    finally:
        raw.close()


def _only(kecamatan: str | None, sql: str) -> str:
    # One kecamatan's complaints (bench/tenants.py fills kecamatan after kecamatan): the
    # statement reads a subquery named like the table, so it is otherwise unchanged.
    if kecamatan is None:
        return sql
    return sql.replace("FROM complaints", f"FROM (SELECT * FROM complaints WHERE kecamatan = '{kecamatan}') AS complaints")


def history(db: Database, kecamatan: str | None = None) -> None:
    """The status history of the generated complaints, one row per move as
    storage.lifecycle.transition writes it (intake, verification, follow-up, outcome);
    `kecamatan`: of that kecamatan's complaints only."""
    cols = "complaint_id, at, actor_kind, actor_name, from_status, to_status"
    moves = [
        "SELECT id, received_at, 'warga', NULL, NULL, 'diterima' FROM complaints",
        "SELECT id, verified_at, 'petugas', 'bench', 'diterima', 'diverifikasi' FROM complaints "
        "WHERE verified_at IS NOT NULL",
        "SELECT id, followed_up_at, 'petugas', 'bench', 'diverifikasi', 'ditindaklanjuti' FROM complaints "
        "WHERE followed_up_at IS NOT NULL",
        "SELECT id, resolved_at, 'petugas', 'bench', 'ditindaklanjuti', 'selesai' FROM complaints "
        "WHERE resolved_at IS NOT NULL",
        "SELECT id, closed_at, 'petugas', 'bench', 'diterima', status FROM complaints "
        "WHERE status IN ('duplikat', 'diteruskan', 'ditolak')",
    ]
    with db.engine.begin() as conn:
        for select_moves in moves:
            conn.exec_driver_sql(f"INSERT INTO status_history ({cols}) {_only(kecamatan, select_moves)}")


def _tenant(db: Database) -> tuple[str, ...]:
    """("kecamatan", its kode) when the register's rows belong to a kecamatan (migration 0012,
    storage/tenancy.py: the column has no default), the database's own; else ()."""
    from sqlalchemy import inspect

    kode = getattr(db, "kecamatan", None)
    if kode and "kecamatan" in {c["name"] for c in inspect(db.engine).get_columns("complaints")}:
        return ("kecamatan", kode)
    return ()


@dataclass(frozen=True)
class Filled:
    complaints_seconds: float  # complaints and their history
    responses_seconds: float
    moves: int  # status_history rows

    @property
    def seconds(self) -> float:
        return self.complaints_seconds + self.responses_seconds


def fill(db: Database, size: int, *, current_due: bool = True, kecamatan: str | None = None,
         prefix: str = "TRB", seed: int = 1, analyze: bool = True) -> Filled:
    """N complaints with their history and N SKM responses, then ANALYZE (PostgreSQL: VACUUM first).

    current_due: the deadline of the current status of the open complaints, as
    storage.lifecycle keeps it (for /kasus and the overdue lists); the resolution deadline
    and the on-time record of the move into selesai stay NULL (a register without the
    deadline clock: IKU 4 falls back to the column rule, as the bare SQL does).
    bench/digest.py fills without it, as it always has (its figures stay comparable).

    kecamatan, prefix, seed (bench/tenants.py): the rows go to that kecamatan (instead of the
    database's own), with that ticket prefix and random seeds seed and seed + 1 (the
    defaults are what every other bench has always filled); analyze=False leaves ANALYZE to
    the caller, after its last kecamatan."""
    office = load_office()
    t0 = time.perf_counter()
    tenant = ("kecamatan", kecamatan) if kecamatan else _tenant(db)
    if size:
        insert(db, "complaints", COMPLAINT_COLUMNS + tenant[:1],
               (row + tenant[1:] for row in
                complaints(size, seed, [c.code for c in office.categories], list(office.desa), bench_holidays(),
                           prefix)))
        history(db, kecamatan)
        if current_due:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "UPDATE complaints SET current_due = CASE status WHEN 'diterima' THEN verify_due "
                    "ELSE followup_due END WHERE status IN ('diterima', 'diverifikasi', 'ditindaklanjuti')"
                    + (f" AND kecamatan = '{kecamatan}'" if kecamatan else ""))
    t1 = time.perf_counter()
    if size:
        insert(db, "skm_responses", SKM_COLUMNS + tenant[:1],
               (row + tenant[1:] for row in responses(size, seed + 1, [s.code for s in office.services])))
    t2 = time.perf_counter()
    if analyze:
        settle(db)
    with db.engine.connect() as conn:
        moves = conn.exec_driver_sql("SELECT count(*) FROM status_history").scalar_one()
    return Filled(t1 - t0, t2 - t1, int(moves))


def settle(db: Database) -> None:
    """The filled register as a live one is: ANALYZE, and on PostgreSQL VACUUM first, as
    autovacuum leaves it: the COPY left no visibility map (index-only scans fetched every heap
    page) and the current_due UPDATE a dead version of every open complaint in its indexes;
    whether autovacuum had got to them yet depended on the minute the bench ran."""
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM complaints, status_history, skm_responses")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


@contextlib.contextmanager
def postgres_schema(url: str = PG_URL) -> Iterator[str | None]:
    """The URL of a fresh schema for one run (None when PostgreSQL is not reachable), dropped after."""
    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"PostgreSQL not reachable at {url.split('@')[-1]}: {type(exc).__name__}; skipped")
        admin.dispose()
        yield None
        return
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextlib.contextmanager
def postgres_database(kecamatan: str | None = None, url: str = PG_URL) -> Iterator[Database]:
    """A migrated, empty register in a fresh PostgreSQL schema (postgres_schema); exits when
    PostgreSQL is not reachable."""
    with postgres_schema(url) as schema_url:
        if schema_url is None:
            raise SystemExit("PostgreSQL not reachable")
        db = Database(schema_url, kecamatan=kecamatan)
        try:
            migrate.upgrade(db)
            yield db
        finally:
            db.dispose()
