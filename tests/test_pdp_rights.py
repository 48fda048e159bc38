# The rights of UU 27/2022 in the open (issue 12), end to end through the Bot API emulator on
# SQLite and PostgreSQL: the survey's consent, the complaint's privacy notice and "Data saya"
# name the four rights and the 3 x 24 hours; a resident corrects their name and phone from
# "Data saya"; officers see the 72-hour clock of requests with /pdp.
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import pdp
from storage.models import Person
from storage.people import normalise_phone
from tests.e2e import GROUP, KOORDINATOR, PETUGAS, WARGA, World
from tests.test_e2e_complaint import file_complaint

pytestmark = pytest.mark.usefixtures("register")

RIGHTS = ("melihat", "memperbaiki", "menghapus", "menarik persetujuan")


def read(w: World, chat: int) -> str:
    """The last message to the chat as a person reads it (no HTML tags)."""
    return re.sub(r"<[^>]+>", "", w.last(chat).text or "")


def buttons(w: World, chat: int) -> list[str]:
    rows = (w.emu.messages_in(chat)[-1].get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["text"] for row in rows for b in row]


def person(w: World) -> Person:
    with w.service.db.reading() as s:
        p = s.scalars(select(Person).where(Person.channel_user_id == str(WARGA))).one()
        s.expunge(p)
        return p


def assert_names_rights(text: str) -> None:
    for right in RIGHTS:
        assert right in text.casefold(), (right, text)
    assert "3 x 24 jam" in text and "surat" in text and "Kecamatan Jelbuk" in text


async def test_consent_privacy_notice_and_data_saya_name_the_rights(world: World) -> None:
    w = world
    await w.say(WARGA, "/survei")
    while "Apakah Anda setuju mengisi survei" not in read(w, WARGA):  # the service first, if asked
        await w.press(WARGA, buttons(w, WARGA)[0])
    assert_names_rights(read(w, WARGA))
    assert "menu Data saya" in read(w, WARGA)
    await w.say(WARGA, "/batal")

    await file_complaint(w, WARGA, rahasia=True, photo=False)
    notice = next(t for t in map(lambda t: re.sub(r"<[^>]+>", "", t), w.texts(WARGA)) if "Pemberitahuan data pribadi" in t)
    assert_names_rights(notice)
    assert "menu Data saya" in notice

    await w.say(WARGA, "/datasaya")
    text = read(w, WARGA)
    assert_names_rights(text)
    assert "tombol Ubah nama atau Ubah nomor telepon" in text and "tombol Hapus identitas saya" in text
    assert buttons(w, WARGA) == ["Ubah nama", "Ubah nomor telepon", "Hapus identitas saya", "Kembali"]


async def test_resident_corrects_name_and_phone(world: World) -> None:
    w = world
    await w.say(WARGA, "/datasaya")
    await w.press(WARGA, "Ubah nama")
    assert "Tulis nama Anda" in read(w, WARGA) and buttons(w, WARGA) == ["Batal"]
    await w.say(WARGA, "  Siti   Aminah ")
    assert "Nama: Siti Aminah" in read(w, WARGA) and buttons(w, WARGA) == ["Simpan", "Batal"]
    assert person(w).name is None  # nothing saved before Simpan
    await w.press(WARGA, "Simpan")
    assert "Nama Anda sudah diperbarui: Siti Aminah" in read(w, WARGA)
    assert person(w).name == "Siti Aminah"

    # Typed, as on WhatsApp: the button's label, then the number; a bad one is refused with an example.
    await w.say(WARGA, "data saya")
    await w.say(WARGA, "ubah nomor telepon")
    await w.say(WARGA, "12345")
    refused = read(w, WARGA)
    assert "Nomor telepon tidak dikenali" in refused and "081234567890" in refused
    assert person(w).phone is None
    await w.say(WARGA, "+62 812-3456-7890")
    assert "Nomor telepon: 081234567890" in read(w, WARGA)
    await w.say(WARGA, "simpan")
    assert "Nomor telepon Anda sudah diperbarui: 081234567890" in read(w, WARGA)
    saved = person(w)
    assert (saved.name, saved.phone) == ("Siti Aminah", "081234567890")
    await w.say(WARGA, "/datasaya")
    assert "Nama: Siti Aminah" in read(w, WARGA) and "Nomor telepon: 081234567890" in read(w, WARGA)

    # Batal, at either step, leaves the row as it was.
    await w.press(WARGA, "Ubah nama")
    await w.say(WARGA, "Orang Lain")
    await w.press(WARGA, "Batal")
    assert "Data Anda tidak diubah" in read(w, WARGA)
    await w.say(WARGA, "/datasaya")
    await w.press(WARGA, "Ubah nomor telepon")
    await w.say(WARGA, "batal")
    assert "Data Anda tidak diubah" in read(w, WARGA)
    assert (person(w).name, person(w).phone) == ("Siti Aminah", "081234567890")


async def test_long_or_empty_name_is_refused(world: World) -> None:
    w = world
    await w.say(WARGA, "/datasaya")
    await w.press(WARGA, "Ubah nama")
    await w.say(WARGA, "x" * 201)
    assert "paling banyak 200 karakter" in read(w, WARGA) and buttons(w, WARGA) == ["Batal"]
    await w.say(WARGA, "12345")
    assert "Nama harus berisi huruf" in read(w, WARGA)
    assert person(w).name is None


def test_phone_forms() -> None:
    for typed in ("081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456.7890"):
        assert normalise_phone(typed) == "081234567890", typed
    for typed in ("12345", "0331 421234", "+1 202 555 0100", "0812345", "08123456789012", "nomor saya"):
        assert normalise_phone(typed) is None, typed


async def test_pdp_lists_open_requests_overdue_first_for_coordinators(world: World) -> None:
    w = world
    now = datetime.now(UTC)
    with w.service.db.transaction() as s:
        pdp.record_request(s, kind="akses", via="langsung", requester="Pak Slamet", detail=None,
                           received_at=now - timedelta(hours=10, minutes=30), recorded_by="Rina", now=now)
        pdp.record_request(s, kind="hapus", via="surat", requester="Ibu Sumarni (TRB-2026-00012)", detail=None,
                           received_at=now - timedelta(hours=80, minutes=30), recorded_by="Rina", now=now)
        done = pdp.record_request(s, kind="koreksi", via="surat", requester="Pak Dijawab", detail=None,
                                  received_at=now - timedelta(hours=1), recorded_by="Rina", now=now)
        pdp.answer_request(s, done.id, "Sudah diperbaiki", "Rina", now)
    await w.say(KOORDINATOR, "/pdp")
    lines = read(w, KOORDINATOR).splitlines()
    assert lines[0] == "Permintaan data pribadi belum dijawab: 2 (batas 3 x 24 jam sejak diterima)"
    assert lines[1].startswith("• ⏰ #2 menghapus data, Ibu Sumarni (TRB-2026-00012) (surat), TERLAMBAT 9 jam, batas ")
    assert lines[2].startswith("• #1 melihat data, Pak Slamet (langsung), sisa 61 jam, batas ")
    assert "Pak Dijawab" not in read(w, KOORDINATOR)

    await w.say(KOORDINATOR, "/bantuan")
    assert "/pdp" in read(w, KOORDINATOR)
    await w.say(PETUGAS, "/bantuan")
    assert "/pdp" not in read(w, PETUGAS)
    await w.say(PETUGAS, "/pdp")
    assert read(w, PETUGAS).startswith("Peran Anda (petugas) tidak dapat melihat permintaan data pribadi")
    await w.say(WARGA, "/pdp")
    assert read(w, WARGA) == "Maaf, tindakan ini hanya untuk petugas yang terdaftar."
    # In the group the list would show who asked to everyone there.
    await w.say(KOORDINATOR, "/pdp", GROUP)
    assert read(w, GROUP).startswith("Gunakan /pdp di chat pribadi") and "Sumarni" not in read(w, GROUP)


async def test_pdp_with_nothing_open(world: World) -> None:
    w = world
    await w.say(KOORDINATOR, "/pdp")
    assert read(w, KOORDINATOR) == "Tidak ada permintaan data pribadi yang menunggu jawaban. 👍"
