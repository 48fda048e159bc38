# Golden transcripts (tests/golden.py): whole conversations through the real channel code,
# compared with the reviewed files in tests/golden/. After a deliberate change of wording:
#   SIGAP_GOLDEN_UPDATE=1 pytest tests/test_golden_transcripts.py, then review `git diff tests/golden`.
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e import GROUP, KOORDINATOR, PETUGAS, PIMPINAN, WARGA, World
from tests.golden import (
    TelegramTranscript,
    WhatsAppTranscript,
    check,
    start_golden_world,
    stop_golden_world,
)

pytestmark = pytest.mark.usefixtures("register")

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 500 + b"\xff\xd9"
NAMES = {WARGA: "Siti", PETUGAS: "Budi (petugas)", KOORDINATOR: "Rina (admin)", GROUP: "grup Trantib", 2003: "Camat"}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w, _clock, wa = await start_golden_world(tmp_path)
    try:
        yield w
    finally:
        await stop_golden_world(w, wa)


async def note(t: TelegramTranscript, who: int, chat: int, public: str, internal: str = "-") -> None:
    """An officer's answer to a move that asks for a note: the public note, then (if asked)
    the internal note, then (if shown) Kirim under the preview."""
    await t.say(who, public, chat)
    last = t.world.last(chat).text or ""
    if "Catatan internal" in last:
        await t.say(who, internal, chat)
    rows = (t.world.last(chat).reply_markup or {}).get("inline_keyboard") or []
    if any(b.get("text") == "Kirim" for row in rows for b in row):
        await t.press(who, "Kirim", chat)


async def test_telegram_intake_with_photo_and_location_then_resolved_and_reopened(world: World) -> None:
    t = TelegramTranscript(world, NAMES)
    await t.say(WARGA, "/start")
    await t.press(WARGA, "📝 Buat laporan")
    await t.press(WARGA, "Pengaduan")
    await t.press(WARGA, "Minuman keras")
    await t.press(WARGA, "Sukowiryo")
    await t.say(WARGA, "miras")  # too short: asked again with an example
    await t.photo(WARGA, JPEG, "Pesta miras tiap malam di warung ujung desa")
    await t.say(WARGA, "biasanya mulai jam 10 malam")
    await t.press(WARGA, "Tambahkan ke uraian")
    await t.press(WARGA, "Lanjut")
    await t.location(WARGA, -8.0712, 113.7301)
    await t.press(WARGA, "Sertakan identitas")
    await t.press(WARGA, "Tidak rahasia")
    await t.press(WARGA, "Kirim")
    await t.press(PETUGAS, "Verifikasi", GROUP)
    await t.press(PETUGAS, "Tindak lanjuti", GROUP)
    await t.press(PETUGAS, "Selesai", GROUP)
    await note(t, PETUGAS, GROUP, "Warung ditertibkan bersama Babinsa.", "Pemilik sudah diperingatkan dua kali.")
    await t.say(WARGA, "status TRB-2026-00001")
    await t.say(WARGA, "belum")
    await t.say(WARGA, "/status")
    await t.say(WARGA, "/datasaya")
    await t.press(WARGA, "Kembali")
    check("telegram_lapor_selesai_dibuka_kembali", t.lines)


async def test_whatsapp_intake_typed_then_resolved_and_answered_by_typing(tmp_path: Path) -> None:
    w, _clock, wa = await start_golden_world(tmp_path, whatsapp=True)
    assert wa is not None
    try:
        wa.user("6281234500001", "Sari Wulandari")
        t = WhatsAppTranscript(wa, w, "6281234500001", "Sari")
        group = TelegramTranscript(w, NAMES)
        await t.say("Halo")
        await t.say("buat laporan")  # typed label, no emoji
        await t.press("Pengaduan")
        await t.press("Perjudian")
        await t.say("2")  # a button's number: Panduman
        await t.say("😡😡")
        await t.say("Sabung ayam dan judi kartu di lapangan desa setiap Minggu sore")
        await t.photo(JPEG, None)
        await t.say("lanjut")
        await t.say("Lapangan Dusun Krajan, belakang masjid")
        await t.say("anonim")
        await t.say("TIDAK")  # the only button starting with "tidak": Tidak rahasia
        await t.say("kirim")
        group.collect()
        await group.press(PETUGAS, "Verifikasi", GROUP)
        t.collect()
        await group.press(PETUGAS, "Tindak lanjuti", GROUP)
        await group.press(PETUGAS, "Selesai", GROUP)
        await note(group, PETUGAS, GROUP, "Arena sabung ayam dibongkar bersama Polsek.")
        t.collect()
        await t.say("cek TRB-2026-00001")
        await t.say("sudah")
        await t.say("menu")
        check("whatsapp_lapor_diketik", t.lines)
        check("whatsapp_lapor_diketik.grup_telegram", group.lines)
    finally:
        await stop_golden_world(w, wa)


async def test_terminal_sandbox_intake_and_officer_moves_by_number(world: World) -> None:
    """The terminal's rendering (bot/app/sandbox.py Terminal): numbered buttons, plain text."""
    import io
    from datetime import UTC, datetime

    from bot.app import sandbox
    from storage import people

    world.emu.group(sandbox.GROUP, "Trantib Jelbuk")
    with world.service.db.transaction() as s:
        people.set_setting(s, "trantib_group", str(sandbox.GROUP), datetime(2026, 11, 30, tzinfo=UTC))
    out = io.StringIO()
    term = sandbox.Terminal(world.emu, out=out)
    script = [
        "/start", "1", "pengaduan", "Keributan / gangguan ketenteraman", "jelbuk",
        "Knalpot brong balapan liar tiap malam Minggu di jalan desa",
        "/foto Motor-motor di depan balai desa", "Lanjut", "/lokasi -8.0667 113.7167",
        "sertakan identitas", "tidak rahasia", "kirim",
        "/sebagai petugas", "1", "1", "1", "Balap liar dibubarkan bersama Polsek.",
        "/sebagai warga", "ya", "/status",
    ]

    async def type_line(line: str) -> None:
        term.print(f"\n{term.prompt()}{line}")
        assert term.handle(line)
        await world.idle()
        term.show_new()

    for line in script:
        await type_line(line)
        if line.startswith("Balap liar"):  # the note may come in steps: internal note, preview
            if "Catatan internal" in (world.last(sandbox.GROUP).text or ""):
                await type_line("-")
            rows = (world.last(sandbox.GROUP).reply_markup or {}).get("inline_keyboard") or []
            if any(b.get("text") == "Kirim" for row in rows for b in row):
                await type_line("kirim")
    check("terminal_lapor_petugas", out.getvalue().splitlines())


async def _typed_complaint(t: TelegramTranscript, user: int, desa: str, text: str) -> None:
    for line in ("lapor", "pengaduan", "Perkelahian", desa, text, "lanjut", "lewati", "anonim", "tidak rahasia", "kirim"):
        await t.say(user, line)


async def test_telegram_officer_moves_forward_duplicate_reject_and_lists(world: World) -> None:
    t = TelegramTranscript(world, NAMES)
    await _typed_complaint(t, WARGA, "Jelbuk", "Perkelahian antar pemuda di lapangan Jelbuk tadi malam")
    await _typed_complaint(t, WARGA, "Jelbuk", "Perkelahian pemuda di lapangan Jelbuk semalam, sama seperti tadi")
    await t.press(PETUGAS, "Tandai duplikat", GROUP)  # a petugas may not decide this
    await t.press(KOORDINATOR, "Tandai duplikat", GROUP)
    await note(t, KOORDINATOR, GROUP, "TRB-2026-00001")
    await _typed_complaint(t, WARGA, "Panduman", "Jalan kabupaten berlubang besar di depan SD Panduman")
    await t.say(PETUGAS, "/kasus", PETUGAS)
    await t.say(KOORDINATOR, "/kasus TRB-2026-00003", KOORDINATOR)
    await t.press(KOORDINATOR, "Teruskan (bukan wewenang)", KOORDINATOR)
    await note(t, KOORDINATOR, KOORDINATOR, "Dinas PU Bina Marga Kabupaten Jember")
    await t.press(KOORDINATOR, "Tolak", GROUP)
    await note(t, KOORDINATOR, GROUP, "Perkelahian sudah didamaikan oleh kepala desa sebelum laporan masuk.")
    await t.say(KOORDINATOR, "/daftarkan_grup", KOORDINATOR)
    check("telegram_petugas_duplikat_teruskan", t.lines)


async def test_telegram_survey_typed_and_catat_by_officer(world: World) -> None:
    t = TelegramTranscript(world, NAMES)
    await t.say(WARGA, "/survei")
    await t.say(WARGA, "setuju")
    await t.say(WARGA, "surat keterangan")
    await t.say(WARGA, "34 tahun")
    await t.say(WARGA, "perempuan")
    await t.say(WARGA, "SMA")
    await t.say(WARGA, "Wirausaha")
    for score in "443432344":
        await t.say(WARGA, score)
    await t.say(WARGA, "Antrean di loket sudah lebih tertib, tapi ruang tunggu panas.")
    t.lines.append("")
    await t.say(PETUGAS, "/catat", PETUGAS)
    await t.say(PETUGAS, "surat", PETUGAS)
    await t.say(PETUGAS, "hari ini", PETUGAS)
    await t.say(PETUGAS, "pengaduan", PETUGAS)
    await t.say(PETUGAS, "PKL dan bangunan liar", PETUGAS)
    await t.say(PETUGAS, "sugerkidul", PETUGAS)
    await t.say(PETUGAS, "Lapak PKL menutup trotoar depan pasar Sugerkidul setiap pagi", PETUGAS)
    await t.say(PETUGAS, "Pak Harun (surat tertanggal 28-11-2026)", PETUGAS)
    await t.say(PETUGAS, "tidak rahasia", PETUGAS)
    await t.say(PETUGAS, "kirim", PETUGAS)
    check("telegram_survei_dan_catat", t.lines)


async def test_telegram_iku_table_and_digest_for_the_camat(tmp_path: Path) -> None:
    """What the Camat reads on Monday morning: /iku (the year's table) and /digest (last
    week's summary and its chart), on a small register made through the dialogs in that week."""
    tuesday = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday of 2026-W48, 09.00 WIB
    w, clock, wa = await start_golden_world(tmp_path, now=tuesday)
    try:
        t = TelegramTranscript(w, NAMES)
        await _typed_complaint(t, WARGA, "Jelbuk", "Perkelahian antar pemuda di lapangan Jelbuk tadi malam")
        await _typed_complaint(t, WARGA, "Sukowiryo", "Dua kelompok remaja saling lempar batu di jalan desa Sukowiryo")
        await t.press(PETUGAS, "Verifikasi", GROUP)
        clock.set(tuesday + timedelta(days=1))
        await t.press(PETUGAS, "Tindak lanjuti", GROUP)
        await t.press(PETUGAS, "Selesai", GROUP)
        await note(t, PETUGAS, GROUP, "Kedua pihak didamaikan di balai desa bersama Babinsa.")
        # The register the IKU table reads, entered by the admin (Rina) in her own chat.
        t.lines.clear()
        await t.say(KOORDINATOR, "/iku_kegiatan tambah 2026 | Sosialisasi ketertiban umum | 2026-11-20", KOORDINATOR)
        await t.say(KOORDINATOR, "/iku_kegiatan fasilitasi 1 2026-11-20 | Notulen dan daftar hadir", KOORDINATOR)
        await t.say(KOORDINATOR, "/iku_sakip 2026 72,5 | 700/12/35.09/2026 | 2026-02-20", KOORDINATOR)
        clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Monday 09.00 WIB
        await t.say(PIMPINAN, "/iku", PIMPINAN)
        await t.say(PIMPINAN, "/digest", PIMPINAN)
        check("telegram_iku_dan_ringkasan", t.lines)
    finally:
        await stop_golden_world(w, wa)
