# The kabupaten's readers of the dashboard (issues 14 and 15): people of the kabupaten
# (Bagian Organisasi, Inspektorat) who read every kecamatan, their one-time login links and
# the browser sessions those open.
# Invariants:
# - A reader is registered explicitly (`sigap kabupaten pembaca tambah`), never derived from
#   an officer's role: officers are tenanted and read their own kecamatan only.
# - The tables are not Tenanted: a reader belongs to the kabupaten. What a reader's session
#   reads of a kecamatan is still read in that kecamatan's scope (bot/dashboard/routes.py),
#   one kecamatan per transaction, as `sigap iku report --kabupaten` does.
# - As for officers (storage.dashboard_access): only SHA-256 hashes of tokens and session
#   ids are stored; a link opens at most one session (one conditional UPDATE); peeking at a
#   link never uses it; every check reads the reader again, so a deactivated reader's open
#   session is refused on its next request.
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.dashboard_access import _plausible, digest
from storage.lengths import limit
from storage.models import KabupatenLink, KabupatenReader, KabupatenSession

ROLE = "pembaca kabupaten"


@dataclass(frozen=True)
class Reader:
    """The kabupaten reader behind a link or a session, as the pages need them."""

    reader_id: int
    name: str
    role: str = ROLE
    allowed: bool = True
    kabupaten: bool = True


def add_reader(session: Session, telegram_id: int, name: str, now: datetime) -> KabupatenReader:
    """Register (or reactivate and rename) the reader with this Telegram id."""
    name = name.strip()
    longest = limit(KabupatenReader.name)
    if not name or (longest is not None and len(name) > longest):
        raise ValueError(f"Nama pembaca harus diisi, paling banyak {longest} karakter.")
    reader = session.scalars(select(KabupatenReader).where(KabupatenReader.telegram_id == telegram_id)).first()
    if reader is None:
        reader = KabupatenReader(telegram_id=telegram_id, name=name, active=True, created_at=now)
        session.add(reader)
    else:
        reader.name, reader.active = name, True
    session.flush()
    return reader


def deactivate_reader(session: Session, telegram_id: int, now: datetime) -> KabupatenReader | None:
    """Mark a reader inactive and end their links and sessions now; None if unknown. The row
    is kept: the sessions refer to it (who looked when)."""
    reader = session.scalars(select(KabupatenReader).where(KabupatenReader.telegram_id == telegram_id)).first()
    if reader is None:
        return None
    reader.active = False
    session.flush()
    revoke_all(session, reader.id, now)
    return reader


def list_readers(session: Session) -> Sequence[KabupatenReader]:
    return session.scalars(select(KabupatenReader).order_by(KabupatenReader.id)).all()


def active_reader(session: Session, telegram_id: int) -> KabupatenReader | None:
    return session.scalars(select(KabupatenReader).where(
        KabupatenReader.telegram_id == telegram_id, KabupatenReader.active.is_(True))).first()


def _reader(row: KabupatenReader | None) -> Reader | None:
    if row is None or not row.active:
        return None
    return Reader(row.id, row.name)


def create_link(session: Session, reader: KabupatenReader, now: datetime, valid: timedelta) -> str:
    """A new link token for `reader`; the caller sends it, the register keeps its hash."""
    token = secrets.token_urlsafe(32)
    session.add(KabupatenLink(token_hash=digest(token), reader_id=reader.id, created_at=now,
                              expires_at=now + valid))
    session.flush()
    return token


def _usable_link(now: datetime) -> list[ColumnElement[bool]]:
    return [KabupatenLink.used_at.is_(None), KabupatenLink.revoked_at.is_(None), KabupatenLink.expires_at > now]


def peek_link(session: Session, token: str | None, now: datetime) -> Reader | None:
    """The reader a still-usable link belongs to, without using it up."""
    if not _plausible(token):
        return None
    row = session.scalars(
        select(KabupatenReader).join(KabupatenLink, KabupatenLink.reader_id == KabupatenReader.id)
        .where(KabupatenLink.token_hash == digest(token or ""), *_usable_link(now))
    ).first()
    return _reader(row)


def consume_link(session: Session, token: str | None, now: datetime, lasts: timedelta) -> tuple[str, Reader] | None:
    """Use the link up and open a session: (session id for the cookie, reader), or None for a
    forged, expired, revoked or already used link, or a reader no longer active."""
    if not _plausible(token):
        return None
    used = session.execute(
        update(KabupatenLink).where(KabupatenLink.token_hash == digest(token or ""), *_usable_link(now))
        .values(used_at=now).returning(KabupatenLink.reader_id)
    ).first()
    if used is None:
        return None
    reader = _reader(session.get(KabupatenReader, used[0]))
    if reader is None:
        return None
    sid = secrets.token_urlsafe(32)
    session.add(KabupatenSession(session_hash=digest(sid), reader_id=reader.reader_id, created_at=now,
                                 expires_at=now + lasts))
    session.flush()
    return sid, reader


def session_reader(session: Session, sid: str | None, now: datetime) -> Reader | None:
    """The active reader of an open, unexpired session, or None."""
    if not _plausible(sid):
        return None
    row = session.scalars(
        select(KabupatenReader).join(KabupatenSession, KabupatenSession.reader_id == KabupatenReader.id)
        .where(KabupatenSession.session_hash == digest(sid or ""), KabupatenSession.revoked_at.is_(None),
               KabupatenSession.expires_at > now)
    ).first()
    return _reader(row)


def end_session(session: Session, sid: str | None, now: datetime) -> bool:
    """Logout: the session is revoked (kept, for the record of who looked when)."""
    if not _plausible(sid):
        return False
    result = session.execute(
        update(KabupatenSession).where(KabupatenSession.session_hash == digest(sid or ""),
                                       KabupatenSession.revoked_at.is_(None)).values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, reader_id: int, now: datetime) -> int:
    """`/dasbor keluar`: every unused link and every open session of the reader ends now."""
    links = session.execute(
        update(KabupatenLink).where(KabupatenLink.reader_id == reader_id, KabupatenLink.used_at.is_(None),
                                    KabupatenLink.revoked_at.is_(None)).values(revoked_at=now)
    )
    sessions = session.execute(
        update(KabupatenSession).where(KabupatenSession.reader_id == reader_id,
                                       KabupatenSession.revoked_at.is_(None),
                                       KabupatenSession.expires_at > now).values(revoked_at=now)
    )
    return int(links.rowcount or 0) + int(sessions.rowcount or 0)  # type: ignore[attr-defined]
