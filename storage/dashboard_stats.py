# The dashboard's aggregates and the lists behind them.
# Invariants:
# - One GROUP BY query per breakdown or figure; "open" and "overdue" are the filters of /kasus
#   (storage.complaint_search: open statuses; past the deadline of the current status, the due
#   day itself on time), so a figure and the list behind it always agree.
# - A list behind a figure is one page in SQL (keyset: a range from the last row's key, ordered
#   in SQL like /kasus; never OFFSET, which reads every earlier page again) and
#   selects only ticket, dates, desa, category and status: no reporter, contact, description,
#   place or photo can reach a page, whatever the complaint's rahasia/anonim flags.
# - The public report card's monthly counts are one grouped cohort query for the year
#   (storage.complaint_stats, IKU 4's definition), its IKM one grouped query over the periods.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, or_, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from kpi.resolution import ResolutionCounts
from kpi.skm_questionnaire import UNSUR_CODES
from storage import complaint_stats
from storage.complaint_search import CaseQuery, _filters
from storage.lifecycle import STATUSES
from storage.models import Complaint, SkmResponse
from storage.skm_stats import UnsurTotals, _aggregate_columns, _totals


@dataclass(frozen=True)
class OpenGroup:
    key: str
    open: int
    overdue: int


def open_by(session: Session, today: date, by: Literal["desa", "category"]) -> list[OpenGroup]:
    """Open complaints and, of them, the overdue ones, per desa or category; most open first."""
    key = Complaint.desa if by == "desa" else Complaint.category
    overdue = func.coalesce(func.sum(case((Complaint.current_due < today, 1), else_=0)), 0)
    rows = session.execute(
        select(key, func.count(), overdue)
        .where(*_filters(CaseQuery(), today))
        .group_by(key)
        .order_by(func.count().desc(), key)
    ).all()
    return [OpenGroup(str(k), int(n), int(late)) for k, n, late in rows]


ListStatus = Literal["terbuka", "terlambat", "semua"]


@dataclass(frozen=True)
class ListKey:
    """A row's place in the /kasus order, for keyset paging: the overdue rows first, by
    (deadline, received, id), then the others by (received, id). `overdue_due` is the
    deadline of an overdue row, None for a row in the second part."""

    overdue_due: date | None
    received_at: datetime
    id: int


@dataclass(frozen=True)
class ListedComplaint:
    """What a list behind a figure shows of one complaint: nothing that names or locates anyone
    (the id only places the row in the order, for the next page's key; it is not shown)."""

    id: int
    ticket: str
    received_at: datetime
    received_date_only: bool | None
    desa: str
    category: str
    status: str
    current_due: date | None

    def key(self, today: date) -> ListKey:
        late = self.current_due is not None and self.current_due < today
        return ListKey(self.current_due if late else None, self.received_at, self.id)


@dataclass(frozen=True)
class ListPage:
    rows: list[ListedComplaint]
    total: int
    has_previous: bool
    has_next: bool


def complaint_list(session: Session, today: date, *, status: ListStatus = "terbuka", desa: str | None = None,
                   category: str | None = None, received: tuple[datetime, datetime] | None = None,
                   after: ListKey | None = None, before: ListKey | None = None,
                   page_size: int = 50) -> ListPage:
    """The page of the complaints behind a figure that follows the row `after` (or precedes
    `before`; neither: the first page), and how many there are in all. Order of /kasus: overdue
    first (longest overdue first), then oldest received, then id.

    Keyset paging: the order is cut in two parts, each read by a range on its own sort columns
    (overdue: current_due, received_at, id; the rest: received_at, id), so page 100 costs what
    page 1 does, instead of OFFSET reading and dropping 4,950 rows first. At most two queries
    for the rows (the end of one part, the start of the other), LIMIT page_size + 1 each (the
    extra row says whether there is more)."""
    query = CaseQuery(desa=desa, category=category, overdue=status == "terlambat",
                      statuses=STATUSES if status == "semua" else ())
    where = _filters(query, today)
    received_terms: list[Any] = []
    if received is not None:
        received_terms = [Complaint.received_at >= received[0], Complaint.received_at < received[1]]
    # Counted from ix_complaints_kecamatan_received_at_status alone (kecamatan, the year's
    # range, status): no table read per complaint (SQLite 1M: 3.3-3.8 s before, migration 0015).
    total = session.scalar(select(func.count()).select_from(Complaint).where(*where, *received_terms)) or 0
    # SQLite has no statistics (no ANALYZE is run) and reads the overdue part of a year through
    # the (kecamatan, received_at) index, fetching and sorting the whole year; with the column
    # wrapped in likely() no index takes the range, so it takes (kecamatan, status,
    # current_due) to the few overdue ones (100k without statistics: 306 ms -> 17 ms).
    # PostgreSQL's planner has statistics and needs no hint.
    hinted = received_terms
    if received is not None and session.get_bind().dialect.name == "sqlite":
        column = type_coerce(func.likely(Complaint.received_at), Complaint.received_at.type)
        hinted = [column >= received[0], column < received[1]]
    # Closed complaints have no current deadline (NULL): never overdue, in the second part.
    late = Complaint.current_due < today
    parts: list[tuple[Any, list[Any]]] = [
        (late, [Complaint.current_due, Complaint.received_at, Complaint.id]),
        (or_(Complaint.current_due.is_(None), Complaint.current_due >= today), [Complaint.received_at, Complaint.id]),
    ]
    backward = before is not None
    key = before if backward else after
    # Which part the key is in (0 overdue, 1 the rest), and its values for that part's columns.
    start = None if key is None else (0 if key.overdue_due is not None else 1)
    values: list[Any] = [] if key is None else (
        [key.overdue_due, key.received_at, key.id] if start == 0 else [key.received_at, key.id])
    if key is not None:
        # Bound with the columns' types: received_at goes through UTCDateTime like any stored value.
        columns_of_key = parts[start or 0][1]
        values = [bindparam(None, v, type_=c.type) for v, c in zip(values, columns_of_key, strict=True)]
    order = [1, 0] if backward else [0, 1]
    if start is not None:
        order = order[order.index(start):]
    wanted = page_size + 1
    found: list[ListedComplaint] = []
    for part in order:
        condition, columns = parts[part]
        stmt = select(Complaint.id, Complaint.ticket, Complaint.received_at, Complaint.received_date_only,
                      Complaint.desa, Complaint.category, Complaint.status, Complaint.current_due
                      ).where(*where, *(hinted if part == 0 else received_terms), condition)
        if part == start:
            stmt = stmt.where(tuple_(*columns) < tuple_(*values) if backward else tuple_(*columns) > tuple_(*values))
        stmt = stmt.order_by(*(c.desc() for c in columns) if backward else columns).limit(wanted - len(found))
        found += [ListedComplaint(*row) for row in session.execute(stmt).all()]
        if len(found) >= wanted:
            break
    more = len(found) > page_size
    rows = found[:page_size]
    if backward:
        rows.reverse()
        return ListPage(rows, int(total), has_previous=more, has_next=True)
    return ListPage(rows, int(total), has_previous=after is not None, has_next=more)


@dataclass(frozen=True)
class AnswerSpread:
    """How many respondents gave 1, 2, 3 and 4 to one unsur, and how many left it blank."""

    unsur: str
    counts: tuple[int, int, int, int]
    blank: int


def answer_spread(session: Session, first_day: date, last_day: date) -> tuple[int, list[AnswerSpread]]:
    """Respondents of [first_day, last_day] and the spread of answers per unsur: one query
    (a SUM(CASE) per unsur and value); no respondent, date or service is returned."""
    columns: list[Any] = [func.count(SkmResponse.id)]
    for code in UNSUR_CODES:
        column = getattr(SkmResponse, code)
        columns += [func.coalesce(func.sum(case((column == v, 1), else_=0)), 0) for v in (1, 2, 3, 4)]
    row = session.execute(
        select(*columns).where(SkmResponse.tanggal >= first_day, SkmResponse.tanggal <= last_day)
    ).one()
    respondents = int(row[0])
    spreads = []
    for i, code in enumerate(UNSUR_CODES):
        counts = tuple(int(row[1 + 4 * i + k]) for k in range(4))
        spreads.append(AnswerSpread(code, counts, respondents - sum(counts)))  # type: ignore[arg-type]
    return respondents, spreads


def _month_starts(year: int, tz: ZoneInfo) -> list[datetime]:
    return [datetime(year + (m == 13), (m - 1) % 12 + 1, 1, tzinfo=tz) for m in range(1, 14)]


def resolution_by_month(session: Session, year: int, tz: ZoneInfo, cutoff: datetime,
                        definition: str) -> dict[int, ResolutionCounts]:
    """IKU 4 counts of the complaints received in each local month of `year`, statuses as of
    `cutoff`: one grouped query (the month is a CASE on received_at, like the quarters of
    storage.complaint_stats.resolution_by_quarter). Months without complaints are absent."""
    starts = _month_starts(year, tz)
    month = case(*[(Complaint.received_at < starts[m], m) for m in range(1, 12)], else_=12)
    cohort = complaint_stats.Cohort(starts[0], starts[12], cutoff)
    complaint_stats.prepare(session)
    t = complaint_stats.cohort_table(session, cohort, month.label("bulan"))
    rows = session.execute(
        select(t.c.bulan, *complaint_stats.count_columns(session, t, tz, definition)).group_by(t.c.bulan)
    ).all()
    return {int(row.bulan): complaint_stats.counts_of(row) for row in rows}


def unsur_totals_by_period(session: Session, periods: Sequence[tuple[str, date, date]]) -> dict[str, UnsurTotals]:
    """Per-unsur sums and counts of each (code, first day, last day) period, the periods
    disjoint: one grouped query over their whole span. Periods without answers are absent."""
    if not periods:
        return {}
    bucket = case(*[(SkmResponse.tanggal <= last, code) for code, _, last in periods[:-1]],
                  else_=periods[-1][0])
    stmt = (
        select(bucket.label("periode"), *_aggregate_columns())
        .where(SkmResponse.tanggal >= periods[0][1], SkmResponse.tanggal <= periods[-1][2])
        # By the output column's name: the CASE's dates are bound parameters, and PostgreSQL
        # would not see the same expression twice in SELECT and GROUP BY.
        .group_by("periode")
    )
    return {str(row[0]): _totals(row, 1) for row in session.execute(stmt)}
