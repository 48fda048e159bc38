# The inbox: inbound updates are committed here before their channel is told we have them.
# Invariants: (source, external_id) is unique, so a redelivered update is stored once;
# an item is marked handled in the same transaction as everything its handling recorded,
# so after a crash an item is either fully handled or still pending (handled again).
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import InboxItem


def _insert(session: Session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(InboxItem)


def store(
    session: Session, source: str, items: Iterable[tuple[str, dict[str, Any]]], now: datetime
) -> int:
    """Store (external_id, payload) pairs; repeats are ignored. Returns how many were new."""
    rows = [
        {"source": source, "external_id": ext, "payload": payload, "received_at": now, "attempts": 0}
        for ext, payload in items
    ]
    if not rows:
        return 0
    stmt = _insert(session).values(rows).on_conflict_do_nothing(
        index_elements=["source", "external_id"]
    )
    # SQLAlchemy keeps an INSERT's rowcount only when asked (psycopg otherwise reports -1).
    result = session.execute(stmt, execution_options={"preserve_rowcount": True})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending(session: Session, source: str | None = None, limit: int = 100) -> Sequence[InboxItem]:
    stmt = select(InboxItem).where(InboxItem.handled_at.is_(None))
    if source is not None:
        stmt = stmt.where(InboxItem.source == source)
    return session.scalars(stmt.order_by(InboxItem.id).limit(limit)).all()


def claim(session: Session, item_id: int) -> InboxItem | None:
    """Lock a pending item for handling; None if someone else handled it meanwhile."""
    item = session.scalars(
        select(InboxItem).where(InboxItem.id == item_id).with_for_update()
    ).first()
    if item is None or item.handled_at is not None:
        return None
    return item


def mark_failed(session: Session, item_id: int, error: str, now: datetime, give_up: bool) -> None:
    item = session.get(InboxItem, item_id)
    if item is None:
        return
    item.attempts += 1
    item.error = error[:2000]
    if give_up:
        # Kept with its error for inspection; marked handled so it no longer blocks the queue.
        item.handled_at = now
