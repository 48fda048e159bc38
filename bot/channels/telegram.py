# Telegram through python-telegram-bot: the fetch loop, the inbox worker and the Sender.
# Invariants (architecture.md "Nothing lost"): PTB's Updater is not used, because it
# confirms a whole batch as soon as it fetches it. Here each batch is committed to the
# inbox first and confirmed only by the next getUpdates offset, so a kill at any moment
# loses nothing; each inbox item is marked handled in the transaction of its dialog step,
# so it takes effect once; pending items are handled at startup.
# A fetched batch is stored and handled in ONE write transaction (one commit instead of one
# per update, which was most of an update's cost): each update's step runs in a savepoint of
# its own, so a failing update rolls back alone and is retried. Within a chat, updates are
# handled strictly in inbox order: an update waits while an earlier one of its chat is
# pending. The replies a batch queued are handed to the delivery as soon as it commits.
# The batch itself is bot/channels/batch.py, shared with WhatsApp.
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# PTB 22.2+ deprecates retry_after as seconds in favour of a timedelta (PTB 23's type); this
# is PTB's documented opt-in, so our code already reads what the next major version gives.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (  # noqa: E402
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut  # noqa: E402
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder  # noqa: E402

from bot.app.delivery import Delivery, EditTargetGone, Retry, Undeliverable
from bot.channels import telegram_bots
from bot.channels.batch import Batch, BatchHandler, Prepared, run_handle_loop
from bot.dialogs import router
from bot.dialogs.context import Runtime
from bot.dialogs.types import Caller, Event
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
UNSUPPORTED = ("sticker", "voice", "video", "video_note", "audio", "document", "animation", "contact", "poll", "dice")
MAX_HANDLE_ATTEMPTS = 3
BATCH = 100  # getUpdates returns at most 100 updates
POLL_READ_MARGIN = 5.0  # seconds a long poll may take beyond its timeout (PTB's default read timeout)


def order_key(update: Update) -> str | None:
    chat = update.effective_chat
    if chat is not None:
        return str(chat.id)
    user = update.effective_user
    return f"u{user.id}" if user is not None else None


def stored_order_key(payload: dict[str, Any]) -> str | None:
    try:
        return order_key(Update.de_json(payload, None))
    except Exception:
        return None  # unreadable: it holds up no chat (it fails, then is given up)


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_application(token: str, base_url: str, base_file_url: str, *, rate_limit: bool = True) -> Application:
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .updater(None)
        .connection_pool_size(16)
    )
    if rate_limit:
        # Retries of 429s are the outbox's job (it persists them); the limiter only paces.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))  # type: ignore[arg-type]
    return builder.build()


def _keyboard(rows: list[list[Any]]) -> list[list[dict[str, str]]]:
    buttons = [
        {"text": label, "url": url} if url else {"text": label, "callback_data": data} for label, data, url in rows
    ]
    # Short labels two to a row, long ones alone: readable on a small phone.
    layout: list[list[dict[str, str]]] = []
    for b in buttons:
        if layout and len(layout[-1]) == 1 and len(layout[-1][0]["text"]) <= 16 and len(b["text"]) <= 16:
            layout[-1].append(b)
        else:
            layout.append([b])
    return layout


def _buttons(rows: list[list[Any]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], url=b.get("url"), callback_data=b.get("callback_data")) for b in row]
         for row in _keyboard(rows)]
    )


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, coro_factory: Callable[[], Any]) -> Any:
        try:
            return await coro_factory()
        except RetryAfter as exc:
            retry = exc.retry_after
            delay = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            raise Retry(delay, f"429 retry after {delay}s") from exc
        except Forbidden as exc:
            raise Undeliverable(str(exc), blocked="blocked" in str(exc).lower() or "deactivated" in str(exc).lower()) from exc
        except BadRequest as exc:
            msg = str(exc).lower()
            if "message is not modified" in msg:
                return None
            if "message to edit not found" in msg or "message can't be edited" in msg:
                raise EditTargetGone(str(exc)) from exc
            if "chat not found" in msg:
                raise Undeliverable(str(exc)) from exc
            raise Undeliverable(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:
            raise Retry(1.0, str(exc)) from exc
        except TelegramError as exc:
            raise Retry(5.0, str(exc)) from exc

    async def send_text(self, chat_id: str, text: str, buttons: list[list[Any]], force_reply: bool = False) -> int | None:
        # sendMessage through the Bot's _post (its request, defaults, rate limiter and error
        # mapping, as Bot.send_message), but with the markup as plain JSON and the answer
        # left as JSON: building PTB objects for the request and parsing the sent Message
        # back into one (which nothing here reads) was about a fifth of the bot's CPU.
        data: dict[str, Any] = {"chat_id": int(chat_id), "text": text, "parse_mode": ParseMode.HTML.value}
        if buttons:
            data["reply_markup"] = {"inline_keyboard": _keyboard(buttons)}
        elif force_reply:
            data["reply_markup"] = {"force_reply": True, "selective": True}
        msg = await self._call(lambda: self.bot._post("sendMessage", data))
        return msg.get("message_id") if isinstance(msg, dict) else None

    async def edit_text(self, chat_id: str, message_id: int, text: str, buttons: list[list[Any]]) -> None:
        await self._call(
            lambda: self.bot.edit_message_text(
                text, chat_id=int(chat_id), message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=_buttons(buttons)
            )
        )

    async def remove_buttons(self, chat_id: str, message_id: int) -> None:
        # editMessageReplyMarkup without a markup: the inline keyboard goes, the text stays.
        await self._call(lambda: self.bot.edit_message_reply_markup(chat_id=int(chat_id), message_id=message_id))

    async def send_photo(self, chat_id: str, path: str, caption: str | None) -> int | None:
        data = Path(path).read_bytes()
        msg = await self._call(lambda: self.bot.send_photo(int(chat_id), data, caption=caption))
        return msg.message_id if msg else None

    async def send_location(self, chat_id: str, latitude: float, longitude: float) -> int | None:
        msg = await self._call(lambda: self.bot.send_location(int(chat_id), latitude=latitude, longitude=longitude))
        return msg.message_id if msg else None


class TelegramChannel:
    """Fetches, stores and handles Telegram updates for one bot: the shared one, or a
    kecamatan's own (`bot_kode`), whose inbox rows carry its `source` ("telegram:<kode>",
    bot/channels/telegram_bots.py) and whose updates all belong to that kecamatan."""

    def __init__(
        self,
        app: Application,
        db: Database,
        rt: Runtime,
        delivery: Delivery,
        *,
        poll_timeout: int = 30,
        clock: Callable[[], datetime] = utcnow,
        bot_kode: str | None = None,
        username: str | None = None,
    ) -> None:
        self.bot_kode = bot_kode
        self.source = telegram_bots.channel_of(bot_kode)
        # Commands addressed /cmd@name in a group: this bot's own name, not the shared one's.
        self.username = username or rt.bot_username
        self.app = app
        self.bot = app.bot
        self.db = db
        self.rt = rt
        self.delivery = delivery
        self.poll_timeout = poll_timeout
        self.clock = clock
        self._work = asyncio.Event()
        # One handling transaction at a time, so that a chat's updates go in order.
        self._turn = asyncio.Lock()
        self._answering: set[asyncio.Task[None]] = set()
        self.handled = 0
        self._batches = BatchHandler(
            db, self.source, self._step, stored_order_key, lambda: self.clock(), MAX_HANDLE_ATTEMPTS, limit=BATCH,
            lease=delivery.lease,
        )

    # Fetch: store, then confirm ------------------------------------------------------------
    async def fetch_loop(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                # The raw JSON, through the Bot's request (as Bot.get_updates): it is what the
                # inbox stores, with no to_dict round trip through PTB's objects.
                updates: list[dict[str, Any]] = await self.bot._post(
                    "getUpdates",
                    {"timeout": self.poll_timeout, "offset": offset, "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=self.poll_timeout + POLL_READ_MARGIN,
                )
            except RetryAfter as exc:
                ra = exc.retry_after
                await asyncio.sleep(ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra))
                continue
            except (TimedOut, NetworkError) as exc:
                log.warning("getUpdates gagal: %s; coba lagi dalam %.0f detik", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not updates:
                continue
            rows = [(str(u["update_id"]), u) for u in updates]
            prepared = {ext: await self._prepare_stored(payload) for ext, payload in rows}
            try:
                async with self._turn:
                    batch = await asyncio.to_thread(self._handle_batch, rows, prepared)
            except Exception:
                log.exception("menangani %d update gagal; disimpan dulu", len(rows))
                try:
                    await asyncio.to_thread(self._store, rows)
                except Exception:
                    # Not stored, so not confirmed: the same batch comes again.
                    log.exception("menyimpan %d update gagal", len(rows))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                batch = Batch(left=len(rows))
            # Only now may Telegram forget them: the next call confirms this offset.
            offset = int(updates[-1]["update_id"]) + 1
            self._after(batch)

    def _store(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        with self.db.transaction() as s:
            inbox.store(s, self.source, rows, self.clock())

    async def accept(self, update_json: dict[str, Any]) -> None:
        """Webhook mode: commit one update to the inbox (the caller answers 200 only after
        this returns, so Telegram resends it after a crash) and wake the handle loop."""
        await asyncio.to_thread(self._store, [(str(update_json["update_id"]), update_json)])
        self._work.set()

    # Handle: one transaction per batch, one savepoint per update ------------------------------
    async def handle_loop(self) -> None:
        await run_handle_loop(self.handle_pending, self._work, "Telegram")

    async def handle_pending(self) -> int:
        """Handle what is pending in the inbox (at startup, after a failure, after a webhook
        delivery); returns how many items were handled."""
        done = 0
        while True:
            async with self._turn:
                items = await asyncio.to_thread(self._pending)
                if not items:
                    return done
                prepared = {ext: await self._prepare_stored(payload) for ext, payload in items}
                batch = await asyncio.to_thread(self._handle_batch, [], prepared)
            self._after(batch, wake=False)
            done += batch.handled
            if not batch.handled and not batch.failed:
                return done  # nothing moved; the 30 s nudge tries again

    def _pending(self) -> list[tuple[str, dict[str, Any]]]:
        with self.db.reading() as s:
            return [(i.external_id, dict(i.payload)) for i in inbox.pending(s, self.source, limit=BATCH)]

    async def prepare(self, update: Update) -> Prepared:
        chat = update.effective_chat
        p = Prepared(
            order_key=order_key(update),
            private_chat=chat.id if chat is not None and chat.type == "private" else None,
            callback_id=update.callback_query.id if update.callback_query is not None else None,
        )
        try:
            p.translated = await self.translate(update)
        except Exception as exc:
            log.exception("update %s tidak dapat dibaca", update.update_id)
            p.error = repr(exc)
        return p

    async def _prepare_stored(self, payload: dict[str, Any]) -> Prepared:
        fast = self._prepare_plain(payload)
        if fast is not None:
            return fast
        try:
            update = Update.de_json(payload, self.bot)
        except Exception as exc:  # an update PTB cannot read: fails, then given up
            log.exception("update tidak dapat dibaca")
            return Prepared(order_key=None, error=repr(exc))
        return await self.prepare(update)

    def _prepare_plain(self, payload: dict[str, Any]) -> Prepared | None:
        """The commonest updates, a text message or a button press, read straight from their
        JSON (what prepare(Update.de_json(payload)) gives, without building PTB's objects,
        which cost about a tenth of the bot's CPU); None for anything else."""
        try:
            if len(payload) != 2:
                return None
            msg = payload.get("message")
            query = payload.get("callback_query")
            text = ""
            if msg is not None:
                text = msg.get("text")
                if not isinstance(text, str):
                    return None
                chat, user = msg["chat"], msg.get("from")
            elif query is not None:
                message = query.get("message")
                chat, user = (message["chat"] if message else None), query["from"]
            else:
                return None
            p = Prepared(
                order_key=str(chat["id"]) if chat is not None else f"u{user['id']}" if user is not None else None,
                private_chat=chat["id"] if chat is not None and chat["type"] == "private" else None,
                callback_id=str(query["id"]) if query is not None else None,
            )
            if user is None or chat is None or user.get("is_bot"):
                return p
            name = " ".join(x for x in (user.get("first_name"), user.get("last_name")) if x) or None
            caller = Caller(
                channel=CHANNEL,
                chat_id=str(chat["id"]),
                user_id=str(user["id"]),
                display_name=name,
                chat_type="private" if chat["type"] == "private" else "group",
                bot=self.bot_kode,
            )
            if query is not None:
                caller.message_id = int(message["message_id"]) if message else None
                p.translated = caller, Event(kind="choice", data=query.get("data") or "")
            else:
                p.translated = self._text(caller, text)
            return p
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # not the plain shape: PTB reads it

    def _after(self, batch: Batch, *, wake: bool = True) -> None:
        self.handled += batch.handled
        if batch.jobs:
            self.delivery.submit(batch.jobs, batch.undelivered)
        for callback_id, toast in batch.answers:
            task = asyncio.create_task(self._answer(callback_id, toast))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        if wake and batch.left:
            self._work.set()

    async def _answer(self, callback_id: str, toast: str | None) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=toast or None)
        except TelegramError:
            pass  # the spinner stops by itself; nothing is lost

    def _handle_batch(self, rows: list[tuple[str, dict[str, Any]]], prepared: dict[str, Prepared]) -> Batch:
        """Store `rows` (if any) and handle the pending items in one transaction (bot/channels/batch.py)."""
        return self._batches.handle(rows, prepared)

    def _step(self, s: Any, p: Prepared, now: datetime) -> str | None:
        if p.translated is None:
            return None
        caller, ev = p.translated
        return router.handle(self.rt, s, caller, ev, now).toast

    # Translate: Telegram update -> channel-neutral event ---------------------------------------
    async def translate(self, update: Update) -> tuple[Caller, Event] | None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        name = " ".join(x for x in (user.first_name, user.last_name) if x) or None
        caller = Caller(
            channel=CHANNEL,
            chat_id=str(chat.id),
            user_id=str(user.id),
            display_name=name,
            chat_type="private" if chat.type == "private" else "group",
            bot=self.bot_kode,
        )
        if update.callback_query is not None:
            q = update.callback_query
            caller.message_id = q.message.message_id if q.message else None
            return caller, Event(kind="choice", data=q.data or "")
        msg = update.message
        if msg is None:
            return None
        if msg.text is not None:
            return self._text(caller, msg.text)
        if msg.photo:
            return caller, await self._photo(msg)
        if msg.location is not None:
            return caller, Event(kind="location", latitude=msg.location.latitude, longitude=msg.location.longitude)
        for kind in UNSUPPORTED:
            if getattr(msg, kind, None):
                return caller, Event(kind="unsupported", unsupported=kind)
        return caller, Event(kind="unsupported", unsupported="lainnya")

    def _text(self, caller: Caller, text: str) -> tuple[Caller, Event] | None:
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            command, _, target = head.partition("@")
            if target and target.lower() != self.username.lower():
                return None  # a command for another bot in the group
            return caller, Event(kind="command", command=command.lower(), args=args.strip(), text=text)
        return caller, Event(kind="text", text=text)

    async def _photo(self, msg: Any) -> Event:
        limit = self.rt.office.max_photo_bytes
        sizes = [p for p in msg.photo if (p.file_size or 0) <= limit]
        caption = msg.caption or ""
        if not sizes:
            return Event(kind="photo", text=caption, photo_too_large=True)
        best = max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))
        folder = self.rt.data_dir / "photos" / CHANNEL
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{best.file_unique_id}.jpg"
        if not path.exists():
            tg_file = await best.get_file()
            data = await tg_file.download_as_bytearray()
            if len(data) > limit:
                return Event(kind="photo", text=caption, photo_too_large=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(bytes(data))
            tmp.replace(path)  # atomic: a half-written photo is never referenced
        return Event(kind="photo", text=caption, photo_path=str(path), photo_size=path.stat().st_size)
