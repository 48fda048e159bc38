# Officers' search of the register (/kasus): filters, count and one page, all in SQL.
# Invariants: nothing here loads more than one page of complaints (the register may hold a
# million); the order is the one of open_complaints (overdue first, longest overdue first,
# then oldest received, then id), so a page is stable and the count matches the pages.
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

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
    session: Session, query: CaseQuery, today: date, page: int = 1, page_size: int | None = 10
) -> tuple[list[Complaint], int]:
    """One page (1-based) of the complaints matching `query`, and how many match in all
    (page_size None: every one)."""
    where = _filters(query, today)
    total = session.scalar(select(func.count()).select_from(Complaint).where(*where)) or 0
    # Once each: a status typed twice (its label and its code) must not list its complaints twice.
    statuses = tuple(dict.fromkeys(query.statuses or OPEN_STATUSES))
    offset = max(0, page - 1) * (page_size or 0)
    wanted = None if page_size is None else offset + page_size
    # The order (overdue first, longest overdue first; then oldest received; then id) is no
    # index's: one statement had to sort every open complaint to return ten (1M register:
    # 120,000 rows, 0.4 to 1.5 s). It is cut in two parts, each read per status in an order
    # an index gives (or a sort of a few rows), LIMIT what the page needs, and merged here:
    # 1. overdue: (kecamatan, status, current_due < today), by due date then received_at, id;
    # 2. the rest, by received_at, id: an open status's not-yet-due complaints (a range of
    #    current_due >= today: few) and any without a due date (none, as storage.lifecycle
    #    keeps them), and the closed statuses (no deadline) together in the received_at
    #    index's order.
    # SQLite plans without statistics and is steered: likely() on status keeps the closed
    # statuses off the status index (whose range would be sorted whole: 1M, 780k rows, 2 s);
    # a unary + on received_at keeps the NULL-due read on the deadline index instead of
    # walking the received_at index to its end. PostgreSQL plans by its statistics.
    sqlite = session.get_bind().dialect.name == "sqlite"
    others = where[1:]  # the filters besides the statuses (_filters puts them first)
    by_due = (Complaint.current_due, Complaint.received_at, Complaint.id)
    by_received = (Complaint.received_at, Complaint.id)
    late = [(Complaint.status == st, Complaint.current_due < today) for st in statuses]
    rows = _merged(session, others, [(terms, by_due) for terms in late], by_due, wanted)
    if not query.overdue and (wanted is None or len(rows) < wanted):
        rest = None if wanted is None else wanted - len(rows)
        received = (_opaque(Complaint.received_at) if sqlite else Complaint.received_at, Complaint.id)
        parts: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        for st in statuses:
            if st in OPEN_STATUSES:
                parts.append(((Complaint.status == st, Complaint.current_due >= today), by_received))
                parts.append(((Complaint.status == st, Complaint.current_due.is_(None)), received))
        closed = [st for st in statuses if st not in OPEN_STATUSES]
        if closed:
            status = _hidden(Complaint.status) if sqlite else Complaint.status
            on_time = or_(Complaint.current_due.is_(None), Complaint.current_due >= today)
            parts.append(((status.in_(closed), on_time), by_received))
        rows += _merged(session, others, parts, by_received, rest)
    end = None if page_size is None else offset + page_size
    return rows[offset:end], total


def _hidden(column: Any) -> Any:
    """The column, as SQLite's planner cannot match it to an index (likely() is a no-op)."""
    return type_coerce(func.likely(column), column.type)


def _opaque(column: Any) -> Any:
    """The column in an ORDER BY no index serves (SQLite's unary +, a no-op on any value)."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _merged(session: Session, others: list[Any], parts: list[tuple[tuple[Any, ...], tuple[Any, ...]]],
            key: tuple[Any, ...], limit: int | None) -> list[Complaint]:
    """The first `limit` complaints in the order of the columns `key` of the union of
    `parts` (each its own terms and ORDER BY, which give that order), each part read
    LIMIT `limit`."""
    found: list[Complaint] = []
    for terms, order in parts:
        stmt = select(Complaint).where(*terms, *others).order_by(*order)
        if limit is not None:
            stmt = stmt.limit(limit)
        found += session.scalars(stmt).all()
    names = [column.key for column in key]
    found.sort(key=lambda c: tuple(getattr(c, name) for name in names))
    return found if limit is None else found[:limit]
