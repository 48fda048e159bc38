"""The report paths of issue 11 beside their bare equivalents, on the same register, in one run.

For each backend (SQLite, PostgreSQL) and register size N (default 0 and 1,000,000): N
complaints of 2026 with their status history and N SKM responses (bench/register.py, the
generator bench/digest.py and bench/officer_commands.py use too; ANALYZE after). The SQLite register is kept in --keep (a file per N) and reused
by the next run; PostgreSQL fills a schema of its own, dropped at the end. Then, as of
Monday 30 November 2026 (the generator's "now"):

- SKM year summary: skm_summary(2026) (`sigap skm laporan --period 2026`) beside the bare
  per-service SUM/COUNT, once by the tanggal index and once by a table scan (the best is the
  baseline);
- IKU 4 by triwulan and by desa: complaint_stats.resolution_by_quarter and resolution_by
  (what the IKU table computes) beside the same as-of counts in plain grouped SQL (status
  from the history for the complaints changed since the cut-off, as bench/digest.py does);
- complaints export CSV: csv_io.export_complaints (`sigap pengaduan ekspor --csv`) beside a
  bare csv.writer over the same SELECT on the driver cursor; time and peak RSS;
- IKU xlsx: iku_table + write_iku_xlsx (`sigap iku laporan --xlsx`) beside the bare IKU 4
  and IKU 2 SQL and an openpyxl write-only sheet of the same cells;
- SKM xlsx: skm_summary + write_report_xlsx (`sigap skm laporan --period 2026 --xlsx`)
  beside an openpyxl write-only workbook of the same cells (no styles) from the same SELECTs.

The exports run in a spawned process each, so their peak RSS (ru_maxrss above the process's
own after imports) is theirs alone. Medians of --repeat; --explain prints the plan of every
statement each path sends (EXPLAIN QUERY PLAN / EXPLAIN), as bench/README.md reports them.

    python bench/reports.py [--sizes 0,1000000] [--backends sqlite,postgresql] [--repeat 3]
                            [--xlsx-repeat 3] [--only skm,iku,csv,ikux,skmx] [--explain]
                            [--keep /tmp/sigap_bench_reports]
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import peak_memory, timed  # noqa: E402
from register import NOW, bench_holidays, fill, postgres_database  # noqa: E402  bench/register.py: the register
from register import sqlite_value as _sqlite_value  # noqa: E402
from skm_report import peak_rss_growth  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bot.config.office import load_office  # noqa: E402
from kpi.periods import Period, quarters_of  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
YEAR = 2026
AS_OF = NOW.date()  # 30 November 2026
STATES = ("duplikat", "diteruskan", "selesai")
UNSUR = [f"u{i}" for i in range(1, 10)]


# ------------------------------------------------------------------------------- the register


@contextmanager
def sqlite_register(keep: Path, size: int) -> Iterator[Database]:
    keep.mkdir(parents=True, exist_ok=True)
    path = keep / f"register_{size}.db"
    done = path.with_suffix(".done")
    if not done.exists():
        path.unlink(missing_ok=True)
        db = Database(f"sqlite:///{path}")
        migrate.upgrade(db)
        print(f"  built {path} in {fill(db, size).seconds:.0f} s", flush=True)
        done.touch()
    else:
        db = Database(f"sqlite:///{path}")
        migrate.upgrade(db)  # a migration added since the register was built (e.g. an index)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(f"  reusing {path}", flush=True)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def postgres_register(size: int) -> Iterator[Database]:
    with postgres_database() as db:
        print(f"  built the register in {fill(db, size).seconds:.0f} s", flush=True)
        yield db


# ------------------------------------------------------------------------------ bare SQL


def _raw(db: Database, sql: str, params: list[Any], *, scan: bool = False) -> list[Any]:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if not db.is_sqlite:
            cur.execute("SET LOCAL jit = off")  # as storage.complaint_stats.prepare does
            if scan:
                cur.execute("SET LOCAL enable_indexscan = off")
                cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
        raw.rollback()
        return rows
    finally:
        raw.close()


def _p(db: Database, v: Any) -> Any:
    return _sqlite_value(v) if db.is_sqlite else v


def _ph(db: Database) -> str:
    return "?" if db.is_sqlite else "%s"


def bare_skm(db: Database, first: date, last: date, *, scan: bool, group: bool = True) -> list[Any]:
    """The per-service sums and counts of [first, last]; scan: without the tanggal index."""
    ph = _ph(db)
    col = "+tanggal" if db.is_sqlite and scan else "tanggal"  # unary + disables the index
    sums = ", ".join(f"sum({u}), count({u})" for u in UNSUR)
    sql = (f"SELECT {'service, ' if group else ''}count(*), {sums} FROM skm_responses "
           f"WHERE {col} >= {ph} AND {col} <= {ph}" + (" GROUP BY service" if group else ""))
    return _raw(db, sql, [_p(db, first), _p(db, last)], scan=scan)


def _cutoff(d: date) -> datetime:
    from bot.reports.iku_report import cutoff_of

    return min(cutoff_of(d, WIB), Period("year", YEAR).end(WIB))


def bare_iku4(db: Database, by: str, *, excluded: bool = False) -> list[Any]:
    """IKU 4 counts of 2026 as of AS_OF in plain SQL, grouped by triwulan ('q') or by desa.
    Each row's status as of its cut-off (its quarter's end, or AS_OF): today's status when
    the history has nothing since, else the last change before it (bench/digest.py)."""
    ph, sqlite = _ph(db), db.is_sqlite
    limit = _cutoff(AS_OF)
    q = quarters_of(YEAR)
    starts = [_p(db, x.start(WIB)) for x in q]
    cuts = [_p(db, min(x.end(WIB), limit)) for x in q]
    rcv = "unlikely(received_at)" if sqlite else "received_at"
    quarter = (f"CASE WHEN received_at < {ph} THEN 1 WHEN received_at < {ph} THEN 2 "
               f"WHEN received_at < {ph} THEN 3 ELSE 4 END")
    cut = (f"CASE WHEN received_at < {ph} THEN {ph} WHEN received_at < {ph} THEN {ph} "
           f"WHEN received_at < {ph} THEN {ph} ELSE {ph} END")
    if by == "q":
        key_sql, key_params = quarter, starts[1:]
        cut_sql, cut_params = cut, [starts[1], cuts[0], starts[2], cuts[1], starts[3], cuts[2], cuts[3]]
    else:  # desa, channel, or the year as one group ("1")
        key_sql, key_params = by, []
        cut_sql, cut_params = ph, [_p(db, limit)]
    fence = "LIMIT -1 OFFSET 0" if sqlite else "OFFSET 0"
    changed = "EXISTS (SELECT 1 FROM status_history c WHERE c.complaint_id = x.id AND c.at >= x.cut)"
    last = ("(SELECT to_status FROM status_history h WHERE h.complaint_id = x.id AND h.at < x.cut "
            "ORDER BY h.at DESC, h.id DESC LIMIT 1)")
    local = ((lambda c: f"date({c}, '+420 minutes')") if sqlite
             else (lambda c: f"({c} AT TIME ZONE 'Asia/Jakarta')::date"))
    inner = (
        f"SELECT k, received_at, CASE WHEN {changed} THEN coalesce({last}, 'diterima') ELSE status END AS s, "
        f"verified_at, verify_due, followed_up_at, resolved_at, followup_due FROM ("
        f"SELECT id, status, received_at, verified_at, verify_due, followed_up_at, resolved_at, followup_due, "
        f"{key_sql} AS k, {cut_sql} AS cut FROM complaints WHERE {rcv} >= {ph} AND {rcv} < {ph} {fence}"
        f") AS x {fence}"
    )
    params = [*key_params, *cut_params, starts[0], _p(db, limit)]
    if excluded:
        return _raw(db, f"SELECT k, s FROM ({inner}) AS cohort WHERE s IN ('duplikat', 'diteruskan') "
                        "ORDER BY received_at LIMIT 100", params)
    sql = (
        "SELECT k, count(*), " + ", ".join(f"sum(CASE WHEN s = '{st}' THEN 1 ELSE 0 END)" for st in STATES)
        + f", sum(CASE WHEN s = 'selesai' AND (verified_at IS NULL OR {local('verified_at')} <= verify_due) "
        f"AND {local('coalesce(followed_up_at, resolved_at)')} <= followup_due THEN 1 ELSE 0 END) "
        f"FROM ({inner}) AS cohort GROUP BY k"
    )
    return _raw(db, sql, params)


def bare_iku4_today(db: Database) -> list[Any]:
    """The floor without as-of: today's statuses of 2026's complaints, by desa (one scan)."""
    ph = _ph(db)
    rcv = "unlikely(received_at)" if db.is_sqlite else "received_at"
    sql = ("SELECT desa, count(*), " + ", ".join(f"sum(CASE WHEN status = '{st}' THEN 1 ELSE 0 END)" for st in STATES)
           + f" FROM complaints WHERE {rcv} >= {ph} AND {rcv} < {ph} GROUP BY desa")
    return _raw(db, sql, [_p(db, Period("year", YEAR).start(WIB)), _p(db, _cutoff(AS_OF))])


EXPORT_SELECT = (
    "SELECT c.ticket, c.received_at, c.channel, c.kind, c.category, c.desa, c.status, c.verify_due, "
    "c.followup_due, c.verified_at, c.followed_up_at, c.resolved_at, c.closed_at, c.reopen_count, "
    "c.resolve_due, c.current_due, c.received_date_only, o.name FROM complaints c "
    "LEFT OUTER JOIN officers o ON o.id = c.assigned_to ORDER BY c.received_at, c.id"
)


@contextmanager
def streaming_cursor(db: Database) -> Iterator[Any]:
    """A driver cursor that streams (server-side on PostgreSQL, as yield_per does)."""
    raw = db.engine.raw_connection()
    try:
        if db.is_sqlite:
            cur = raw.cursor()
        else:
            cur = raw.driver_connection.cursor(name="bench_stream")  # type: ignore[union-attr]
            cur.itersize = 2000
        yield cur
        cur.close()
        raw.rollback()
    finally:
        raw.close()


# ------------------------------------------------------------------------ the export jobs


def _job_csv(db: Database, out: Path) -> int:
    from bot.config.workcalendar import deadline_policy
    from storage import csv_io

    office = load_office()
    with db.reading() as s, out.open("w", encoding="utf-8-sig", newline="") as fh:
        return csv_io.export_complaints(s, fh, policy=deadline_policy(office), tz=WIB, today=AS_OF)


def _job_csv_bare(db: Database, out: Path) -> int:
    with streaming_cursor(db) as cur, out.open("w", encoding="utf-8-sig", newline="") as fh:
        cur.execute(EXPORT_SELECT)
        w = csv.writer(fh)
        n = 0
        for row in cur:
            w.writerow(row)
            n += 1
        return n


def _job_skm_xlsx(db: Database, out: Path) -> int:
    from bot.reports.skm_summary import skm_summary
    from bot.reports.skm_xlsx import write_report_xlsx

    office = load_office()
    with db.reading() as s:
        summary = skm_summary(s, office, Period("year", YEAR))
        return write_report_xlsx(out, s, office, summary, progress=False)


def _job_skm_xlsx_bare(db: Database, out: Path) -> int:
    from openpyxl import Workbook

    first, last = Period("year", YEAR).first_day(), Period("year", YEAR).last_day()
    ph = _ph(db)
    p = [_p(db, first), _p(db, last)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Pengolahan")
    n = 0
    with streaming_cursor(db) as cur:
        cur.execute(f"SELECT tanggal, service, {', '.join(UNSUR)} FROM skm_responses "
                    f"WHERE tanggal >= {ph} AND tanggal <= {ph} ORDER BY tanggal, id", p)
        for row in cur:
            n += 1
            ws.append([n, *row])
    ws.append(list(bare_skm(db, first, last, scan=False, group=False)[0]))
    prof = wb.create_sheet("Profil")
    for row in _raw(db, "SELECT jenis_kelamin, usia, pendidikan, pekerjaan, count(*) FROM skm_responses "
                        f"WHERE tanggal >= {ph} AND tanggal <= {ph} GROUP BY 1, 2, 3, 4", p):
        prof.append(list(row))
    sar = wb.create_sheet("Saran")
    with streaming_cursor(db) as cur:
        cur.execute(f"SELECT tanggal, service, saran FROM skm_responses WHERE tanggal >= {ph} "
                    f"AND tanggal <= {ph} AND saran IS NOT NULL ORDER BY tanggal, id", p)
        for row in cur:
            sar.append(list(row))
    wb.save(out)
    return n


JOBS: dict[str, Callable[[Database, Path], int]] = {
    "csv": _job_csv, "csv_bare": _job_csv_bare, "skmx": _job_skm_xlsx, "skmx_bare": _job_skm_xlsx_bare,
}


def _child(url: str, job: str, out: str, conn: Any) -> None:
    db = Database(url)
    with db.engine.connect():  # connect before the baseline
        pass
    import openpyxl  # noqa: F401  imported before the baseline, as by the CLI before it writes

    import bot.reports.skm_xlsx  # noqa: F401
    import storage.csv_io  # noqa: F401
    rows = 0

    def job_call() -> None:
        nonlocal rows
        rows = JOBS[job](db, Path(out))

    # The resident set sampled every 20 ms above its size before the job (bench/skm_report.py):
    # ru_maxrss would still hold the peak of the imports.
    seconds, growth = peak_rss_growth(job_call)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    db.dispose()
    conn.send((seconds, growth, peak, rows, Path(out).stat().st_size))


def run_job(db: Database, job: str, repeat: int) -> tuple[float, int, int, int, int]:
    """Median seconds, max peak RSS growth, max peak RSS, rows and bytes of `repeat` runs,
    each in a fresh spawned process."""
    ctx = multiprocessing.get_context("spawn")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(db.engine.url.render_as_string(hide_password=False),
                                                    job, f"{tmp}/out", child))
            proc.start()
            runs.append(parent.recv())
            proc.join()
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), max(r[2] for r in runs),
            runs[-1][3], runs[-1][4])


# ------------------------------------------------------------------------------ in process


def iku_xlsx(db: Database, out: Path) -> None:
    from bot.reports.iku_report import iku_table
    from bot.reports.iku_xlsx import write_iku_xlsx

    office = load_office()
    with db.reading() as s:
        rows = iku_table(s, office, YEAR, AS_OF)
    write_iku_xlsx(out, rows, office, YEAR, AS_OF)


def iku_xlsx_bare(db: Database, out: Path) -> None:
    from openpyxl import Workbook

    # What iku_table asks of the register for IKU 4: by triwulan, the year, by channel and
    # by desa, and the excluded list (here: the year's, as of, first 100 by received_at).
    by_q = bare_iku4(db, "q")
    ytd = bare_iku4(db, "1")
    by_channel = bare_iku4(db, "channel")
    by_desa = bare_iku4(db, "desa")
    excluded = bare_iku4(db, "ticket", excluded=True)
    year = Period("year", YEAR)
    skm = [bare_skm(db, p.first_day(), min(p.last_day(), AS_OF), scan=False, group=False)
           for p in [*quarters_of(YEAR), year]]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"IKU {YEAR}")
    for i in range(6):
        ws.append([i + 1, "sasaran", "indikator", "%", 80, *(r[2] for r in by_q), 1, 2, "Baik"])
    ws.append([len(by_desa), len(by_channel), ytd[0][1] if ytd else 0, skm[-1][0][0]])
    ex = wb.create_sheet("Pengecualian IKU 4")
    for r in excluded:
        ex.append(list(r))
    wb.save(out)


def line(name: str, t: float, bare: float, target: str, extra: str = "") -> str:
    return f"  {name:34s} {t * 1000:10.0f} ms  bare {bare * 1000:10.0f} ms  ratio {t / bare if bare else 0:5.2f}  (target {target}){extra}"


def run(name: str, db: Database, size: int, args: argparse.Namespace) -> None:
    from bot.reports.skm_summary import skm_summary
    from storage import complaint_stats

    office = load_office()
    only = set(args.only.split(","))
    r = args.repeat
    year = Period("year", YEAR)
    limit = _cutoff(AS_OF)
    print(f"\n[{name}] N = {size:,}; as of {AS_OF}; median of {r} (xlsx {args.xlsx_repeat})", flush=True)

    def read(fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with db.reading() as s:
                return fn(s)
        return call

    if "skm" in only:
        summary = read(lambda s: skm_summary(s, office, year))
        summary()
        t, res = timed(summary, r)
        ti, bi = timed(lambda: bare_skm(db, year.first_day(), year.last_day(), scan=False), r)
        ts, bs = timed(lambda: bare_skm(db, year.first_day(), year.last_day(), scan=True), r)
        assert res.respondents == sum(row[1] for row in bi) == sum(row[1] for row in bs) == size
        print(line("SKM year summary", t, min(ti, ts), "<= 1.5x best bare",
                   f"  [bare index {ti * 1000:.0f} ms, scan {ts * 1000:.0f} ms; "
                   f"peak mem {peak_memory(summary) / 1024:.0f} KiB]"), flush=True)
    if "iku" in only:
        tz = WIB
        by_q = read(lambda s: complaint_stats.resolution_by_quarter(s, YEAR, tz, as_of=limit))
        by_d = read(lambda s: complaint_stats.resolution_by(s, year.start(tz), limit, tz, "desa", cutoff=limit))
        by_q(), by_d()
        t, res_q = timed(by_q, r)
        tb, rows_q = timed(lambda: bare_iku4(db, "q"), r)
        got = {q: (c.received, c.excluded_duplicate, c.excluded_forwarded, c.resolved) for q, c in res_q.items()
               if c.received}
        assert got == {int(row[0]): tuple(int(v) for v in row[1:5]) for row in rows_q}, (got, rows_q)
        print(line("IKU 4 by triwulan (as of)", t, tb, "<= 1.5x bare",
                   f"  [peak mem {peak_memory(by_q) / 1024:.0f} KiB]"), flush=True)
        t, res_d = timed(by_d, r)
        tb, rows_d = timed(lambda: bare_iku4(db, "desa"), r)
        tf, _ = timed(lambda: bare_iku4_today(db), r)
        got = {k: (c.received, c.excluded_duplicate, c.excluded_forwarded, c.resolved) for k, c in res_d.items()}
        assert got == {row[0]: tuple(int(v) for v in row[1:5]) for row in rows_d}
        print(line("IKU 4 by desa (as of)", t, tb, "<= 1.5x bare",
                   f"  [today's statuses, no history: {tf * 1000:.0f} ms; "
                   f"peak mem {peak_memory(by_d) / 1024:.0f} KiB]"), flush=True)
    if "ikux" in only:
        with tempfile.TemporaryDirectory() as tmp:
            iku_xlsx(db, Path(tmp) / "a.xlsx")
            t, _ = timed(lambda: iku_xlsx(db, Path(tmp) / "a.xlsx"), args.xlsx_repeat)
            tb, _ = timed(lambda: iku_xlsx_bare(db, Path(tmp) / "b.xlsx"), args.xlsx_repeat)
        print(line("IKU xlsx (iku_table + write)", t, tb, "<= 1.5x bare"), flush=True)
    for job, label, rep in (("csv", "complaints export CSV", r), ("skmx", "SKM xlsx (year)", args.xlsx_repeat)):
        if job not in only:
            continue
        t, grow, peak, rows, nbytes = run_job(db, job, rep)
        tb, bgrow, bpeak, brows, bbytes = run_job(db, job + "_bare", rep)
        assert rows == brows == size, (rows, brows, size)
        print(line(label, t, tb, "<= 1.5x time, flat memory",
                   f"  [peak RSS +{grow / 2**20:.0f} MiB (process {peak / 2**20:.0f} MiB), bare "
                   f"+{bgrow / 2**20:.0f} MiB; {nbytes / 1e6:.0f} MB vs {bbytes / 1e6:.0f} MB]"), flush=True)
    if args.explain:
        explain(db, office)


# ------------------------------------------------------------------------------ query plans


def explain(db: Database, office: Any) -> None:
    """The plan of every SELECT each report path sends, as the database chooses it."""
    from bot.reports.digest import build_digest
    from bot.reports.skm_summary import skm_summary
    from storage import complaint_stats, csv_io
    from storage.complaint_search import CaseQuery, search_complaints

    year = Period("year", YEAR)
    limit = _cutoff(AS_OF)
    hol = bench_holidays()
    paths: dict[str, Callable[[Any], Any]] = {
        "SKM year summary": lambda s: skm_summary(s, office, year),
        "IKU 4 year as of": lambda s: complaint_stats.cohort_counts(
            s, complaint_stats.Cohort(year.start(WIB), limit, limit), WIB),
        "IKU 4 by triwulan": lambda s: complaint_stats.resolution_by_quarter(s, YEAR, WIB, as_of=limit),
        "IKU 4 by desa": lambda s: complaint_stats.resolution_by(s, year.start(WIB), limit, WIB, "desa",
                                                                 cutoff=limit),
        "digest": lambda s: build_digest(s, office, Period("week", 2026, 48), NOW, holidays=hol),
        "/kasus": lambda s: search_complaints(s, CaseQuery(), AS_OF),
        "/kasus terlambat": lambda s: search_complaints(s, CaseQuery(overdue=True), AS_OF),
        "/kasus desa + kata": lambda s: search_complaints(s, CaseQuery(desa=office.desa[0], words=("uraian",)),
                                                          AS_OF),
        "export CSV (first rows)": lambda s: next(csv_io._export_text_rows(s), None),
        "export xlsx (first rows)": lambda s: next(csv_io._export_rows(s, _policy(office), WIB, AS_OF), None),
    }
    for label, fn in paths.items():
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool,
                   seen: list[tuple[str, Any]] = seen) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, params))

        engine = db._read_engine  # the reading sessions' engine (a second one on SQLite)
        event.listen(engine, "before_cursor_execute", record)
        try:
            with db.reading() as s:
                fn(s)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        print(f"\n  --- {label}: {len(seen)} statements", flush=True)
        for statement, params in seen:
            print("  > " + " ".join(statement.split())[:160])
            prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
            raw = db.engine.raw_connection()
            try:
                cur = raw.cursor()
                if not db.is_sqlite:
                    cur.execute("SET LOCAL jit = off")
                cur.execute(prefix + statement, params)
                for row in cur.fetchall():
                    print("      " + (row[-1] if db.is_sqlite else row[0]))
                raw.rollback()
            finally:
                raw.close()


def _policy(office: Any) -> Any:
    from bot.config.workcalendar import deadline_policy

    return deadline_policy(office)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0,1000000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--xlsx-repeat", type=int, default=3)
    ap.add_argument("--only", default="skm,iku,csv,ikux,skmx")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "sigap_bench_reports")
    args = ap.parse_args()
    print(f"bench/reports.py: python {sys.version.split()[0]}, {os.cpu_count()} CPU, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            if backend == "sqlite":
                with sqlite_register(args.keep, size) as db:
                    run("SQLite", db, size, args)
            elif backend == "postgresql":
                with postgres_register(size) as db:
                    run("PostgreSQL", db, size, args)
            else:
                print(f"unknown backend {backend}", file=sys.stderr)
                return 2
            print(f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
