# Whole conversations through the Bot API emulator with the real PTB application.
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import Complaint, Person, StatusChange
from tests.e2e import (
    GROUP,
    KOORDINATOR,
    ORANG_LAIN,
    PETUGAS,
    WARGA,
    WARGA2,
    World,
    start_world,
    stop_world,
)

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 500 + b"\xff\xd9"


async def file_complaint(w: World, user: int, *, rahasia: bool, anonim: bool = False, photo: bool = True) -> str:
    await w.say(user, "/start")
    await w.press(user, "📝 Buat laporan")
    await w.press(user, "Pengaduan")
    await w.press(user, "Minuman keras")
    await w.press(user, "Sukowiryo")
    if photo:
        w.emu.send_photo(user, JPEG, caption="Pesta miras tiap malam di warung ujung desa")
        await w.idle()
        await w.press(user, "Lanjut")
    else:
        await w.say(user, "Pesta miras tiap malam di warung ujung desa")
        await w.press(user, "Lanjut")
    w.emu.send_location(user, -8.0712, 113.7301)
    await w.idle()
    await w.press(user, "Anonim" if anonim else "Sertakan identitas")
    await w.press(user, "Rahasia" if rahasia else "Tidak rahasia")
    assert "Periksa laporan Anda" in w.last(user).text
    await w.press(user, "Kirim")
    text = w.last(user).text or ""
    assert "Nomor tiket" in text
    return text.split("Nomor tiket: ")[1].split()[0]


def complaint(w: World, ticket: str) -> Complaint:
    with w.service.db.transaction() as s:
        c = s.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
        c.photos, c.history  # noqa: B018 - load before the session closes
        return c


async def test_full_lifecycle_with_photo_location_notifications_and_reopen(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False)
    assert ticket.startswith("TRB-") and ticket.endswith("-00001")
    c = complaint(w, ticket)
    assert (c.status, c.channel, c.desa, c.category) == ("diterima", "telegram", "Sukowiryo", "miras")
    assert c.latitude == pytest.approx(-8.0712) and len(c.photos) == 1
    assert Path(c.photos[0].path).read_bytes() == JPEG
    # The group sees the card, the photo and the pin, but never who reported it.
    group = w.in_chat(GROUP)
    assert any(ticket in (o.text or "") and "Pesta miras" in (o.text or "") for o in group)
    assert any(o.photo for o in group) and any(o.location for o in group)
    assert not any("Siti" in (o.text or "") for o in group)

    await w.press(PETUGAS, "Verifikasi", GROUP)
    assert "Diverifikasi" in (w.last(WARGA).text or "")
    await w.press(PETUGAS, "Tindak lanjuti", GROUP)
    assert "Ditindaklanjuti" in (w.last(WARGA).text or "")
    await w.press(PETUGAS, "Selesai", GROUP)
    assert "catatan penyelesaian" in (w.last(GROUP).text or "")
    await w.say(PETUGAS, "Warung ditertibkan bersama Babinsa.", GROUP)
    assert "Catatan internal" in (w.last(GROUP).text or "")
    await w.say(PETUGAS, "pemilik sudah diperingatkan dua kali", GROUP)
    preview = w.last(GROUP).text or ""
    assert "Pesan yang akan diterima pelapor" in preview and "diperingatkan" in preview
    await w.press(PETUGAS, "Kirim", GROUP)
    note = w.last(WARGA).text or ""
    assert note in preview  # the reporter receives exactly what the officer previewed
    assert "Selesai" in note and "Warung ditertibkan" in note
    assert "diperingatkan" not in note  # the internal note never reaches the reporter
    assert "Apakah masalah Anda sudah terselesaikan?" in note
    # The card was edited in place, not posted again.
    cards = [o for o in w.in_chat(GROUP) if ticket in (o.text or "") and "Jenis" in (o.text or "")]
    assert len({o.message_id for o in cards}) == 1 and "Selesai" in (cards[-1].text or "")

    await w.press(WARGA, "Belum")
    assert "dibuka kembali" in (w.last(WARGA).text or "")
    assert any("belum" in (o.text or "") and ticket in (o.text or "") for o in w.in_chat(GROUP))
    c = complaint(w, ticket)
    assert c.status == "ditindaklanjuti" and c.reopen_count == 1
    moves = [(h.from_status, h.to_status, h.actor_kind) for h in c.history]
    assert moves == [
        (None, "diterima", "warga"),
        ("diterima", "diverifikasi", "petugas"),
        ("diverifikasi", "ditindaklanjuti", "petugas"),
        ("ditindaklanjuti", "selesai", "petugas"),
        ("selesai", "ditindaklanjuti", "warga"),
    ]
    assert c.history[3].internal_note == "pemilik sudah diperingatkan dua kali"

    # Status by ticket shows public notes only.
    await w.say(WARGA, f"/status {ticket}")
    status = w.last(WARGA).text or ""
    assert "Riwayat" in status and "Warung ditertibkan" in status and "diperingatkan" not in status


async def test_rahasia_card_hides_content_and_identity(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=True)
    group = [o for o in w.in_chat(GROUP)]
    card = next(o for o in group if ticket in (o.text or ""))
    assert "rahasia" in (card.text or "").lower()
    assert "Pesta miras" not in (card.text or "") and "Siti" not in (card.text or "")
    assert not any(o.photo or o.location for o in group)
    # An officer opens it in private and sees everything, including who reported it.
    await w.say(PETUGAS, f"/kasus {ticket}")
    private = " ".join(w.texts(PETUGAS))
    assert "Pesta miras" in private and "Siti" in private


async def test_anonymous_reporter_is_never_shown(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=True, anonim=True, photo=False)
    await w.say(PETUGAS, f"/kasus {ticket}")
    assert not any("Siti" in t for t in w.texts(PETUGAS))


async def test_non_officer_press_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=False)
    before = len(w.in_chat(WARGA))
    await w.press(ORANG_LAIN, "Verifikasi", GROUP)
    assert "hanya untuk petugas" in (w.emu.answered_callbacks[-1].text or "")
    assert complaint(w, ticket).status == "diterima"
    assert len(w.in_chat(WARGA)) == before
    # A petugas may not reject: that is the koordinator's decision.
    await w.press(PETUGAS, "Tolak", GROUP)
    assert "tidak boleh" in (w.emu.answered_callbacks[-1].text or "")
    await w.press(KOORDINATOR, "Tolak", GROUP)
    await w.say(KOORDINATOR, "Bukan gangguan ketertiban umum.", GROUP)
    await w.say(KOORDINATOR, "-", GROUP)  # no internal note
    await w.press(KOORDINATOR, "Kirim", GROUP)
    c = complaint(w, ticket)
    assert c.status == "ditolak" and c.reject_reason == "Bukan gangguan ketertiban umum."
    assert "Bukan gangguan ketertiban umum." in (w.last(WARGA).text or "")


async def test_two_officers_pressing_at_once_one_wins(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=False)
    found = w.message_with_button(GROUP, "Verifikasi")
    w.emu.press(PETUGAS, found["message_id"], found["data"], chat=GROUP)
    w.emu.press(KOORDINATOR, found["message_id"], found["data"], chat=GROUP)
    await w.idle()
    answers = [a.text or "" for a in w.emu.answered_callbacks[-2:]]
    assert sum("dicatat" in a for a in answers) == 1
    assert sum("sudah diubah" in a for a in answers) == 1
    c = complaint(w, ticket)
    assert c.status == "diverifikasi" and len(c.history) == 2


async def test_bad_input_is_answered_and_changes_nothing(world: World) -> None:
    w = world
    await w.say(WARGA, "/start")
    await w.press(WARGA, "📝 Buat laporan")
    await w.press(WARGA, "Pengaduan")
    await w.say(WARGA, "kategori apa saja")  # text where a button is expected
    assert "pilih salah satu tombol" in " ".join(w.texts(WARGA)[-2:])
    await w.press(WARGA, "Perjudian")
    await w.press(WARGA, "Jelbuk")
    await w.say(WARGA, "x" * 2001)
    assert "terlalu panjang" in (w.last(WARGA).text or "")
    w.emu.send_sticker(WARGA)
    await w.idle()
    assert "stiker" in (w.last(WARGA).text or "")
    w.emu.send_voice(WARGA)
    await w.idle()
    assert "pesan suara" in (w.last(WARGA).text or "")
    await w.say(WARGA, "/entahlah")
    assert "tidak dikenal" in (w.last(WARGA).text or "")
    # A forged card button and a stale dialog button.
    w.emu.press(WARGA, w.last(WARGA).message_id, "k:1:verifikasi:1:0000000000", strict=False)
    await w.idle()
    assert "tidak sah" in (w.emu.answered_callbacks[-1].text or "")
    w.emu.press(WARGA, w.last(WARGA).message_id, "d:ffff:0", strict=False)
    await w.idle()
    assert "tidak berlaku" in (w.emu.answered_callbacks[-1].text or "")
    with w.service.db.transaction() as s:
        assert s.scalar(select(func.count(Complaint.id))) == 0
    # The dialog is still where it was: a valid description moves on.
    await w.say(WARGA, "Sabung ayam dan judi kartu di lapangan desa setiap Minggu")
    assert "foto" in (w.last(WARGA).text or "").lower()


async def test_someone_elses_ticket_is_not_shown(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=False)
    await w.say(WARGA2, f"/status {ticket}")
    reply = w.last(WARGA2).text or ""
    assert "tidak ditemukan" in reply and "Pesta miras" not in reply
    await w.say(WARGA2, "/status TRB-2026-99999")
    assert "tidak ditemukan" in (w.last(WARGA2).text or "")


async def test_cancel_and_resume_after_restart(tmp_path: Path) -> None:
    w = await start_world(tmp_path)
    try:
        await w.say(WARGA, "/start")
        await w.press(WARGA, "📝 Buat laporan")
        await w.press(WARGA, "Aspirasi")
        await w.service.stop()
        # A new process on the same register picks the conversation up where it was.
        from bot.app.service import Service

        w.service = Service(w.service.settings, token="123456:TEST-token", base_url=w.emu.base_url, base_file_url=w.emu.base_file_url, rate_limit=False)
        await w.service.start()
        await w.press(WARGA, "Perjudian")
        assert "desa" in (w.last(WARGA).text or "").lower()
        await w.say(WARGA, "/batal")
        assert "Dibatalkan" in (w.last(WARGA).text or "")
        await w.say(WARGA, "halo")
        assert "Selamat datang" in (w.last(WARGA).text or "")
    finally:
        await stop_world(w)


async def test_daily_limit_and_erasing_my_data(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=False)
    await w.say(WARGA, "/datasaya")
    assert ticket in (w.last(WARGA).text or "") and "Siti" in (w.last(WARGA).text or "")
    await w.press(WARGA, "Hapus identitas saya")
    await w.press(WARGA, "Ya, hapus")
    assert "sudah dihapus" in (w.last(WARGA).text or "")
    with w.service.db.transaction() as s:
        c = s.scalars(select(Complaint)).one()
        person = s.get(Person, c.reporter_id)
        assert person is not None and person.name is None and person.channel_user_id is None
        assert s.scalar(select(func.count(StatusChange.id))) == 1  # the complaint stays


async def test_blocked_reporter_is_recorded_and_shown_to_officers(world: World) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=False)
    w.emu.block(WARGA)
    await w.press(PETUGAS, "Verifikasi", GROUP)
    with w.service.db.transaction() as s:
        person = s.scalars(select(Person).where(Person.channel_user_id == str(WARGA))).one()
        assert person.blocked_at is not None
    await w.say(PETUGAS, f"/kasus {ticket}")
    assert any("tidak terkirim" in t and "memblokir" in t for t in w.texts(PETUGAS))
