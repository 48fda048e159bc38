# Delivers the outbox. Channel-neutral: each channel gives a Sender; this loop decides
# what to send, in which order, and what to do when a send fails.
# Invariants: an item is marked sent only after its channel accepted it; per chat, items go
# out in id order and a later one waits while an earlier one is retried; a 429 waits as
# long as the channel asked; network and 5xx errors back off exponentially; a chat that
# blocked the bot is recorded on the person and its items are failed, not retried forever.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.cards import render_card
from bot.dialogs.context import Runtime
from storage import outbox
from storage.complaints import with_history
from storage.db import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12


class Retry(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class Undeliverable(Exception):
    def __init__(self, reason: str, blocked: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked


class EditTargetGone(Exception):
    """The message to edit no longer exists: send a fresh one instead."""


class Sender(Protocol):
    async def send_text(self, chat_id: str, text: str, buttons: list[list[Any]], force_reply: bool = False) -> int | None: ...
    async def edit_text(self, chat_id: str, message_id: int, text: str, buttons: list[list[Any]]) -> None: ...
    async def send_photo(self, chat_id: str, path: str, caption: str | None) -> int | None: ...
    async def send_location(self, chat_id: str, latitude: float, longitude: float) -> int | None: ...


@dataclass
class Job:
    id: int
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def utcnow() -> datetime:
    return datetime.now(UTC)


class Delivery:
    def __init__(self, db: Database, rt: Runtime, senders: dict[str, Sender], clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.rt = rt
        self.senders = senders
        self.clock = clock
        self._wake = asyncio.Event()
        self._parallel = asyncio.Semaphore(16)
        self.sent_count = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            delay = await self.drain()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def drain(self) -> float:
        """Send everything due now; returns how long to sleep before the next due item.

        Chats are served concurrently (a slow or throttled chat does not hold up the others);
        within a chat, items go strictly in order and stop at the first one being retried.
        """
        while True:
            jobs = await asyncio.to_thread(self._due, self.clock())
            if not jobs:
                break
            by_chat: dict[tuple[str, str], list[Job]] = {}
            for job in jobs:
                by_chat.setdefault((job.channel, job.chat_id), []).append(job)
            results = await asyncio.gather(*(self._deliver_chat(q) for q in by_chat.values()))
            if not any(results):
                break
        nxt = await asyncio.to_thread(self._next_wakeup)
        if nxt is None:
            return 60.0
        return max(0.05, min(60.0, (nxt - self.clock()).total_seconds()))

    def _due(self, now: datetime) -> list[Job]:
        with self.db.reading() as s:
            return [
                Job(r.id, r.channel, r.chat_id, r.kind, dict(r.payload), r.attempts)
                for channel in self.senders
                for r in outbox.due(s, channel, now)
            ]

    def _next_wakeup(self) -> datetime | None:
        with self.db.reading() as s:
            nxt = None
            for channel in self.senders:
                t = outbox.next_wakeup(s, channel)
                if t is not None and (nxt is None or t < nxt):
                    nxt = t
            return nxt

    async def _deliver_chat(self, queue: list[Job]) -> bool:
        async with self._parallel:
            progressed = False
            for job in queue:
                ok = await self._deliver(job)
                if ok is None:  # waiting for a retry: later items of this chat wait too
                    break
                progressed = True
            return progressed

    async def _deliver(self, job: Job) -> bool | None:
        sender = self.senders[job.channel]
        try:
            message_id = await self._send(sender, job)
        except Retry as exc:
            if job.attempts + 1 >= MAX_ATTEMPTS:
                await asyncio.to_thread(self._fail, job, f"menyerah setelah {MAX_ATTEMPTS} percobaan: {exc}", False)
                return False
            delay = max(exc.delay, min(300.0, 2.0 ** job.attempts))
            log.warning("outbox %s to %s: retry in %.1fs (%s)", job.id, job.chat_id, delay, exc)
            await asyncio.to_thread(self._retry, job, delay, str(exc))
            return None
        except Undeliverable as exc:
            log.warning("outbox %s to %s undeliverable: %s", job.id, job.chat_id, exc)
            await asyncio.to_thread(self._fail, job, str(exc), exc.blocked)
            return False
        await asyncio.to_thread(self._sent, job, message_id)
        self.sent_count += 1
        return True

    async def _send(self, sender: Sender, job: Job) -> int | None:
        p = job.payload
        if job.kind == "text":
            return await sender.send_text(job.chat_id, p["text"], p.get("buttons", []), bool(p.get("force_reply")))
        if job.kind == "photo":
            return await sender.send_photo(job.chat_id, p["path"], p.get("caption"))
        if job.kind == "location":
            return await sender.send_location(job.chat_id, p["latitude"], p["longitude"])
        if job.kind == "card":
            drawn = await asyncio.to_thread(self._draw_card, job)
            if drawn is None:
                return None
            text, buttons, existing = drawn
            if existing is not None and not p.get("new"):
                try:
                    await sender.edit_text(job.chat_id, existing, text, buttons)
                    return existing
                except EditTargetGone:
                    pass
            return await sender.send_text(job.chat_id, text, buttons)
        raise Undeliverable(f"jenis pesan tidak dikenal: {job.kind}")

    def _draw_card(self, job: Job) -> tuple[str, list[list[Any]], int | None] | None:
        with self.db.reading() as s:
            complaint = with_history(s, int(job.payload["complaint_id"]))
            if complaint is None:
                return None
            today = self.clock().astimezone(self.rt.tz).date()
            text, buttons = render_card(self.rt, complaint, job.payload.get("audience", "grup"), today, s)
            return text, buttons, outbox.card_message(s, complaint.id, job.chat_id)

    def _sent(self, job: Job, message_id: int | None) -> None:
        with self.db.transaction() as s:
            outbox.mark_sent(s, job.id, self.clock(), message_id)
            if job.kind == "card" and message_id is not None:
                outbox.set_card_message(s, int(job.payload["complaint_id"]), job.chat_id, message_id, self.clock())

    def _retry(self, job: Job, delay: float, error: str) -> None:
        with self.db.transaction() as s:
            outbox.mark_retry(s, job.id, self.clock(), timedelta(seconds=delay), error)

    def _fail(self, job: Job, error: str, blocked: bool) -> None:
        now = self.clock()
        with self.db.transaction() as s:
            outbox.mark_failed(s, job.id, now, error)
            if blocked:
                outbox.mark_chat_blocked(s, job.channel, job.chat_id, now)
