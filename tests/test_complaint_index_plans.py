# The per-kecamatan reads of complaints keep the plans migration 0015 gave them: each is a
# range of its own kecamatan's entries in an index led by kecamatan, and the dashboard's
# year list is counted from the index alone (no table read per complaint; SQLite 1M: 3.3 s).
# The statements are the ones the code really sends (recorded as it runs them, scoped by
# storage/tenancy.py), explained with their own parameters. SQLite runs on an empty register
# without statistics, as a deployment does (no ANALYZE); PostgreSQL plans by its statistics,
# so it gets 20,000 complaints of four kecamatan over ten years, analysed, and is told to
# avoid a plain table scan (and a bitmap one), which it may still prefer for a table this small.
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import complaints, dashboard_stats
from storage.complaint_search import CaseQuery, search_complaints
from storage.db import Database

WIB = ZoneInfo("Asia/Jakarta")
TODAY = date(2026, 11, 30)
YEAR = (datetime(2026, 1, 1, tzinfo=WIB), datetime(2027, 1, 1, tzinfo=WIB))


def _sent(db: Database, run: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """The SELECTs on complaints that `run` sends, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM complaints" in statement:
            sent.append((statement, parameters))

    engines = {db.engine, db._read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        with db.reading() as s:
            run(s)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    return sent


def _plan(db: Database, statement: str, parameters: Any) -> str:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return " | ".join(str(r[-1]) for r in rows)
        # Its choice between index plans on a small table also turns on how much of it VACUUM
        # could mark all-visible (not all while another session's transaction is open): the
        # question here is which index, so plain index scans only.
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        return " | ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def _registers(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(
            "INSERT INTO complaints (kecamatan, ticket, kind, category, desa, description, channel, anonim,"
            " rahasia, status, received_at, created_at, verify_due, followup_due, current_due,"
            " reopen_count, version)"
            " SELECT (ARRAY['35.09.25', '35.09.01', '35.09.02', '35.09.03'])[1 + mod(i, 4)], 'T' || i,"
            " 'pengaduan', 'keributan', 'Jelbuk', 'uraian', 'telegram', false, true,"
            " (ARRAY['diterima', 'ditindaklanjuti', 'selesai', 'selesai', 'duplikat'])[1 + mod(i, 5)],"
            " at, at, at::date + 3, at::date + 8, CASE WHEN mod(i, 5) < 2 THEN at::date + 3 END, 0, 1"
            " FROM (SELECT i, timestamptz '2025-01-01 00:00+00' + i * interval '263 minutes' AS at"
            "       FROM generate_series(1, 20000) AS i) AS g")
        conn.exec_driver_sql("VACUUM ANALYZE complaints")


def _year_list(s: Session) -> None:
    dashboard_stats.complaint_list(s, TODAY, status="semua", received=YEAR)


def test_the_year_list_is_counted_from_the_index_alone(db: Database) -> None:
    _registers(db)
    counts = [(st, p) for st, p in _sent(db, _year_list) if st.startswith("SELECT count(*)")]
    assert len(counts) == 1
    plan = _plan(db, *counts[0])
    if db.engine.dialect.name == "sqlite":
        assert "SEARCH complaints USING COVERING INDEX ix_complaints_kecamatan_received_at_status " \
               "(kecamatan=? AND received_at>? AND received_at<?)" in plan, plan
    else:
        assert "Index Only Scan using ix_complaints_kecamatan_received_at_status on complaints" in plan, plan


def test_the_overdue_part_of_the_year_list_reads_only_the_overdue_ones(sqlite_db: Database) -> None:
    # Without statistics SQLite would take the year's range of received_at and fetch the whole
    # year (100k: 306 ms); the range is hidden from the index so it takes the deadlines.
    rows = [(st, p) for st, p in _sent(sqlite_db, _year_list) if "current_due <" in st and "LIMIT" in st]
    assert rows
    plan = _plan(sqlite_db, *rows[0])
    assert "USING INDEX ix_complaints_kecamatan_status_current_due (kecamatan=? AND status=? AND current_due<?)" \
           in plan, plan


def test_kasus_reads_only_its_own_kecamatans_open_complaints(db: Database) -> None:
    # /kasus: the open complaints overdue first (storage.complaint_search), and the overdue
    # counts of the digest and the dashboard; any index led by (kecamatan, status).
    def kasus(s: Session) -> None:
        complaints.open_complaints(s, TODAY, limit=10)
        complaints.overdue_counts(s, TODAY)

    _registers(db)
    sent = _sent(db, kasus)
    # The count, the overdue part per open status (and the rest, when it is short), the counts.
    assert len(sent) >= 2 + 4
    for statement, parameters in sent:
        plan = _plan(db, statement, parameters)
        if db.engine.dialect.name == "sqlite":
            assert re.search(r"USING (COVERING )?INDEX ix_complaints_kecamatan_status\w* \(kecamatan=\? AND status=\?",
                             plan), plan
            # The overdue part is read in the index's order (only the ties of one due date are
            # sorted); only the not-yet-due and the no-due ranges (few rows) are sorted whole.
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan or re.search(r"current_due[>=]\?\)", plan), plan
        else:
            # Any index led by (kecamatan, status) serves: the open ones are a range of each.
            assert re.search(r"(using|on) ix_complaints_kecamatan_status\w* .*"
                             r"Index Cond: \(\(\(?kecamatan\)?(::text)? = '35\.09\.25'::text\) AND \(\(?status\)?", plan), plan


def test_a_kasus_list_of_closed_statuses_reads_received_at_in_order(sqlite_db: Database) -> None:
    # Closed complaints have no deadline: the whole list is the second part, by received_at.
    # Through the status index SQLite would sort every selesai complaint (1M: 780k rows, 2 s)
    # to return ten; in received_at's index it reads about a page.
    def closed(s: Session) -> None:
        search_complaints(s, CaseQuery(statuses=("selesai", "duplikat")), TODAY, page=1, page_size=10)

    rows = [(st, p) for st, p in _sent(sqlite_db, closed) if "ORDER BY complaints.received_at" in st]
    assert len(rows) == 1
    plan = _plan(sqlite_db, *rows[0])
    assert "SEARCH complaints USING INDEX ix_complaints_kecamatan_received_at_status (kecamatan=?)" in plan, plan


def test_the_open_figures_per_desa_read_the_open_complaints_in_table_order(sqlite_db: Database) -> None:
    # Through (kecamatan, status, current_due) SQLite would fetch each open complaint's row in
    # deadline order, one random read each (1M: 468 -> 661 ms); (kecamatan, status) keeps
    # them in table order. Both cost the same to its planner: the migration's order decides.
    sent = _sent(sqlite_db, lambda s: dashboard_stats.open_by(s, TODAY, "desa"))
    assert len(sent) == 1
    plan = _plan(sqlite_db, *sent[0])
    assert "SEARCH complaints USING INDEX ix_complaints_kecamatan_status (kecamatan=? AND status=?)" in plan, plan
