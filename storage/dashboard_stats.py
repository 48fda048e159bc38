# Open and overdue complaints by desa and by category, for the dashboard.
# Invariants: one GROUP BY query per breakdown; "open" and "overdue" are the filters of /kasus
# (storage.complaint_search: open statuses; past the deadline of the current status, the due
# day itself on time), so a figure here and the /kasus list behind it always agree.
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.complaint_search import CaseQuery, _filters
from storage.models import Complaint


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
