# Several Telegram bots, one token per kecamatan (issue 14): Arjasa's office file names its
# own token variable, Jelbuk stays on the shared bot. End to end on the Bot API emulator (one
# server, two tokens), on SQLite and PostgreSQL: each resident is answered by the bot they
# wrote to, Arjasa's group card goes out through Arjasa's bot, the inbox and outbox rows say
# which bot, and a token variable nobody filled is refused at start in Indonesian.
from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.service import Service
from bot.channels import telegram_bots
from bot.config.office import OFFICE_DIR, OfficeFileError, load_office
from bot.config.settings import SettingsError, load_settings
from storage import people
from storage.models import Complaint, InboxItem, OutboxItem
from tests.e2e import PETUGAS, WARGA, WARGA2, World, start_world, stop_world

pytestmark = pytest.mark.usefixtures("register")

JELBUK, ARJASA = "35.09.25", "35.09.22"
ARJASA_TOKEN = "654321:ARJASA-token"
VARIABLE = "SIGAP_TELEGRAM_TOKEN_ARJASA"
GROUP_ARJASA = -1005550001111


def office_dir(tmp_path: Path) -> Path:
    """The shipped two offices, Arjasa's naming its own bot's token variable."""
    folder = tmp_path / "kantor"
    folder.mkdir(parents=True)
    shutil.copy(OFFICE_DIR / "jelbuk.toml", folder / "jelbuk.toml")
    text = (OFFICE_DIR / "arjasa.toml").read_text(encoding="utf-8")
    assert "\n[chat]\n" in text
    (folder / "arjasa.toml").write_text(
        text.replace("\n[chat]\n", f'\n[chat]\ntelegram_token_env = "{VARIABLE}"\n', 1), encoding="utf-8")
    return folder


@pytest.fixture
async def worlds(tmp_path: Path) -> AsyncIterator[tuple[World, World]]:
    """(the shared bot's world, Arjasa's bot's world): one Service, one emulator server."""
    w = await start_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(office_dir(tmp_path)), VARIABLE: ARJASA_TOKEN})
    (emu_a,) = w.emu.other_bots
    emu_a.group(GROUP_ARJASA, "Trantib Arjasa")
    with w.service.db.transaction(ARJASA) as s:
        now = datetime.now(UTC)
        people.add_officer(s, PETUGAS, "Budi", "petugas", now)
        people.set_setting(s, "trantib_group", str(GROUP_ARJASA), now)
    try:
        yield w, World(emu_a, w.service)
    finally:
        await stop_world(w)


async def file_complaint(w: World, user: int, desa: str) -> str:
    await w.press(user, "📝 Buat laporan")
    await w.press(user, "Pengaduan")
    await w.press(user, "Minuman keras")
    await w.press(user, desa)
    await w.say(user, "Pesta miras tiap malam di warung ujung desa")
    await w.press(user, "Lanjut")
    await w.press(user, "Lewati")
    await w.press(user, "Sertakan identitas")
    await w.press(user, "Tidak rahasia")
    await w.press(user, "Kirim")
    text = w.last(user).text or ""
    assert "Nomor tiket" in text, text
    return text.split("Nomor tiket: ")[1].split()[0]


def _rows(w: World) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    with w.service.db.reading() as s:
        inbox = [(i.source, str((i.payload.get("message") or i.payload.get("callback_query") or {}).get("from", {})
                                .get("id"))) for i in s.scalars(select(InboxItem).order_by(InboxItem.id))]
        outbox = [(o.channel, o.chat_id) for o in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    return inbox, outbox


async def test_each_resident_is_answered_by_the_bot_they_wrote_to(worlds: tuple[World, World]) -> None:
    shared, arjasa = worlds
    # Arjasa's own bot: no question, Arjasa's menu at once, the reply from Arjasa's bot.
    await arjasa.say(WARGA2, "/start")
    assert "SIGAP Kecamatan Arjasa" in (arjasa.last(WARGA2).text or "")
    assert not any("Pilih kecamatan" in t for t in arjasa.texts(WARGA2))
    ticket_a = await file_complaint(arjasa, WARGA2, "Arjasa")
    assert ticket_a.startswith("ARJ-")
    assert shared.in_chat(WARGA2) == []  # the shared bot never wrote to them
    # The group card went out through Arjasa's bot, to Arjasa's group.
    assert any(ticket_a in (o.text or "") for o in arjasa.in_chat(GROUP_ARJASA))
    assert shared.in_chat(GROUP_ARJASA) == []

    # The shared bot still asks; Arjasa is offered as a link to its own bot, not as a choice.
    await shared.say(WARGA, "/start")
    question = shared.emu.messages_in(WARGA)[-1]
    assert "Pilih kecamatan" in question["text"]
    buttons = [b for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert {"text": "Kecamatan Arjasa", "url": "https://t.me/sigap_arjasa_bot"} in buttons
    await shared.press(WARGA, "Kecamatan Jelbuk")
    ticket_j = await file_complaint(shared, WARGA, "Sukowiryo")
    assert ticket_j.startswith("TRB-")
    assert arjasa.in_chat(WARGA) == []

    inbox, outbox = _rows(shared)
    # The inbox records the bot each update came through, the outbox the bot that sends.
    assert {src for src, user in inbox if user == str(WARGA2)} == {f"telegram:{ARJASA}"}
    assert {src for src, user in inbox if user == str(WARGA)} == {"telegram"}
    assert {ch for ch, chat in outbox if chat in (str(WARGA2), str(GROUP_ARJASA))} == {f"telegram:{ARJASA}"}
    assert {ch for ch, chat in outbox if chat == str(WARGA)} == {"telegram"}
    channels = {}
    for kode in (JELBUK, ARJASA):
        with shared.service.db.transaction(kode) as s:
            # The complaint itself is an ordinary Telegram complaint of its kecamatan (IKU channels).
            channels.update({c.ticket: c.channel for c in s.scalars(select(Complaint))})
    assert channels == {ticket_a: "telegram", ticket_j: "telegram"}


async def test_the_officers_press_in_the_kecamatan_group_is_answered_by_its_bot(worlds: tuple[World, World]) -> None:
    shared, arjasa = worlds
    await arjasa.say(WARGA2, "/start")
    await file_complaint(arjasa, WARGA2, "Arjasa")
    await arjasa.press(PETUGAS, "Verifikasi", GROUP_ARJASA)
    # The card is edited, and the resident told, through Arjasa's bot.
    assert "Diverifikasi" in (arjasa.last(WARGA2).text or "")
    assert shared.in_chat(WARGA2) == [] and shared.in_chat(GROUP_ARJASA) == []


async def test_one_user_has_a_dialog_with_each_bot(worlds: tuple[World, World]) -> None:
    shared, arjasa = worlds
    await shared.say(WARGA, "/start")
    await shared.press(WARGA, "Kecamatan Jelbuk")
    await shared.press(WARGA, "📝 Buat laporan")
    # Halfway through a report to the shared bot, the same person opens Arjasa's bot: its
    # dialog is its own, and the half-made report on the shared bot is still there.
    await arjasa.say(WARGA, "/start")
    assert "SIGAP Kecamatan Arjasa" in (arjasa.last(WARGA).text or "")
    await shared.press(WARGA, "Pengaduan")
    assert "Minuman keras" in str(shared.emu.messages_in(WARGA)[-1].get("reply_markup"))


def test_a_token_variable_nobody_filled_is_refused_in_indonesian(tmp_path: Path) -> None:
    settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_OFFICE_DIR": str(office_dir(tmp_path))},
                             env_file=None)
    with pytest.raises(SettingsError) as refused:
        Service(settings, token="123456:TEST-token")
    assert str(refused.value).startswith(f"{VARIABLE} belum diisi: berkas kantor Kecamatan Arjasa meminta bot")
    # Filled: the tokens by kecamatan; the token itself is never in repr().
    filled = load_settings(env={"SIGAP_OFFICE_DIR": str(office_dir(tmp_path / "b")), VARIABLE: ARJASA_TOKEN},
                           env_file=None)
    offices = {k: load_office(p) for k, p in ((JELBUK, OFFICE_DIR / "jelbuk.toml"),
                                                (ARJASA, tmp_path / "b" / "kantor" / "arjasa.toml"))}
    assert filled.bot_tokens(offices) == {ARJASA: ARJASA_TOKEN}
    assert ARJASA_TOKEN not in repr(filled)


def test_an_office_file_names_a_variable_never_the_token(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    text = (office_dir(tmp_path) / "arjasa.toml").read_text(encoding="utf-8")
    for wrong in (ARJASA_TOKEN, "ARJASA_TOKEN", "SIGAP_TELEGRAM_TOKEN_"):
        path = tmp_path / "b" / "arjasa.toml"
        path.write_text(text.replace(f'"{VARIABLE}"', f'"{wrong}"'), encoding="utf-8")
        with pytest.raises(OfficeFileError) as refused:
            load_office(path)
        assert "harus NAMA variabel environment" in str(refused.value) and ARJASA_TOKEN not in str(refused.value)


def test_bot_names_fit_the_columns_and_webhooks_differ() -> None:
    channel = telegram_bots.channel_of(ARJASA)
    assert (channel, telegram_bots.kode_of(channel), telegram_bots.kode_of("telegram")) == (
        "telegram:35.09.22", ARJASA, None)
    assert len(channel) <= min(InboxItem.source.type.length, OutboxItem.channel.type.length)  # type: ignore[attr-defined]
    assert telegram_bots.webhook_path("/telegram", ARJASA) == "/telegram/350922"
    assert telegram_bots.webhook_secret("s3cret", ARJASA) != telegram_bots.webhook_secret("s3cret", JELBUK)


async def test_the_sandbox_talks_to_each_bot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.app.sandbox import run_sandbox
    from tests.e2e import register_env

    script = tmp_path / "naskah.txt"
    # No token anywhere: the sandbox makes one up for Arjasa's bot, on the same emulator.
    script.write_text("/start\n/bot arjasa\n/start\n/sebagai petugas\n/bot bersama\n/keluar\n", encoding="utf-8")
    env = {"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_OFFICE_DIR": str(office_dir(tmp_path)), **register_env()}
    assert await run_sandbox(load_settings(env=env, env_file=None), script) == 0
    out = capsys.readouterr().out
    shared, _, arjasa = out.partition("> /bot arjasa")
    assert "[Warga, bot bersama] bot:" in shared and "Pilih kecamatan" in shared
    assert "Kecamatan Arjasa  (tautan)" in shared  # a link to Arjasa's own bot
    assert "[Warga, bot arjasa] bot:" in arjasa and "SIGAP Kecamatan Arjasa" in arjasa
    assert "Pilih kecamatan" not in arjasa
    assert "Sekarang Anda petugas, di Grup Trantib." in arjasa
    assert "Sekarang Anda bicara dengan bot bersama, di Grup Trantib." in arjasa


async def test_in_webhook_mode_each_bot_posts_to_its_own_path_with_its_own_secret(tmp_path: Path) -> None:
    import socket

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url, secret = f"http://127.0.0.1:{port}/telegram", "rahasia-bersama"
    w = await start_world(tmp_path, env={
        "SIGAP_OFFICE_DIR": str(office_dir(tmp_path)), VARIABLE: ARJASA_TOKEN, "SIGAP_TELEGRAM_MODE": "webhook",
        "SIGAP_TELEGRAM_WEBHOOK_URL": url, "SIGAP_TELEGRAM_WEBHOOK_SECRET": secret, "SIGAP_WEB_PORT": str(port)})
    try:
        (emu_a,) = w.emu.other_bots
        arjasa = World(emu_a, w.service)
        hook = emu_a.webhook()
        assert hook["url"] == f"{url}/350922" and hook["secret_token"] == telegram_bots.webhook_secret(secret, ARJASA)
        assert hook["secret_token"] != secret and w.emu.webhook()["url"] == url
        await arjasa.say(WARGA2, "/start")
        assert "SIGAP Kecamatan Arjasa" in (arjasa.last(WARGA2).text or "")
        assert emu_a.calls["getUpdates"] == 0  # it came by webhook
        inbox, _ = _rows(w)
        assert inbox == [(f"telegram:{ARJASA}", str(WARGA2))]
        # The shared bot's secret does not open Arjasa's path.
        update = {"update_id": 999_999, "message": {"message_id": 1, "date": 0, "chat": {"id": WARGA, "type": "private"},
                                                    "text": "/start"}}
        async with aiohttp.ClientSession() as http, http.post(f"{url}/350922", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
            assert resp.status == 403
        assert len(_rows(w)[0]) == 1
    finally:
        await stop_world(w)
