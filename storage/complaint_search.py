# Officers' search of the register (/kasus): filters, count and one page, all in SQL.
# Invariants: nothing here loads more than one page of complaints (the register may hold a
# million); the order is the one of open_complaints (overdue first, longest overdue first,
# then oldest received, then id), so a page is stable and the count matches the pages.
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from storage.lifecycle import OPEN_STATUSES
from storage.models import Complaint


@dataclass(frozen=True)
class CaseQuery:
    """What an officer searches for; empty fields do not filter. Without statuses, only
    open complaints are searched (what /kasus is for); `words` must all be in the
    description (case-insensitive)."""

    ticket: str | None = None
    desa: str | None = None
    category: str | None = None
    statuses: tuple[str, ...] = ()
    overdue: bool = False
    words: tuple[str, ...] = ()
    assigned_to: int | None = None


def _like(word: str) -> str:
    escaped = word.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(query: CaseQuery, today: date) -> list[Any]:
    where: list[Any] = [Complaint.status.in_(query.statuses or OPEN_STATUSES)]
    if query.ticket:
        where.append(Complaint.ticket == query.ticket)
    if query.desa:
        where.append(Complaint.desa == query.desa)
    if query.category:
        where.append(Complaint.category == query.category)
    if query.overdue:
        # Overdue = open and past the deadline of its current status (the due day is on time).
        where.append(and_(Complaint.status.in_(OPEN_STATUSES), Complaint.current_due < today))
    if query.assigned_to is not None:
        where.append(Complaint.assigned_to == query.assigned_to)
    for word in query.words:
        where.append(func.lower(Complaint.description).like(_like(word), escape="\\"))
    return where


def search_complaints(
    session: Session, query: CaseQuery, today: date, page: int = 1, page_size: int = 10
) -> tuple[list[Complaint], int]:
    """One page (1-based) of the complaints matching `query`, and how many match in all."""
    where = _filters(query, today)
    total = session.scalar(select(func.count()).select_from(Complaint).where(*where)) or 0
    overdue = case((Complaint.current_due < today, 0), else_=1)
    stmt = (
        select(Complaint)
        .where(*where)
        .order_by(overdue, case((Complaint.current_due < today, Complaint.current_due), else_=None),
                  Complaint.received_at, Complaint.id)
        .limit(page_size)
        .offset(max(0, page - 1) * page_size)
    )
    return list(session.scalars(stmt).all()), total
