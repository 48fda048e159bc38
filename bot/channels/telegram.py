# Telegram through python-telegram-bot: the fetch loop, the inbox worker and the Sender.
# Invariants (architecture.md "Nothing lost"): PTB's Updater is not used, because it
# confirms a whole batch as soon as it fetches it. Here each batch is committed to the
# inbox first and confirmed only by the next getUpdates offset, so a kill at any moment
# loses nothing; each inbox item is marked handled in the transaction of its dialog step,
# so it takes effect once; pending items are handled at startup.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.delivery import Delivery, EditTargetGone, Retry, Undeliverable
from bot.dialogs import router
from bot.dialogs.context import Runtime
from bot.dialogs.types import Caller, Event
from bot.texts import render
from storage import inbox, outbox
from storage.db import Database

log = logging.getLogger(__name__)
CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
UNSUPPORTED = ("sticker", "voice", "video", "video_note", "audio", "document", "animation", "contact", "poll", "dice")
MAX_HANDLE_ATTEMPTS = 3


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


def _buttons(rows: list[list[Any]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    buttons = [
        InlineKeyboardButton(label, url=url) if url else InlineKeyboardButton(label, callback_data=data)
        for label, data, url in rows
    ]
    # Short labels two to a row, long ones alone: readable on a small phone.
    layout: list[list[InlineKeyboardButton]] = []
    for b in buttons:
        if layout and len(layout[-1]) == 1 and len(layout[-1][0].text) <= 16 and len(b.text) <= 16:
            layout[-1].append(b)
        else:
            layout.append([b])
    return InlineKeyboardMarkup(layout)


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
        markup: Any = ForceReply(selective=True) if force_reply and not buttons else _buttons(buttons)
        msg = await self._call(
            lambda: self.bot.send_message(int(chat_id), text, parse_mode=ParseMode.HTML, reply_markup=markup)
        )
        return msg.message_id if msg else None

    async def edit_text(self, chat_id: str, message_id: int, text: str, buttons: list[list[Any]]) -> None:
        await self._call(
            lambda: self.bot.edit_message_text(
                text, chat_id=int(chat_id), message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=_buttons(buttons)
            )
        )

    async def send_photo(self, chat_id: str, path: str, caption: str | None) -> int | None:
        data = Path(path).read_bytes()
        msg = await self._call(lambda: self.bot.send_photo(int(chat_id), data, caption=caption))
        return msg.message_id if msg else None

    async def send_location(self, chat_id: str, latitude: float, longitude: float) -> int | None:
        msg = await self._call(lambda: self.bot.send_location(int(chat_id), latitude=latitude, longitude=longitude))
        return msg.message_id if msg else None


class TelegramChannel:
    """Fetches, stores and handles Telegram updates for one bot."""

    def __init__(
        self,
        app: Application,
        db: Database,
        rt: Runtime,
        delivery: Delivery,
        *,
        poll_timeout: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.bot = app.bot
        self.db = db
        self.rt = rt
        self.delivery = delivery
        self.poll_timeout = poll_timeout
        self.clock = clock
        self._work = asyncio.Event()
        self.handled = 0

    # Fetch: store, then confirm ------------------------------------------------------------
    async def fetch_loop(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
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
            rows = [(str(u.update_id), u.to_dict()) for u in updates]
            await asyncio.to_thread(self._store, rows)
            # Only now may Telegram forget them: the next call confirms this offset.
            offset = updates[-1].update_id + 1
            self._work.set()

    def _store(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        with self.db.transaction() as s:
            inbox.store(s, CHANNEL, rows, self.clock())

    # Handle: one transaction per update ------------------------------------------------------
    async def handle_loop(self) -> None:
        while True:
            self._work.clear()
            await self.handle_pending()
            try:
                await asyncio.wait_for(self._work.wait(), timeout=30)
            except TimeoutError:
                pass

    async def handle_pending(self) -> int:
        done = 0
        while True:
            items = await asyncio.to_thread(self._pending)
            if not items:
                return done
            for item_id, payload in items:
                await self.handle_item(item_id, payload)
                done += 1

    def _pending(self) -> list[tuple[int, dict[str, Any]]]:
        with self.db.reading() as s:
            return [(i.id, dict(i.payload)) for i in inbox.pending(s, CHANNEL, limit=100)]

    async def handle_item(self, item_id: int, payload: dict[str, Any]) -> None:
        update = Update.de_json(payload, self.bot)
        try:
            translated = await self.translate(update)
            toast = await asyncio.to_thread(self._apply, item_id, translated)
        except Exception as exc:
            log.exception("update %s gagal ditangani", item_id)
            await asyncio.to_thread(self._failed, item_id, update, repr(exc))
            toast = None
        self.handled += 1
        if update.callback_query is not None:
            try:
                await self.bot.answer_callback_query(update.callback_query.id, text=toast or None)
            except TelegramError:
                pass  # the spinner stops by itself; nothing is lost
        self.delivery.wake()

    def _apply(self, item_id: int, translated: tuple[Caller, Event] | None) -> str | None:
        with self.db.transaction() as s:
            item = inbox.claim(s, item_id)
            if item is None:
                return None
            now = self.clock()
            toast = None
            if translated is not None:
                caller, event = translated
                ctx = router.handle(self.rt, s, caller, event, now)
                toast = ctx.toast
            item.handled_at = now
            item.attempts += 1
            return toast

    def _failed(self, item_id: int, update: Update, error: str) -> None:
        with self.db.transaction() as s:
            item = s.get(inbox.InboxItem, item_id)  # type: ignore[attr-defined]
            give_up = item is not None and item.attempts + 1 >= MAX_HANDLE_ATTEMPTS
            inbox.mark_failed(s, item_id, error, self.clock(), give_up)
            chat = update.effective_chat
            if give_up and chat is not None and chat.type == "private":
                outbox.enqueue(s, CHANNEL, chat.id, "text", {"text": render("kesalahan"), "buttons": []}, self.clock())

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
        )
        if update.callback_query is not None:
            q = update.callback_query
            caller.message_id = q.message.message_id if q.message else None
            return caller, Event(kind="choice", data=q.data or "")
        msg = update.message
        if msg is None:
            return None
        if msg.text is not None:
            text = msg.text
            if text.startswith("/"):
                head, _, args = text[1:].partition(" ")
                command, _, target = head.partition("@")
                if target and target.lower() != self.rt.bot_username.lower():
                    return None  # a command for another bot in the group
                return caller, Event(kind="command", command=command.lower(), args=args.strip(), text=text)
            return caller, Event(kind="text", text=text)
        if msg.photo:
            return caller, await self._photo(msg)
        if msg.location is not None:
            return caller, Event(kind="location", latitude=msg.location.latitude, longitude=msg.location.longitude)
        for kind in UNSUPPORTED:
            if getattr(msg, kind, None):
                return caller, Event(kind="unsupported", unsupported=kind)
        return caller, Event(kind="unsupported", unsupported="lainnya")

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
