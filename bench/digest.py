"""The weekly digest (build_digest) beside the bare SQL aggregates, on the same data, in one run.

For each backend (SQLite, PostgreSQL) it fills a fresh register with bench/register.py
(N complaints spread over 2026 up to the digest week, the worst case: every complaint in the
reported year; their status history, about 3.5 N rows; N SKM responses over the same days;
ANALYZE after; the open complaints' current_due left NULL, as this bench always had it),
then times, for week 2026-W48 with "now" Monday 30 November 07:00 WIB:

- build_digest: everything the Monday post costs (the digest queries, the six IKU via
  bot.reports.iku_report, the SKM summary, the template and the 12-week PNG chart);
- the bare SQL: the same aggregates sent as plain SQL strings on the driver connection (no
  ORM, no Python arithmetic, no template, no chart) - the floor for these numbers; the
  year's IKU 4 counts and resolution times as of the end of the week, from the status
  history with the "nothing changed since the cut-off" shortcut, in one grouped scan;
- per-row durations, for comparison: streaming the year's resolved (received_at,
  resolved_at) pairs and counting working days row by row, the way the digest does NOT do it
  (it groups by pairs of local days in SQL and counts each pair once);

and prints the median of each, the ratio build/bare, and peak Python memory (tracemalloc)
of one build_digest and of the per-row alternative.

    python bench/digest.py [--size 1000000] [--backends sqlite,postgresql] [--repeat 3]

PostgreSQL: SIGAP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the run creates a schema of its own and drops it at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import peak_memory, timed  # bench/measure.py (the script's own folder)
from register import NOW, WEEK, WIB, bench_holidays, fill, postgres_database  # noqa: E402  bench/register.py
from register import sqlite_value as _sqlite_value  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.config.office import load_office  # noqa: E402
from bot.reports.digest import build_digest  # noqa: E402
from kpi.periods import weeks_back  # noqa: E402
from kpi.workdays import working_days_between  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402


def bare_sql(db: Database, hol: Any) -> Any:
    """The digest's aggregates as plain SQL on the driver connection: the floor."""
    tz_shift = "'+420 minutes'"
    start, end = WEEK.start(WIB), WEEK.end(WIB)
    year_start = datetime(2026, 1, 1, tzinfo=WIB)
    weeks = weeks_back(WEEK, 12)
    bounds = [w.start(WIB) for w in weeks] + [end]
    sqlite = db.is_sqlite

    def p(v: Any) -> Any:
        return _sqlite_value(v) if sqlite else v

    ph = "?" if sqlite else "%s"
    cut = p(end)
    # The same shortcut as storage.complaint_stats._changed_since: a correlated EXISTS.
    changed = (f"EXISTS (SELECT 1 FROM status_history c WHERE c.complaint_id = complaints.id "
               f"AND c.at >= {ph})")
    last = (f"(SELECT {{col}} FROM status_history h WHERE h.complaint_id = complaints.id AND h.at < {ph} "
            "ORDER BY h.at DESC, h.id DESC LIMIT 1)")
    as_of_cohort = (
        f"SELECT received_at, verified_at, verify_due, followed_up_at, resolved_at, followup_due, "
        f"CASE WHEN {changed} THEN coalesce({last.format(col='to_status')}, 'diterima') ELSE status END AS s, "
        f"CASE WHEN {changed} THEN {last.format(col='at')} ELSE coalesce(resolved_at, closed_at) END AS done "
        f"FROM complaints WHERE {{rcv}} >= {ph} AND {{rcv}} < {ph} "
        # The same fence as storage.complaint_stats.cohort_table: s is computed once per row.
        + ("LIMIT -1 OFFSET 0" if sqlite else "OFFSET 0")
    )
    as_of_params = [cut, cut, cut, cut]
    # As storage.digest_stats does for year-long ranges on SQLite: a scan, not the index.
    rcv = "unlikely(received_at)" if sqlite else "received_at"
    local = (lambda c: f"date({c}, {tz_shift})") if sqlite else (lambda c: f"({c} AT TIME ZONE 'Asia/Jakarta')::date")
    case_r = " ".join(f"WHEN received_at >= {ph} AND received_at < {ph} THEN {i}" for i in range(12))
    case_d = case_r.replace("received_at", "resolved_at")
    bparams = [p(x) for i in range(12) for x in (bounds[i], bounds[i + 1])]
    today = NOW.date()
    statements: list[tuple[str, list[Any]]] = [
        (f"SELECT category, count(*) FROM complaints WHERE received_at >= {ph} AND received_at < {ph} GROUP BY category", [p(start), p(end)]),
        (f"SELECT desa, count(*) FROM complaints WHERE received_at >= {ph} AND received_at < {ph} GROUP BY desa", [p(start), p(end)]),
        (
            f"SELECT count(*), sum(CASE WHEN (status = 'diterima' AND verify_due < {ph}) OR "
            f"(status IN ('diterima','diverifikasi') AND followup_due < {ph}) THEN 1 ELSE 0 END) "
            "FROM complaints WHERE status IN ('diterima','diverifikasi','ditindaklanjuti')",
            [p(today), p(today)],
        ),
        (
            f"SELECT ticket FROM complaints WHERE status IN ('diterima','diverifikasi') AND "
            f"((status = 'diterima' AND verify_due < {ph}) OR followup_due < {ph}) ORDER BY received_at, id LIMIT 10",
            [p(today), p(today)],
        ),
        (
            f"SELECT {local('received_at')}, {local('done')}, count(*), "
            "sum(CASE WHEN s='duplikat' THEN 1 ELSE 0 END), sum(CASE WHEN s='diteruskan' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN s='selesai' THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN s='selesai' AND (verified_at IS NULL OR {local('verified_at')} <= verify_due) AND "
            f"{local('coalesce(followed_up_at, resolved_at)')} <= followup_due THEN 1 ELSE 0 END) "
            f"FROM ({as_of_cohort.format(rcv=rcv)}) AS cohort GROUP BY 1, 2",
            [*as_of_params, p(year_start), p(end)],
        ),
        (
            f"SELECT CASE {case_r} END AS b, count(*), sum(CASE WHEN status IN ('duplikat','diteruskan') THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN status='selesai' THEN 1 ELSE 0 END) FROM complaints "
            f"WHERE {rcv} >= {ph} AND {rcv} < {ph} GROUP BY b",
            [*bparams, p(bounds[0]), p(bounds[-1])],
        ),
        (
            f"SELECT CASE {case_d} END AS b, count(*) FROM complaints WHERE status = 'selesai' "
            f"AND resolved_at >= {ph} AND resolved_at < {ph} GROUP BY b",
            [*bparams, p(bounds[0]), p(bounds[-1])],
        ),
        (
            "SELECT service, count(*), " + ", ".join(f"sum(u{i}), count(u{i})" for i in range(1, 10))
            + f" FROM skm_responses WHERE tanggal >= {ph} AND tanggal <= {ph} GROUP BY service",
            [p(date(2026, 10, 1)), p(date(2026, 12, 31))],
        ),
        (
            "SELECT count(*), " + ", ".join(f"sum(u{i}), count(u{i})" for i in range(1, 10))
            + f" FROM skm_responses WHERE tanggal >= {ph} AND tanggal <= {ph}",
            [p(date(2026, 1, 1)), p(date(2026, 12, 31))],
        ),
    ]
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        out = []
        if not sqlite:
            cur.execute("SET LOCAL jit = off")  # as storage.complaint_stats.prepare does
        for sql, params in statements:
            cur.execute(sql, params)
            out.append(cur.fetchall())
        cur.close()
        raw.rollback()
        return out
    finally:
        raw.close()


def per_row_durations(db: Database, hol: Any) -> dict[int, int]:
    """The alternative the digest avoids: one row per resolved complaint, streamed."""
    year_start, end = datetime(2026, 1, 1, tzinfo=WIB), WEEK.end(WIB)
    counts: dict[int, int] = {}
    with db.engine.connect() as conn:
        result = conn.execution_options(yield_per=10_000).execute(
            # As of the end of the week, like the digest: resolved before it.
            text("SELECT received_at, resolved_at FROM complaints WHERE status = 'selesai' "
                 "AND received_at >= :s AND received_at < :e AND resolved_at < :e"),
            {"s": _sqlite_value(year_start) if db.is_sqlite else year_start,
             "e": _sqlite_value(end) if db.is_sqlite else end},
        )
        for got, done in result:
            if isinstance(got, str):
                got = datetime.fromisoformat(got).replace(tzinfo=UTC)
                done = datetime.fromisoformat(done).replace(tzinfo=UTC)
            days = working_days_between(got.astimezone(WIB).date(), done.astimezone(WIB).date(), hol)
            counts[days] = counts.get(days, 0) + 1
    return counts


def run_backend(name: str, db: Database, size: int, repeat: int) -> None:
    office = load_office()
    hol = bench_holidays()
    # bench/register.py, without current_due: the register this bench has always measured.
    filled = fill(db, size, current_due=False)
    print(f"\n[{name}] {size:,} complaints and {filled.moves:,} status changes loaded in "
          f"{filled.complaints_seconds:.1f} s, {size:,} responses in {filled.responses_seconds:.1f} s")

    def build() -> Any:
        with db.reading() as s:
            return build_digest(s, office, WEEK, NOW, holidays=hol)

    build()  # warm-up: imports, matplotlib font cache, connection pool
    t_build, digest = timed(build, repeat)
    t_bare, _ = timed(lambda: bare_sql(db, hol), repeat)
    t_rows, hist_rows = timed(lambda: per_row_durations(db, hol), 1)
    assert hist_rows == _hist(db, hol), "the grouped histogram must equal the per-row one"
    m_build = peak_memory(build)
    m_rows = peak_memory(lambda: per_row_durations(db, hol))
    y = digest.content.year
    print(f"  figures: year received {y.counts.received:,}, resolved {y.counts.resolved:,}, "
          f"rate {y.rate}%, median {y.median_days} / p90 {y.p90_days} working days; "
          f"week received {digest.content.figures.received:,}; text {len(digest.text)} chars, chart {len(digest.chart):,} bytes")
    print(f"  build_digest          median {t_build * 1000:8.0f} ms   peak Python memory {m_build / 1e6:6.1f} MB")
    print(f"  bare SQL aggregates   median {t_bare * 1000:8.0f} ms   ratio build/bare {t_build / t_bare:5.2f}")
    print(f"  per-row durations     once   {t_rows * 1000:8.0f} ms   peak Python memory {m_rows / 1e6:6.1f} MB "
          f"({y.counts.resolved:,} rows streamed; the digest's grouped query is inside build_digest)")


def _hist(db: Database, hol: Any) -> dict[int, int]:
    from storage import digest_stats

    with db.reading() as s:
        return digest_stats.resolution_figures(
            s, datetime(2026, 1, 1, tzinfo=WIB), WEEK.end(WIB), WIB, hol
        ).durations


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"bench/digest.py: {args.size:,} complaints + {args.size:,} SKM responses, week {WEEK.code}, "
          f"repeat {args.repeat}; cpus {os.cpu_count()}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                db = Database(f"sqlite:///{tmp}/bench.db")
                migrate.upgrade(db)
                try:
                    run_backend("SQLite", db, args.size, args.repeat)
                finally:
                    db.dispose()
        elif backend == "postgresql":
            with postgres_database() as db:
                run_backend("PostgreSQL", db, args.size, args.repeat)
        else:
            print(f"unknown backend {backend}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
