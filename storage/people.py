# Officers, dialog state, the values the office sets from chat, and a resident's own
# correction of their name and phone (UU 27/2022: the right to correct, from "Data saya").
# Invariants: one officer per Telegram id; dialog state is keyed by (channel, chat, user) and
# written in the caller's transaction, together with whatever the dialog step recorded; a
# name or phone typed by a resident is checked here, before it reaches the Person row.
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import dialog_states
from storage.lengths import limit
from storage.lifecycle import OFFICER_ROLES
from storage.models import Officer, Person, Setting
from storage.setting_keys import SETTING_KEY_LENGTH
from storage.tenancy import current


def find_person(session: Session, channel: str, user_id: str) -> Person | None:
    """The person kept for a channel identity, without making one."""
    return session.scalars(
        select(Person).where(Person.channel == channel, Person.channel_user_id == user_id)
    ).first()


class BadContact(ValueError):
    """A typed name or phone that cannot be saved; the message says why, in Indonesian."""


# Separators people type inside a number: "0812-3456-7890", "0812 3456 7890", "(0812)...".
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
# An Indonesian mobile number in its national form: 08, then 8 to 11 digits (10-13 in all).
_MOBILE = re.compile(r"08\d{8,11}")
PHONE_EXAMPLE = "081234567890"
NAME_MAX = limit(Person.name)


def normalise_phone(text: str) -> str | None:
    """'0812-3456-7890', '+62 812 3456 7890', '6281234567890' -> '081234567890' (the form
    officers dial and the intake stores); None if it is not an Indonesian mobile number."""
    digits = _PHONE_SEPARATORS.sub("", text.strip())
    if digits.startswith("+62"):
        digits = "0" + digits[3:]
    elif digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def clean_name(text: str) -> str:
    """A name as typed, with its spacing tidied; refused if empty, without a letter, or
    longer than the column (refused, not cut: the resident sees what is saved)."""
    name = " ".join(text.split())
    if not any(ch.isalpha() for ch in name):
        raise BadContact("Nama harus berisi huruf.")
    if NAME_MAX is not None and len(name) > NAME_MAX:
        raise BadContact(f"Nama terlalu panjang: paling banyak {NAME_MAX} karakter.")
    return name


def clean_phone(text: str) -> str:
    phone = normalise_phone(text)
    if phone is None:
        raise BadContact(
            f"Nomor telepon tidak dikenali. Tulis nomor HP Indonesia, misalnya {PHONE_EXAMPLE} atau +6281234567890."
        )
    return phone  # at most 13 digits: within Person.phone (String(40)) by construction


def correct_contact(person: Person, *, name: str | None = None, phone: str | None = None) -> None:
    """Save a resident's corrected name and/or phone (already cleaned) on their Person row;
    nothing else is changed or recorded."""
    if name is not None:
        person.name = clean_name(name)
    if phone is not None:
        person.phone = clean_phone(phone)


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
    return dialog_states.load(session, channel, chat_id, user_id)


def save_state(
    session: Session, channel: str, chat_id: str, user_id: str, state: dict[str, Any], now: datetime
) -> None:
    dialog_states.save(session, channel, chat_id, user_id, state, now)


def get_setting(session: Session, key: str) -> str | None:
    # Keys come from storage.setting_keys.setting_key, which keeps them within the column.
    row = session.get(Setting, (current(session), key))
    return row.value if row else None


def set_setting(session: Session, key: str, value: str, now: datetime) -> None:
    if len(key) > SETTING_KEY_LENGTH:
        # SQLite would store it and PostgreSQL refuse it: refuse it on both, in the tests too.
        raise ValueError(f"runtime_settings key longer than {SETTING_KEY_LENGTH}: build it with setting_key()")
    row = session.get(Setting, (current(session), key))
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
