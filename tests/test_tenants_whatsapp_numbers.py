# A kecamatan's own WhatsApp number (issue 14), as a kecamatan's own Telegram bot: Arjasa's
# office file names its phone number id, Jelbuk stays on the shared number. End to end through
# the real pywa client against the Graph API emulator (two numbers of one account), on SQLite
# and PostgreSQL: a resident writing to Arjasa's number is in Arjasa without picking and is
# answered FROM that number; one on the shared number still picks; a webhook to a number the
# deployment does not serve is dropped; the office file keys are checked with Indonesian
# messages; the printed card's wa.me link opens the kecamatan's own number.
from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels import whatsapp_numbers
from bot.config.office import OFFICE_DIR, OfficeFileError, load_office, load_offices
from bot.emulators.whatsapp import Sent
from storage import people
from storage.models import Complaint, InboxItem, OutboxItem
from tests.e2e import PETUGAS
from tests.e2e_whatsapp import WA_WARGA, WA_WARGA2, WaWorld, start_wa_world, stop_wa_world

pytestmark = pytest.mark.usefixtures("register")

JELBUK, ARJASA = "35.09.25", "35.09.22"
ARJASA_PHONE_ID = "209876543210987"  # made up: the shipped office files name no number
ARJASA_NUMBER = "6281100002222"
UNKNOWN_PHONE_ID = "111122223333444"
GROUP_ARJASA = -1005550001111


def office_dir(tmp_path: Path, chat_lines: str | None = None) -> Path:
    """The shipped two offices, Arjasa's [chat] naming its own WhatsApp number (or `chat_lines`)."""
    folder = tmp_path / "kantor"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(OFFICE_DIR / "jelbuk.toml", folder / "jelbuk.toml")
    text = (OFFICE_DIR / "arjasa.toml").read_text(encoding="utf-8")
    assert "\n[chat]\n" in text and "whatsapp_phone_id" not in text
    lines = chat_lines if chat_lines is not None else (
        f'whatsapp_phone_id = "{ARJASA_PHONE_ID}"\nwhatsapp_number = "{ARJASA_NUMBER}"\n')
    (folder / "arjasa.toml").write_text(text.replace("\n[chat]\n", f"\n[chat]\n{lines}", 1), encoding="utf-8")
    return folder


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WaWorld]:
    w = await start_wa_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(office_dir(tmp_path))})
    # One WhatsApp Business account, two numbers; the deployment's token sends from both.
    w.wa.add_number(ARJASA_PHONE_ID, ARJASA_NUMBER)
    try:
        yield w
    finally:
        await stop_wa_world(w)


async def say(w: WaWorld, user: str, text: str, phone_id: str) -> None:
    assert await w.wa_post(w.wa.text(user, text, phone_id=phone_id)) == 200


async def press(w: WaWorld, user: str, label: str) -> None:
    # The press goes to the number whose message showed the button (the emulator's rule).
    assert await w.wa_post(w.wa.reply_to(user, label)) == 200


async def file_complaint(w: WaWorld, user: str, desa: str, phone_id: str) -> str:
    await press(w, user, "📝 Buat laporan")
    await press(w, user, "Pengaduan")
    await press(w, user, "Minuman keras")
    await press(w, user, desa)
    await say(w, user, "Pesta miras tiap malam di warung ujung desa", phone_id)
    await say(w, user, "Lanjut", phone_id)
    await say(w, user, "Jalan Raya Arjasa dekat balai desa", phone_id)
    await press(w, user, "Sertakan identitas")
    await press(w, user, "Tidak rahasia")
    assert "Periksa laporan Anda" in (w.wa_last(user).text or "")
    await press(w, user, "Kirim")
    text = w.wa_last(user).text or ""
    assert "Nomor tiket" in text, text
    return text.split("Nomor tiket: ")[1].split()[0].strip("*")


def senders(sent: list[Sent]) -> set[str]:
    return {s.phone_id for s in sent}


def outbox_channels(w: WaWorld, user: str) -> set[str]:
    # SIGAP addresses a WhatsApp user by their business-scoped id when Meta gives one.
    chats = (user, w.wa.bsuid(user))
    with w.service.db.reading() as s:
        return {o.channel for o in s.scalars(select(OutboxItem).where(OutboxItem.chat_id.in_(chats)))}


async def test_a_resident_on_arjasas_number_is_in_arjasa_and_answered_from_it(world: WaWorld) -> None:
    w = world
    await say(w, WA_WARGA, "Halo", ARJASA_PHONE_ID)
    first = w.wa_last(WA_WARGA)
    # No question: Arjasa's menu at once, from Arjasa's number.
    assert "Arjasa" in (first.text or "") and first.phone_id == ARJASA_PHONE_ID
    assert not any("Pilih kecamatan" in t for t in w.wa_texts(WA_WARGA))
    ticket = await file_complaint(w, WA_WARGA, "Arjasa", ARJASA_PHONE_ID)
    assert ticket.startswith("ARJ-")
    # Everything the resident read came from Arjasa's number; the shared one never wrote.
    assert senders(w.wa.messages_to(WA_WARGA)) == {ARJASA_PHONE_ID}
    assert w.wa.messages_to(WA_WARGA, w.wa.phone_id) == []
    assert f"Nomor tiket: {ticket}" in (w.wa.last_to(WA_WARGA, ARJASA_PHONE_ID).text or "").replace("*", "")
    # The outbox names the number that sent; the complaint is an ordinary WhatsApp one of Arjasa.
    assert outbox_channels(w, WA_WARGA) == {f"whatsapp:{ARJASA}"}
    with w.service.db.reading(ARJASA) as s:
        assert [(c.ticket, c.channel) for c in s.scalars(select(Complaint))] == [(ticket, "whatsapp")]
    with w.service.db.reading(JELBUK) as s:
        assert list(s.scalars(select(Complaint))) == []


async def test_the_officers_notice_goes_out_from_arjasas_number(world: WaWorld) -> None:
    w = world
    w.emu.group(GROUP_ARJASA, "Trantib Arjasa")
    with w.service.db.transaction(ARJASA) as s:
        now = datetime.now(UTC)
        people.add_officer(s, PETUGAS, "Budi", "petugas", now)
        people.set_setting(s, "trantib_group", str(GROUP_ARJASA), now)
    await say(w, WA_WARGA, "Halo", ARJASA_PHONE_ID)
    ticket = await file_complaint(w, WA_WARGA, "Arjasa", ARJASA_PHONE_ID)
    assert any(ticket in (o.text or "") for o in w.in_chat(GROUP_ARJASA))
    before = w.wa.mark()
    await w.press(PETUGAS, "Verifikasi", GROUP_ARJASA)
    told = [m for m in w.wa.sent[before:] if m.user == WA_WARGA]
    assert told and all(m.phone_id == ARJASA_PHONE_ID for m in told), told
    assert "Diverifikasi" in (told[-1].text or "") or "diverifikasi" in (told[-1].text or "")


async def test_a_resident_on_the_shared_number_still_picks(world: WaWorld) -> None:
    w = world
    await say(w, WA_WARGA2, "Halo", w.wa.phone_id)
    question = w.wa_last(WA_WARGA2)
    assert "Pilih kecamatan" in (question.text or "") and question.phone_id == w.wa.phone_id
    # Arjasa has a number of its own: the question links to it, and does not take it here
    # (its notices come from its own number, where this resident has not written).
    offered = [title for title, _ in question.buttons] + [title for title, _, _ in question.rows]
    assert "Kecamatan Jelbuk" in offered and "Kecamatan Arjasa" not in offered
    assert f"Kecamatan Arjasa: https://wa.me/{ARJASA_NUMBER}" in (question.text or "")
    await say(w, WA_WARGA2, "arjasa", w.wa.phone_id)
    assert "Pilih kecamatan" in (w.wa_last(WA_WARGA2).text or "")
    await press(w, WA_WARGA2, "Kecamatan Jelbuk")
    ticket = await file_complaint(w, WA_WARGA2, "Sukowiryo", w.wa.phone_id)
    assert ticket.startswith("TRB-")
    assert senders(w.wa.messages_to(WA_WARGA2)) == {w.wa.phone_id}
    assert outbox_channels(w, WA_WARGA2) == {"whatsapp"}


async def test_one_user_has_a_dialog_with_each_number(world: WaWorld) -> None:
    w = world
    await say(w, WA_WARGA, "Halo", w.wa.phone_id)
    assert "Pilih kecamatan" in (w.wa_last(WA_WARGA).text or "")
    # The same person writes to Arjasa's number: no question there, Arjasa's own dialog.
    await say(w, WA_WARGA, "Halo", ARJASA_PHONE_ID)
    own = w.wa.last_to(WA_WARGA, ARJASA_PHONE_ID)
    assert "Arjasa" in (own.text or "") and "Pilih kecamatan" not in (own.text or "")
    # The shared number's question still waits for its answer there.
    assert await w.wa_post(w.wa.reply_to(WA_WARGA, "Kecamatan Jelbuk", phone_id=w.wa.phone_id)) == 200
    assert w.wa.last_to(WA_WARGA).phone_id == w.wa.phone_id
    assert "Jelbuk" in (w.wa.last_to(WA_WARGA).text or "")


async def test_a_webhook_to_a_number_nobody_serves_is_dropped(world: WaWorld, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    before = w.wa.mark()
    with caplog.at_level(logging.WARNING, logger="bot.channels.whatsapp"):
        assert await w.wa_post(w.wa.text(WA_WARGA, "Halo", phone_id=UNKNOWN_PHONE_ID)) == 200
    assert f"webhook WhatsApp untuk nomor {UNKNOWN_PHONE_ID} diabaikan" in caplog.text
    assert w.wa.sent[before:] == [] and w.wa.refused == []
    with w.service.db.reading() as s:
        assert list(s.scalars(select(InboxItem))) == []
    # The numbers it does serve carry on.
    await say(w, WA_WARGA, "Halo", ARJASA_PHONE_ID)
    assert w.wa_last(WA_WARGA).phone_id == ARJASA_PHONE_ID


def test_number_names_fit_the_column() -> None:
    channel = whatsapp_numbers.channel_of(ARJASA)
    assert (channel, whatsapp_numbers.kode_of(channel), whatsapp_numbers.kode_of("whatsapp")) == (
        "whatsapp:35.09.22", ARJASA, None)
    assert len(channel) <= OutboxItem.channel.type.length  # type: ignore[attr-defined]


def test_the_office_file_keys(tmp_path: Path) -> None:
    offices = load_offices(office_dir(tmp_path))
    assert (offices[ARJASA].whatsapp_phone_id, offices[ARJASA].whatsapp_number) == (ARJASA_PHONE_ID, ARJASA_NUMBER)
    assert (offices[JELBUK].whatsapp_phone_id, offices[JELBUK].whatsapp_number) == (None, None)
    assert whatsapp_numbers.phone_ids(offices) == {ARJASA_PHONE_ID: ARJASA}
    assert whatsapp_numbers.link_number(offices[ARJASA], "6281100001111") == ARJASA_NUMBER
    assert whatsapp_numbers.link_number(offices[JELBUK], "6281100001111") == "6281100001111"


@pytest.mark.parametrize(("lines", "message"), [
    ('whatsapp_phone_id = "6281100002222x"\n', "chat.whatsapp_phone_id harus ID nomor telepon WhatsApp"),
    ("whatsapp_phone_id = 209876543210987\n", "kunci 'chat.whatsapp_phone_id' harus bertipe str"),
    ('whatsapp_phone_id = "EAAG-token-here"\n', "chat.whatsapp_phone_id harus ID nomor telepon WhatsApp"),
    (f'whatsapp_number = "{ARJASA_NUMBER}"\n', "chat.whatsapp_number hanya untuk kecamatan dengan nomor WhatsApp sendiri"),
    (f'whatsapp_phone_id = "{ARJASA_PHONE_ID}"\nwhatsapp_number = "081100002222"\n',
     "chat.whatsapp_number harus nomor WhatsApp dalam bentuk internasional"),
    (f'whatsapp_phone_id = "{ARJASA_PHONE_ID}"\nwhatsapp_number = "+62 811"\n',
     "chat.whatsapp_number harus nomor WhatsApp dalam bentuk internasional"),
])
def test_a_wrong_office_file_key_is_refused_in_indonesian(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(OfficeFileError) as refused:
        load_office(office_dir(tmp_path, lines) / "arjasa.toml")
    assert str(refused.value).startswith("Berkas kantor: ") and message in str(refused.value)


def test_two_kecamatan_cannot_share_a_number(tmp_path: Path) -> None:
    folder = office_dir(tmp_path)
    jelbuk = folder / "jelbuk.toml"
    text = jelbuk.read_text(encoding="utf-8")
    jelbuk.write_text(text.replace("\n[chat]\n", f'\n[chat]\nwhatsapp_phone_id = "{ARJASA_PHONE_ID}"\n', 1),
                      encoding="utf-8")
    with pytest.raises(OfficeFileError) as refused:
        load_offices(folder)
    assert str(refused.value) == (f"Berkas kantor jelbuk.toml: chat.whatsapp_phone_id {ARJASA_PHONE_ID} sudah "
                                  "dipakai Kecamatan Arjasa; satu nomor WhatsApp hanya untuk satu kecamatan.")


def _svg_texts(path: Path) -> list[str]:
    from xml.etree import ElementTree as ET

    return [t.text or "" for t in ET.parse(path).getroot().iter() if t.tag.endswith("text")]


def test_a_printed_card_opens_the_kecamatans_own_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.sigap import main

    monkeypatch.chdir(tmp_path)
    env = {"SIGAP_DATA_DIR": str(tmp_path / "data"), "SIGAP_TELEGRAM_BOT_USERNAME": "kantor_jelbuk_bot",
           "SIGAP_WHATSAPP_TOKEN": "t", "SIGAP_WHATSAPP_PHONE_ID": "106540352242922",
           "SIGAP_WHATSAPP_APP_SECRET": "s", "SIGAP_WHATSAPP_VERIFY_TOKEN": "v",
           "SIGAP_WHATSAPP_NUMBER": "6281100001111", "SIGAP_OFFICE_DIR": str(office_dir(tmp_path / "a"))}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("SIGAP_OFFICE_FILE", "SIGAP_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)

    def card(name: str, *kecamatan: str) -> tuple[list[str], str]:
        assert main(["skm", "qr", "--layanan", "ktp-kk", "--out", str(tmp_path / name), *kecamatan]) == 0
        return _svg_texts(tmp_path / name), capsys.readouterr().err

    texts, err = card("arjasa.svg", "--kecamatan", ARJASA)
    assert texts[-1] == f"WhatsApp: wa.me/{ARJASA_NUMBER}?text=survei" and err == ""
    texts, err = card("jelbuk.svg")
    assert texts[-1] == "WhatsApp: wa.me/6281100001111?text=survei" and err == ""
    # Its own number without the number itself: no link to the shared one, and a hint.
    monkeypatch.setenv("SIGAP_OFFICE_DIR", str(office_dir(tmp_path / "b", f'whatsapp_phone_id = "{ARJASA_PHONE_ID}"\n')))
    texts, err = card("tanpa.svg", "--kecamatan", ARJASA)
    assert not any(t.startswith("WhatsApp:") for t in texts)
    assert err == ("Catatan: isi chat.whatsapp_number di berkas kantor Kecamatan Arjasa (mis. 6281234567890) "
                   "agar kartu memuat tautan WhatsApp.\n")


def test_a_kecamatan_number_needs_whatsapp_set_up(tmp_path: Path) -> None:
    from bot.app.service import Service
    from bot.config.settings import SettingsError, load_settings

    settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_OFFICE_DIR": str(office_dir(tmp_path))},
                             env_file=None)
    with pytest.raises(SettingsError) as refused:
        Service(settings, token="123456:TEST-token")
    assert str(refused.value).startswith("Berkas kantor Kecamatan Arjasa memakai nomor WhatsApp sendiri "
                                         "(chat.whatsapp_phone_id), tetapi WhatsApp belum diatur")
    # Nor may the shared number be a kecamatan's own.
    wa = {"SIGAP_WHATSAPP_TOKEN": "t", "SIGAP_WHATSAPP_PHONE_ID": ARJASA_PHONE_ID, "SIGAP_WHATSAPP_APP_SECRET": "s",
          "SIGAP_WHATSAPP_VERIFY_TOKEN": "v"}
    settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_OFFICE_DIR": str(office_dir(tmp_path)),
                                  **wa}, env_file=None)
    with pytest.raises(SettingsError) as refused:
        Service(settings, token="123456:TEST-token")
    assert str(refused.value) == (f"SIGAP_WHATSAPP_PHONE_ID {ARJASA_PHONE_ID} juga chat.whatsapp_phone_id berkas "
                                  "kantor Kecamatan Arjasa: nomor bersama dan nomor kecamatan harus berbeda.")
