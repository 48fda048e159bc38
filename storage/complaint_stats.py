# IKU 4 counts from the complaint register, by the definition in the README ("The IKU 4
# definition in use"), computed by the database AS OF a cut-off instant.
# Invariants:
# - The cohort is the complaints whose received_at lies in [start, end); callers pass aware
#   instants (a period's local midnights in the office zone), so a complaint received at
#   23:30 WIB on 31 March is in Q1 and one at 00:10 WIB on 1 April is in Q2.
# - Every status is the status as of the cut-off C, read from the append-only status
#   history: the to_status of the complaint's last StatusChange with at < C (ties by id). A
#   complaint with no change before C (logged later than it was received) is diterima then.
#   Shortcut, so the current period pays no history lookups: a complaint with no change at
#   or after C has today's status at C (one set of "changed since C" ids, not a lookup per
#   complaint). A complaint reopened before C is unresolved at C until resolved again.
# - Definitions (office file iku.definisi_iku4, README): "bawaan" leaves duplikat and
#   diteruskan out of the denominator, each listed with its reason; "keputusan" is the
#   decree's literal diselesaikan / masuk; "ditolak_ditangani" is "bawaan" with ditolak
#   counted as handled. Resolved: status selesai at C (plus ditolak for the last).
# - Within standard: of the resolved selesai, the on_time that storage.lifecycle recorded on
#   the move into selesai (verified by verify_due and resolved by the resolution deadline in
#   effect, the last reopening's if any). A complaint unchanged since the cut-off reads it
#   from its columns (the same columns the move read: nothing changed since). A register
#   without that record (imported, or resolved before the deadline clock) falls back to the
#   export's tepat_waktu (storage.csv_io.timeliness): verified by verify_due, followed up
#   (else resolved) by followup_due, an unrecorded verification not held against the office.
# - Every count is a COUNT/SUM ... GROUP BY in SQL; only the excluded list returns rows.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from kpi.periods import Period, quarters_of
from kpi.resolution import ResolutionCounts
from storage.lifecycle import DITERIMA, DITERUSKAN, DITOLAK, DUPLIKAT, OPEN_STATUSES, SELESAI
from storage.models import Complaint, StatusChange

EXCLUDED_STATUSES = (DUPLIKAT, DITERUSKAN)

# The IKU 4 definitions an office may choose (iku.definisi_iku4), code -> what the report
# prints under the number.
DEFINITIONS: dict[str, str] = {
    "bawaan": "selesai / (masuk - duplikat - diteruskan bukan wewenang)",
    "keputusan": "diselesaikan / masuk (rumus Keputusan Camat apa adanya)",
    "ditolak_ditangani": "(selesai + ditolak) / (masuk - duplikat - diteruskan bukan wewenang)",
}
DEFAULT_DEFINITION = "bawaan"
# Complaints received in one year and resolved in the next (iku.lintas_tahun): "tahun_masuk"
# counts them in the year received, resolved when resolved by that period's cut-off;
# "bawa_sisa" also counts those still open at the year's start in the new year's Q1.
CARRY_OVER_RULES: dict[str, str] = {
    "tahun_masuk": "dihitung pada tahun diterima; selesai bila selesai sebelum batas periode",
    "bawa_sisa": "seperti tahun_masuk, dan yang masih terbuka pada awal tahun ikut dihitung "
                 "lagi di triwulan I tahun berikutnya",
}
DEFAULT_CARRY_OVER = "tahun_masuk"


def check_definition(definition: str) -> str:
    if definition not in DEFINITIONS:
        raise ValueError(f"Definisi IKU 4 tidak dikenal: {definition!r}; pilihan: {', '.join(DEFINITIONS)}")
    return definition


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
    minutes = _fixed_offset_minutes(tz)
    return func.date(column, f"{minutes:+d} minutes")


def _fixed_offset_minutes(tz: ZoneInfo) -> int:
    jan = datetime(2001, 1, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    jul = datetime(2001, 7, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    if jan != jul or jan is None:
        raise ValueError(f"Zona waktu {tz.key} memakai DST; hitungan SQLite memerlukan offset tetap.")
    return int(jan.total_seconds() // 60)


def on_or_before_local_day(session: Session, ts: Any, day: Any, tz: ZoneInfo) -> Any:
    """SQL: the UTC timestamp `ts` falls on the local day `day` or earlier (NULL if either is).

    On SQLite, for a zone ahead of UTC by less than a day (every Indonesian zone), that is
    `ts` before the UTC instant of the next local midnight, `day` at (24 h - offset), compared
    as text: SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff', which sorts as time does. It
    gives what date(ts, '+N minutes') <= day gives, without parsing two timestamps per row:
    the IKU 4 counts read it up to six times per complaint (bench/reports.py)."""
    if session.get_bind().dialect.name == "sqlite":
        minutes = _fixed_offset_minutes(tz)
        if 0 < minutes < 24 * 60:
            left = 24 * 60 - minutes
            return ts < type_coerce(day, String) + f" {left // 60:02d}:{left % 60:02d}:00"
    return _local_date(session, ts, tz) <= day


def _changed_since(cutoff: datetime) -> Any:
    """SQL: the complaint has a change at or after `cutoff`. A correlated EXISTS, one seek on
    ix_status_history_complaint_at per complaint, rather than `id IN (changes since)`: for a
    cut-off early in the year that set holds most of the history, PostgreSQL cannot hash it
    within work_mem and falls back to rescanning it for every complaint (a triwulan table on
    100k complaints did not finish in minutes; bench/officer_commands.py)."""
    return (
        exists()
        .where(StatusChange.complaint_id == Complaint.id, StatusChange.at >= cutoff)
        .correlate(Complaint)
    )


def _last_before(column: Any, cutoff: datetime) -> Any:
    """SQL: `column` of the complaint's last change before `cutoff` (ties by id)."""
    return (
        select(column)
        .where(StatusChange.complaint_id == Complaint.id, StatusChange.at < cutoff)
        .order_by(StatusChange.at.desc(), StatusChange.id.desc())
        .limit(1)
        .correlate(Complaint)
        .scalar_subquery()
    )


def changed_since_of(ident: Any, cutoff: Any) -> Any:
    """_changed_since for the complaint whose id is `ident` (a column of a subquery)."""
    return exists().where(StatusChange.complaint_id == ident, StatusChange.at >= cutoff)


def last_before_of(column: Any, ident: Any, cutoff: Any) -> Any:
    """_last_before for the complaint whose id is `ident` (a column of a subquery)."""
    return (
        select(column)
        .where(StatusChange.complaint_id == ident, StatusChange.at < cutoff)
        .order_by(StatusChange.at.desc(), StatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def status_at(cutoff: datetime | None) -> Any:
    """SQL for a complaint's status as of `cutoff` (None: today's status).

    The last StatusChange with at < cutoff (ties by id) says it; a complaint with no change at
    or after the cut-off has today's status, so only the complaints changed since the cut-off
    pay the history lookup (an index seek on ix_status_history_complaint_at)."""
    if cutoff is None:
        return Complaint.status
    if cutoff.tzinfo is None:
        raise ValueError("Batas waktu harus memiliki zona waktu (aware datetime)")
    changed_since = _changed_since(cutoff)
    last = _last_before(StatusChange.to_status, cutoff)
    return case((changed_since, func.coalesce(last, DITERIMA)), else_=Complaint.status)


def _long_range(session: Session, column: Any, start: datetime, end: datetime) -> Any:
    """start <= column < end. A long range (over a month) is read by a table scan on SQLite:
    its planner takes ix_complaints_received_at for any range, and a range that covers much
    of the table then costs one random table read per row, measured 7 to 12 times slower
    than the scan (bench/digest.py). unlikely(x) is x, but no index applies to it.
    PostgreSQL chooses by its statistics and is left alone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("Batas periode harus memiliki zona waktu (aware datetime)")
    if session.get_bind().dialect.name == "sqlite" and (end - start).days > 31:
        column = type_coerce(func.unlikely(column), Complaint.received_at.type)
    return and_(column >= start, column < end)


@dataclass(frozen=True)
class Cohort:
    """Which complaints a figure counts and as of when.

    received in [start, end), statuses as of `cutoff` (None: today's); with `carry_from`
    (rule bawa_sisa) also those received before it and still open at it."""

    start: datetime
    end: datetime
    cutoff: datetime | None
    carry_from: datetime | None = None


def cohort_where(session: Session, c: Cohort) -> Any:
    received = _long_range(session, Complaint.received_at, c.start, c.end)
    if c.carry_from is None:
        return received
    carried = and_(Complaint.received_at < c.carry_from, status_at(c.carry_from).in_(OPEN_STATUSES))
    return or_(received, carried)


_COHORT_COLUMNS = (Complaint.verified_at, Complaint.verify_due, Complaint.followed_up_at,
                   Complaint.resolved_at, Complaint.followup_due, Complaint.resolve_due)


def cohort_table(session: Session, c: Cohort, *extra: Any, where: Any = None, entered: bool = False) -> Any:
    """The cohort as a subquery: one row per complaint with its status as of the cut-off
    (column s), the on_time recorded by then (column ot) and the columns the counts need;
    the aggregate reads it once per row. entered: also when it entered that status, for
    resolution times (column done): resolved_at (selesai) or closed_at (the other closed
    outcomes) when nothing changed since the cut-off, else the time of its last change
    before it."""
    condition = where if where is not None else cohort_where(session, c)
    if c.cutoff is not None:
        return _cohort_as_of(c.cutoff, condition, extra, entered)
    # Today's statuses: no history to read.
    done = [func.coalesce(Complaint.resolved_at, Complaint.closed_at).label("done")] if entered else []
    return (
        select(Complaint.id, Complaint.status.label("s"), *_COHORT_COLUMNS, null().label("ot"), *extra, *done)
        .where(condition)
        # OFFSET 0 keeps the planners (PostgreSQL and SQLite alike) from flattening the
        # subquery into the aggregate, which would copy the status CASE, with its history
        # subplans, into every SUM: measured 10 subplans per statement instead of 2.
        .offset(0)
        .subquery("cohort")
    )


def _cohort_as_of(cutoff: datetime, condition: Any, extra: Sequence[Any], entered: bool) -> Any:
    """cohort_table for one cut-off, in two fenced layers: the "changed since the cut-off"
    look-up runs once per complaint in the inner one, and the status and the on_time read it
    there, instead of one EXISTS each (the status_at and recorded_on_time forms): half the
    history seeks per row (bench/reports.py, IKU 4 by desa)."""
    if cutoff.tzinfo is None:
        raise ValueError("Batas waktu harus memiliki zona waktu (aware datetime)")
    inner = (
        select(Complaint.id, Complaint.status, *_COHORT_COLUMNS, *extra,
               func.coalesce(Complaint.resolved_at, Complaint.closed_at).label("entered_today"),
               _changed_since(cutoff).label("changed"))
        .where(condition)
        .offset(0)
        .subquery("changed")
    )
    ch = inner.c.changed
    status = case((ch, func.coalesce(last_before_of(StatusChange.to_status, inner.c.id, cutoff), DITERIMA)),
                  else_=inner.c.status)
    on_time = case((ch, last_before_of(StatusChange.on_time, inner.c.id, cutoff)), else_=null())
    passed = [col for col in inner.c if col.key not in ("id", "status", "changed", "entered_today")]
    done = ([case((ch, last_before_of(StatusChange.at, inner.c.id, cutoff)), else_=inner.c.entered_today)
             .label("done")] if entered else [])
    return (select(inner.c.id, status.label("s"), on_time.label("ot"), *passed, *done)
            .offset(0).subquery("cohort"))


def prepare(session: Session) -> None:
    """Before a cohort query on PostgreSQL: no JIT for the rest of this (read) transaction.
    The planner prices the history subplans of status_at as if they ran for every row (they
    run only for the complaints changed since the cut-off), so the estimate passes
    jit_above_cost and compiling took 0.5 s for a 30 ms query (bench/digest.py, 20k rows)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def resolved_statuses(definition: str) -> tuple[str, ...]:
    return (SELESAI, DITOLAK) if check_definition(definition) == "ditolak_ditangani" else (SELESAI,)


def within_standard_sql(session: Session, t: Any, tz: ZoneInfo) -> Any:
    """On a cohort table: resolved selesai within the standard times (header comment)."""
    followed = func.coalesce(t.c.followed_up_at, t.c.resolved_at)
    # storage.lifecycle._met_standard on the columns, as the move into selesai read them.
    by = on_or_before_local_day
    clock = and_(
        t.c.verified_at.is_not(None),
        by(session, t.c.verified_at, t.c.verify_due, tz),
        by(session, t.c.resolved_at, t.c.resolve_due, tz),
    )
    legacy = and_(
        or_(t.c.verified_at.is_(None), by(session, t.c.verified_at, t.c.verify_due, tz)),
        followed.is_not(None),
        by(session, followed, t.c.followup_due, tz),
    )
    return and_(
        t.c.s == SELESAI,
        case(
            (t.c.ot.is_not(None), t.c.ot == true()),
            (and_(t.c.resolve_due.is_not(None), t.c.resolved_at.is_not(None)), clock),
            else_=legacy,
        ),
    )


def _conditions(session: Session, t: Any, tz: ZoneInfo, definition: str) -> dict[str, Any]:
    """Per field of ResolutionCounts except received: when a cohort row counts in it."""
    s = t.c.s
    literal = check_definition(definition) == "keputusan"
    none = t.c.id.is_(None)  # never true: the decree's formula leaves nothing out
    return {
        "excluded_duplicate": none if literal else s == DUPLIKAT,
        "excluded_forwarded": none if literal else s == DITERUSKAN,
        "resolved": s.in_(resolved_statuses(definition)),
        "within_standard": within_standard_sql(session, t, tz),
    }


def count_columns(session: Session, t: Any, tz: ZoneInfo, definition: str, prefix: str = "") -> list[Any]:
    """The IKU 4 counts over a cohort table's s and ot, labelled prefix + the field names of
    ResolutionCounts."""
    return [
        func.count(t.c.id).label(prefix + "received"),
        *[func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer).label(prefix + name)
          for name, condition in _conditions(session, t, tz, definition).items()],
    ]


def counts_of(row: Any, prefix: str = "") -> ResolutionCounts:
    def get(name: str) -> int:
        return int(getattr(row, prefix + name) or 0)

    return ResolutionCounts(
        received=get("received"),
        excluded_duplicate=get("excluded_duplicate"),
        excluded_forwarded=get("excluded_forwarded"),
        resolved=get("resolved"),
        within_standard=get("within_standard"),
    )


def cohort_counts(session: Session, cohort: Cohort, tz: ZoneInfo,
                  definition: str = DEFAULT_DEFINITION) -> ResolutionCounts:
    """IKU 4 counts of one cohort, as of its cut-off."""
    prepare(session)
    t = cohort_table(session, cohort)
    return counts_of(session.execute(select(*count_columns(session, t, tz, definition))).one())


def resolution_counts(session: Session, start: datetime, end: datetime, tz: ZoneInfo, *,
                      cutoff: datetime | None = None, definition: str = DEFAULT_DEFINITION) -> ResolutionCounts:
    """IKU 4 counts of the complaints received in [start, end), as of `cutoff` (default:
    the end of the range, or today's statuses when that is still ahead)."""
    return cohort_counts(session, cohort_of(start, end, cutoff), tz, definition)


def resolution_for_period(session: Session, period: Period, tz: ZoneInfo, *,
                          cutoff: datetime | None = None, definition: str = DEFAULT_DEFINITION) -> ResolutionCounts:
    return resolution_counts(session, period.start(tz), period.end(tz), tz, cutoff=cutoff, definition=definition)


def resolution_by_quarter(session: Session, year: int, tz: ZoneInfo, *, as_of: datetime | None = None,
                          definition: str = DEFAULT_DEFINITION,
                          carry_over: str = DEFAULT_CARRY_OVER) -> dict[int, ResolutionCounts]:
    """IKU 4 counts per triwulan of `year` (local quarters), each as of its own last moment
    (or `as_of`, if earlier); a quarter not started by `as_of` counts nothing. One grouped
    query (storage.iku4_year): each row's status is read as of its own quarter's cut-off, so a
    later reopening and on-time resolution is Q2's history and does not change Q1's figure
    afterwards (tests/test_iku4_quarter_on_time.py)."""
    from storage.iku4_year import year_breakdown  # it builds on this module

    q = quarters_of(year)
    limit = q[3].end(tz) if as_of is None else min(as_of, q[3].end(tz))
    carry_from = q[0].start(tz) if carry_over == "bawa_sisa" else None
    cohort = Cohort(q[0].start(tz), limit, limit, carry_from)
    return year_breakdown(session, year, tz, cohort, definition, quarters_only=True).by_quarter


def cohort_of(start: datetime, end: datetime, cutoff: datetime | None = None,
              carry_from: datetime | None = None) -> Cohort:
    """Received in [start, end), as of `cutoff` (default: the end of the range)."""
    return Cohort(start, end, end if cutoff is None else cutoff, carry_from)


def resolution_by(session: Session, start: datetime, end: datetime, tz: ZoneInfo, by: Literal["channel", "desa"],
                  *, cutoff: datetime | None = None, definition: str = DEFAULT_DEFINITION,
                  carry_from: datetime | None = None) -> dict[str, ResolutionCounts]:
    """IKU 4 counts of [start, end) as of `cutoff`, per channel or per desa, largest first."""
    cohort = cohort_of(start, end, cutoff, carry_from)
    if by not in ("channel", "desa"):
        raise ValueError(f"Rincian tidak dikenal: {by}")
    key = Complaint.channel if by == "channel" else Complaint.desa
    prepare(session)
    t = cohort_table(session, cohort, key.label("key"))
    rows = session.execute(
        select(t.c.key, *count_columns(session, t, tz, definition))
        .group_by(t.c.key)
        .order_by(func.count(t.c.id).desc(), t.c.key)
    ).all()
    return {str(row.key): counts_of(row) for row in rows}


# Up to this many status changes since the cut-off, the excluded list reads its candidates
# instead of every complaint's status (measured at 1M: 0.6 s instead of 2.6 s for a cut-off
# with few changes since; 11 s instead of 2.6 s for 31 March, whose "since" is most of the
# history).
CANDIDATES_LIMIT = 50_000


def _may_be_excluded(session: Session, cohort: Cohort) -> Any:
    """A condition true for every complaint that can be duplikat or diteruskan at the cohort's
    cut-off: one that is so today, or changed since (one unchanged since has today's status).
    Used only when the changes since are few (counted up to CANDIDATES_LIMIT, a bounded
    range of ix_status_history_at); else true, and the list reads every row's status."""
    today = Complaint.status.in_(EXCLUDED_STATUSES)
    if cohort.cutoff is None:
        return today
    since = select(StatusChange.complaint_id).where(StatusChange.at >= cohort.cutoff)
    few = session.scalar(select(func.count()).select_from(since.limit(CANDIDATES_LIMIT + 1).subquery()))
    if (few or 0) > CANDIDATES_LIMIT:
        return true()
    return or_(today, Complaint.id.in_(since))


def excluded_complaints(session: Session, start: datetime, end: datetime, limit: int | None = None, *,
                        cutoff: datetime | None = None, definition: str = DEFAULT_DEFINITION,
                        carry_from: datetime | None = None) -> list[ExcludedComplaint]:
    """The complaints of [start, end) left out of the denominator as of `cutoff`, with their
    reasons (none under the decree's literal formula)."""
    cohort = cohort_of(start, end, cutoff, carry_from)
    if check_definition(definition) == "keputusan":
        return []
    prepare(session)
    t = cohort_table(session, cohort, Complaint.ticket, Complaint.duplicate_of, Complaint.forwarded_to,
                     Complaint.received_at, where=and_(cohort_where(session, cohort), _may_be_excluded(session, cohort)))
    stmt = (
        select(t.c.ticket, t.c.s, t.c.duplicate_of, t.c.forwarded_to, t.c.received_at)
        .where(t.c.s.in_(EXCLUDED_STATUSES))
        .order_by(t.c.received_at, t.c.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows: Sequence[Any] = session.execute(stmt).all()
    return [ExcludedComplaint(r.ticket, r.s, r.duplicate_of, r.forwarded_to, r.received_at) for r in rows]
