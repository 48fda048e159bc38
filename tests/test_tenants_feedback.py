# The "sudah selesai?" buttons of a bot serving several kecamatan (issue 14 leftovers): the
# signed data names the complaint's kecamatan, so a resident who switched kecamatan since
# (/kecamatan) gets their answer recorded in the complaint's kecamatan instead of "Tombol ini
# bukan untuk Anda."; someone else's press, or a kode forged into another kecamatan, still
# changes nothing. Through router.handle, on SQLite and PostgreSQL.
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.dialogs.types import Event
from storage import people
from storage.lifecycle import OPEN_STATUSES, Actor, transition
from storage.models import Complaint, OutboxItem
from tests.test_tenants_bot import (
    ARJASA,
    JELBUK,
    NOW,
    WARGA_A,
    WARGA_J,
    Chats,
    chats,
    file_complaint,
    text,
)

__all__ = ["chats"]  # the fixture, imported for the tests below
ADMIN = Actor("petugas", None, "Pak Admin", "admin")


def solved(c: Chats, user: int, kode: str, minutes: int = 3) -> Complaint:
    """A complaint of `user` in `kode`, resolved `minutes` after NOW (which asks "sudah selesai?")."""
    complaint = file_complaint(c, user, kode)
    with c.db.transaction(kode) as s:
        row = s.get(Complaint, complaint.id)
        assert row is not None
        transition(s, row, "verifikasi", ADMIN, NOW + timedelta(minutes=1))
        transition(s, row, "tindaklanjuti", ADMIN, NOW + timedelta(minutes=2))
        transition(s, row, "selesaikan", ADMIN, NOW + timedelta(minutes=minutes), public_note="Sudah ditertibkan")
    return complaint


def button(out: list[dict], label: str) -> str:  # type: ignore[type-arg]
    (data,) = [b[1] for o in out for b in o.get("buttons") or [] if b[0] == label]
    return str(data)


def test_solved_buttons_work_after_the_resident_switched_kecamatan(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350922")
    yes_case, no_case = solved(c, WARGA_A, ARJASA), solved(c, WARGA_A, ARJASA)
    yes = button(c.say(WARGA_A, f"/status {yes_case.ticket}"), "Ya, sudah")
    no = button(c.say(WARGA_A, f"/status {no_case.ticket}"), "Belum")
    assert yes.startswith(f"f:{yes_case.id}:ya:{ARJASA}:") and len(yes.encode()) <= 64
    # The resident moves to Jelbuk (for another report), then answers the Arjasa notices.
    c.say(WARGA_A, "/kecamatan")
    assert "Jelbuk" in text(c.say(WARGA_A, "Jelbuk"))
    assert c.remembered(WARGA_A) == JELBUK

    # Someone else pressing the same (forwarded) button: refused, nothing recorded.
    c.say(WARGA_J, "/start kec-350925")
    c.send(WARGA_J, Event(kind="choice", data=yes))
    assert c.toast == "Tombol ini bukan untuk Anda."
    with c.db.reading(ARJASA) as s:
        assert people.find_person(s, "telegram", str(WARGA_J)) is None  # looked, made nothing
    # A press of the resident's own: answered in Arjasa.
    out = c.send(WARGA_A, Event(kind="choice", data=yes))
    assert c.toast != "Tombol ini bukan untuk Anda."
    assert f"Laporan {yes_case.ticket} ditutup" in text(out)
    out = c.send(WARGA_A, Event(kind="choice", data=no))
    assert f"Laporan {no_case.ticket} dibuka kembali" in text(out)
    with c.db.reading(ARJASA) as s:
        a, b = s.get(Complaint, yes_case.id), s.get(Complaint, no_case.id)
        assert a is not None and b is not None
        assert a.feedback == "ya" and b.status in OPEN_STATUSES
        # What the reopening queued is drawn in Arjasa, the complaint's kecamatan.
        cards = [r.payload for r in s.scalars(select(OutboxItem).where(OutboxItem.kind != "text"))]
        assert all(p.get("kecamatan") == ARJASA for p in cards)
    assert c.remembered(WARGA_A) == JELBUK  # the pick stays
    # Pressed again: already answered.
    c.send(WARGA_A, Event(kind="choice", data=yes))
    assert c.toast == "Jawaban untuk laporan ini sudah tercatat."


def test_a_kode_signed_for_another_kecamatan_finds_nothing_there(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350922")
    case = solved(c, WARGA_A, ARJASA)
    # Signed with the secret, but naming Jelbuk: the Arjasa complaint is not read there.
    c.send(WARGA_A, Event(kind="choice", data=c.rt.signed(f"f:{case.id}:ya:{JELBUK}")))
    assert c.toast == "Tombol ini bukan untuk Anda."
    with c.db.reading(ARJASA) as s:
        row = s.get(Complaint, case.id)
        assert row is not None and row.feedback is None
