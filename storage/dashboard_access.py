# Who may look at the web dashboard: one-time login links (sent by /dasbor in chat) and the
# browser sessions they open.
# Invariants:
# - Neither a link's token nor a session id is stored: only their SHA-256, so a copy of the
#   database (a backup, a leaked dump) logs nobody in.
# - A link opens at most one session: it is consumed by one conditional UPDATE (not used, not
#   revoked, not expired), so two browsers posting the same link at once get one session.
# - Looking at a link (peek_link) never consumes it: chat apps fetch links to draw previews.
# - Every check reads the officer again: a deactivated officer, or one whose role no longer
#   may see the dashboard, is refused with a session still open.
# - A link, and the session it opens, belong to the kecamatan of their officer (one account,
#   one kecamatan; an officer's row never moves): link_kecamatan/session_kecamatan find it
#   before anything is scoped, and the officer is then read again inside that kecamatan's
#   scope, so a session of one kecamatan can only ever read its own.
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from storage.models import DashboardLink, DashboardSession, Officer
from storage.tenancy import across_kecamatan

# The roles that lead the office (domain: the Camat, the Sekcam, the Trantib coordinator).
DASHBOARD_ROLES = ("pimpinan", "koordinator", "admin")
# secrets.token_urlsafe(32) is 43 characters; anything much longer is not ours.
_MAX_TOKEN = 128


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _plausible(secret: str | None) -> bool:
    return bool(secret) and len(secret or "") <= _MAX_TOKEN


@dataclass(frozen=True)
class Viewer:
    """The officer behind a link or a session, as the pages need them."""

    officer_id: int
    name: str
    role: str

    @property
    def allowed(self) -> bool:
        return self.role in DASHBOARD_ROLES

    @property
    def kabupaten(self) -> bool:
        # An officer reads their own kecamatan only (storage.kabupaten_access.Reader: True).
        return False


def _viewer(officer: Officer | None) -> Viewer | None:
    if officer is None or not officer.active:
        return None
    return Viewer(officer.id, officer.name, officer.role)


def create_link(session: Session, officer: Officer, now: datetime, valid: timedelta) -> str:
    """A new link token for `officer`; the caller sends it, the register keeps its hash."""
    token = secrets.token_urlsafe(32)
    session.add(DashboardLink(token_hash=digest(token), officer_id=officer.id, created_at=now,
                              expires_at=now + valid))
    session.flush()
    return token


def _usable_link(now: datetime) -> list[ColumnElement[bool]]:
    return [DashboardLink.used_at.is_(None), DashboardLink.revoked_at.is_(None),
            DashboardLink.expires_at > now]


def peek_link(session: Session, token: str | None, now: datetime) -> Viewer | None:
    """The officer a still-usable link belongs to, without using it up."""
    if not _plausible(token):
        return None
    officer = session.scalars(
        select(Officer).join(DashboardLink, DashboardLink.officer_id == Officer.id)
        .where(DashboardLink.token_hash == digest(token or ""), *_usable_link(now))
    ).first()
    return _viewer(officer)


def consume_link(session: Session, token: str | None, now: datetime, lasts: timedelta) -> tuple[str, Viewer] | None:
    """Use the link up and open a session: (session id for the cookie, viewer), or None for a
    forged, expired, revoked or already used link, or an officer no longer active."""
    if not _plausible(token):
        return None
    hashed = digest(token or "")
    used = session.execute(
        update(DashboardLink).where(DashboardLink.token_hash == hashed, *_usable_link(now))
        .values(used_at=now).returning(DashboardLink.officer_id)
    ).first()
    if used is None:
        return None
    viewer = _viewer(session.get(Officer, used[0]))
    if viewer is None:
        return None
    sid = secrets.token_urlsafe(32)
    session.add(DashboardSession(session_hash=digest(sid), officer_id=viewer.officer_id, created_at=now,
                                 expires_at=now + lasts))
    session.flush()
    return sid, viewer


def link_kecamatan(session: Session, token: str | None, now: datetime) -> str | None:
    """The kecamatan of the officer a still-usable link belongs to (read across kecamatan:
    which scope to open is what is being found out; nothing of that kecamatan is shown)."""
    if not _plausible(token):
        return None
    kode = session.scalars(across_kecamatan(
        select(Officer.kecamatan).join(DashboardLink, DashboardLink.officer_id == Officer.id)
        .where(DashboardLink.token_hash == digest(token or ""), *_usable_link(now))
    )).first()
    return None if kode is None else str(kode)


def session_kecamatan(session: Session, sid: str | None, now: datetime) -> str | None:
    """The kecamatan of the officer of an open, unexpired session (across kecamatan, as
    link_kecamatan); the pages then read in that kecamatan's scope only."""
    if not _plausible(sid):
        return None
    kode = session.scalars(across_kecamatan(
        select(Officer.kecamatan).join(DashboardSession, DashboardSession.officer_id == Officer.id)
        .where(DashboardSession.session_hash == digest(sid or ""), DashboardSession.revoked_at.is_(None),
               DashboardSession.expires_at > now)
    )).first()
    return None if kode is None else str(kode)


def session_viewer(session: Session, sid: str | None, now: datetime) -> Viewer | None:
    """The officer of an open, unexpired session, or None; in the session's scope, so an
    officer of another kecamatan is not found."""
    if not _plausible(sid):
        return None
    officer = session.scalars(
        select(Officer).join(DashboardSession, DashboardSession.officer_id == Officer.id)
        .where(DashboardSession.session_hash == digest(sid or ""), DashboardSession.revoked_at.is_(None),
               DashboardSession.expires_at > now)
    ).first()
    return _viewer(officer)


def end_session(session: Session, sid: str | None, now: datetime) -> bool:
    """Logout: the session is revoked (kept, for the record of who looked when)."""
    if not _plausible(sid):
        return False
    result = session.execute(
        update(DashboardSession).where(DashboardSession.session_hash == digest(sid or ""),
                                       DashboardSession.revoked_at.is_(None)).values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, officer_id: int, now: datetime) -> int:
    """`/dasbor keluar`: every unused link and every open session of the officer ends now."""
    links = session.execute(
        update(DashboardLink).where(DashboardLink.officer_id == officer_id, DashboardLink.used_at.is_(None),
                                    DashboardLink.revoked_at.is_(None)).values(revoked_at=now)
    )
    sessions = session.execute(
        update(DashboardSession).where(DashboardSession.officer_id == officer_id,
                                       DashboardSession.revoked_at.is_(None),
                                       DashboardSession.expires_at > now).values(revoked_at=now)
    )
    return int(links.rowcount or 0) + int(sessions.rowcount or 0)  # type: ignore[attr-defined]
