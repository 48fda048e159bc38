# Delivers the outbox. Channel-neutral: each channel gives a Sender; this loop decides
# what to send, in which order, and what to do when a send fails.
# Invariants: an item is marked sent only after its channel accepted it; per chat, items go
# out in id order and a later one waits while an earlier one is retried; a 429 waits as
# long as the channel asked; network and 5xx errors back off exponentially; a chat that
# blocked the bot is recorded on the person and its items are failed, not retried forever.
# Each chat is served by one worker at a time, from an in-memory queue: jobs found by the
# periodic query (`drain`) and jobs handed over right after the transaction that created
# them committed (`submit`) join the same queue, and an id is never queued twice while it
# is queued, in flight or waiting for its sent mark (`_known`), so nothing goes out twice.
# Several processes on one PostgreSQL register: `drain` claims what it sends with a lease
# (storage/outbox.claim_due), and the jobs a handling transaction wrote come leased to this
# process already; those it does not queue here (`submit`) are given back at once.
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.cards import render_card
from bot.dialogs import deferred
from bot.dialogs.context import Runtime
from bot.texts import render
from storage import outbox
from storage.complaints import with_history
from storage.db import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
SETTLED_KEPT = 10_000
# How long a claimed item is this process's to send (PostgreSQL): renewed every third of it
# while the item is queued or in flight here, so a killed process's items are sent by
# another (or by itself restarted) within this time.
DEFAULT_LEASE = timedelta(seconds=30)
BUTTONS_OFF = outbox.BUTTONS_OFF


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
    async def remove_buttons(self, chat_id: str, message_id: int) -> None: ...
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
    def __init__(
        self,
        db: Database,
        rt: Runtime,
        senders: dict[str, Sender],
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.db = db
        # None on SQLite: one process, nothing to share.
        self.lease: timedelta | None = None if db.is_sqlite else lease
        self._releasing: set[asyncio.Task[None]] = set()
        self.rt = rt
        self.senders = senders
        self.clock = clock
        self._wake = asyncio.Event()
        # Chats served at once. 8 sends in flight already exceed Telegram's 30 messages/s at
        # a 250 ms round trip; more only add work to httpx's pool, which scans every open
        # connection for each request (measured: 16 cost about 30% more CPU per update).
        self._parallel = asyncio.Semaphore(8)
        self.sent_count = 0
        self._queues: dict[tuple[str, str], deque[Job]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[bool]] = {}
        # Ids queued, in flight, or sent and waiting for their mark to commit.
        self._known: set[int] = set()
        # One set per `_due` query under way: ids that left `_known` meanwhile, which that
        # query's (older) snapshot may still show as due.
        self._finished_during: list[set[int]] = []
        # Ids sent or failed for good lately (oldest first, bounded): a chat's next item need
        # not wait for the query because of them.
        self._settled: dict[int, None] = {}
        self._marks: list[tuple[Job, int | None]] = []
        self._marker: asyncio.Task[None] | None = None
        # Reports (deferred.KIND, digest) are built on threads of their own: several officers
        # asking at once must not take every thread of asyncio's default pool, which the
        # inbox batches and the sent marks of everyone else's replies run on.
        self._builders = ThreadPoolExecutor(max_workers=2, thread_name_prefix="laporan")

    def wake(self) -> None:
        self._wake.set()

    def holds_nothing(self) -> bool:
        """Nothing queued, in flight, awaiting its sent mark or being given back here (on
        PostgreSQL such items look not due in the register: their lease is in the future)."""
        return not self._known and not self._releasing

    def submit(self, jobs: list[Job], undelivered: dict[tuple[str, str], set[int]]) -> None:
        """Send jobs a transaction just committed, without waiting for the next query.

        `undelivered` gives, per chat, the ids of its earlier items that were not yet sent
        when the jobs were created. A chat's jobs join its queue only if all of those are
        queued or in flight here already (so they go out first); otherwise the chat is left
        to `drain`, whose query keeps the order.
        """
        held = False
        not_mine: list[int] = []
        for job in jobs:
            key = (job.channel, job.chat_id)
            if job.id in self._known:
                continue
            if job.channel not in self.senders:
                not_mine.append(job.id)
                continue
            if not all(i in self._known or i in self._settled for i in undelivered.get(key, ())):
                held = True
                not_mine.append(job.id)
                continue
            self._enqueue(job)
        if not_mine:
            # Leased to this process when written: give them back, for whoever sends them.
            self._give_back(not_mine)
        if held:
            self.wake()

    def _give_back(self, item_ids: list[int]) -> None:
        if self.lease is None:
            return
        task = asyncio.create_task(asyncio.to_thread(self._release, item_ids))
        self._releasing.add(task)
        task.add_done_callback(self._released)

    def _release(self, item_ids: list[int]) -> None:
        # Not those queued here again meanwhile: they stay this process's.
        ids = [i for i in item_ids if i not in self._known]
        if ids:
            with self.db.transaction() as s:
                outbox.lease_items(s, ids, self.clock())

    def _released(self, task: asyncio.Task[None]) -> None:
        self._releasing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Their lease expires instead: sent a few minutes late, not lost.
            log.error("mengembalikan sewa pesan gagal: %s", task.exception())
        self.wake()

    def _enqueue(self, job: Job) -> asyncio.Task[bool]:
        key = (job.channel, job.chat_id)
        self._known.add(job.id)
        self._queues.setdefault(key, deque()).append(job)
        worker = self._workers.get(key)
        if worker is None:
            worker = asyncio.create_task(self._deliver_chat(key), name=f"outbox {key[0]}:{key[1]}")
            self._workers[key] = worker
        return worker

    async def close(self) -> None:
        """Stop the chat workers and record the sent marks still waiting."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._builders.shutdown(wait=False, cancel_futures=True)
        if self._marker is not None:
            # A register that stays down must not hold up the shutdown: those few items
            # are then sent again after the restart.
            done, _ = await asyncio.wait([self._marker], timeout=5.0)
            if not done:
                self._marker.cancel()
        if self._releasing:
            # The stopped chat workers gave their leased items back (PostgreSQL), so a restart
            # or another process sends them at once; a register that is down: they expire.
            await asyncio.wait(list(self._releasing), timeout=5.0)

    def _forget(self, job_id: int, settled: bool = False) -> None:
        self._known.discard(job_id)
        for finished in self._finished_during:
            finished.add(job_id)
        if settled:
            self._settled[job_id] = None
            if len(self._settled) > SETTLED_KEPT:
                del self._settled[next(iter(self._settled))]

    async def run(self) -> None:
        renewing = asyncio.create_task(self._renew_leases(), name="outbox leases") if self.lease else None
        try:
            while True:
                self._wake.clear()
                delay = await self.drain()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except TimeoutError:
                    pass
        finally:
            if renewing is not None:
                renewing.cancel()

    async def _renew_leases(self) -> None:
        """Keep the leases of what is queued, in flight or awaiting its sent mark here."""
        assert self.lease is not None
        lease = self.lease
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            ids = sorted(self._known)
            if not ids:
                continue
            try:
                await asyncio.to_thread(self._lease, ids, lease)
            except Exception:  # the register is away: the next round tries again
                log.exception("memperpanjang sewa %d pesan gagal", len(ids))

    def _lease(self, item_ids: list[int], lease: timedelta) -> None:
        with self.db.transaction() as s:
            outbox.lease_items(s, item_ids, self.clock() + lease)

    async def drain(self) -> float:
        """Send everything due now; returns how long to sleep before the next due item.

        Chats are served concurrently (a slow or throttled chat does not hold up the others);
        within a chat, items go strictly in order and stop at the first one being retried.
        """
        in_hand = False
        while True:
            finished: set[int] = set()
            self._finished_during.append(finished)
            try:
                jobs = await asyncio.to_thread(self._due, self.clock())
            finally:
                self._finished_during.remove(finished)
            # Items queued here already, or done since the query's snapshot, are not new.
            fresh = [j for j in jobs if j.id not in self._known and j.id not in finished]
            in_hand = len(fresh) < len(jobs)
            if not fresh:
                break
            workers = {self._enqueue(job) for job in fresh}
            results = await asyncio.gather(*workers)
            if not any(results):
                break
        nxt = await asyncio.to_thread(self._next_wakeup)
        if nxt is None:
            return 60.0
        delay = max(0.05, min(60.0, (nxt - self.clock()).total_seconds()))
        # Due items already in a chat worker's hands need no query every 50 ms: a worker that
        # leaves items behind (a retry) wakes this loop.
        return max(delay, 1.0) if in_hand else delay

    def _due(self, now: datetime) -> list[Job]:
        if self.lease is not None:
            with self.db.transaction() as s:
                return [
                    Job(r.id, r.channel, r.chat_id, r.kind, dict(r.payload), r.attempts)
                    for channel in self.senders
                    for r in outbox.claim_due(s, channel, now, self.lease)
                ]
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

    async def _deliver_chat(self, key: tuple[str, str]) -> bool:
        queue = self._queues[key]
        progressed = False
        try:
            async with self._parallel:
                while queue:
                    ok = await self._deliver(queue[0])
                    queue.popleft()
                    if ok is None:  # waiting for a retry: later items of this chat wait too
                        self.wake()
                        break
                    progressed = True
        except Exception:
            # Not a channel's answer (those are handled in _deliver): a bug or the register
            # failing. The job stays in the outbox and the query offers it again.
            log.exception("pengiriman ke %s:%s gagal", *key)
        finally:
            # Whatever is left (after a retry, or an error) goes back to the query's care.
            left = [job.id for job in queue]
            for job in queue:
                self._forget(job.id)
            queue.clear()
            del self._queues[key]
            del self._workers[key]
            if left:
                # Leased here: given back, so they go out right after the retried item
                # instead of when their lease runs out.
                self._give_back(left)
        return progressed

    async def _deliver(self, job: Job) -> bool | None:
        sender = self.senders[job.channel]
        try:
            message_id = await self._send(sender, job)
        except Retry as exc:
            if job.attempts + 1 >= MAX_ATTEMPTS:
                await self._settle(self._fail, job, f"menyerah setelah {MAX_ATTEMPTS} percobaan: {exc}", False, done=True)
                return False
            delay = max(exc.delay, min(300.0, 2.0 ** job.attempts))
            log.warning("outbox %s to %s: retry in %.1fs (%s)", job.id, job.chat_id, delay, exc)
            await self._settle(self._retry, job, delay, str(exc), done=False)
            return None
        except Undeliverable as exc:
            log.warning("outbox %s to %s undeliverable: %s", job.id, job.chat_id, exc)
            await self._settle(self._fail, job, str(exc), exc.blocked, done=True)
            return False
        self.sent_count += 1
        if job.kind == "card":
            # The next card of this chat reads the message id to edit: record it before.
            await self._settle(self._sent, job, message_id, done=True)
        else:
            self._mark_sent_soon(job, message_id)
        return True

    async def _settle(self, record: Callable[..., None], job: Job, *args: Any, done: bool) -> None:
        """Record a job's outcome; `done`: sent or failed for good (not to be retried)."""
        ok = False
        try:
            await asyncio.to_thread(record, job, *args)
            ok = True
        finally:
            self._forget(job.id, settled=done and ok)

    def _mark_sent_soon(self, job: Job, message_id: int | None) -> None:
        """Sent marks are written in batches, one transaction for all that are waiting: a
        crash before the batch commits sends those items again (at least once, as before)."""
        self._marks.append((job, message_id))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks(), name="outbox marks")

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await asyncio.to_thread(self._sent_many, batch)
            except Exception:
                # The items stay known, so nothing is sent again meanwhile; try again shortly.
                log.exception("menandai %d pesan terkirim gagal; dicoba lagi", len(batch))
                self._marks[:0] = batch
                await asyncio.sleep(1.0)
                continue
            for job, _ in batch:
                self._forget(job.id, settled=True)

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
        if job.kind == BUTTONS_OFF:
            # A prompt whose buttons are spent (the note preview after Kirim / Batal): by the
            # pressed message's id, or, when the answer was typed, the id the prompt was sent as.
            target = p.get("message_id") or await asyncio.to_thread(self._sent_as, p.get("outbox_id"))
            if target:
                try:
                    await sender.remove_buttons(job.chat_id, int(target))
                except EditTargetGone:
                    pass  # deleted meanwhile: nothing left to tidy
            return None
        if job.kind == deferred.KIND:
            # A report built here, from a read transaction, outside the write batch.
            first: int | None = None
            loop = asyncio.get_running_loop()
            for kind, payload in await loop.run_in_executor(self._builders, self._build_view, job):
                if kind == "photo":
                    message_id = await sender.send_photo(job.chat_id, payload["path"], payload.get("caption"))
                else:
                    message_id = await sender.send_text(job.chat_id, payload["text"], payload.get("buttons", []),
                                                        bool(payload.get("force_reply")))
                first = message_id if first is None else first
            return first
        if job.kind == "digest":
            text, chart, caption = await asyncio.get_running_loop().run_in_executor(
                self._builders, self._draw_digest, job)
            message_id = await sender.send_text(job.chat_id, text, [])
            await sender.send_photo(job.chat_id, str(chart), caption)
            return message_id
        raise Undeliverable(f"jenis pesan tidak dikenal: {job.kind}")

    def _sent_as(self, outbox_id: int | None) -> int | None:
        if outbox_id is None:
            return None
        with self.db.reading() as s:
            return outbox.sent_message_id(s, int(outbox_id))

    def _build_view(self, job: Job) -> list[tuple[str, dict[str, Any]]]:
        try:
            with self.db.reading() as s:
                return deferred.build(self.rt, s, job.payload)
        except Exception:
            # A bug or the register failing: the officer is told, not left waiting (a plain
            # exception here would offer the item again forever).
            log.exception("membangun %s untuk %s gagal", job.payload.get("view"), job.chat_id)
            return [("text", {"text": render("kesalahan"), "buttons": []})]

    def _kecamatan(self, job: Job) -> str:
        """The kecamatan whose register a card or digest is drawn from: the one of the step
        that queued it (Ctx.queue), or the register's own for an item that names none."""
        kode = job.payload.get("kecamatan") or self.rt.office.kode_wilayah
        if kode not in self.rt.offices and kode != self.rt.office.kode_wilayah:
            # Its office file is gone: nothing of it is drawn, least of all another's figures.
            raise Undeliverable(f"kecamatan {kode} tidak ada di berkas kantor")
        return str(kode)

    def _draw_digest(self, job: Job) -> tuple[str, Path, str]:
        from bot.reports.digest import draw_digest  # pulls in matplotlib: only when asked

        kode = self._kecamatan(job)
        with self.db.reading(kode) as s:
            return draw_digest(s, self.rt.office_of(kode), job.payload["week"], self.clock(), self.rt.data_dir,
                               self.rt.policy_of(kode).holidays)

    def _draw_card(self, job: Job) -> tuple[str, list[list[Any]], int | None] | None:
        kode = self._kecamatan(job)
        with self.db.reading(kode) as s:
            complaint = with_history(s, int(job.payload["complaint_id"]))
            if complaint is None:
                return None
            today = self.clock().astimezone(self.rt.tz_of(kode)).date()
            text, buttons = render_card(self.rt, complaint, job.payload.get("audience", "grup"), today, s,
                                        office=self.rt.office_of(kode))
            return text, buttons, outbox.card_message(s, complaint.id, job.chat_id)

    def _sent(self, job: Job, message_id: int | None) -> None:
        with self.db.transaction() as s:
            outbox.mark_sent(s, job.id, self.clock(), message_id)
            if job.kind == "card" and message_id is not None:
                outbox.set_card_message(s, int(job.payload["complaint_id"]), job.chat_id, message_id, self.clock())

    def _sent_many(self, batch: list[tuple[Job, int | None]]) -> None:
        now = self.clock()
        with self.db.transaction() as s:
            outbox.mark_sent_many(s, [(job.id, message_id) for job, message_id in batch], now)

    def _retry(self, job: Job, delay: float, error: str) -> None:
        with self.db.transaction() as s:
            outbox.mark_retry(s, job.id, self.clock(), timedelta(seconds=delay), error)

    def _fail(self, job: Job, error: str, blocked: bool) -> None:
        now = self.clock()
        with self.db.transaction() as s:
            outbox.mark_failed(s, job.id, now, error)
            if blocked:
                outbox.mark_chat_blocked(s, job.channel, job.chat_id, now)
