# Claims on the weekly digest: one row per (chat, period), so a digest is never lost and
# never posted twice, even by two instances on one database.
# Invariants: a claim is won by exactly one caller: the INSERT (ON CONFLICT DO NOTHING, the
# primary key decides) or, for a row whose lease expired and that is neither sent nor
# abandoned, a conditional UPDATE (on PostgreSQL the second updater re-checks the WHERE
# after the first commits, and finds the lease taken). `sent_at` is written only after the
# Bot API accepted the message, and a sent row is never claimed again. `message_id` set
# with `sent_at` still empty means the text went out and only the chart is owed, so a retry
# does not post the text twice. Every call runs in the caller's transaction; commit it
# before talking to Telegram.
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import DigestClaim, Setting
from storage.tenancy import current

LEASE = timedelta(minutes=15)
SINCE_KEY = "digest_since"


def _insert(session: Session, model: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


def since(session: Session, now: datetime) -> datetime:
    """When the digest job first ran on this register (set now if it never did). Digests due
    before it are not owed: a fresh install does not report a week it never saw."""
    session.execute(
        _insert(session, Setting)
        .values(kecamatan=current(session), key=SINCE_KEY, value=now.isoformat(), updated_at=now)
        .on_conflict_do_nothing(index_elements=["kecamatan", "key"])
    )
    value = session.scalar(select(Setting.value).where(Setting.key == SINCE_KEY))
    return datetime.fromisoformat(str(value))


def set_since(session: Session, moment: datetime, now: datetime) -> None:
    row = session.get(Setting, (current(session), SINCE_KEY))
    if row is None:
        session.add(Setting(key=SINCE_KEY, value=moment.isoformat(), updated_at=now))
    else:
        row.value, row.updated_at = moment.isoformat(), now


@dataclass(frozen=True)
class Claim:
    chat_id: str
    period: str
    owner: str
    attempts: int  # including this one
    text_message_id: int | None  # the text already went out; only the chart is owed


def _where(chat_id: str, period: str) -> tuple[Any, ...]:
    return (DigestClaim.chat_id == chat_id, DigestClaim.period == period)


def claim(
    session: Session,
    chat_id: str,
    period: str,
    owner: str,
    now: datetime,
    lease: timedelta = LEASE,
    *,
    take_abandoned: bool = False,
) -> Claim | None:
    """Take the (chat, period) digest for `owner` until now + lease; None if it is sent,
    abandoned (unless `take_abandoned`, for a send someone asked for by hand), or held by
    someone else whose lease has not run out."""
    inserted = session.execute(
        _insert(session, DigestClaim)
        .values(
            kecamatan=current(session),
            chat_id=chat_id,
            period=period,
            claimed_by=owner,
            claimed_at=now,
            lease_until=now + lease,
            attempts=1,
        )
        .on_conflict_do_nothing(index_elements=["kecamatan", "chat_id", "period"])
        # RETURNING, not rowcount: an ORM-enabled INSERT reports rowcount -1 on psycopg.
        .returning(DigestClaim.chat_id)
    ).first()
    if inserted is not None:
        return Claim(chat_id, period, owner, 1, None)
    conditions = [*_where(chat_id, period), DigestClaim.sent_at.is_(None), DigestClaim.lease_until <= now]
    if not take_abandoned:
        conditions.append(DigestClaim.abandoned_at.is_(None))
    taken = session.execute(
        update(DigestClaim)
        .where(*conditions)
        .values(
            claimed_by=owner,
            claimed_at=now,
            lease_until=now + lease,
            attempts=DigestClaim.attempts + 1,
            abandoned_at=None,
        )
        .returning(DigestClaim.attempts, DigestClaim.message_id)
    ).first()
    if taken is None:
        return None
    return Claim(chat_id, period, owner, int(taken[0]), taken[1])


def text_sent(session: Session, chat_id: str, period: str, message_id: int | None) -> None:
    """The text was accepted; the chart may still fail, and a retry then sends only it."""
    session.execute(
        update(DigestClaim)
        .where(*_where(chat_id, period), DigestClaim.sent_at.is_(None))
        .values(message_id=message_id if message_id is not None else 0)
    )


def mark_sent(session: Session, chat_id: str, period: str, now: datetime) -> bool:
    """Whole digest accepted by the Bot API. Not conditional on the owner: it was sent, and
    the register must say so even if a slow holder lost its lease meanwhile."""
    result = session.execute(
        update(DigestClaim)
        .where(*_where(chat_id, period), DigestClaim.sent_at.is_(None))
        # The last error stays: "sent on the 3rd attempt after a 502" is worth knowing.
        .values(sent_at=now, abandoned_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(
    session: Session, chat_id: str, period: str, owner: str, now: datetime, error: str, retry_in: timedelta
) -> None:
    """A send failed: record why and let anyone (this instance or another) retry after
    `retry_in`."""
    session.execute(
        update(DigestClaim)
        .where(*_where(chat_id, period), DigestClaim.claimed_by == owner, DigestClaim.sent_at.is_(None))
        .values(lease_until=now + retry_in, error=error[:1000])
    )


def abandon(session: Session, chat_id: str, period: str, owner: str, now: datetime, reason: str) -> bool:
    """Give the digest up (too late to be useful, or the chat refuses the bot). True if this
    call abandoned it; False if it was already sent, abandoned, or is being sent by another
    holder right now."""
    inserted = session.execute(
        _insert(session, DigestClaim)
        .values(
            kecamatan=current(session),
            chat_id=chat_id,
            period=period,
            claimed_by=owner,
            claimed_at=now,
            lease_until=now,
            attempts=0,
            error=reason[:1000],
            abandoned_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kecamatan", "chat_id", "period"])
        .returning(DigestClaim.chat_id)
    ).first()
    if inserted is not None:
        return True
    result = session.execute(
        update(DigestClaim)
        .where(
            *_where(chat_id, period),
            DigestClaim.sent_at.is_(None),
            DigestClaim.abandoned_at.is_(None),
            (DigestClaim.lease_until <= now) | (DigestClaim.claimed_by == owner),
        )
        .values(abandoned_at=now, error=reason[:1000], lease_until=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def get(session: Session, chat_id: str, period: str) -> DigestClaim | None:
    return session.get(DigestClaim, (current(session), chat_id, period))


def for_period(session: Session, period: str) -> list[DigestClaim]:
    return list(session.scalars(select(DigestClaim).where(DigestClaim.period == period).order_by(DigestClaim.chat_id)))


def open_chats(
    session: Session, period: str, chats: list[str], now: datetime, *, take_abandoned: bool = False
) -> list[str]:
    """Of `chats`, those whose digest for `period` is still owed and free to claim now: so
    an hourly check that finds everything sent does not build the digest for nothing."""
    rows = {
        r.chat_id: r
        for r in session.scalars(
            select(DigestClaim).where(DigestClaim.period == period, DigestClaim.chat_id.in_(chats))
        )
    }
    owed = []
    for chat in chats:
        r = rows.get(chat)
        free = r is None or (
            r.sent_at is None and r.lease_until <= now and (r.abandoned_at is None or take_abandoned)
        )
        if free:
            owed.append(chat)
    return owed
