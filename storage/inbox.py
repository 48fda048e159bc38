# The inbox: inbound updates are committed here before their channel is told we have them.
# Invariants: (source, external_id) is unique, so a redelivered update is stored once;
# an item is marked handled in the same transaction as everything its handling recorded,
# so after a crash an item is either fully handled or still pending (handled again).
# A batch of items may share one transaction (claim_batch, mark_handled): each item's step
# then runs in a savepoint of its own, so the batch commits every handled item with its mark.
# Many workers on one PostgreSQL register: claim_batch locks with FOR UPDATE SKIP LOCKED, so
# workers take disjoint items, and the lock is the lease (it ends with the transaction, also
# when a killed worker's connection drops, and the items are pending again for the others).
# A chat is held by one worker at a time: held_elsewhere gives the older pending items locked
# by other workers, and the caller leaves every chat of theirs alone until they commit.
# external_id is a key, not a record (the payload keeps the channel's id whole): an id longer
# than its column (WhatsApp's wamids have no documented length and grow past 100 characters)
# is stored as a fixed-length digest of itself (`key`), the same for every redelivery.
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from storage import dialog_states
from storage.lengths import limit
from storage.models import InboxItem


def _insert(session: Session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(cast(Table, InboxItem.__table__))


_INBOX = cast(Table, InboxItem.__table__)
EXTERNAL_ID_LENGTH = limit(InboxItem.external_id) or 100
_DIGEST_PREFIX = "sha256:"


def key(external_id: str) -> str:
    """The inbox key of a channel's update id: the id itself if it fits the column, else
    "sha256:" and its digest (71 characters). A channel that looks its fresh items up by key
    (bot/channels/whatsapp.py) uses this too; `store` applies it to every id it is given."""
    if len(external_id) <= EXTERNAL_ID_LENGTH:
        return external_id
    return _DIGEST_PREFIX + hashlib.sha256(external_id.encode()).hexdigest()


# The INSERT ... ON CONFLICT DO NOTHING of `store`, per dialect name, built on first use.
_STORE: dict[str, Any] = {}


def store(
    session: Session, source: str, items: Iterable[tuple[str, dict[str, Any]]], now: datetime
) -> int:
    """Store (external_id, payload) pairs; repeats are ignored. Returns how many were new.
    An id too long for its column is stored as its `key` (a Core INSERT: the length guard of
    storage/lengths.py does not see it, and PostgreSQL would refuse the whole batch)."""
    rows = [
        {"source": source, "external_id": key(ext), "payload": payload, "received_at": now, "attempts": 0}
        for ext, payload in items
    ]
    if not rows:
        return 0
    # One statement run for every row (executemany), built once per dialect (_STORE): its SQL
    # is compiled once and cached, where a multi-row VALUES was compiled again for every batch
    # (a quarter of a batch's handling time), and building the INSERT and its cache key anew
    # was a twentieth. SQLAlchemy keeps an INSERT's rowcount only when asked (psycopg
    # otherwise reports -1); with executemany it is the sum over the rows.
    stmt = _STORE.get(session.get_bind().dialect.name)
    if stmt is None:
        stmt = _STORE.setdefault(session.get_bind().dialect.name,
                                 _insert(session).on_conflict_do_nothing(index_elements=["source", "external_id"]))
    result = session.execute(stmt, rows, execution_options={"preserve_rowcount": True})
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


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_CLAIM: dict[tuple[bool, int], Any] = {}


def claim_batch(session: Session, source: str, limit: int = 100) -> list[tuple[int, str, int]]:
    """The oldest pending items as (id, external_id, attempts), in id order, locked until the
    transaction ends (PostgreSQL; SQLite's one writer is lock enough). Handling must keep this
    order within a chat. On PostgreSQL items locked by another worker are skipped, not waited
    for: ask held_elsewhere which chats they hold."""
    # Built once per (locking, limit): run in every handling batch. On the session's connection:
    # the inbox is a shared table (no kecamatan scope to add) and nothing is pending to flush
    # at the start of a batch, where it is claimed.
    postgres = _postgres(session)
    stmt = _CLAIM.get((postgres, limit))
    if stmt is None:
        stmt = _CLAIM.setdefault((postgres, limit), (
            select(_INBOX.c.id, _INBOX.c.external_id, _INBOX.c.attempts)
            .where(_INBOX.c.handled_at.is_(None), _INBOX.c.source == bindparam("source"))
            .order_by(_INBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=postgres)
        ))
    session.flush()
    return [(row.id, row.external_id, row.attempts) for row in session.connection().execute(stmt, {"source": source})]


def held_elsewhere(session: Session, source: str, claimed: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Payloads of the pending items older than the newest claimed one that the claim skipped:
    locked by another worker's transaction (PostgreSQL only; empty on SQLite). Their chats are
    that worker's until it commits. Read after the claim, so an item whose worker committed
    meanwhile shows as handled and holds nothing; one whose worker rolled back shows pending
    (and holds its chat for this batch, which is merely cautious)."""
    if not claimed or not _postgres(session):
        return {}
    rows = session.execute(
        select(InboxItem.id, InboxItem.payload).where(
            InboxItem.handled_at.is_(None),
            InboxItem.source == source,
            InboxItem.id < max(claimed),
            InboxItem.id.not_in(claimed),
        )
    )
    return {row.id: dict(row.payload) for row in rows}


def payloads(session: Session, item_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not item_ids:
        return {}
    rows = session.execute(select(InboxItem.id, InboxItem.payload).where(InboxItem.id.in_(item_ids)))
    return {row.id: dict(row.payload) for row in rows}


def hold_dialog_states(session: Session, keys: Iterable[tuple[str, str, str]]) -> int:
    """Read the dialog states of a batch's callers, (channel, chat, user), in one query, for
    the rest of the transaction (storage/dialog_states.py), so each step's load and save of
    its state costs no query of its own; the number found."""
    return dialog_states.hold(session, keys)


# Built once, run in every handling batch (as outbox._UNDELIVERED).
_MARK_HANDLED = (
    update(_INBOX)
    .where(_INBOX.c.id.in_(bindparam("ids", expanding=True)), _INBOX.c.handled_at.is_(None))
    .values(handled_at=bindparam("now"), attempts=_INBOX.c.attempts + 1)
)


def mark_handled(session: Session, item_ids: Sequence[int], now: datetime) -> None:
    """Mark items handled, in the transaction that recorded their effects. On the session's
    connection (the inbox is a shared table, no kecamatan scope), after a flush, as the ORM's
    autoflush would: an item changed in the session (mark_failed) is written first, so the
    attempts add up."""
    if item_ids:
        session.flush()
        session.connection().execute(_MARK_HANDLED, {"ids": list(item_ids), "now": now})


def mark_failed(session: Session, item_id: int, error: str, now: datetime, give_up: bool) -> None:
    item = session.get(InboxItem, item_id)
    if item is None:
        return
    item.attempts += 1
    item.error = error[:2000]
    if give_up:
        # Kept with its error for inspection; marked handled so it no longer blocks the queue.
        item.handled_at = now
