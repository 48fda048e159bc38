# Typing instead of pressing, through router.handle (channel-neutral, so it holds on
# Telegram, WhatsApp and the terminal alike), on both backends: labels in any case and
# spacing, button numbers, answer words, commands without a slash, and what happens to
# descriptions too short to act on.
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Complaint
from tests.test_survey_dialog import WARGA, Chats, labels, resolved_complaint


@pytest.fixture
def chats(db: Database, tmp_path: Path) -> Chats:
    return Chats(db, tmp_path)


def intake_to_description(c: Chats) -> None:
    c.say(WARGA, "menu")  # no slash
    c.say(WARGA, "  BUAT   laporan ")  # the label without its emoji, any case and spacing
    c.say(WARGA, "pengaduan")
    c.say(WARGA, "Minuman Keras")
    c.say(WARGA, "6")  # the sixth desa button: Sukowiryo
    assert c.state(WARGA)["step"] == "uraian"


def test_whole_intake_typed_without_buttons(chats: Chats) -> None:
    c = chats
    intake_to_description(c)
    out = c.say(WARGA, "Pesta miras tiap malam di warung ujung desa")
    assert "foto" in out[-1].text.lower()
    c.say(WARGA, "lanjut")
    c.say(WARGA, "Jl. Raya Sukowiryo dekat balai desa")
    c.say(WARGA, "Sertakan identitas")
    out = c.say(WARGA, "tidak")  # "Tidak rahasia" is the only button starting with "tidak"
    assert "Sifat: tidak rahasia" in out[-1].text and "Desa: Sukowiryo" in out[-1].text
    out = c.say(WARGA, "KIRIM!")
    assert "Nomor tiket" in out[0].text
    with c.db.reading() as s:
        comp = s.scalars(select(Complaint)).one()
        assert (comp.desa, comp.rahasia, comp.address) == ("Sukowiryo", False, "Jl. Raya Sukowiryo dekat balai desa")


def test_an_answer_word_never_picks_a_button_by_its_hidden_value(chats: Chats) -> None:
    c = chats
    intake_to_description(c)
    c.say(WARGA, "Pesta miras tiap malam di warung ujung desa")
    c.say(WARGA, "lewati")  # not a button of the photo step: answered, nothing recorded
    c.say(WARGA, "Lanjut")
    c.say(WARGA, "lewati")
    before = c.state(WARGA)
    # "Apakah identitas Anda boleh diketahui?" "ya" would mean the opposite of the button
    # whose value is "ya" (Anonim): it must not be taken.
    out = c.say(WARGA, "ya")
    assert "pilih salah satu tombol" in " ".join(m.text for m in out)
    assert c.state(WARGA)["step"] == before["step"] == "anonim"


def test_too_short_or_emoji_only_description_is_asked_again_with_an_example(chats: Chats) -> None:
    c = chats
    intake_to_description(c)
    for short in ("😡😡😡", "tolong pak", "jalan rusak!!"):
        out = c.say(WARGA, short)
        assert "terlalu singkat" in out[-1].text and "Contoh:" in out[-1].text, short
        assert c.state(WARGA)["step"] == "uraian"
    c.say(WARGA, "Ada sabung ayam di lapangan")
    assert c.state(WARGA)["step"] == "foto"


def test_second_message_after_the_description_is_offered_to_be_added(chats: Chats) -> None:
    c = chats
    intake_to_description(c)
    c.say(WARGA, "Pesta miras tiap malam di warung ujung desa")
    out = c.say(WARGA, "biasanya mulai jam 10 malam")
    assert "Tambahkan pesan ini ke uraian" in out[-1].text
    assert labels(out) == ["Tambahkan ke uraian", "Tidak", "Lanjut"]
    c.say(WARGA, "tambahkan ke uraian")
    assert c.state(WARGA)["data"]["uraian"] == "Pesta miras tiap malam di warung ujung desa\nbiasanya mulai jam 10 malam"
    c.say(WARGA, "sekali lagi ada yang lain")
    c.say(WARGA, "tidak")  # not added
    state = c.state(WARGA)
    assert state["step"] == "foto" and "sekali lagi" not in state["data"]["uraian"]


def test_typed_belum_reopens_and_status_keeps_the_question(chats: Chats) -> None:
    c = chats
    resolved_complaint(c, WARGA)
    out = c.say(WARGA, "status trb-2026-00001")  # no slash, lower case
    assert "Apakah masalah Anda sudah terselesaikan?" in out[-1].text
    assert labels(out) == ["Ya, sudah", "Belum"]
    out = c.say(WARGA, " Belum. ")
    assert "dibuka kembali" in out[0].text
    with c.db.reading() as s:
        comp = s.scalars(select(Complaint)).one()
        assert (comp.status, comp.reopen_count) == ("ditindaklanjuti", 1)
    out = c.say(WARGA, "TRB-2026-00001")  # a bare ticket number
    assert "Riwayat" in out[-1].text and "Apakah masalah" not in out[-1].text and labels(out) == []
    out = c.say(WARGA, "belum")  # nothing is waiting for an answer any more: no second reopen
    assert "dibuka kembali" not in " ".join(m.text for m in out)


def test_typed_ya_closes_and_cek_works_without_slash(chats: Chats) -> None:
    c = chats
    resolved_complaint(c, WARGA)
    out = c.say(WARGA, "cek TRB-2026-00001")
    assert "TRB-2026-00001" in out[-1].text and "Riwayat" in out[-1].text
    out = c.say(WARGA, "sudah")
    assert "ditutup" in out[0].text
    with c.db.reading() as s:
        assert s.scalars(select(Complaint)).one().feedback == "ya"


def test_register_group_in_private_chat_explains_where_to_send_it(chats: Chats) -> None:
    from storage import people
    from tests.test_survey_dialog import NOW

    c = chats
    with c.db.transaction() as s:
        people.add_officer(s, 2009, "Admin", "admin", NOW)
    out = c.say(2009, "/daftarkan_grup")
    assert "harus dikirim di grup Trantib" in out[-1].text and "@sigap_test_bot" in out[-1].text


def test_page_buttons_are_typed_without_their_arrows() -> None:
    from bot.dialogs.typed import choice_keys, typed_choice
    from bot.dialogs.types import Choice

    offered = choice_keys([Choice("‹ Sebelumnya", "hal:1"), Choice("Berikutnya ›", "hal:3")])
    assert typed_choice(offered, " berikutnya ") == "hal:3"
    assert typed_choice(offered, "Sebelumnya") == "hal:1"
