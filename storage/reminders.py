# Deadline reminders: which are owed today, and the claim that makes each one go out once.
# Invariants: a reminder is keyed (complaint, kind, deadline); the claim row is inserted with
# ON CONFLICT DO NOTHING in the same transaction that queues its messages in the outbox, so of
# two processes (or a restart) exactly one queues it, and a rolled-back run queues nothing and
# claims nothing. A new deadline (after tunda, lanjutkan, a reopening or the next status) is a
# new key, so it gets its own reminders. The candidates come from SQL on (status, current_due);
# open complaints are never all loaded.
from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from kpi.workdays import add_working_days, is_working_day
from storage.lifecycle import OPEN_STATUSES
from storage.models import Complaint, ReminderClaim

BESOK = "besok"  # to the Trantib group, the working day before the deadline
TERLAMBAT = "terlambat"  # to the koordinator officers, once the deadline has passed
ESKALASI = "eskalasi"  # to the pimpinan chats, N working days after that
KINDS = (BESOK, TERLAMBAT, ESKALASI)
LABELS = {BESOK: "besok jatuh tempo", TERLAMBAT: "terlambat", ESKALASI: "eskalasi ke pimpinan"}


@dataclass(frozen=True)
class Owed:
    complaint: Complaint
    kind: str
    due_on: date


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(ReminderClaim)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(ReminderClaim)


def escalation_cutoff(today: date, working_days: int, holidays: Container[date]) -> date:
    """The N-th working day counting back from today (today included): a deadline before it
    has at least N working days in (deadline, today]."""
    day, found = today, 0
    while True:
        if is_working_day(day, holidays):
            found += 1
            if found == working_days:
                return day
        day -= timedelta(days=1)


def owed(
    session: Session,
    today: date,
    holidays: Container[date],
    escalation_days: int,
    limit: int = 200,
) -> list[Owed]:
    """The reminders due today and not yet claimed, most urgent kind first."""
    next_working_day = add_working_days(today, 1, holidays)
    windows = (
        (ESKALASI, Complaint.current_due < escalation_cutoff(today, escalation_days, holidays)),
        (TERLAMBAT, Complaint.current_due < today),
        (BESOK, and_(Complaint.current_due > today, Complaint.current_due <= next_working_day)),
    )
    out: list[Owed] = []
    for kind, window in windows:
        claimed = exists().where(
            ReminderClaim.complaint_id == Complaint.id,
            ReminderClaim.kind == kind,
            ReminderClaim.due_on == Complaint.current_due,
        )
        rows = session.scalars(
            select(Complaint)
            .where(Complaint.status.in_(OPEN_STATUSES), window, ~claimed)
            .order_by(Complaint.current_due, Complaint.id)
            .limit(limit)
        ).all()
        for c in rows:
            assert c.current_due is not None
            out.append(Owed(c, kind, c.current_due))
    return out


def claim(session: Session, item: Owed, now: datetime, recipients: int) -> bool:
    """True if this caller won the reminder; then queue its messages in the same transaction."""
    won = session.execute(
        _insert(session)
        .values(
            complaint_id=item.complaint.id, kind=item.kind, due_on=item.due_on,
            status=item.complaint.status, claimed_at=now, sent_at=now, recipients=recipients,
        )
        .on_conflict_do_nothing(index_elements=["complaint_id", "kind", "due_on"])
        .returning(ReminderClaim.id)
    ).scalar()
    return won is not None


@dataclass(frozen=True)
class Sent:
    sent_at: datetime
    kind: str
    label: str
    due_on: date
    recipients: int


def sent_for(session: Session, complaint_id: int) -> Sequence[Sent]:
    """The reminders queued about a complaint, oldest first (shown in its history)."""
    rows = session.scalars(
        select(ReminderClaim)
        .where(ReminderClaim.complaint_id == complaint_id, ReminderClaim.sent_at.is_not(None))
        .order_by(ReminderClaim.id)
    ).all()
    return [Sent(r.sent_at, r.kind, LABELS.get(r.kind, r.kind), r.due_on, r.recipients)
            for r in rows if r.sent_at is not None]
