# Who handles a complaint: Complaint.assigned_to, and one Assignment row per change of it.
# Invariants: assigning never changes the status or the version (a card's buttons stay
# valid); every change of the assignee is an Assignment row in the caller's transaction,
# so the history says who assigned whom and when; only an active officer can be assigned.
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.lifecycle import HANDLERS, Actor
from storage.models import Assignment, Complaint, Officer

# Who may be assigned (the ones who handle complaints) and who may assign someone else.
ASSIGNABLE_ROLES = HANDLERS
ASSIGNER_ROLES = ("koordinator", "admin")


class AssignRefused(Exception):
    """An assignment that is not allowed; the message is Indonesian and safe to show."""


def assign(session: Session, complaint: Complaint, officer: Officer, by: Actor, now: datetime) -> Assignment | None:
    """Make `officer` responsible for `complaint`; None if they already are."""
    if not officer.active:
        raise AssignRefused(f"{officer.name} bukan petugas aktif.")
    if officer.role not in ASSIGNABLE_ROLES:
        raise AssignRefused(f"{officer.name} berperan {officer.role}; laporan hanya bisa ditugaskan ke "
                            + ", ".join(ASSIGNABLE_ROLES) + ".")
    if by.id != officer.id and by.role not in ASSIGNER_ROLES:
        raise AssignRefused("Hanya koordinator atau admin yang menugaskan petugas lain; "
                            "Anda bisa menugaskan laporan ke diri sendiri.")
    if complaint.assigned_to == officer.id:
        return None
    complaint.assigned_to = officer.id
    row = Assignment(complaint_id=complaint.id, officer_id=officer.id, officer_name=officer.name, at=now,
                     by_name=by.name or by.kind)
    session.add(row)
    session.flush()
    return row


def assignments_of(session: Session, complaint_id: int) -> Sequence[Assignment]:
    """The complaint's assignments, oldest first (shown in its history)."""
    return session.scalars(
        select(Assignment).where(Assignment.complaint_id == complaint_id).order_by(Assignment.id)
    ).all()
