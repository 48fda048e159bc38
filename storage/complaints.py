# Complaint intake and look-ups on the register.
# Invariants: a ticket number is PREFIX-YEAR-NNNNN with seq drawn from ticket_counters in
# the caller's transaction (the counter row is locked by the UPDATE until commit, so two
# concurrent intakes on PostgreSQL never share or skip a number, and a rolled-back intake
# gives its number back). Deadlines are working days counted from the local receipt date
# (storage/deadlines.py); an open complaint is overdue when today is past the deadline of its
# current status (Complaint.current_due), which is what "overdue first" sorts on in SQL.
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from kpi import workdays
from storage.complaint_search import CaseQuery, search_complaints
from storage.deadlines import DeadlinePolicy
from storage.lifecycle import DITERIMA, OPEN_STATUSES, Actor
from storage.models import Complaint, Person, Photo, StatusChange, TicketCounter
from storage.tenancy import current

KINDS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan informasi",
}
CHANNELS = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "lisan": "Lisan (datang langsung)",
    "surat": "Surat",
    "sp4n-lapor": "SP4N-LAPOR!",
    "media-sosial": "Media sosial",
}
MAX_DESCRIPTION = 2000


__all__ = ["DeadlinePolicy"]  # re-exported: callers build it from here


@dataclass
class ComplaintDraft:
    kind: str
    category: str
    desa: str
    description: str
    channel: str
    received_at: datetime
    anonim: bool = False
    rahasia: bool = True
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    photos: list[tuple[str, int]] = field(default_factory=list)  # (path, size)


def format_ticket(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:05d}"


def parse_ticket(prefix: str, ticket: str) -> tuple[int, int] | None:
    m = re.fullmatch(rf"{re.escape(prefix)}-(\d{{4}})-(\d{{5,}})", ticket.strip().upper())
    return (int(m.group(1)), int(m.group(2))) if m else None


def _counter_insert(session: Session, year: int, start: int):  # type: ignore[no-untyped-def]
    # A Core INSERT ... ON CONFLICT: the kecamatan is set here (storage/tenancy.py); the
    # UPDATE that follows is scoped by the ORM hook, so each kecamatan counts on its own.
    kecamatan = current(session)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(TicketCounter).values(kecamatan=kecamatan, year=year, last_seq=start).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(TicketCounter).values(kecamatan=kecamatan, year=year, last_seq=start).on_conflict_do_nothing()


def next_seq(session: Session, year: int) -> int:
    session.execute(_counter_insert(session, year, 0))
    seq = session.execute(
        update(TicketCounter)
        .where(TicketCounter.year == year)
        .values(last_seq=TicketCounter.last_seq + 1)
        .returning(TicketCounter.last_seq)
    ).scalar_one()
    return int(seq)


def reserve_seq_at_least(session: Session, year: int, seq: int) -> None:
    """After importing an existing ticket, keep new numbers above it."""
    session.execute(_counter_insert(session, year, seq))
    session.execute(
        update(TicketCounter)
        .where(TicketCounter.year == year, TicketCounter.last_seq < seq)
        .values(last_seq=seq)
    )


def create_complaint(
    session: Session,
    draft: ComplaintDraft,
    *,
    reporter: Person | None,
    actor: Actor,
    now: datetime,
    policy: DeadlinePolicy,
    prefix: str,
) -> Complaint:
    if draft.kind not in KINDS:
        raise ValueError(f"Jenis laporan tidak dikenal: {draft.kind}")
    if draft.channel not in CHANNELS:
        raise ValueError(f"Kanal tidak dikenal: {draft.channel}")
    if not draft.description.strip() or len(draft.description) > MAX_DESCRIPTION:
        raise ValueError(f"Uraian harus diisi, paling banyak {MAX_DESCRIPTION} karakter.")
    year = policy.local_date(now).year
    seq = next_seq(session, year)
    verify_due, followup_due = policy.due_dates(draft.received_at)
    resolve_due = policy.resolve_due(policy.local_date(draft.received_at), draft.category, draft.kind)
    complaint = Complaint(
        ticket=format_ticket(prefix, year, seq),
        year=year,
        seq=seq,
        kind=draft.kind,
        category=draft.category,
        desa=draft.desa,
        description=draft.description.strip(),
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        channel=draft.channel,
        anonim=draft.anonim,
        rahasia=draft.rahasia,
        reporter=reporter,
        recorded_by=actor.id if actor.kind == "petugas" else None,
        status=DITERIMA,
        received_at=draft.received_at,
        created_at=now,
        verify_due=verify_due,
        followup_due=followup_due,
        resolve_due=resolve_due,
        current_due=verify_due,
        version=1,
        reopen_count=0,
    )
    session.add(complaint)
    session.flush()
    for path, size in draft.photos:
        session.add(Photo(complaint_id=complaint.id, path=path, size=size, created_at=now))
    session.add(
        StatusChange(
            complaint_id=complaint.id,
            at=now,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name,
            from_status=None,
            to_status=DITERIMA,
            due_on=verify_due,
        )
    )
    session.flush()
    return complaint


def by_ticket(session: Session, ticket: str, *, lock: bool = False) -> Complaint | None:
    stmt = select(Complaint).where(Complaint.ticket == ticket.strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_id(session: Session, complaint_id: int, *, lock: bool = False) -> Complaint | None:
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def is_overdue(c: Complaint, today: date) -> bool:
    """Past the deadline of its current status (every open status has one, ditunda's is
    its new date); a closed complaint is never overdue."""
    return c.status in OPEN_STATUSES and c.current_due is not None and workdays.is_overdue(c.current_due, today)


def open_complaints(session: Session, today: date, limit: int | None = None) -> list[Complaint]:
    """Open complaints, overdue first (longest overdue first), then oldest first: /kasus's
    first page (storage.complaint_search), sorted and cut in SQL."""
    return search_complaints(session, CaseQuery(), today, 1, limit)[0]


@dataclass(frozen=True)
class OverdueCounts:
    """Open complaints past the deadline of their current status, per status, as of `today`."""

    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def overdue_counts(session: Session, today: date) -> OverdueCounts:
    rows = session.execute(
        select(Complaint.status, func.count(Complaint.id))
        .where(Complaint.status.in_(OPEN_STATUSES), Complaint.current_due < today)
        .group_by(Complaint.status)
    ).all()
    return OverdueCounts({str(status): int(n) for status, n in rows})


def complaints_of(session: Session, person_id: int, limit: int = 10) -> Sequence[Complaint]:
    return session.scalars(
        select(Complaint)
        .where(Complaint.reporter_id == person_id)
        .order_by(Complaint.id.desc())
        .limit(limit)
    ).all()


def with_history(session: Session, complaint_id: int) -> Complaint | None:
    return session.scalars(
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .options(selectinload(Complaint.history), selectinload(Complaint.photos))
    ).first()


def count_since(session: Session, person_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(Complaint.id)).where(
                Complaint.reporter_id == person_id, Complaint.created_at >= since
            )
        )
        or 0
    )


def get_or_create_person(
    session: Session, channel: str, user_id: str, name: str | None, now: datetime
) -> Person:
    person = session.scalars(
        select(Person).where(Person.channel == channel, Person.channel_user_id == user_id)
    ).first()
    if person is None:
        person = Person(channel=channel, channel_user_id=user_id, created_at=now)
        session.add(person)
        session.flush()
    person.last_inbound_at = now
    return person


def erase_identity(session: Session, person: Person, now: datetime) -> None:
    """Forget who the person is; their complaints stay for statistics, reporter anonymised.

    The Person row stays (without name, phone or channel id) so that the complaints still
    count per reporter, but nothing links it to a real account any more.
    """
    # Also the chat traces and closed complaints' description, location, notes and photos
    # (UU 27/2022: these identify the reporter too); see storage/erasure.py.
    from storage.erasure import erase_person

    erase_person(session, person, now, via="bot")
