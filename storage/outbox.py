# The outbox: every message the bot owes someone, written in the same transaction as the
# change that caused it, and delivered afterwards by bot/delivery.
# Invariants: an item is marked sent only after its channel accepted it; a failed send is
# retried with backoff; a chat that blocked the bot gets failed_at and is not retried; per
# chat, items are delivered in id order (a later item waits while an earlier one is retried).
# Many workers on one PostgreSQL register: a worker sends only items it leased, and a lease
# is `next_attempt_at` moved forward (the same column as a retry's backoff): a leased item is
# not due for anyone else, and as a chat's earliest waiting item it holds the whole chat, so a
# chat is served by one worker at a time. Items are leased when claimed (claim_due, FOR
# UPDATE SKIP LOCKED) or when written by a handling transaction that sends them itself
# (LEASE_KEY in the session's info); a killed worker's leases expire and others take over
# (those items may go out twice then: at least once, as after any crash). SQLite: one
# process, no leases.
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session

from storage.models import Card, OutboxItem, Person

# session.info key: until when the items this session enqueues are leased to its worker.
LEASE_KEY = "outbox_lease_until"


@dataclass(frozen=True)
class Enqueued:
    """An outbox item as written: what its delivery needs to know of it."""

    id: int
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int = 0


_TABLE = cast(Table, OutboxItem.__table__)
# Built once, in Core: an item is written in every step that says something, where the ORM's
# unit of work around one INSERT was a fifth of a handling batch's CPU (bench/README.md). It
# is written at once (a complaint it names is flushed already: its id is passed in), so the
# ids follow the order of enqueue, which is the order a chat's items go out.
_ENQUEUE = (
    _TABLE.insert()
    .values({**{name: bindparam(name, type_=_TABLE.c[name].type)
                for name in ("channel", "chat_id", "kind", "payload", "complaint_id", "created_at", "next_attempt_at")},
             "attempts": 0})
    .returning(_TABLE.c.id)
)
_COLLECTORS = "outbox_collectors"  # session.info key: the lists of open created_in blocks


def enqueue(
    session: Session,
    channel: str,
    chat_id: str | int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    complaint_id: int | None = None,
) -> Enqueued:
    values = {"channel": channel, "chat_id": str(chat_id), "kind": kind, "payload": payload,
              "complaint_id": complaint_id, "created_at": now,
              "next_attempt_at": session.info.get(LEASE_KEY) or now}
    item_id = session.connection().execute(_ENQUEUE, values).scalar_one()
    item = Enqueued(item_id, channel, str(chat_id), kind, payload)
    for collected in session.info.get(_COLLECTORS, ()):
        collected.append(item)
    return item


@contextmanager
def created_in(session: Session) -> Iterator[list[Enqueued]]:
    """The outbox items `session` writes while this is open, so that they can be sent as
    soon as the transaction commits, in the order written (the id order). Items written in
    a savepoint that rolls back are the caller's to drop: it knows where the savepoint began
    in the list."""
    created: list[Enqueued] = []
    collectors = session.info.setdefault(_COLLECTORS, [])
    collectors.append(created)
    try:
        yield created
    finally:
        # By identity: two open blocks that collected the same items compare equal.
        collectors[:] = [c for c in collectors if c is not created]


def _pending(channel: str) -> tuple[Any, ...]:
    return (
        OutboxItem.channel == channel,
        OutboxItem.sent_at.is_(None),
        OutboxItem.failed_at.is_(None),
    )


def _waiting(pending: tuple[Any, ...], now: datetime) -> Any:
    """Per chat, its earliest item still in backoff (or leased): nothing after it goes."""
    return (
        select(OutboxItem.chat_id, func.min(OutboxItem.id).label("first_id"))
        .where(*pending, OutboxItem.next_attempt_at > now)
        .group_by(OutboxItem.chat_id)
        .subquery()
    )


def due(session: Session, channel: str, now: datetime, limit: int = 200) -> Sequence[OutboxItem]:
    """Items to send now, in id order: a chat whose earliest waiting item is still in its
    backoff sends nothing after that item (per-chat order), other chats are not held back."""
    pending = _pending(channel)
    waiting = _waiting(pending, now)
    return session.scalars(
        select(OutboxItem)
        .outerjoin(waiting, waiting.c.chat_id == OutboxItem.chat_id)
        .where(*pending, or_(waiting.c.first_id.is_(None), OutboxItem.id < waiting.c.first_id))
        .order_by(OutboxItem.id)
        .limit(limit)
    ).all()


def claim_due(
    session: Session, channel: str, now: datetime, lease: timedelta, limit: int = 200
) -> list[OutboxItem]:
    """PostgreSQL: the items due now (as `due`) that no other worker holds, leased to the
    caller until now + lease, in id order; commit before sending them.

    Rows another worker is claiming are skipped, not waited for. A chat is taken only if
    none of its unsent items older than its newest claimed one is left out of the claim
    (another worker's, being claimed or leased meanwhile): so one chat is one worker's at a
    time.
    """
    pending = _pending(channel)
    waiting = _waiting(pending, now)
    # The row's own next_attempt_at is checked too: a row whose lease another worker
    # committed while this query waited for it is re-checked, and found not due.
    items = list(
        session.scalars(
            select(OutboxItem)
            .outerjoin(waiting, waiting.c.chat_id == OutboxItem.chat_id)
            .where(
                *pending,
                OutboxItem.next_attempt_at <= now,
                or_(waiting.c.first_id.is_(None), OutboxItem.id < waiting.c.first_id),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
            .with_for_update(of=OutboxItem, skip_locked=True)
        ).all()
    )
    if not items:
        return []
    ids = [o.id for o in items]
    last: dict[str, int] = {}
    for o in items:
        last[o.chat_id] = o.id  # id order: the newest claimed item of each chat
    others = undelivered_in_chats(session, channel, sorted(last), exclude=ids)
    refused = {chat for chat, waiting_ids in others.items() if min(waiting_ids) < last[chat]}
    mine = [o for o in items if o.chat_id not in refused]
    lease_items(session, [o.id for o in mine], now + lease)
    for o in mine:
        o.next_attempt_at = now + lease
    return mine


def lease_items(session: Session, item_ids: Sequence[int], until: datetime) -> None:
    """Lease unsent items until `until`; `until` = now gives them back to every worker."""
    if item_ids:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(item_ids), OutboxItem.sent_at.is_(None), OutboxItem.failed_at.is_(None))
            .values(next_attempt_at=until),
            execution_options={"synchronize_session": False},
        )


# Built once: undelivered_in_chats runs in every handling batch, and building the statement
# and its cache key anew was a sixth of a one-update batch (bench/README.md, the profile).
_UNDELIVERED = select(OutboxItem.chat_id, OutboxItem.id).where(
    OutboxItem.channel == bindparam("channel"),
    OutboxItem.chat_id.in_(bindparam("chats", expanding=True)),
    OutboxItem.sent_at.is_(None),
    OutboxItem.failed_at.is_(None),
    OutboxItem.id.not_in(bindparam("exclude", expanding=True)),
)


def undelivered_in_chats(
    session: Session, channel: str, chat_ids: Sequence[str], exclude: Sequence[int] = ()
) -> dict[str, set[int]]:
    """Per chat, the ids of its items not yet sent nor failed (other than `exclude`): what a
    new item of that chat must wait for. Read on the session's connection (the outbox is a
    shared table, no kecamatan scope), after a flush, as the ORM's autoflush would, so the
    items queued in this session are seen."""
    if not chat_ids:
        return {}
    session.flush()
    found: dict[str, set[int]] = {}
    rows = session.connection().execute(
        _UNDELIVERED, {"channel": channel, "chats": list(chat_ids), "exclude": list(exclude)}
    )
    for chat_id, item_id in rows:
        found.setdefault(chat_id, set()).add(item_id)
    return found


def next_wakeup(session: Session, channel: str) -> datetime | None:
    return session.scalar(
        select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.channel == channel,
            OutboxItem.sent_at.is_(None),
            OutboxItem.failed_at.is_(None),
        )
    )


def mark_sent(session: Session, item_id: int, now: datetime, message_id: int | None) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.sent_at = now
        item.result_message_id = message_id
        item.attempts += 1


def mark_sent_many(session: Session, sent: Sequence[tuple[int, int | None]], now: datetime) -> None:
    """mark_sent for many (item id, message id) pairs in one statement.

    On PostgreSQL the transaction that only records sent marks commits without waiting for
    its WAL flush (synchronous_commit off, for this transaction alone): a crash can lose the
    marks of the last fraction of a second, and those messages go out again, which is the
    at-least-once the outbox already promises for a crash between sending and marking. It
    takes one disk flush per reply off the path every resident's next message waits on.
    """
    if not sent:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    table = cast(Table, OutboxItem.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("item_id"))
        .values(sent_at=now, result_message_id=bindparam("message_id"), attempts=table.c.attempts + 1)
    )
    session.execute(stmt, [{"item_id": i, "message_id": m} for i, m in sent])


def mark_retry(session: Session, item_id: int, now: datetime, delay: timedelta, error: str) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.attempts += 1
        item.error = error[:1000]
        item.next_attempt_at = now + delay


def mark_failed(session: Session, item_id: int, now: datetime, error: str) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.attempts += 1
        item.error = error[:1000]
        item.failed_at = now


def undelivered_for_complaint(session: Session, complaint_id: int) -> Sequence[OutboxItem]:
    return session.scalars(
        select(OutboxItem).where(
            OutboxItem.complaint_id == complaint_id, OutboxItem.failed_at.is_not(None)
        )
    ).all()


# The outbox kind that takes the buttons off a message already sent (payload: its
# "message_id", or the "outbox_id" of the item it was sent as).
BUTTONS_OFF = "tombol_lepas"


def sent_message_id(session: Session, item_id: int) -> int | None:
    """The channel's id of the message an outbox item was sent as (None while unsent)."""
    item = session.get(OutboxItem, item_id)
    return item.result_message_id if item is not None else None


def card_message(session: Session, complaint_id: int, chat_id: str) -> int | None:
    card = session.get(Card, (complaint_id, chat_id))
    return card.message_id if card else None


def set_card_message(
    session: Session, complaint_id: int, chat_id: str, message_id: int, now: datetime
) -> None:
    card = session.get(Card, (complaint_id, chat_id))
    if card is None:
        session.add(Card(complaint_id=complaint_id, chat_id=chat_id, message_id=message_id, updated_at=now))
    else:
        card.message_id = message_id
        card.updated_at = now


def mark_chat_blocked(session: Session, channel: str, chat_id: str, now: datetime) -> None:
    """The person blocked the bot: record it, and fail what was still queued for them.
    A kecamatan's own bot sends on "telegram:<kode>" (bot/channels/telegram_bots.py) while its
    residents' Person rows say "telegram": the person is found by the part before the colon."""
    session.execute(
        update(Person)
        .where(Person.channel == channel.split(":", 1)[0], Person.channel_user_id == chat_id)
        .values(blocked_at=now)
    )
    session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.channel == channel,
            OutboxItem.chat_id == chat_id,
            OutboxItem.sent_at.is_(None),
            OutboxItem.failed_at.is_(None),
        )
        .values(failed_at=now, error="pengguna memblokir bot")
    )


def card_chats(session: Session, complaint_id: int) -> list[str]:
    # A fixed order, so refreshes go out in the same order on every backend (PostgreSQL
    # returns rows in no set order); as text, a group's negative id sorts first.
    return list(session.scalars(
        select(Card.chat_id).where(Card.complaint_id == complaint_id).order_by(Card.chat_id)).all())
