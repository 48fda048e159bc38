# IKU 4 per triwulan reads "within the standard times" as of the triwulan's own last day,
# like the status: a figure once reported comes out the same when the report is run later
# (domain.md section 4). Worked example (WIB):
#   X  received 5 January 2026, verified the same day, resolved 25 March: past the 60-day
#      resolution deadline (6 March), so late. Reopened 1 April, resolved again 2 April
#      within the new deadline counted from the reopening: on time in Q2.
#   Y  received 6 January, verified and resolved 7 January: on time.
# Q1 as of 31 March: 2 received, 2 resolved, 1 within standard (Y). As of 1 August the same:
# X's later on-time resolution belongs to Q2's history, not to Q1's figure.
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config.office import load_office
from bot.reports.iku_report import iku_table
from kpi.resolution import ResolutionCounts
from storage import complaint_stats
from storage.db import Database
from storage.lifecycle import transition
from tests.test_iku_as_of import ADMIN, WARGA, _new, _resolve, wib

JAKARTA = ZoneInfo("Asia/Jakarta")


def _register(db: Database) -> None:
    with db.transaction() as s:
        x = _new(s, wib(2026, 1, 5))
        y = _new(s, wib(2026, 1, 6))
        transition(s, x, "verifikasi", ADMIN, wib(2026, 1, 5, 10))
        _resolve(s, x, wib(2026, 3, 25))
        _resolve(s, y, wib(2026, 1, 7))
        transition(s, x, "buka_kembali", WARGA, wib(2026, 4, 1))
        _resolve(s, x, wib(2026, 4, 2))


def _q1(db: Database, as_of: date) -> ResolutionCounts:
    cutoff = datetime.combine(as_of, datetime.max.time(), JAKARTA)
    with db.reading() as s:
        return complaint_stats.resolution_by_quarter(s, 2026, JAKARTA, as_of=cutoff)[1]


def test_a_quarter_reads_on_time_as_of_its_own_last_day(db: Database) -> None:
    _register(db)
    at_the_time = _q1(db, date(2026, 3, 31))
    later = _q1(db, date(2026, 8, 1))
    assert (at_the_time.received, at_the_time.resolved, at_the_time.within_standard) == (2, 2, 1)
    assert later == at_the_time


def test_the_iku_table_shows_the_same_q1_share_later(db: Database) -> None:
    _register(db)
    office = load_office()
    with db.reading() as s:
        then = next(r for r in iku_table(s, office, 2026, date(2026, 3, 31)) if r.code == "IKU-4")
        now = next(r for r in iku_table(s, office, 2026, date(2026, 8, 1)) if r.code == "IKU-4")
    assert then.detail["counts_by_quarter"]["q1"].within_standard == 1
    assert now.detail["counts_by_quarter"]["q1"] == then.detail["counts_by_quarter"]["q1"]
    # The year to date as of 1 August: both resolved, both within standard now (X's last
    # resolution, after its reopening, met the deadline counted from the reopening).
    assert (now.detail["counts"].resolved, now.detail["counts"].within_standard) == (2, 2)
