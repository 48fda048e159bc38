# Officers, dialog state and the values the office sets from chat.
# Invariants: one officer per Telegram id; dialog state is keyed by (channel, chat, user) and
# written in the caller's transaction, together with whatever the dialog step recorded.
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.lengths import limit
from storage.lifecycle import OFFICER_ROLES
from storage.models import DialogState, Officer, Person, Setting
from storage.setting_keys import SETTING_KEY_LENGTH


def find_person(session: Session, channel: str, user_id: str) -> Person | None:
    """The person kept for a channel identity, without making one."""
    return session.scalars(
        select(Person).where(Person.channel == channel, Person.channel_user_id == user_id)
    ).first()


def officer_by_telegram(session: Session, telegram_id: int) -> Officer | None:
    return session.scalars(
        select(Officer).where(Officer.telegram_id == telegram_id, Officer.active.is_(True))
    ).first()


def add_officer(session: Session, telegram_id: int, name: str, role: str, now: datetime) -> Officer:
    if role not in OFFICER_ROLES:
        raise ValueError(f"Peran tidak dikenal: {role}. Pilihan: {', '.join(OFFICER_ROLES)}.")
    name = name.strip()
    longest = limit(Officer.name)
    if not name or (longest is not None and len(name) > longest):
        # Typed in chat or on the command line: refused here, on both backends alike.
        raise ValueError(f"Nama petugas harus diisi, paling banyak {longest} karakter.")
    officer = session.scalars(select(Officer).where(Officer.telegram_id == telegram_id)).first()
    if officer is None:
        officer = Officer(telegram_id=telegram_id, name=name, role=role, active=True, created_at=now)
        session.add(officer)
    else:
        officer.name, officer.role, officer.active = name, role, True
    session.flush()
    return officer


class LastAdmin(ValueError):
    """Deactivating this officer would leave no active admin to register anyone again."""


def deactivate_officer(session: Session, telegram_id: int) -> Officer | None:
    """Mark an officer inactive (kept for the history they signed); None if unknown."""
    officer = session.scalars(select(Officer).where(Officer.telegram_id == telegram_id)).first()
    if officer is None:
        return None
    if officer.active and officer.role == "admin":
        admins = session.scalars(
            select(Officer.id).where(Officer.role == "admin", Officer.active.is_(True))
        ).all()
        if len(admins) <= 1:
            raise LastAdmin("Ini admin aktif terakhir; daftarkan admin lain lebih dulu.")
    officer.active = False
    session.flush()
    return officer


def list_officers(session: Session) -> Sequence[Officer]:
    return session.scalars(select(Officer).order_by(Officer.id)).all()


def load_state(session: Session, channel: str, chat_id: str, user_id: str) -> dict[str, Any]:
    row = session.get(DialogState, (channel, chat_id, user_id))
    return dict(row.state) if row else {}


def save_state(
    session: Session, channel: str, chat_id: str, user_id: str, state: dict[str, Any], now: datetime
) -> None:
    row = session.get(DialogState, (channel, chat_id, user_id))
    if row is None:
        session.add(
            DialogState(channel=channel, chat_id=chat_id, user_id=user_id, state=state, updated_at=now)
        )
    else:
        row.state = state
        row.updated_at = now


def get_setting(session: Session, key: str) -> str | None:
    # Keys come from storage.setting_keys.setting_key, which keeps them within the column.
    row = session.get(Setting, key)
    return row.value if row else None


def set_setting(session: Session, key: str, value: str, now: datetime) -> None:
    if len(key) > SETTING_KEY_LENGTH:
        # SQLite would store it and PostgreSQL refuse it: refuse it on both, in the tests too.
        raise ValueError(f"runtime_settings key longer than {SETTING_KEY_LENGTH}: build it with setting_key()")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
