# IKU 4 counts from the complaint register, by the definition in the README ("The IKU 4
# definition in use"), computed by the database.
# Invariants:
# - The cohort is the complaints whose received_at lies in [start, end); callers pass aware
#   instants (a period's local midnights in the office zone), so a complaint received at
#   23:30 WIB on 31 March is in Q1 and one at 00:10 WIB on 1 April is in Q2.
# - Excluded from the denominator: status duplikat and diteruskan, each listed with its reason
#   (the original ticket, the receiving body). Resolved: status selesai now. Within standard:
#   of the resolved, verified by verify_due and followed up by followup_due in the office's
#   local dates, with the same reading as the export's tepat_waktu (storage.csv_io.timeliness):
#   the follow-up is dated by followed_up_at, else resolved_at (imported registers), and an
#   unrecorded verification is not held against the office.
# - Every count is a COUNT/SUM ... GROUP BY in SQL; only the excluded list returns rows.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from kpi.periods import Period, quarters_of
from kpi.resolution import ResolutionCounts
from storage.lifecycle import DITERUSKAN, DUPLIKAT, SELESAI
from storage.models import Complaint

EXCLUDED_STATUSES = (DUPLIKAT, DITERUSKAN)


@dataclass(frozen=True)
class ExcludedComplaint:
    ticket: str
    status: str
    duplicate_of: str | None
    forwarded_to: str | None
    received_at: datetime

    @property
    def reason(self) -> str:
        if self.status == DUPLIKAT:
            return f"Duplikat dari {self.duplicate_of or '(tiket asli tidak tercatat)'}"
        return f"Diteruskan ke {self.forwarded_to or '(instansi tidak tercatat)'} (bukan wewenang)"


def _local_date(session: Session, column: Any, tz: ZoneInfo) -> Any:
    """The calendar date of a UTC timestamp column on the office's wall clock."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz.key, column), Date)
    # SQLite has no zone database, so a fixed offset is used: exact for zones without
    # daylight saving time, which is every Indonesian zone (WIB, WITA, WIT).
    jan = datetime(2001, 1, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    jul = datetime(2001, 7, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    if jan != jul or jan is None:
        raise ValueError(f"Zona waktu {tz.key} memakai DST; hitungan SQLite memerlukan offset tetap.")
    minutes = int(jan.total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


def _count_columns(session: Session, tz: ZoneInfo) -> list[Any]:
    status = Complaint.status
    followed = func.coalesce(Complaint.followed_up_at, Complaint.resolved_at)
    within = and_(
        status == SELESAI,
        or_(
            Complaint.verified_at.is_(None),
            _local_date(session, Complaint.verified_at, tz) <= Complaint.verify_due,
        ),
        followed.is_not(None),
        _local_date(session, followed, tz) <= Complaint.followup_due,
    )

    def total(condition: Any, name: str) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer).label(name)

    return [
        func.count(Complaint.id).label("received"),
        total(status == DUPLIKAT, "excluded_duplicate"),
        total(status == DITERUSKAN, "excluded_forwarded"),
        total(status == SELESAI, "resolved"),
        total(within, "within_standard"),
    ]


def _counts(row: Any) -> ResolutionCounts:
    return ResolutionCounts(
        received=int(row.received or 0),
        excluded_duplicate=int(row.excluded_duplicate or 0),
        excluded_forwarded=int(row.excluded_forwarded or 0),
        resolved=int(row.resolved or 0),
        within_standard=int(row.within_standard or 0),
    )


def _in_range(start: datetime, end: datetime) -> Any:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("Batas periode harus memiliki zona waktu (aware datetime)")
    return and_(Complaint.received_at >= start, Complaint.received_at < end)


def resolution_counts(session: Session, start: datetime, end: datetime, tz: ZoneInfo) -> ResolutionCounts:
    """IKU 4 counts of the complaints received in [start, end)."""
    row = session.execute(select(*_count_columns(session, tz)).where(_in_range(start, end))).one()
    return _counts(row)


def resolution_for_period(session: Session, period: Period, tz: ZoneInfo) -> ResolutionCounts:
    return resolution_counts(session, period.start(tz), period.end(tz), tz)


def resolution_by_quarter(session: Session, year: int, tz: ZoneInfo) -> dict[int, ResolutionCounts]:
    """IKU 4 counts per triwulan of `year` (local quarters), in one grouped query."""
    q = quarters_of(year)
    received = Complaint.received_at
    quarter = case(
        (received < q[1].start(tz), 1),
        (received < q[2].start(tz), 2),
        (received < q[3].start(tz), 3),
        else_=4,
    ).label("q")
    rows = session.execute(
        select(quarter, *_count_columns(session, tz))
        .where(_in_range(q[0].start(tz), q[3].end(tz)))
        .group_by(quarter)
    ).all()
    out = {i: ResolutionCounts(0, 0, 0, 0, 0) for i in range(1, 5)}
    for row in rows:
        out[int(row.q)] = _counts(row)
    return out


def resolution_by(session: Session, start: datetime, end: datetime, tz: ZoneInfo,
                  by: Literal["channel", "desa"]) -> dict[str, ResolutionCounts]:
    """IKU 4 counts of [start, end) per channel or per desa, largest first."""
    key = Complaint.channel if by == "channel" else Complaint.desa
    if by not in ("channel", "desa"):
        raise ValueError(f"Rincian tidak dikenal: {by}")
    rows = session.execute(
        select(key.label("key"), *_count_columns(session, tz))
        .where(_in_range(start, end))
        .group_by(key)
        .order_by(func.count(Complaint.id).desc(), key)
    ).all()
    return {str(row.key): _counts(row) for row in rows}


def excluded_complaints(session: Session, start: datetime, end: datetime,
                        limit: int | None = None) -> list[ExcludedComplaint]:
    """The complaints of [start, end) left out of the denominator, with their reasons."""
    stmt = (
        select(Complaint.ticket, Complaint.status, Complaint.duplicate_of, Complaint.forwarded_to,
               Complaint.received_at)
        .where(_in_range(start, end), Complaint.status.in_(EXCLUDED_STATUSES))
        .order_by(Complaint.received_at, Complaint.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows: Sequence[Any] = session.execute(stmt).all()
    return [ExcludedComplaint(r.ticket, r.status, r.duplicate_of, r.forwarded_to, r.received_at) for r in rows]
