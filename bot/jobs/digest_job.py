# The weekly digest on PTB's JobQueue: posted to the Trantib group and each leadership chat,
# never lost and never twice.
# Invariants (architecture.md "Nothing lost", scheduled):
# - What is owed is decided from the register and the injected clock (kpi.digest.weeks_due),
#   never from APScheduler's misfire handling or job store: the daily job at the office's
#   weekday and time, the catch-up at startup and every hour, and a retry after a failure
#   all run the same `run_due`, which sends whatever is due and not yet sent.
# - Each (chat, week) is claimed in digest_claims before sending (the primary key decides
#   between instances; an expired lease may be taken over), the claim is committed before
#   Telegram is called, and sent_at is written only after the Bot API accepted the chart,
#   the last of the two messages. The text's message id is recorded as soon as it is
#   accepted, so a retry after a failed chart sends only the chart.
# - The one window left is a crash between Telegram accepting a message and the register
#   recording it (the Bot API has no idempotency key): that message may be sent again once.
# - A digest later than the office's digest_max_late_hours is abandoned and logged, not sent;
#   a chat that refuses the bot is abandoned too.
# - One DigestJob is one kecamatan's: every transaction it opens names that kecamatan
#   (`kecamatan`; None is the register's own, the single office), so its figures, its Trantib
#   group and its claims are that kecamatan's only. bot/jobs/digest_rounds.py runs the jobs of
#   every kecamatan one after another, behind a ChatPacer (bot/jobs/pacing.py).
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app.delivery import Retry, Sender, Undeliverable
from bot.dialogs.context import Ctx, Runtime
from bot.dialogs.types import Caller
from bot.jobs.pacing import ChatPacer
from bot.reports.digest import Digest, build_digest
from kpi.digest import weeks_due
from kpi.periods import Period
from storage import digest_claims
from storage.db import Database

log = logging.getLogger(__name__)
DAILY_JOB = "digest"
CATCH_UP_JOB = "digest-susulan"
CATCH_UP_EVERY = timedelta(hours=1)
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class Outcome:
    chat_id: str
    period: str
    result: str  # "terkirim", "dicoba lagi", "ditinggalkan", "sudah ditangani"
    error: str | None = None


def _instance_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class DigestJob:
    def __init__(
        self,
        db: Database,
        rt: Runtime,
        sender: Sender,
        clock: Callable[[], datetime],
        *,
        owner: str | None = None,
        holidays: Any = None,
        kecamatan: str | None = None,
        pacer: ChatPacer | None = None,
    ) -> None:
        self.db = db
        self.rt = rt
        self.office = rt.office
        self.sender = sender
        self.clock = clock
        self.owner = owner or _instance_name()
        self.holidays = holidays if holidays is not None else rt.policy.holidays
        self.folder = rt.data_dir / "digests"
        self.kecamatan = kecamatan
        self.pacer = pacer
        self._lock = asyncio.Lock()
        self._job_queue: Any = None
        # What a retry wakes: this job's own tick, or the round it belongs to (attach).
        self._wake: Callable[[Any], Any] = self._tick

    # Scheduling --------------------------------------------------------------------------
    def schedule(self, job_queue: Any) -> None:
        self._job_queue = job_queue
        at = self.office.digest_time.replace(tzinfo=self.rt.tz)
        # PTB counts days from Sunday (0); the office file from Monday (0).
        job_queue.run_daily(self._tick, time=at, days=((self.office.digest_weekday + 1) % 7,), name=DAILY_JOB)
        job_queue.run_repeating(
            self._tick, interval=CATCH_UP_EVERY.total_seconds(), first=1, name=CATCH_UP_JOB
        )

    def attach(self, job_queue: Any, wake: Callable[[Any], Any]) -> None:
        """Scheduled by a round (bot/jobs/digest_rounds.py): a retry wakes the round."""
        self._job_queue = job_queue
        self._wake = wake

    async def _tick(self, _context: object) -> None:
        try:
            await self.run_due()
        except Exception:  # the next tick tries again; a failed digest must not stop the bot
            log.exception("Ringkasan mingguan gagal diproses")

    def _retry_later(self, delay: timedelta) -> None:
        if self._job_queue is not None:
            self._job_queue.run_once(self._wake, when=delay.total_seconds() + 1, name=f"{DAILY_JOB}-ulang")

    # What is owed --------------------------------------------------------------------------
    def target_chats(self) -> list[str]:
        """The Trantib group (as the dialogs find it) and every leadership chat, once each."""
        with self.db.reading(self.kecamatan) as s:
            probe = Ctx(self.rt, s, Caller("telegram", "", "", None, "private"), self.clock())
            group = probe.trantib_group()
        chats = ([group] if group else []) + [str(c) for c in self.office.leadership_chats]
        return list(dict.fromkeys(chats))

    async def run_due(self) -> list[Outcome]:
        async with self._lock:
            now = self.clock()
            since = await asyncio.to_thread(self._since, now)
            owed = weeks_due(
                now,
                self.rt.tz,
                self.office.digest_weekday,
                self.office.digest_time,
                timedelta(hours=self.office.digest_max_late_hours),
                since,
            )
            if not owed:
                return []
            chats = await asyncio.to_thread(self.target_chats)
            if not chats:
                log.warning("Ringkasan mingguan %s: belum ada grup Trantib atau chat pimpinan", self.office.name)
                return []
            outcomes: list[Outcome] = []
            for due in owed:
                if due.too_late:
                    outcomes += await asyncio.to_thread(self._abandon_late, due.week, due.due, chats, now)
                else:
                    outcomes += await self._send_week(due.week, chats, manual=False)
            return outcomes

    async def send_now(self, week: Period, chats: list[str] | None = None) -> list[Outcome]:
        """`sigap digest --send`: the week's digest to every target chat now, through the
        claims (a chat that already has it does not get it again), late or not."""
        async with self._lock:
            chats = chats if chats is not None else await asyncio.to_thread(self.target_chats)
            return await self._send_week(week, chats, manual=True)

    def _since(self, now: datetime) -> datetime:
        with self.db.transaction(self.kecamatan) as s:
            return digest_claims.since(s, now)

    def _abandon_late(self, week: Period, due: datetime, chats: list[str], now: datetime) -> list[Outcome]:
        hours = (now - due).total_seconds() / 3600
        reason = f"terlambat {hours:.1f} jam (batas {self.office.digest_max_late_hours} jam)"
        out = []
        for chat in chats:
            with self.db.transaction(self.kecamatan) as s:
                done = digest_claims.abandon(s, chat, week.code, self.owner, now, reason)
            if done:
                log.warning("Ringkasan %s untuk chat %s ditinggalkan: %s", week.code, chat, reason)
                out.append(Outcome(chat, week.code, "ditinggalkan", reason))
        return out

    # Sending -----------------------------------------------------------------------------
    def build(self, week: Period) -> Digest:
        with self.db.reading(self.kecamatan) as s:
            return build_digest(s, self.office, week, self.clock(), holidays=self.holidays)

    async def _send_week(self, week: Period, chats: list[str], *, manual: bool) -> list[Outcome]:
        now = self.clock()
        owed = await asyncio.to_thread(self._open_chats, week, chats, now, manual)
        if not owed:
            return []
        digest = await asyncio.to_thread(self.build, week)
        path = await asyncio.to_thread(digest.save_chart, self.folder)
        return [await self._deliver(chat, digest, path, manual) for chat in owed]

    def _open_chats(self, week: Period, chats: list[str], now: datetime, manual: bool) -> list[str]:
        with self.db.reading(self.kecamatan) as s:
            return digest_claims.open_chats(s, week.code, chats, now, take_abandoned=manual)

    def _claim(self, chat: str, period: str, manual: bool) -> digest_claims.Claim | None:
        # Committed before Telegram is called: the claim is what the other instance sees.
        with self.db.transaction(self.kecamatan) as s:
            return digest_claims.claim(s, chat, period, self.owner, self.clock(), take_abandoned=manual)

    def _record(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.db.transaction(self.kecamatan) as s:
            return fn(s, *args)

    async def _deliver(self, chat: str, digest: Digest, path: Path, manual: bool) -> Outcome:
        period = digest.week.code
        claim = await asyncio.to_thread(self._claim, chat, period, manual)
        if claim is None:
            return Outcome(chat, period, "sudah ditangani")
        try:
            if claim.text_message_id is None:
                await self._pace(chat)
                message_id = await self.sender.send_text(chat, digest.text, [])
                await asyncio.to_thread(self._record, digest_claims.text_sent, chat, period, message_id)
            await self._pace(chat)
            await self.sender.send_photo(chat, str(path), digest.chart_caption)
        except Retry as exc:
            backoff = min(MAX_BACKOFF, timedelta(minutes=2 ** (claim.attempts - 1)))
            delay = max(backoff, timedelta(seconds=exc.delay))
            log.warning("Ringkasan %s ke chat %s gagal (%s); dicoba lagi dalam %s", period, chat, exc, delay)
            await asyncio.to_thread(
                self._record, digest_claims.release, chat, period, self.owner, self.clock(), str(exc), delay
            )
            self._retry_later(delay)
            return Outcome(chat, period, "dicoba lagi", str(exc))
        except Undeliverable as exc:
            log.warning("Ringkasan %s ke chat %s tidak dapat dikirim: %s", period, chat, exc)
            await asyncio.to_thread(
                self._record, digest_claims.abandon, chat, period, self.owner, self.clock(), str(exc)
            )
            return Outcome(chat, period, "ditinggalkan", str(exc))
        except Exception as exc:
            # Unknown failure: release the claim so the next tick retries it.
            log.exception("Ringkasan %s ke chat %s gagal", period, chat)
            await asyncio.to_thread(
                self._record, digest_claims.release, chat, period, self.owner, self.clock(), repr(exc), MAX_BACKOFF
            )
            return Outcome(chat, period, "dicoba lagi", repr(exc))
        await asyncio.to_thread(self._record, digest_claims.mark_sent, chat, period, self.clock())
        log.info("Ringkasan %s terkirim ke chat %s", period, chat)
        return Outcome(chat, period, "terkirim")

    async def _pace(self, chat: str) -> None:
        if self.pacer is not None:
            await self.pacer.wait(chat)

