# Handling a channel's claimed inbox items in ONE write transaction (Telegram and WhatsApp).
# Invariants (architecture.md "Nothing lost"): each item's dialog step, its state, the outbox
# items it queued and its handled mark commit together; within a chat, items are handled
# strictly in inbox order (an item waits while an earlier one of its chat is pending, also one
# another worker holds); a failing item rolls back alone and is retried, then given up with
# an apology after `max_attempts`; the replies the batch queued are returned as jobs for the
# delivery, to be handed over as soon as the transaction committed. One batch may mix
# kecamatan: the session is opened in the register's default one, and router.handle scopes it
# to each step's own (bot/dialogs/kecamatan.py `scoped`, which flushes at every switch).
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.app.delivery import Job
from bot.dialogs.types import Caller, Event
from bot.texts import render
from storage import dialog_states, inbox, outbox
from storage.db import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """An update translated on the event loop, ready for the handling transaction."""

    order_key: str | None  # the chat whose order it keeps; None: no chat
    private_chat: int | str | None = None  # where to apologise when it cannot be handled
    callback_id: str | None = None
    translated: tuple[Caller, Event] | None = None
    error: str | None = None  # the translation failed (e.g. the photo download)
    at: datetime | None = None  # when the user sent it (WhatsApp: the 24-hour window)
    note: str | None = None  # recorded on the item when it is handled (e.g. dropped by pywa)


@dataclass
class Batch:
    """What one handling transaction did."""

    handled: int = 0
    failed: int = 0
    left: int = 0  # still pending: behind an earlier item of its chat, or not prepared here
    jobs: list[Job] = field(default_factory=list)
    undelivered: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    answers: list[tuple[str, str | None]] = field(default_factory=list)


# One item's dialog step, in the batch's session: returns the toast (Telegram answers it).
Step = Callable[["Session", Prepared, datetime], str | None]
# Runs once after the steps, in the same transaction, with the handled items in inbox order.
Finish = Callable[["Session", list[Prepared], datetime], None]


@dataclass
class BatchHandler:
    """Handles one channel's inbox in batches (see handle)."""

    db: Database
    channel: str
    step: Step
    waiting_key: Callable[[dict[str, Any]], str | None]  # a stored payload's order key
    clock: Callable[[], datetime]
    max_attempts: int
    limit: int = 100
    label: str = "update"  # what an item is called in the log
    finish: Finish | None = None
    # PostgreSQL: the replies a batch writes are leased to this process, which sends them
    # (Delivery.lease); None: not leased (SQLite).
    lease: timedelta | None = None

    def handle(self, rows: list[tuple[str, dict[str, Any]]], prepared: dict[str, Prepared]) -> Batch:
        """Store `rows` (if any) and handle the pending items, oldest first, in one transaction.

        An item is handled only with its `prepared` translation (keyed by external id) and
        only when no earlier item of its chat is still pending; the others stay pending. The
        outbox items the handled steps created are returned as jobs, with what each of their
        chats must wait for.

        The batch first runs without savepoints (one flush for all its steps). If anything
        fails, that transaction rolls back whole and the batch runs again with each step in a
        savepoint of its own: the failing step then rolls back alone, its attempt is recorded,
        and the rest of its chat waits for its retry, while the other steps commit.
        """
        try:
            return self.run(rows, prepared, savepoints=False)
        except Exception:
            return self.run(rows, prepared, savepoints=True)

    def run(self, rows: list[tuple[str, dict[str, Any]]], prepared: dict[str, Prepared], *, savepoints: bool) -> Batch:
        batch = Batch()
        now = self.clock()
        with self.db.transaction() as s, outbox.created_in(s) as created:
            if self.lease is not None:
                s.info[outbox.LEASE_KEY] = now + self.lease
            if rows:
                inbox.store(s, self.channel, rows, now)
            items = inbox.claim_batch(s, self.channel, limit=self.limit)
            unprepared = [item_id for item_id, ext, _ in items if ext not in prepared]
            # Only to know whose chat an unprepared item holds up.
            waiting_keys = {
                item_id: self.waiting_key(payload) for item_id, payload in inbox.payloads(s, unprepared).items()
            }
            callers = [p.translated[0] for _, ext, _ in items if (p := prepared.get(ext)) and p.translated]
            inbox.hold_dialog_states(s, ((c.state_channel, c.chat_id, c.user_id) for c in callers))
            # Chats whose older items another worker holds (PostgreSQL): theirs until it commits.
            others = inbox.held_elsewhere(s, self.channel, [item_id for item_id, _, _ in items])
            blocked = {key for payload in others.values() if (key := self.waiting_key(payload)) is not None}
            handled: list[int] = []
            done: list[Prepared] = []
            notes: list[tuple[int, str]] = []
            for item_id, ext, attempts in items:
                p = prepared.get(ext)
                key = p.order_key if p is not None else waiting_keys.get(item_id)
                if p is None or (key is not None and key in blocked):
                    if key is not None:
                        blocked.add(key)
                    batch.left += 1
                    continue
                if p.error is not None:
                    self._record_failure(s, item_id, attempts, p, p.error, now, batch)
                    if key is not None:
                        blocked.add(key)
                    continue
                if not savepoints:
                    toast = self.step(s, p, now)
                else:
                    mark = len(created)
                    try:
                        with s.begin_nested():
                            toast = self.step(s, p, now)
                    except Exception as exc:
                        log.exception("%s %s gagal ditangani", self.label, ext)
                        del created[mark:]  # rolled back with its savepoint
                        dialog_states.forget(s)  # so are the states it wrote
                        self._record_failure(s, item_id, attempts, p, repr(exc), now, batch)
                        if key is not None:
                            blocked.add(key)
                        continue
                handled.append(item_id)
                done.append(p)
                if p.note is not None:
                    notes.append((item_id, p.note))
                if p.callback_id is not None:
                    batch.answers.append((p.callback_id, toast))
            noted = {item_id for item_id, _ in notes}
            inbox.mark_handled(s, [i for i in handled if i not in noted] if noted else handled, now)
            for item_id, note in notes:
                # Handled, with why nothing came of it: kept for inspection like a given-up item.
                inbox.mark_failed(s, item_id, note, now, give_up=True)
            if self.finish is not None:
                self.finish(s, done, now)
            s.flush()
            batch.handled = len(handled)
            created.sort(key=lambda o: o.id)  # a chat's items go out in id order
            batch.jobs = [Job(o.id, o.channel, o.chat_id, o.kind, dict(o.payload), o.attempts) for o in created]
            ids = [o.id for o in created]
            for channel in {o.channel for o in created}:
                chats = sorted({o.chat_id for o in created if o.channel == channel})
                for chat_id, waiting in outbox.undelivered_in_chats(s, channel, chats, ids).items():
                    batch.undelivered[(channel, chat_id)] = waiting
        return batch

    def _record_failure(
        self, s: Session, item_id: int, attempts: int, p: Prepared, error: str, now: datetime, batch: Batch
    ) -> None:
        give_up = attempts + 1 >= self.max_attempts
        inbox.mark_failed(s, item_id, error, now, give_up)
        if give_up and p.private_chat is not None:
            outbox.enqueue(s, self.channel, p.private_chat, "text", {"text": render("kesalahan"), "buttons": []}, now)
        if not give_up:
            batch.left += 1  # it is retried
        batch.failed += 1
        if p.callback_id is not None:
            batch.answers.append((p.callback_id, None))


async def run_handle_loop(handle_pending: Callable[[], Awaitable[int]], work: asyncio.Event, label: str) -> None:
    """A channel's worker: handle what is pending whenever woken (or every 30 s anyway); an
    unexpected failure is logged and retried after a second, never the end of the loop."""
    while True:
        work.clear()
        try:
            await handle_pending()
        except Exception:
            log.exception("menangani inbox %s gagal; dicoba lagi", label)
            await asyncio.sleep(1.0)
            work.set()
        try:
            await asyncio.wait_for(work.wait(), timeout=30)
        except TimeoutError:
            pass
