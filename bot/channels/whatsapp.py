# WhatsApp through pywa: the webhook intake, the inbox worker and the Sender.
# Invariants (architecture.md "Nothing lost"):
#   * a webhook POST is answered 200 only after every message in it is committed to the inbox,
#     unique on ("whatsapp", message id), so a message Meta delivers again is stored once and
#     handled once; its signature was checked before anything was stored (bot/app/web.py);
#   * each inbox item is marked handled in the transaction of its dialog step (router.handle,
#     the same code as Telegram) and of the person's last_inbound_at, which opens the 24-hour
#     customer service window; pending items are handled at startup. Items are handled in
#     batches, one transaction each, one savepoint per item if one fails (bot/channels/batch.py,
#     shared with Telegram): a failing item rolls back alone and is retried, then given up with
#     an apology; a chat's items go in inbox order; the replies go to delivery at commit;
#   * pywa parses the stored payload through its own webhook path (webhook_update_handler),
#     so a payload pywa drops (for instance without contacts[].user_id) is seen and logged;
#   * a free-form message is sent only inside the window; outside it the approved status
#     template goes instead, and with no template the outbox item fails with its reason, which
#     the officers see on the complaint's card;
#   * several numbers (bot/channels/whatsapp_numbers.py): a message to a kecamatan's own number
#     is that kecamatan's (Caller.bot) and is answered from that number, one to the shared
#     number as before; one to a number this deployment does not serve is dropped, logged.
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pywa_async import WhatsApp
from pywa_async import handlers as wa_handlers
from pywa_async import types as wa_types
from pywa_async.errors import (
    ExpiredAccessToken,
    MessageUndeliverable,
    ReEngagementMessage,
    ThrottlingError,
    WhatsAppError,
)
from pywa_async.types.templates import TemplateLanguage

from bot.app.delivery import Delivery, Retry, Undeliverable
from bot.channels import whatsapp_numbers
from bot.channels.batch import BatchHandler, Prepared, run_handle_loop
from bot.config.office import Office
from bot.config.settings import SettingsError, WhatsAppSettings
from bot.dialogs import router
from bot.dialogs.context import Runtime
from bot.dialogs.kecamatan import scoped
from bot.dialogs.types import Caller, Event
from bot.texts import render, to_whatsapp
from storage import inbox, outbox, people, tenant_lookup
from storage.db import Database
from storage.models import Person

log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)
MAX_HANDLE_ATTEMPTS = 3
BATCH = 100  # inbox items handled in one transaction
# WhatsApp's limits (Cloud API reference, interactive messages).
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION = 10, 24, 72
MAX_TEXT, MAX_INTERACTIVE_BODY = 4096, 1024
MAX_TEMPLATE_PARAM = 900  # the whole template body is capped at 1024 characters
UNSUPPORTED = {
    "sticker": "sticker",
    "audio": "audio",
    "video": "video",
    "document": "document",
    "contacts": "contact",
    "order": "lainnya",
    "unknown": "lainnya",
    "unsupported": "lainnya",
}
_IGNORED = {"reaction", "system", "request_welcome", "edit", "revoke"}
_PHOTO_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
# The update pywa built for the payload being handled (see WhatsAppChannel.parse).
_captured: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("_captured", default=None)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Client ------------------------------------------------------------------------------------
def build_client(settings: WhatsAppSettings) -> tuple[WhatsApp, httpx.AsyncClient]:
    """pywa's async client, for sending and for parsing webhook payloads (no server of its own)."""
    if not settings.enabled or settings.app_secret is None:
        raise SettingsError("WhatsApp belum diatur (SIGAP_WHATSAPP_TOKEN, _PHONE_ID, _APP_SECRET).")
    try:
        TemplateLanguage(settings.template_lang)
    except (ValueError, TypeError) as exc:  # pywa raises TypeError for some unknown codes
        raise SettingsError(f"SIGAP_WHATSAPP_TEMPLATE_LANG tidak dikenal WhatsApp: {settings.template_lang!r}.") from exc
    session = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=10.0), limits=httpx.Limits(max_connections=32))
    wa = WhatsApp(
        phone_id=settings.phone_id,
        token=settings.token,
        session=session,
        server=None,
        verify_token=settings.verify_token,
        app_secret=settings.app_secret,
        validate_updates=True,
        # The inbox is the duplicate filter, and it survives restarts; pywa's in-memory one
        # would also skip the second attempt at an item whose first attempt failed.
        skip_duplicate_updates=False,
        # One client for every number: pywa would drop a webhook to any number but its own;
        # split_messages drops the ones to numbers this deployment does not serve.
        filter_updates=False,
    )
    # pywa has no option for the Graph API address: GraphAPI writes graph.facebook.com/vX into
    # the session's base_url when it is built. The session is ours (pywa's documented
    # `session=`), so keep pywa's version path and re-point the host afterwards.
    session.base_url = settings.api_url.rstrip("/") + session.base_url.path.rstrip("/")
    return wa, session


# Choices: reply buttons or list messages ---------------------------------------------------
@dataclass(frozen=True)
class Outgoing:
    """One WhatsApp message: plain text, reply buttons (title, id) or list rows (title, id, description)."""

    body: str
    buttons: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[str, str, str | None], ...] = ()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _row(label: str, data: str) -> tuple[str, str, str | None]:
    # A cut title keeps the full label in the description, so the resident still reads it.
    if len(label) <= MAX_ROW_TITLE:
        return label, data, None
    return _cut(label, MAX_ROW_TITLE), data, _cut(label, MAX_ROW_DESCRIPTION)


def _split_text(body: str) -> list[str]:
    parts: list[str] = []
    while len(body) > MAX_TEXT:
        cut = body.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        parts.append(body[:cut].rstrip())
        body = body[cut:].lstrip()
    return [*parts, body] if body else parts


def plan(text: str, buttons: list[list[Any]]) -> list[Outgoing]:
    """How one outbox text with its choices goes out on WhatsApp."""
    body = to_whatsapp(text)
    choices = [(str(label), str(data)) for label, data, url in buttons if data and not url]
    links = [(str(label), str(url)) for label, data, url in buttons if url]
    if links:  # WhatsApp has one URL button per message at most; a line per link reads as well
        body += "\n\n" + "\n".join(f"{label}: {url}" for label, url in links)
    if not choices:
        return [Outgoing(part) for part in _split_text(body)]
    messages: list[Outgoing] = []
    if len(body) > MAX_INTERACTIVE_BODY:
        messages += [Outgoing(part) for part in _split_text(body)]
        body = render("wa_pilih")
    if len(choices) <= MAX_BUTTONS and all(len(label) <= MAX_BUTTON_TITLE for label, _ in choices):
        return [*messages, Outgoing(body, buttons=tuple(choices))]
    for start in range(0, len(choices), MAX_ROWS):
        chunk = choices[start : start + MAX_ROWS]
        messages.append(Outgoing(body if start == 0 else render("wa_pilihan_lain"), rows=tuple(_row(*c) for c in chunk)))
    return messages


def _template_param(text: str) -> str:
    # Meta refuses template parameters with new lines, tabs or more than four spaces in a row.
    lines = [re.sub(r"\s+", " ", line).strip() for line in to_whatsapp(text).splitlines()]
    return _cut(" · ".join(line for line in lines if line), MAX_TEMPLATE_PARAM)


# Sender --------------------------------------------------------------------------------------
class WhatsAppSender:
    """The outbox's Sender for WhatsApp (bot/app/delivery.py)."""

    def __init__(
        self,
        wa: WhatsApp,
        db: Database,
        *,
        template: str | None,
        language: str,
        clock: Callable[[], datetime] = utcnow,
        phone_id: str | None = None,
    ) -> None:
        self.wa = wa
        self.db = db
        # The number this Sender sends from (pywa's `sender=`); None: the client's own, the
        # shared SIGAP_WHATSAPP_PHONE_ID.
        self.phone_id = phone_id
        self.template = template
        self.language = TemplateLanguage(language)
        self.clock = clock
        self.list_button = render("wa_tombol_daftar")

    async def _call(self, send: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await send()
        except (ReEngagementMessage, MessageUndeliverable):
            raise
        except ThrottlingError as exc:
            raise Retry(30.0, f"WhatsApp membatasi laju ({exc.code})") from exc
        except ExpiredAccessToken as exc:
            # A configuration problem: the messages wait (with backoff) until the token is fixed.
            raise Retry(60.0, "token WhatsApp kedaluwarsa atau tidak sah (190)") from exc
        except WhatsAppError as exc:
            status = exc.status_code or 0
            if status >= 500 or status == 0 or exc.is_transient or exc.code in (1, 2, 131000, 131016, 133004):
                raise Retry(5.0, f"WhatsApp {status} ({exc.code}): {exc.message}") from exc
            raise Undeliverable(f"WhatsApp menolak pesan ({exc.code}): {exc.message}") from exc
        except httpx.HTTPError as exc:
            raise Retry(1.0, f"jaringan ke WhatsApp: {type(exc).__name__}") from exc

    def _last_inbound(self, chat_id: str) -> tuple[bool, datetime | None]:
        with self.db.reading() as s:
            # The 24-hour window is the WhatsApp user's, whichever kecamatan keeps them.
            return tenant_lookup.last_inbound(s, CHANNEL, chat_id)

    async def window_open(self, chat_id: str) -> bool:
        known, last = await asyncio.to_thread(self._last_inbound, chat_id)
        if not known:
            # No person is kept for this chat (the survey keeps none, by design): what goes
            # there is only ever a reply to the message being handled, so inside the window.
            # Unsolicited messages go to reporters, who always have a person; WhatsApp
            # remains the judge (131047 then takes the template path).
            return True
        return last is not None and self.clock() - last < WINDOW

    async def send_text(self, chat_id: str, text: str, buttons: list[list[Any]], force_reply: bool = False) -> int | None:
        if not await self.window_open(chat_id):
            return await self._send_template(chat_id, text)
        try:
            for message in plan(text, buttons):
                await self._call(lambda m=message: self._send_one(chat_id, m))  # type: ignore[misc]
        except ReEngagementMessage:
            # Our record said the window was open but WhatsApp disagrees: it decides.
            return await self._send_template(chat_id, text)
        except MessageUndeliverable as exc:
            raise Undeliverable(f"WhatsApp tidak dapat mengantar pesan (131026): {exc.message}") from exc
        return None  # WhatsApp message ids are strings and cannot be edited: nothing to keep

    async def _send_one(self, chat_id: str, m: Outgoing) -> Any:
        if m.buttons:
            buttons = [wa_types.Button(title=title, callback_data=data) for title, data in m.buttons]
            return await self.wa.send_message(to=chat_id, text=m.body, buttons=buttons, sender=self.phone_id)
        if m.rows:
            section = wa_types.Section(
                title=self.list_button,
                rows=[wa_types.SectionRow(title=t, callback_data=d, description=desc) for t, d, desc in m.rows],
            )
            return await self.wa.send_message(
                to=chat_id, text=m.body, buttons=wa_types.SectionList(button_title=self.list_button, sections=[section]),
                sender=self.phone_id,
            )
        return await self.wa.send_message(to=chat_id, text=m.body, sender=self.phone_id)

    async def _send_template(self, chat_id: str, text: str) -> int | None:
        if not self.template:
            raise Undeliverable(
                "di luar jendela 24 jam WhatsApp dan templat belum diatur (SIGAP_WHATSAPP_TEMPLATE_STATUS)"
            )
        params = [{"type": "body", "parameters": [{"type": "text", "text": _template_param(text)}]}]
        try:
            await self._call(
                lambda: self.wa.send_template(to=chat_id, name=self.template, language=self.language, params=params,
                                              sender=self.phone_id)
            )
        except (ReEngagementMessage, MessageUndeliverable) as exc:
            raise Undeliverable(f"WhatsApp menolak templat ({exc.code}): {exc.message}") from exc
        return None

    async def edit_text(self, chat_id: str, message_id: int, text: str, buttons: list[list[Any]]) -> None:
        # WhatsApp cannot edit a business message: the new state goes as a new message.
        await self.send_text(chat_id, text, buttons)

    async def remove_buttons(self, chat_id: str, message_id: int) -> None:
        # A WhatsApp reply button answers once by itself; a sent message cannot be changed.
        return None

    async def send_photo(self, chat_id: str, path: str, caption: str | None) -> int | None:
        if not await self.window_open(chat_id):
            raise Undeliverable("foto tidak dapat dikirim di luar jendela 24 jam WhatsApp")
        await self._media_call(
            lambda: self.wa.send_image(to=chat_id, image=Path(path), caption=caption, sender=self.phone_id))
        return None

    async def send_location(self, chat_id: str, latitude: float, longitude: float) -> int | None:
        if not await self.window_open(chat_id):
            raise Undeliverable("lokasi tidak dapat dikirim di luar jendela 24 jam WhatsApp")
        await self._media_call(
            lambda: self.wa.send_location(to=chat_id, latitude=latitude, longitude=longitude, sender=self.phone_id))
        return None

    async def _media_call(self, send: Callable[[], Awaitable[Any]]) -> None:
        try:
            await self._call(send)
        except (ReEngagementMessage, MessageUndeliverable) as exc:
            raise Undeliverable(f"WhatsApp menolak pesan ({exc.code}): {exc.message}") from exc


# Channel: webhook -> inbox -> dialog ---------------------------------------------------------
class BadPayload(ValueError):
    pass


def phone_id_of(value: Any) -> str | None:
    """The phone number id a webhook change was sent to (metadata.phone_number_id)."""
    metadata = value.get("metadata") if isinstance(value, dict) else None
    found = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return None if found is None else str(found)


def split_messages(data: Any, served: Container[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """One (message id, payload) per user message: Meta may batch several in one POST, and
    pywa reads only the first message of a payload, so each is stored as a payload of its own.
    `served`: the phone number ids this deployment answers for; a change to another one (an
    app subscribed to a WABA with more numbers than SIGAP serves) is logged and left out.
    A change without metadata is the shared number's, as before."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise BadPayload("bukan payload webhook WhatsApp")
    rows: list[tuple[str, dict[str, Any]]] = []
    for entry in data["entry"]:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if change.get("field") != "messages":
                continue
            phone_id = phone_id_of(value)
            if served is not None and phone_id is not None and phone_id not in served:
                log.warning("webhook WhatsApp untuk nomor %s diabaikan: nomor itu tidak dilayani SIGAP ini "
                            "(SIGAP_WHATSAPP_PHONE_ID atau chat.whatsapp_phone_id berkas kantor)", phone_id)
                continue
            for status in value.get("statuses") or []:
                if status.get("status") == "failed":
                    # Sends WhatsApp refused after accepting them (e.g. 131047, 131026).
                    codes = [e.get("code") for e in status.get("errors") or []]
                    log.warning("WhatsApp melaporkan pesan %s gagal terkirim: %s", status.get("id"), codes)
            contacts = value.get("contacts") or []
            for msg in value.get("messages") or []:
                if not isinstance(msg, dict) or not msg.get("id"):
                    log.warning("pesan WhatsApp tanpa id diabaikan")
                    continue
                mine = [
                    c for c in contacts
                    if (msg.get("from") and c.get("wa_id") == msg.get("from"))
                    or (msg.get("from_user_id") and c.get("user_id") == msg.get("from_user_id"))
                ]
                one = {**value, "contacts": mine or contacts, "messages": [msg]}
                one.pop("statuses", None)
                payload = {
                    "object": data.get("object", "whatsapp_business_account"),
                    "entry": [{"id": entry.get("id"), "changes": [{"field": "messages", "value": one}]}],
                }
                # The inbox's key (a long wamid as its digest): _fresh and the batch look it up so.
                rows.append((inbox.key(str(msg["id"])), payload))
    return rows


@dataclass
class Translated:
    caller: Caller
    event: Event
    at: datetime  # when the user sent it: the 24-hour window runs from here


class WhatsAppChannel:
    """Stores WhatsApp webhook messages and handles them through the dialogs."""

    def __init__(
        self,
        wa: WhatsApp,
        db: Database,
        rt: Runtime,
        delivery: Delivery,
        *,
        clock: Callable[[], datetime] = utcnow,
        shared_phone_id: str | None = None,
        numbers: Mapping[str, str] | None = None,
    ) -> None:
        self.wa = wa
        self.db = db
        self.rt = rt
        self.delivery = delivery
        self.clock = clock
        # {phone number id: kode} of the kecamatan with a number of their own; with the shared
        # one (None: the client's), what the webhook accepts: pywa's own filter is off
        # (build_client), and a webhook to another number was never answered.
        self.numbers: dict[str, str] = dict(numbers or {})
        shared = shared_phone_id or getattr(wa, "phone_id", None)
        self.served: set[str] | None = {*self.numbers, str(shared)} if shared else None
        self._work = asyncio.Event()
        self._fresh: dict[str, dict[str, Any]] = {}  # external id -> payload, committed, pending
        self.handled = 0
        self.dropped = 0
        self._batches = BatchHandler(
            db, CHANNEL, self._step, _sender_id, lambda: self.clock(), MAX_HANDLE_ATTEMPTS,
            limit=BATCH, label="pesan WhatsApp", finish=self._finish, lease=delivery.lease,
        )
        wa.add_handlers(
            wa_handlers.MessageHandler(self._capture),
            wa_handlers.CallbackButtonHandler(self._capture),
            wa_handlers.CallbackSelectionHandler(self._capture),
        )

    @staticmethod
    async def _capture(_wa: Any, update: Any) -> None:
        box = _captured.get()
        if box is not None:
            box.append(update)

    # Receive: verified body -> inbox, before the 200 -------------------------------------
    async def accept(self, body: bytes) -> int:
        """Store every message of a verified webhook body; returns how many were new."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BadPayload("body bukan JSON") from exc
        rows = split_messages(data, self.served)
        if not rows:
            return 0
        new = await asyncio.to_thread(self._store, rows)
        if new == len(rows) and len(self._fresh) + new <= BATCH:
            # All new and committed: the handle loop may take them without reading them back.
            self._fresh.update(rows)
        self._work.set()
        return new

    def _store(self, rows: list[tuple[str, dict[str, Any]]]) -> int:
        with self.db.transaction() as s:
            return inbox.store(s, CHANNEL, rows, self.clock())

    def wake(self) -> None:
        self._work.set()

    # Handle: one transaction per batch, one savepoint per item (bot/channels/batch.py) -------
    async def handle_loop(self) -> None:
        await run_handle_loop(self.handle_pending, self._work, "WhatsApp")

    async def handle_pending(self) -> int:
        """Handle what is pending in the inbox, a batch per transaction; returns how many
        items were handled. The payloads a webhook just committed are taken as they are
        (no read of the inbox for them); the inbox stays the judge of what is pending."""
        done = 0
        while True:
            fresh = bool(self._fresh)
            if fresh:
                items: list[tuple[int | str, str, dict[str, Any]]] = [
                    (ext, ext, payload) for ext, payload in self._fresh.items()
                ]
                self._fresh = {}
            else:
                items = list(await asyncio.to_thread(self._pending))
                if not items:
                    return done
            prepared = {ext: await self.prepare(ref, payload) for ref, ext, payload in items}
            batch = await asyncio.to_thread(self._batches.handle, [], prepared)
            self.handled += batch.handled
            if batch.jobs:
                self.delivery.submit(batch.jobs, batch.undelivered)
            done += batch.handled
            if fresh and not batch.left and batch.handled + batch.failed < BATCH and not self._fresh:
                return done  # the batch claimed all that was pending, and nothing was left
            if not fresh and not batch.handled and not batch.failed:
                return done  # nothing moved; the next wake or the 30 s nudge tries again

    def _pending(self) -> list[tuple[int, str, dict[str, Any]]]:
        with self.db.reading() as s:
            return [(i.id, i.external_id, dict(i.payload)) for i in inbox.pending(s, CHANNEL, limit=BATCH)]

    async def prepare(self, item_id: int | str, payload: dict[str, Any]) -> Prepared:
        """Parse and translate a stored payload on the event loop, for the handling transaction."""
        sender = _sender_id(payload)
        p = Prepared(order_key=sender, private_chat=sender)
        phone_id = _phone_id(payload)
        if self.served is not None and phone_id is not None and phone_id not in self.served:
            # Stored while that number was served (its office file changed since): not ours now.
            log.warning("pesan WhatsApp %s ke nomor %s diabaikan: nomor itu tidak dilayani lagi", item_id, phone_id)
            p.note = f"diabaikan: nomor {phone_id} tidak dilayani"
            return p
        try:
            update = await self.parse(payload)
            if update is None:
                self.dropped += 1
                log.warning(
                    "pembaruan WhatsApp %s diabaikan pywa (payload tidak lengkap, mis. tanpa contacts[].user_id)",
                    item_id,
                )
                p.note = "diabaikan: pywa tidak dapat membaca payload ini"
                return p
            translated = await self.translate(update, bot=self.numbers.get(phone_id or ""))
        except Exception as exc:
            log.exception("pesan WhatsApp %s gagal ditangani", item_id)
            p.error = repr(exc)
            return p
        if translated is not None:
            p.translated = translated.caller, translated.event
            p.at = translated.at
        return p

    async def parse(self, payload: dict[str, Any]) -> Any:
        """The pywa update for a stored payload, through pywa's own webhook path; None if pywa
        dropped it (it then answers 200 and calls no handler)."""
        box: list[Any] = []
        token = _captured.set(box)
        try:
            await self.wa.webhook_update_handler(json.dumps(payload).encode())
        finally:
            _captured.reset(token)
        return box[0] if box else None

    def _step(self, s: Any, p: Prepared, now: datetime) -> str | None:
        if p.translated is None:
            return None
        caller, event = p.translated
        # What the dialogs queue for "whatsapp" goes out from the number it was written to
        # (Ctx.queue, whatsapp_numbers.sending_channel).
        ctx = router.handle(self.rt, s, caller, event, now)
        # WhatsApp has no toast: a refused or stale press is answered in the chat.
        if ctx.toast:
            outbox.enqueue(s, whatsapp_numbers.channel_of(caller.bot), caller.chat_id, "text",
                           {"text": ctx.toast, "buttons": []}, now)
        return None

    def _finish(self, s: Any, done: list[Prepared], now: datetime) -> None:
        """After the batch's steps, in its transaction: every message reopens the 24-hour
        window of a person we keep (a reporter); none is made just for this (the survey, for
        one, must not leave one). Here rather than in each step: a query in a step would flush
        the session once per step, where the batch means to flush once."""
        latest: dict[str, datetime] = {}
        for p in done:
            if p.translated is not None:
                latest[p.translated[0].user_id] = min(p.at or now, now)
        several = self.rt.several
        for user_id, at in latest.items():
            # A person is kept per kecamatan: each one this user has gets the new time.
            for kode in tenant_lookup.person_kecamatan(s, CHANNEL, user_id) if several else [None]:
                with scoped(s, kode) if kode else contextlib.nullcontext():
                    person = find_person(s, user_id)
                    if person is not None:
                        person.last_inbound_at = at

    # Translate: pywa update -> channel-neutral event ------------------------------------------
    async def translate(self, update: Any, bot: str | None = None) -> Translated | None:
        """`bot`: the kecamatan whose own number the message was written to (None: shared)."""
        chat = getattr(update, "chat", None)
        if chat is not None and str(getattr(chat, "type", "")).upper() == "GROUP":
            return None  # residents write to the business number; groups are not ours
        user = update.from_user
        caller = Caller(
            channel=CHANNEL,
            chat_id=user.preferred_id,
            user_id=user.preferred_id,
            display_name=user.name or None,
            chat_type="private",
            bot=bot,
        )
        at = update.timestamp
        if isinstance(update, wa_types.CallbackButton | wa_types.CallbackSelection):
            return Translated(caller, Event(kind="choice", data=str(update.data)), at)
        kind = str(update.type.value)
        if kind == "text":
            text = update.text or ""
            if text.startswith("/"):
                head, _, args = text[1:].partition(" ")
                return Translated(caller, Event(kind="command", command=head.lower(), args=args.strip(), text=text), at)
            return Translated(caller, Event(kind="text", text=text), at)
        if kind == "image" and update.image is not None:
            return Translated(caller, await self._photo(update.image, update.caption or ""), at)
        if kind == "location" and update.location is not None:
            loc = update.location
            return Translated(caller, Event(kind="location", latitude=loc.latitude, longitude=loc.longitude), at)
        if kind in _IGNORED:
            return None
        return Translated(caller, Event(kind="unsupported", unsupported=UNSUPPORTED.get(kind, "lainnya")), at)

    async def _photo(self, image: Any, caption: str) -> Event:
        limit = self.rt.office.max_photo_bytes
        info = await self.wa.get_media_url(image.id)
        if info.file_size > limit:
            return Event(kind="photo", text=caption, photo_too_large=True)
        folder = self.rt.data_dir / "photos" / CHANNEL
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^0-9A-Za-z_-]", "", str(image.sha256 or image.id))[:64] or hashlib.sha256(str(image.id).encode()).hexdigest()
        path = folder / (name + _PHOTO_EXT.get(str(info.mime_type).split(";")[0], ".jpg"))
        if not path.exists():
            data = bytearray()
            async for chunk in self.wa.stream_media(info.url):
                data += chunk
                if len(data) > limit:  # the announced size may lie; the bytes do not
                    return Event(kind="photo", text=caption, photo_too_large=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(bytes(data))
            tmp.replace(path)  # atomic: a half-written photo is never referenced
        return Event(kind="photo", text=caption, photo_path=str(path), photo_size=path.stat().st_size)


def find_person(session: Any, user_id: str) -> Person | None:
    return people.find_person(session, CHANNEL, user_id)


def _phone_id(payload: dict[str, Any]) -> str | None:
    try:
        return phone_id_of(payload["entry"][0]["changes"][0]["value"])
    except (KeyError, IndexError, TypeError):
        return None


def _sender_id(payload: dict[str, Any]) -> str | None:
    """Who sent a stored payload, as pywa would address them (BSUID first, then wa_id)."""
    try:
        value = payload["entry"][0]["changes"][0]["value"]
        contact = (value.get("contacts") or [{}])[0]
        return contact.get("user_id") or contact.get("wa_id") or value["messages"][0].get("from")
    except (KeyError, IndexError, TypeError):
        return None


class WhatsAppService:
    """What the Service needs of WhatsApp: the client, a Sender per number, then the channel."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        db: Database,
        clock: Callable[[], datetime] = utcnow,
        offices: Mapping[str, Office] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        # The kecamatan with a number of their own: one client (one token) sends from all
        # (Service checked them with whatsapp_numbers.check_numbers before opening the register).
        self.numbers = whatsapp_numbers.phone_ids(offices or {})
        self.wa, self._session = build_client(settings)
        self.sender = self._sender(None)
        # The outbox's channel names the number that sends (bot/channels/whatsapp_numbers.py).
        self.senders: dict[str, WhatsAppSender] = {whatsapp_numbers.SHARED: self.sender}
        self.senders.update({whatsapp_numbers.channel_of(kode): self._sender(phone_id)
                             for phone_id, kode in self.numbers.items()})
        self.channel: WhatsAppChannel | None = None

    def _sender(self, phone_id: str | None) -> WhatsAppSender:
        return WhatsAppSender(self.wa, self.db, template=self.settings.template_status,
                              language=self.settings.template_lang, clock=self.clock, phone_id=phone_id)

    def attach(self, rt: Runtime, delivery: Delivery) -> WhatsAppChannel:
        self.channel = WhatsAppChannel(self.wa, self.db, rt, delivery, clock=self.clock,
                                       shared_phone_id=self.settings.phone_id, numbers=self.numbers)
        return self.channel

    async def close(self) -> None:
        await self._session.aclose()
