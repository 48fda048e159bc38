# The Telegram Bot API emulator, driven by the real python-telegram-bot (no mocks): if PTB can
# talk to it the way it talks to api.telegram.org, the bot's own tests can trust it.
from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.emulators import BotApiEmulator, buttons, parse_formatted_text

TOKEN = "123456:TEST"
ALICE = 1001


def png(width: int, height: int) -> bytes:
    """A tiny valid PNG, so the emulator can read real dimensions."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        emulator.user(ALICE, "Alice", "alice")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def test_get_me_and_send_inline_keyboard(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "sigap_bot" and me.is_bot and me.id == 123456

    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ya", callback_data="yes"),
                InlineKeyboardButton("Tidak", callback_data="no"),
            ]
        ]
    )
    message = await bot.send_message(ALICE, "Lanjutkan?", reply_markup=keyboard)

    assert message.text == "Lanjutkan?"
    assert message.chat.id == ALICE and message.from_user is not None and message.from_user.is_bot
    assert message.reply_markup == keyboard
    [out] = emu.sent
    assert (out.method, out.chat_id, out.message_id, out.text) == (
        "sendMessage",
        ALICE,
        message.message_id,
        "Lanjutkan?",
    )
    assert out.buttons == [("Ya", "yes"), ("Tidak", "no")]
    assert emu.calls["sendMessage"] == 1


async def test_get_updates_offset_semantics(emu: BotApiEmulator, bot: Bot) -> None:
    first, second, third = (emu.send_text(ALICE, f"pesan {n}") for n in range(3))
    assert emu.pending_updates() == 3

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [
        first["update_id"],
        second["update_id"],
        third["update_id"],
    ]
    # Returning updates does not confirm them; an offset does, for good.
    assert emu.pending_updates() == 3
    updates = await bot.get_updates(offset=second["update_id"])
    assert [u.message.text for u in updates if u.message] == ["pesan 1", "pesan 2"]
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [second["update_id"], third["update_id"]]

    await bot.get_updates(offset=third["update_id"] + 1, timeout=0)
    assert emu.pending_updates() == 0

    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.0

    async def later() -> None:
        await asyncio.sleep(0.2)
        emu.send_text(ALICE, "datang")

    started = time.monotonic()
    task = asyncio.create_task(later())
    updates = await bot.get_updates(timeout=5)
    await task
    assert [u.message.text for u in updates if u.message] == ["datang"]
    assert time.monotonic() - started < 1.5


async def test_newer_poll_terminates_older_one(emu: BotApiEmulator) -> None:
    # What happens when a restarted bot polls while its dead predecessor's poll still waits.
    async with (
        Bot(TOKEN, base_url=emu.base_url) as first,
        Bot(TOKEN, base_url=emu.base_url) as second,
    ):
        older = asyncio.create_task(first.get_updates(timeout=5))
        await emu.wait_until(lambda: emu.polls_waiting == 1)
        newer = asyncio.create_task(second.get_updates(timeout=5))
        with pytest.raises(Conflict):
            await older
        emu.send_text(ALICE, "halo")
        assert [u.message.text for u in await newer if u.message] == ["halo"]


async def test_raw_updates_and_message_management(emu: BotApiEmulator, bot: Bot) -> None:
    update = emu.inject(
        {
            "message": {
                "message_id": 50,
                "date": 1_700_000_000,
                "chat": {"id": 2002, "type": "private", "first_name": "Budi"},
                "from": {"id": 2002, "is_bot": False, "first_name": "Budi"},
                "text": "mentah",
            }
        }
    )
    [received] = await bot.get_updates()
    assert received.update_id == update["update_id"] and received.message is not None
    # The injected message is real to the emulator: the bot can quote it, and ids move on.
    reply = await received.message.reply_text("diterima", do_quote=True)
    assert reply.message_id == 51 and reply.reply_to_message is not None

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    menu = await bot.send_message(2002, "menu", reply_markup=keyboard)
    await bot.edit_message_reply_markup(2002, menu.message_id, reply_markup=None)
    assert "reply_markup" not in emu.messages_in(2002)[-1]
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_reply_markup(2002, menu.message_id, reply_markup=None)
    assert await bot.delete_message(2002, menu.message_id)
    assert [m["text"] for m in emu.history(2002)] == ["mentah", "diterima"]
    assert [o.method for o in emu.sent] == [
        "sendMessage",
        "sendMessage",
        "editMessageReplyMarkup",
        "deleteMessage",
    ]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(2002, menu.message_id)

    press = emu.press(2002, reply.to_dict(), "anything", strict=False)
    query_id = press["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="ok", show_alert=True)
    assert emu.answered_callbacks[-1].show_alert
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_polling_application_round_trip(emu: BotApiEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and context.args is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lapor", callback_data="lapor")]])
        await update.effective_message.reply_text(
            f"Selamat datang ({' '.join(context.args) or '-'})", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Oke")
        await query.edit_message_text(f"Anda memilih {query.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=5)
    try:
        emu.send_text(ALICE, "/start skm")
        welcome = await emu.wait_for(lambda o: o.chat_id == ALICE)
        assert welcome.text == "Selamat datang (skm)"
        assert welcome.buttons == [("Lapor", "lapor")]

        emu.send_text(ALICE, "apa kabar")
        assert (await emu.wait_for(lambda o: o.chat_id == ALICE)).text == "apa kabar"

        press = emu.press(ALICE, welcome.message, "lapor")
        edited = await emu.wait_for(lambda o: o.method == "editMessageText")
        assert edited.message_id == welcome.message_id
        [answer] = emu.answered_callbacks
        assert answer.callback_query_id == press["callback_query"]["id"]
        assert (answer.text, answer.data) == ("Oke", "lapor")
        current = {m["message_id"]: m for m in emu.messages_in(ALICE)}[welcome.message_id]
        assert current["text"] == "Anda memilih lapor"
        # Telegram drops the keyboard when an edit does not resend it.
        assert "reply_markup" not in current
        with pytest.raises(ValueError, match="no button"):
            emu.press(ALICE, welcome.message_id, "lapor")
        await emu.wait_idle()
        assert emu.pending_updates() == 0
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    # The updater's final getUpdates confirmed everything it had fetched.
    assert emu.pending_updates() == 0


async def test_photo_upload_and_download(emu: BotApiEmulator, bot: Bot) -> None:
    image = png(400, 300)
    update = Update.de_json(emu.send_photo(ALICE, image, caption="Sampah menumpuk"), bot)
    assert update is not None and update.message is not None
    assert update.message.caption == "Sampah menumpuk"
    largest = update.message.photo[-1]
    assert (largest.width, largest.height) == (400, 300)
    assert [p.width for p in update.message.photo] == [90, 320, 400]

    telegram_file = await bot.get_file(largest.file_id)
    assert telegram_file.file_path is not None and telegram_file.file_path.startswith(
        emu.base_file_url
    )
    assert bytes(await telegram_file.download_as_bytearray()) == image
    buffer = io.BytesIO()
    await telegram_file.download_to_memory(buffer)
    assert buffer.getvalue() == image

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tindak lanjut", callback_data="x")]])
    sent = await bot.send_photo(
        ALICE,
        InputFile(png(20, 10), filename="bukti.png"),
        caption="<b>Bukti</b> 1",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    assert sent.caption == "Bukti 1"
    assert sent.caption_entities[0].type == "bold"
    assert sent.reply_markup == keyboard
    out = emu.sent[-1]
    assert out.method == "sendPhoto" and out.photo == sent.photo[-1].file_id
    assert emu.file_bytes(out.photo) == png(20, 10)
    # Resending by file_id reuses the stored photo.
    again = await bot.send_photo(ALICE, sent.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id

    album = await bot.send_media_group(
        ALICE,
        [InputMediaPhoto(png(8, 8), caption="a"), InputMediaPhoto(sent.photo[-1].file_id)],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "a"


async def test_location_and_other_user_messages(emu: BotApiEmulator, bot: Bot) -> None:
    updates = [
        emu.send_location(ALICE, -8.06, 113.76),
        emu.send_sticker(ALICE),
        emu.send_voice(ALICE),
        emu.send_video(ALICE),
        emu.send_document(ALICE, b"%PDF-1.4", "surat.pdf"),
        emu.send_contact(ALICE, "+6281234567890"),
    ]
    parsed = [Update.de_json(u, bot) for u in updates]
    messages = [u.message for u in parsed if u is not None and u.message is not None]
    assert messages[0].location is not None and messages[0].location.latitude == -8.06
    assert messages[1].sticker is not None and messages[2].voice is not None
    assert messages[3].video is not None
    assert messages[4].document is not None and messages[4].document.file_name == "surat.pdf"
    assert messages[5].contact is not None and messages[5].contact.user_id == ALICE
    assert len({m.message_id for m in messages}) == len(messages)
    document = await bot.get_file(messages[4].document.file_id)
    assert bytes(await document.download_as_bytearray()) == b"%PDF-1.4"

    location = await bot.send_location(ALICE, latitude=-8.06, longitude=113.76)
    assert location.location is not None and location.location.longitude == 113.76
    assert emu.sent[-1].location == {"latitude": -8.06, "longitude": 113.76}
    await bot.send_chat_action(ALICE, "typing")
    assert emu.chat_actions == [(ALICE, "typing")]


async def test_group_commands_and_reply_keyboards(emu: BotApiEmulator, bot: Bot) -> None:
    group = emu.group(-1001234, "Petugas Jelbuk")
    update = emu.send_text(ALICE, "/start@sigap_bot laporan", chat=group)
    message = update["message"]
    assert message["chat"]["type"] == "supergroup"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 16}]

    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Kirim lokasi", request_location=True)]])
    sent = await bot.send_message(ALICE, "Bagikan lokasi", reply_markup=keyboard)
    assert sent.reply_markup is None  # reply keyboards belong to the chat, not the message
    assert emu.sent[-1].reply_markup == keyboard.to_dict()
    assert buttons(emu.reply_keyboard(ALICE)) == [("Kirim lokasi", None)]
    await bot.send_message(ALICE, "Terima kasih", reply_markup=ReplyKeyboardRemove())
    assert emu.reply_keyboard(ALICE) is None

    reply = await bot.send_message(ALICE, "Balasan", reply_to_message_id=sent.message_id)
    assert (
        reply.reply_to_message is not None and reply.reply_to_message.message_id == sent.message_id
    )
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(ALICE, "x", reply_to_message_id=9999)

    await bot.set_my_commands([("start", "Mulai"), ("lapor", "Buat laporan")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "lapor"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    chat = await bot.get_chat(ALICE)
    assert chat.first_name == "Alice"
    member = await bot.get_chat_member(group["id"], ALICE)
    assert member.status == "member"
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "siapa?")


# PTB itself warns when building RetryAfter that retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_faults_and_errors(emu: BotApiEmulator, bot: Bot) -> None:
    emu.fail_next("sendMessage", 429, retry_after=1)
    with pytest.raises(RetryAfter, match=r"Retry in (1 seconds|0:00:01)"):
        await bot.send_message(ALICE, "banjir")
    assert emu.sent == []  # a failed call has no effect
    message = await bot.send_message(ALICE, "banjir")

    emu.fail_next("sendMessage", 502)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "x")

    emu.drop_next("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "hilang")
    assert emu.sent[-1].text == "hilang"  # delivered, only the answer was lost

    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("baru", chat_id=ALICE, message_id=9999)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("banjir", chat_id=ALICE, message_id=message.message_id)
    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await bot.send_message(ALICE, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Character '.' is reserved"):
        await bot.send_message(ALICE, "Terima kasih.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            ALICE,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="x" * 65)]]
            ),
        )

    emu.block(ALICE)
    with pytest.raises(Forbidden, match="(?i)blocked by the user"):
        await bot.send_message(ALICE, "halo?")
    emu.unblock(ALICE)
    await bot.send_message(ALICE, "halo lagi")


async def test_wrong_token_and_unknown_method(emu: BotApiEmulator) -> None:
    stranger = Bot("654321:WRONG", base_url=emu.base_url)
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()  # runs getMe
    finally:
        await stranger.shutdown()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}{TOKEN}/sendTelepathy", json={}) as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    # JSON bodies work too (not only PTB's form encoding), and method names ignore case.
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emu.base_url}{TOKEN}/SENDMESSAGE", json={"chat_id": ALICE, "text": "123"}
        ) as response,
    ):
        body = await response.json()
        assert body["ok"] and body["result"]["text"] == "123"


async def test_wait_for_walks_through_records(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(ALICE, "satu")
    await bot.send_message(ALICE, "dua")
    assert (await emu.wait_for(lambda o: o.text == "dua")).text == "dua"
    assert (await emu.wait_for()).text == "satu"  # earlier, unmatched records are not lost
    with pytest.raises(TimeoutError):
        await emu.wait_for(timeout=0.05)
    mark = emu.mark()
    await bot.send_message(ALICE, "tiga")
    assert (await emu.wait_for(since=mark)).text == "tiga"


def test_parse_modes() -> None:
    assert parse_formatted_text("<b>Halo</b> &amp; <a href='https://x.id'>tautan</a>", "HTML") == (
        "Halo & tautan",
        [
            {"type": "bold", "offset": 0, "length": 4},
            {"type": "text_link", "offset": 7, "length": 6, "url": "https://x.id"},
        ],
    )
    text, entities = parse_formatted_text("*tebal* \\- _miring_ 😀 `kode`", "MarkdownV2")
    assert text == "tebal - miring 😀 kode"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 5),
        ("italic", 8, 6),
        ("code", 18, 4),  # the emoji counts as two UTF-16 units
    ]
    with pytest.raises(ValueError, match='Unsupported start tag "br/"'):
        parse_formatted_text("a<br/>b", "HTML")
    with pytest.raises(ValueError, match="Can't find end tag"):
        parse_formatted_text("<b>tebal", "HTML")
    assert parse_formatted_text("  spasi  \n", None) == ("spasi", [])


async def test_latency_parallel_or_serial(emu: BotApiEmulator) -> None:
    async with Bot(
        TOKEN, base_url=emu.base_url, request=HTTPXRequest(connection_pool_size=8)
    ) as fast:
        emu.set_delay(0.1, "sendMessage")
        started = time.monotonic()
        await asyncio.gather(*(fast.send_message(ALICE, str(n)) for n in range(4)))
        assert time.monotonic() - started < 0.35  # side by side

        emu.set_delay(0.1, "sendMessage", serial=True)
        started = time.monotonic()
        await asyncio.gather(*(fast.send_message(ALICE, str(n)) for n in range(4)))
        assert time.monotonic() - started >= 0.4  # one lane
        gaps = [b.at - a.at for a, b in zip(emu.sent[4:], emu.sent[5:], strict=False)]
        assert all(gap >= 0.09 for gap in gaps)
