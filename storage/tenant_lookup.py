# Which kecamatan a chat belongs to, asked before a dialog step is scoped to one (the bot
# serving several kecamatan, bot/dialogs/kecamatan.py): a resident's remembered pick, an
# officer's registration, a group's registration, an earlier resident's Person row.
# Invariants: the resident's pick lives in the shared chat_kecamatan table (one row per
# channel identity); the look-ups here read across kecamatan (storage/tenancy.py
# across_kecamatan) and return kode wilayah (or, for WhatsApp's 24-hour window, the time of a
# chat identity's last message), never rows.
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ChatKecamatan, Officer, Person, Setting
from storage.tenancy import across_kecamatan, check_kode


def remembered(session: Session, channel: str, user_id: str) -> str | None:
    row = session.get(ChatKecamatan, (channel, user_id))
    return row.kecamatan if row else None


def remember(session: Session, channel: str, user_id: str, kecamatan: str, now: datetime) -> None:
    check_kode(kecamatan)
    row = session.get(ChatKecamatan, (channel, user_id))
    if row is None:
        session.add(ChatKecamatan(channel=channel, user_id=user_id, kecamatan=kecamatan, chosen_at=now))
    else:
        row.kecamatan, row.chosen_at = kecamatan, now


def officer_kecamatan(session: Session, telegram_id: int) -> list[str]:
    """Every kecamatan where this Telegram user is an active officer, in kode order."""
    stmt = select(Officer.kecamatan).where(Officer.telegram_id == telegram_id, Officer.active.is_(True))
    return sorted(set(session.scalars(across_kecamatan(stmt)).all()))


def setting_kecamatan(session: Session, key: str, value: str) -> list[str]:
    """Every kecamatan whose runtime setting `key` holds `value` (the group a kecamatan
    registered with /daftarkan_grup), in kode order."""
    stmt = select(Setting.kecamatan).where(Setting.key == key, Setting.value == value)
    return sorted(set(session.scalars(across_kecamatan(stmt)).all()))


def person_kecamatan(session: Session, channel: str, user_id: str) -> list[str]:
    """Every kecamatan that already keeps a Person for this chat identity (a resident of a
    register from before it served several kecamatan), in kode order."""
    stmt = select(Person.kecamatan).where(Person.channel == channel, Person.channel_user_id == user_id)
    return sorted(set(session.scalars(across_kecamatan(stmt)).all()))


def last_inbound(session: Session, channel: str, user_id: str) -> tuple[bool, datetime | None]:
    """Whether any kecamatan keeps a Person for this chat identity, and the latest message
    from it any of them recorded (WhatsApp's 24-hour window is the user's, not a kecamatan's)."""
    stmt = select(func.count(Person.id), func.max(Person.last_inbound_at)).where(
        Person.channel == channel, Person.channel_user_id == user_id)
    count, latest = session.execute(across_kecamatan(stmt)).one()
    return bool(count), latest


def forget(session: Session, channel: str, user_id: str) -> None:
    """Drop the pick (a resident erasing their identity: the pick names their account)."""
    row = session.get(ChatKecamatan, (channel, user_id))
    if row is not None:
        session.delete(row)
