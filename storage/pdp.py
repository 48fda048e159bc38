# Data subjects' requests that arrive outside the bot, and personal-data breaches
# (UU 27/2022; domain.md section 5).
# Invariants: both run on a 3 x 24-hour clock of calendar hours (not working days) from
# receipt of the request / discovery of the breach; due_at is stored, so a later change of
# rule does not move an old deadline; a request stays on the open list until answered.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Complaint, PdpIncident, PdpRequest, Person

CLOCK = timedelta(hours=72)
REQUEST_KINDS = ("akses", "koreksi", "hapus", "tarik", "keberatan")
REQUEST_VIA = ("surat", "langsung", "telepon", "email", "lainnya")
# What each kind of request asks, as officers read it (CLI and chat alike).
KIND_LABELS = {
    "akses": "melihat data", "koreksi": "memperbaiki data", "hapus": "menghapus data",
    "tarik": "menarik persetujuan", "keberatan": "keberatan atas pemrosesan",
}
# Requests made in the chat ("Data saya") are entered by the bot itself, already answered.
BOT = "bot"


def record_request(
    session: Session, *, kind: str, via: str, requester: str, detail: str | None,
    received_at: datetime, recorded_by: str, now: datetime,
) -> PdpRequest:
    if kind not in REQUEST_KINDS:
        raise ValueError(f"Jenis permintaan tidak dikenal: {kind}. Pilihan: {', '.join(REQUEST_KINDS)}.")
    if via not in REQUEST_VIA:
        raise ValueError(f"Cara masuk tidak dikenal: {via}. Pilihan: {', '.join(REQUEST_VIA)}.")
    if not requester.strip():
        raise ValueError("Nama pemohon tidak boleh kosong.")
    if received_at > now:
        raise ValueError("Waktu diterima tidak boleh di masa depan.")
    row = PdpRequest(
        kind=kind, via=via, requester=requester.strip()[:200], detail=(detail or "").strip() or None,
        received_at=received_at, due_at=received_at + CLOCK, recorded_by=recorded_by[:200], recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def answer_request(session: Session, request_id: int, answer: str, by: str, now: datetime) -> PdpRequest:
    row = session.get(PdpRequest, request_id)
    if row is None:
        raise LookupError(f"Tidak ada permintaan nomor {request_id}.")
    if row.answered_at is not None:
        raise ValueError(f"Permintaan nomor {request_id} sudah dijawab.")
    if not answer.strip():
        raise ValueError("Isi jawaban tidak boleh kosong.")
    row.answer, row.answered_by, row.answered_at = answer.strip(), by[:200], now
    return row


def open_requests(session: Session) -> Sequence[PdpRequest]:
    """Requests not answered yet, the most urgent first (for lists and the digest)."""
    return session.scalars(
        select(PdpRequest).where(PdpRequest.answered_at.is_(None)).order_by(PdpRequest.due_at, PdpRequest.id)
    ).all()


def all_requests(session: Session, limit: int = 100) -> Sequence[PdpRequest]:
    return session.scalars(select(PdpRequest).order_by(PdpRequest.id.desc()).limit(limit)).all()


@dataclass(frozen=True)
class Affected:
    """Whom a breach concerns: those the bot can tell by chat, and the tickets whose
    reporters it cannot (erased, anonymous by another channel, blocked the bot)."""

    reachable: list[Person]
    unreachable_tickets: list[str]
    unknown_tickets: list[str]


def affected_reporters(session: Session, tickets: Sequence[str] | None) -> Affected:
    """The reporters of these tickets, or of every complaint when tickets is None."""
    query = select(Complaint.ticket, Complaint.reporter_id)
    if tickets is not None:
        query = query.where(Complaint.ticket.in_(list(tickets)))
    rows = session.execute(query.order_by(Complaint.id)).all()
    found = {t for t, _ in rows}
    people_by_id = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.id.in_({r for _, r in rows if r is not None}))).all()
    }
    reachable: dict[int, Person] = {}
    unreachable: list[str] = []
    for ticket, reporter_id in rows:
        person = people_by_id.get(reporter_id) if reporter_id is not None else None
        if person is None or not person.channel_user_id or person.blocked_at is not None:
            unreachable.append(ticket)
        else:
            reachable[person.id] = person
    unknown = [t for t in tickets if t not in found] if tickets is not None else []
    return Affected(list(reachable.values()), unreachable, unknown)


def record_incident(
    session: Session, *, what: str, occurred_at: datetime | None, discovered_at: datetime, how: str,
    affected: str, actions: str, notified_chats: int, unreachable: int, recorded_by: str, now: datetime,
) -> PdpIncident:
    for label, value in (("apa yang bocor", what), ("bagaimana", how), ("siapa yang terdampak", affected),
                         ("tindakan", actions)):
        if not value.strip():
            raise ValueError(f"Isian '{label}' tidak boleh kosong.")
    if discovered_at > now or (occurred_at is not None and occurred_at > discovered_at):
        raise ValueError("Waktu kejadian harus sebelum waktu diketahui, dan keduanya tidak di masa depan.")
    row = PdpIncident(
        what=what.strip(), occurred_at=occurred_at, discovered_at=discovered_at, due_at=discovered_at + CLOCK,
        how=how.strip(), affected=affected.strip(), actions=actions.strip(), notified_chats=notified_chats,
        unreachable=unreachable, recorded_by=recorded_by[:200], recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def recent_incidents(session: Session, since: datetime) -> Sequence[PdpIncident]:
    return session.scalars(
        select(PdpIncident).where(PdpIncident.discovered_at >= since).order_by(PdpIncident.id)
    ).all()


def hours_left(due: datetime, now: datetime) -> int:
    """Whole hours to the deadline, rounded down; negative once it has passed (-1 in the
    first hour late)."""
    seconds = (due - now).total_seconds()
    return int(seconds // 3600)


def waiting(session: Session, now: datetime) -> tuple[list[tuple[PdpRequest, int]], list[tuple[PdpIncident, int]]]:
    """What is on the 3 x 24-hour clock at `now`, with the hours left (negative: late):
    the open requests, most urgent first, and the breaches of the last two clocks.
    `sigap pdp daftar` and the chat's /pdp list the same."""
    requests = [(r, hours_left(r.due_at, now)) for r in open_requests(session)]
    incidents = [(i, hours_left(i.due_at, now)) for i in recent_incidents(session, now - 2 * CLOCK)]
    return requests, incidents
