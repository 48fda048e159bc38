"""`sigap skm report` (skm_summary) beside the bare SQL aggregate, on the same data, in one run.

For each backend (SQLite, PostgreSQL) it fills a fresh register with generated responses in
one quarter, growing it to each size (default 10,000, 100,000 and 1,000,000; bulk inserts:
executemany on SQLite, COPY on PostgreSQL), then times:

- skm_summary(session, office, 2026-Q3): what `sigap skm report --period 2026-Q3` computes
  (the per-service GROUP BY, the total added up from it, the populations, the exact IKM);
- the bare aggregate: one `SELECT count(*), sum(u1), count(u1), ... WHERE tanggal BETWEEN`
  sent as plain SQL on the driver connection, no ORM, no IKM;

and prints the median time of each, their ratio, and the peak Python memory of one
skm_summary call (tracemalloc), which must not grow with the row count. With --xlsx N it
also times the XLSX export for sizes up to N, with the growth of the resident set during it
(write_only streaming: it must stay flat too). Linux only (/proc for the RSS).

    python bench/skm_report.py [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
                               [--repeat 5] [--xlsx 100000]

PostgreSQL: SIGAP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the run creates a schema of its own and drops it at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from measure import peak_memory, timed  # bench/measure.py (the script's own folder)
from sqlalchemy import create_engine, text

from bot.config.office import load_office
from bot.reports.skm_summary import skm_summary
from kpi.periods import parse_period
from kpi.skm_questionnaire import UNSUR_CODES
from storage import migrate
from storage.db import Database
from storage.skm import BULK_COLUMNS

PERIOD = parse_period("2026-Q3")
NOW = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BARE_SQL = (
    "SELECT count(*), "
    + ", ".join(f"sum({c}), count({c})" for c in UNSUR_CODES)
    + " FROM skm_responses WHERE tanggal >= {a} AND tanggal <= {b}"
)


def generate(n: int, seed: int, services: list[str]) -> Iterator[tuple[Any, ...]]:
    """n responses spread over the quarter, in BULK_COLUMNS order."""
    rng = random.Random(seed)
    first = PERIOD.first_day()
    days = (PERIOD.last_day() - first).days + 1
    edu = ["SD", "SMP", "SMA", "D1-D3", "S1", "S2", None]
    job = ["PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Lainnya", None]
    for _ in range(n):
        answers = [None if rng.random() < 0.02 else rng.choice((2, 3, 3, 4, 4)) for _ in UNSUR_CODES]
        values: dict[str, Any] = {
            "source": "kertas", "respondent_key": None, "service": rng.choice(services),
            "period": PERIOD.code, "tanggal": first + timedelta(days=rng.randrange(days)),
            "answered_at": NOW, "consent_at": None, "jenis_kelamin": rng.choice(("L", "P")),
            "usia": rng.randrange(17, 80), "pendidikan": rng.choice(edu),
            "pekerjaan": rng.choice(job), "saran": "Antrean lama" if rng.random() < 0.05 else None,
            "recorded_by": "bench", "created_at": NOW,
            **dict(zip(UNSUR_CODES, answers, strict=True)),
        }
        yield tuple(values[c] for c in BULK_COLUMNS)


def insert_sqlite(db: Database, rows: Iterator[tuple[Any, ...]]) -> None:
    # The same text forms SQLAlchemy's SQLite dialect writes for Date and DateTime.
    def adapt(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = []
        for v in row:
            if isinstance(v, datetime):
                v = v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            elif isinstance(v, date):
                v = v.isoformat()
            out.append(v)
        return tuple(out)

    cols = ", ".join(BULK_COLUMNS)
    marks = ", ".join("?" for _ in BULK_COLUMNS)
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        cur.executemany(f"INSERT INTO skm_responses ({cols}) VALUES ({marks})", map(adapt, rows))
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def insert_postgres(db: Database, rows: Iterator[tuple[Any, ...]]) -> None:
    raw = db.engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        with conn.cursor() as cur:
            with cur.copy(f"COPY skm_responses ({', '.join(BULK_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute("ANALYZE skm_responses")
        conn.commit()
    finally:
        raw.close()


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_growth(fn: Callable[[], Any]) -> tuple[float, int]:
    """(seconds, peak resident-set growth in bytes) of one call, sampled every 20 ms.

    For the XLSX export: tracemalloc slows openpyxl tenfold, and RSS also counts the C
    side (the SQLite page cache, the zip writer)."""
    base = _rss()
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _rss())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        fn()
    finally:
        elapsed = time.perf_counter() - t0
        done.set()
        t.join()
    return elapsed, max(peak, _rss()) - base


def run_backend(name: str, db: Database, sizes: list[int], repeat: int, xlsx_max: int) -> list[str]:
    office = load_office()
    services = [sv.code for sv in office.services]
    insert = insert_sqlite if db.is_sqlite else insert_postgres
    a, b = PERIOD.first_day(), PERIOD.last_day()
    bare = BARE_SQL.format(a=f"'{a.isoformat()}'", b=f"'{b.isoformat()}'")
    lines = []
    have = 0
    for size in sizes:
        t0 = time.perf_counter()
        insert(db, generate(size - have, seed=size, services=services))
        fill = time.perf_counter() - t0
        have = size

        def summary() -> Any:
            with db.reading() as s:
                return skm_summary(s, office, PERIOD)

        def bare_sql() -> Any:
            with db.engine.connect() as conn:
                return conn.exec_driver_sql(bare).one()

        summary()  # warm the caches (pages, statement cache) for both alike
        bare_sql()
        t_summary, result = timed(summary, repeat)
        t_bare, row = timed(bare_sql, repeat)
        # Same data, same answer: the summary's respondents and u1 sum are the bare query's.
        assert result.respondents == row[0] == size, (result.respondents, row[0], size)
        assert result.result is not None
        mem = peak_memory(summary)
        line = (f"{name:10s} {size:>9,d} rows  fill {fill:6.1f}s  summary {t_summary * 1000:8.1f} ms  "
                f"bare SQL {t_bare * 1000:8.1f} ms  ratio {t_summary / t_bare:5.2f}  "
                f"peak mem {mem / 1024:7.1f} KiB  IKM {result.result.konversi}")
        if size <= xlsx_max:
            from bot.reports.skm_xlsx import write_report_xlsx

            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "skm.xlsx"

                def export(out: Path = out, summary: Any = result) -> None:
                    with db.reading() as s:
                        write_report_xlsx(out, s, office, summary, progress=False)

                seconds, growth = peak_rss_growth(export)
                line += f"  xlsx {seconds:6.1f}s  RSS +{growth / 1024 / 1024:5.1f} MiB"
        print(line, flush=True)
        lines.append(line)
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--xlsx", type=int, default=0, help="also time the XLSX export up to this size")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU; median of {args.repeat}", flush=True)
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
                migrate.upgrade(db)
                try:
                    run_backend("sqlite", db, sizes, args.repeat, args.xlsx)
                finally:
                    db.dispose()
        elif backend == "postgresql":
            url = os.environ.get("SIGAP_TEST_POSTGRES_URL", DEFAULT_PG)
            schema = "bench_" + uuid.uuid4().hex[:10]
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            sep = "&" if "?" in url else "?"
            db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
            try:
                migrate.upgrade(db)
                run_backend("postgresql", db, sizes, args.repeat, args.xlsx)
            finally:
                db.dispose()
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
        else:
            print(f"unknown backend {backend}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
