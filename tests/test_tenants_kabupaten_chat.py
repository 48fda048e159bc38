# /iku kabupaten in chat (issue 14: "a kabupaten role reads every kecamatan"): the kabupaten
# chat (SIGAP_KABUPATEN_CHAT, Runtime.kabupaten_chat) asks and gets the very messages the
# weekly kabupaten digest posts, built by the delivery outside the write batch (a deferred
# view); any other chat, an officer's or admin's included, is refused plainly and nothing is
# read. Through router.handle, on SQLite and PostgreSQL.
from __future__ import annotations

from sqlalchemy import select

from bot.reports.kabupaten_digest import build_kabupaten_digest
from kpi.periods import Period
from storage.models import OutboxItem
from tests.test_tenants_bot import (
    ADMIN_A,
    ADMIN_J,
    ARJASA,
    GROUP_J,
    JELBUK,
    WARGA_BARU,
    Chats,
    chats,
    file_complaint,
    text,
)

__all__ = ["chats"]  # the fixture, imported for the tests below
KABUPATEN = -100777  # the Bagian Organisasi's group
ORGANISASI = 7001  # someone in it, registered nowhere as an officer
REFUSED = "hanya dapat dibaca di chat kabupaten yang terdaftar"


def queued_kinds(c: Chats, chat: int) -> list[str]:
    with c.db.reading() as s:
        return list(s.scalars(select(OutboxItem.kind).where(OutboxItem.chat_id == str(chat))).all())


def test_the_kabupaten_chat_reads_the_digest_of_last_week(chats: Chats) -> None:
    c = chats
    c.rt.kabupaten_chat = KABUPATEN
    file_complaint(c, 1001, JELBUK)
    file_complaint(c, 1002, ARJASA)
    out = c.say(ORGANISASI, "/iku kabupaten", KABUPATEN)
    # NOW is Wednesday 2 December 2026: the last whole week is 2026-W48, as posted on Monday.
    posted = build_kabupaten_digest(c.db, c.rt.offices, Period("week", 2026, 48)).parts
    assert [o["text"] for o in out] == list(posted) and len(posted) > 1
    said = text(out)
    assert "Ringkasan mingguan Kabupaten Jember" in said and "Jelbuk" in said and "Arjasa" in said
    assert queued_kinds(c, KABUPATEN) == ["lihat"]  # the step queued a request, not the tables

    out = c.say(ORGANISASI, "/iku kabupaten 2026-11-18", KABUPATEN)  # the week holding that day
    assert [o["text"] for o in out] == list(build_kabupaten_digest(c.db, c.rt.offices, Period("week", 2026, 47)).parts)
    out = c.say(ORGANISASI, "/iku kabupaten 2026-12-01", KABUPATEN)
    assert "Minggu itu belum selesai." in text(out) and "Format: /iku kabupaten" in text(out)
    out = c.say(ORGANISASI, "/iku kabupaten kemarin", KABUPATEN)
    assert "Tanggal harus berbentuk TTTT-BB-HH" in text(out)


def test_a_private_kabupaten_chat_is_not_asked_for_a_kecamatan(chats: Chats) -> None:
    c = chats
    c.rt.kabupaten_chat = ORGANISASI  # an inspector's own chat
    said = text(c.say(ORGANISASI, "/iku kabupaten"))
    assert "Ringkasan mingguan Kabupaten Jember" in said and "Pilih kecamatan" not in said
    assert c.remembered(ORGANISASI) is None


def test_anyone_else_is_refused_and_nothing_is_read(chats: Chats) -> None:
    c = chats
    c.rt.kabupaten_chat = KABUPATEN
    for user, chat in ((ADMIN_J, None), (ADMIN_A, None), (WARGA_BARU, None), (ADMIN_J, GROUP_J)):
        out = c.say(user, "/iku kabupaten", chat)
        assert REFUSED in text(out) and "Ringkasan mingguan" not in text(out), (user, chat)
        assert "lihat" not in queued_kinds(c, chat or user)
    assert "Pilih kecamatan" not in text(c.say(WARGA_BARU, "/iku kabupaten"))  # refused, not asked
    # No kabupaten chat configured: nobody reads it, the chat that would have been included.
    c.rt.kabupaten_chat = None
    assert REFUSED in text(c.say(ORGANISASI, "/iku kabupaten", KABUPATEN))
    # An officer's own /iku is still their own kecamatan's table.
    own = text(c.say(ADMIN_A, "/iku"))
    assert "Arjasa" in own and "Ringkasan mingguan" not in own


def test_a_registered_kabupaten_reader_reads_it_in_their_private_chat(chats: Chats) -> None:
    # One list of kabupaten readers: whoever `sigap kabupaten pembaca tambah` registered for
    # the dashboard also reads /iku kabupaten in chat, in their own chat only, and no longer
    # once deactivated.
    from datetime import UTC, datetime

    from storage import kabupaten_access

    c = chats
    c.rt.kabupaten_chat = KABUPATEN
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    assert REFUSED in text(c.say(ORGANISASI, "/iku kabupaten"))  # not registered yet
    with c.db.transaction() as s:
        kabupaten_access.add_reader(s, ORGANISASI, "Inspektur Pembantu", now)
    out = c.say(ORGANISASI, "/iku kabupaten")
    assert [o["text"] for o in out] == list(build_kabupaten_digest(c.db, c.rt.offices, Period("week", 2026, 48)).parts)
    assert c.remembered(ORGANISASI) is None  # not asked to pick a kecamatan
    # In a kecamatan's group the group is what counts, not the reader in it.
    assert REFUSED in text(c.say(ORGANISASI, "/iku kabupaten", GROUP_J))
    with c.db.transaction() as s:
        kabupaten_access.deactivate_reader(s, ORGANISASI, now)
    assert REFUSED in text(c.say(ORGANISASI, "/iku kabupaten"))
