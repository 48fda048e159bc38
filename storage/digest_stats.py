# The figures of the weekly digest, counted by the database.
# Invariants: every figure is a COUNT/SUM with GROUP BY in SQL; no query returns one row per
# complaint except the short list of overdue tickets (LIMIT). Resolution times come back as
# a histogram: complaints grouped by (local day received, local day resolved), so the
# working days are computed once per pair of days, never once per complaint. "Local day" is
# the office's wall-clock date (Asia/Jakarta has had no daylight saving since 1964: on
# SQLite the offset is applied as a fixed shift, and a zone whose offset changes within the
# period is refused rather than miscounted).
from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from kpi.resolution import ResolutionCounts
from kpi.workdays import WorkingDayCount
from storage import complaint_stats
from storage.lifecycle import DITERUSKAN, DUPLIKAT, OPEN_STATUSES, SELESAI
from storage.models import Complaint, PdpIncident, PdpRequest
from storage.pdp import CLOCK as PDP_CLOCK


def _tz_name(tz: tzinfo) -> str:
    key = getattr(tz, "key", None)
    if not key:
        raise ValueError(f"Zona waktu perlu nama IANA (mis. Asia/Jakarta), bukan {tz!r}")
    return str(key)


def _fixed_offset(tz: tzinfo, start: datetime, end: datetime) -> timedelta:
    offsets = {start.astimezone(tz).utcoffset(), end.astimezone(tz).utcoffset()}
    if len(offsets) != 1 or None in offsets:
        raise ValueError(f"Zona waktu {tz} berubah selisihnya di dalam periode; tidak didukung di SQLite")
    return offsets.pop()  # type: ignore[return-value]


def _local_date(session: Session, column: Any, tz: tzinfo, start: datetime, end: datetime) -> Any:
    """SQL for the office-local calendar day of a UTC timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(_tz_name(tz), column), Date)
    minutes = int(_fixed_offset(tz, start, end).total_seconds() // 60)
    # SQLite stores the UTC wall time as text; date() shifts it and yields 'YYYY-MM-DD'.
    return func.date(column, f"{minutes:+d} minutes")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _received_between(start: datetime, end: datetime) -> Any:
    return and_(Complaint.received_at >= start, Complaint.received_at < end)


def _received_between_scan(session: Session, start: datetime, end: datetime) -> Any:
    """The same condition for a long range (a year, twelve weeks), read by a table scan on
    SQLite: its planner takes ix_complaints_received_at for any range, and a range that
    covers much of the table then costs one random table read per row, measured 7 to 12
    times slower than the scan (bench/digest.py). unlikely(x) is x, but no index applies to
    it. PostgreSQL chooses by its statistics and is left alone."""
    if session.get_bind().dialect.name != "sqlite":
        return _received_between(start, end)
    column = type_coerce(func.unlikely(Complaint.received_at), Complaint.received_at.type)
    return and_(column >= start, column < end)


@dataclass(frozen=True)
class WeekCounts:
    received: int
    by_category: dict[str, int]
    by_desa: dict[str, int]


def week_counts(session: Session, start: datetime, end: datetime) -> WeekCounts:
    """Complaints received in [start, end), by category and by desa. (Those that reached
    selesai in a week come from weekly_series, which scans for them once for all weeks.)"""
    by_category = {
        k: int(n)
        for k, n in session.execute(
            select(Complaint.category, func.count())
            .where(_received_between(start, end))
            .group_by(Complaint.category)
        )
    }
    by_desa = {
        k: int(n)
        for k, n in session.execute(
            select(Complaint.desa, func.count())
            .where(_received_between(start, end))
            .group_by(Complaint.desa)
        )
    }
    return WeekCounts(sum(by_category.values()), by_category, by_desa)


def _overdue_clause(today: date) -> Any:
    # storage.complaints.is_overdue, as SQL: an open complaint past the deadline of the
    # status it is in (verification, follow-up, resolution, or the date it was postponed to).
    return and_(Complaint.status.in_(OPEN_STATUSES), Complaint.current_due < today)


@dataclass(frozen=True)
class OpenCounts:
    open_now: int
    overdue: int
    overdue_tickets: list[str]  # oldest first, at most `limit`


def open_counts(session: Session, today: date, limit: int = 10) -> OpenCounts:
    open_now, overdue = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((_overdue_clause(today), 1), else_=0)), 0),
        ).where(Complaint.status.in_(OPEN_STATUSES))
    ).one()
    tickets = session.scalars(
        select(Complaint.ticket)
        .where(_overdue_clause(today))
        .order_by(Complaint.current_due, Complaint.received_at, Complaint.id)
        .limit(limit)
    ).all()
    return OpenCounts(int(open_now), int(overdue), list(tickets))


@dataclass(frozen=True)
class ResolutionFigures:
    counts: ResolutionCounts
    # Working days from the local day received to the local day resolved -> complaints.
    durations: dict[int, int]


def resolution_figures(
    session: Session, start: datetime, end: datetime, tz: tzinfo, holidays: Container[date], *,
    cutoff: datetime | None = None, definition: str = complaint_stats.DEFAULT_DEFINITION,
    carry_from: datetime | None = None,
) -> ResolutionFigures:
    """IKU 4 of the complaints received in [start, end), as of `cutoff` (default: the end of
    the range; with carry_from, rule bawa_sisa): the very counts of the IKU table
    (storage.complaint_stats.cohort_counts, README "The IKU 4 definition"), with the
    histogram of resolution times: from the local day received to the local day the
    complaint entered its resolved status (as of the cut-off). A resolved complaint with no
    recorded time (an old import) is in the counts but not in the histogram."""
    cohort = complaint_stats.cohort_of(start, end, cutoff, carry_from)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(_tz_name(tz))
    # One scan for both: the cohort grouped by (local day received, local day its status
    # was entered); the counts are the sums over the groups, the histogram the groups'
    # resolved complaints with a recorded time.
    complaint_stats.prepare(session)
    t = complaint_stats.cohort_table(session, cohort, Complaint.received_at, entered=True)
    day_received = _local_date(session, t.c.received_at, tz, cohort.start, cohort.end)
    day_done = _local_date(session, t.c.done, tz, cohort.start, cohort.end)
    rows = session.execute(
        select(day_received.label("got"), day_done.label("day_done"),
               *complaint_stats.count_columns(session, t, zone, definition))
        .group_by(day_received, day_done)
    )
    durations: Counter[int] = Counter()
    # A year is thousands of (day received, day resolved) groups, read for each digest of 31
    # kecamatan: the groups' counts are summed as they come (in ResolutionCounts' field order,
    # that of count_columns), and checked once as the total, and their working days are
    # counted from per-day totals.
    received = duplicate = forwarded = resolved = within = 0
    working_days = WorkingDayCount(holidays)
    for got, day_done, n_received, n_duplicate, n_forwarded, n_resolved, n_within in rows:
        received += n_received or 0
        duplicate += n_duplicate or 0
        forwarded += n_forwarded or 0
        resolved += n_resolved or 0
        within += n_within or 0
        if day_done is not None and n_resolved:
            durations[working_days.between(_as_date(got), _as_date(day_done))] += n_resolved
    return ResolutionFigures(ResolutionCounts(received, duplicate, forwarded, resolved, within), dict(durations))


@dataclass(frozen=True)
class WeekBucket:
    received: int
    counted: int
    cohort_resolved: int
    resolved: int


def weekly_series(session: Session, bounds: Sequence[datetime]) -> list[WeekBucket]:
    """For consecutive periods [bounds[i], bounds[i+1]): complaints received, counted
    (without duplicates and forwarded), of those selesai now, and complaints that reached
    selesai in the period. Two grouped queries whatever the number of periods."""
    if len(bounds) < 2 or any(a >= b for a, b in zip(bounds, bounds[1:], strict=False)):
        raise ValueError("Batas periode harus naik dan paling sedikit dua")
    n = len(bounds) - 1

    def bucket(column: Any) -> Any:
        return case(
            *[(and_(column >= bounds[i], column < bounds[i + 1]), i) for i in range(n)],
            else_=None,
        )

    by_received = bucket(Complaint.received_at)
    received = [0] * n
    counted = [0] * n
    cohort = [0] * n
    excluded = Complaint.status.in_((DUPLIKAT, DITERUSKAN))
    for i, total, excl, done in session.execute(
        select(
            by_received,
            func.count(),
            func.sum(case((excluded, 1), else_=0)),
            func.sum(case((Complaint.status == SELESAI, 1), else_=0)),
        )
        .where(_received_between_scan(session, bounds[0], bounds[-1]))
        .group_by(by_received)
    ):
        if i is None:
            continue
        received[int(i)] = int(total)
        counted[int(i)] = int(total) - int(excl or 0)
        cohort[int(i)] = int(done or 0)
    by_resolved = bucket(Complaint.resolved_at)
    resolved = [0] * n
    for i, total in session.execute(
        select(by_resolved, func.count())
        .where(
            Complaint.status == SELESAI,
            Complaint.resolved_at >= bounds[0],
            Complaint.resolved_at < bounds[-1],
        )
        .group_by(by_resolved)
    ):
        if i is not None:
            resolved[int(i)] = int(total)
    return [WeekBucket(received[i], counted[i], cohort[i], resolved[i]) for i in range(n)]


# --- Personal data (UU 27/2022): the 3 x 24-hour clocks, as of `now` ---------------------


@dataclass(frozen=True)
class PdpFigures:
    open_requests: int
    overdue_requests: int
    nearest_due: datetime | None  # of the open requests (the most overdue one when any is)
    # Breaches discovered in the last 3 x 24 hours whose affected people were not all told
    # by chat (none queued, or some unreachable: to be told by letter or phone).
    incidents: int
    incident_due: datetime | None

    @property
    def any(self) -> bool:
        return bool(self.open_requests or self.incidents)


def pdp_figures(session: Session, now: datetime) -> PdpFigures:
    count, overdue, nearest = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((PdpRequest.due_at < now, 1), else_=0)), 0),
            func.min(PdpRequest.due_at),
        ).where(PdpRequest.answered_at.is_(None))
    ).one()
    incidents, incident_due = session.execute(
        select(func.count(), func.min(PdpIncident.due_at)).where(
            PdpIncident.discovered_at >= now - PDP_CLOCK,
            (PdpIncident.notified_chats == 0) | (PdpIncident.unreachable > 0),
        )
    ).one()
    return PdpFigures(int(count), int(overdue), nearest, int(incidents), incident_due)
