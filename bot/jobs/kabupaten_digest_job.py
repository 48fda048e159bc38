# The weekly kabupaten digest (issue 14): the IKU of every kecamatan to the kabupaten chat
# (SIGAP_KABUPATEN_CHAT; Bagian Organisasi, Inspektorat), once a week, after the kecamatan
# digests of the same round (bot/jobs/digest_rounds.py).
# Invariants: the same rules as the kecamatan digest (bot/jobs/digest_job.py): what is owed
# comes from the register and the clock (kpi.digest.weeks_due, at the first office's digest
# weekday and time, within its digest_max_late_hours), each message is claimed in
# digest_claims and the claim committed before Telegram is called, sent_at is written only
# after the Bot API accepted it, and a digest too late is abandoned and logged.
# The digest is several messages (bot/reports/kabupaten_digest.py): each has its own claim,
# sent in order, a failed one holding back the ones after it, so a retry sends only what is
# still owed; a last claim "selesai" says the week is complete. The claims live in the first
# office's scope under the keys "kabupaten:<chat>:<n>" and "kabupaten:<chat>:selesai", so
# they are never confused with that kecamatan's own digest to the same chat.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.delivery import Retry, Sender, Undeliverable
from bot.config.office import Office
from bot.jobs.digest_job import MAX_BACKOFF, Outcome
from bot.jobs.pacing import ChatPacer
from bot.reports.kabupaten_digest import KabupatenDigest, build_kabupaten_digest
from kpi.digest import weeks_due
from kpi.periods import Period
from storage import digest_claims
from storage.db import Database

log = logging.getLogger(__name__)
KEY_PREFIX = "kabupaten:"


def claim_key(chat: str, part: int) -> str:
    """The claim of one message of the week's kabupaten digest to `chat`."""
    return f"{KEY_PREFIX}{chat}:{part + 1}"


def done_key(chat: str) -> str:
    """Written sent once every message of the week went out (or abandoned when too late)."""
    return f"{KEY_PREFIX}{chat}:selesai"


class KabupatenDigestJob:
    def __init__(
        self,
        db: Database,
        offices: Mapping[str, Office],
        chat: str,
        sender: Sender,
        clock: Callable[[], datetime],
        *,
        owner: str,
        kecamatan: str | None = None,
        pacer: ChatPacer | None = None,
    ) -> None:
        self.db = db
        self.offices = dict(offices)
        self.first = next(iter(self.offices.values()))
        self.chat = chat
        self.sender = sender
        self.clock = clock
        self.owner = owner
        self.kecamatan = kecamatan  # the scope of the claims: the first office's
        self.pacer = pacer
        self.tz = ZoneInfo(self.first.timezone)
        self._job_queue: Any = None
        self._wake: Callable[[Any], Any] | None = None

    def attach(self, job_queue: Any, wake: Callable[[Any], Any]) -> None:
        self._job_queue = job_queue
        self._wake = wake

    async def run_due(self) -> list[Outcome]:
        now = self.clock()
        since = await asyncio.to_thread(self._record, digest_claims.since, now)
        owed = weeks_due(now, self.tz, self.first.digest_weekday, self.first.digest_time,
                         timedelta(hours=self.first.digest_max_late_hours), since)
        outcomes: list[Outcome] = []
        for due in owed:
            if due.too_late:
                outcomes += await asyncio.to_thread(self._abandon_late, due.week, due.due, now)
            else:
                outcomes += await self._send_week(due.week, manual=False)
        return outcomes

    async def send_now(self, week: Period) -> list[Outcome]:
        """By hand: through the claims (never twice), late or not."""
        return await self._send_week(week, manual=True)

    def build(self, week: Period) -> KabupatenDigest:
        return build_kabupaten_digest(self.db, self.offices, week)

    def _record(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.db.transaction(self.kecamatan) as s:
            return fn(s, *args)

    def _abandon_late(self, week: Period, due: datetime, now: datetime) -> list[Outcome]:
        hours = (now - due).total_seconds() / 3600
        reason = f"terlambat {hours:.1f} jam (batas {self.first.digest_max_late_hours} jam)"
        # The week's "done" claim stands for the whole digest: abandoned whole or not at all.
        if not self._record(digest_claims.abandon, done_key(self.chat), week.code, self.owner, now, reason):
            return []
        log.warning("Ringkasan kabupaten %s untuk chat %s ditinggalkan: %s", week.code, self.chat, reason)
        return [Outcome(self.chat, week.code, "ditinggalkan", reason)]

    def _owed(self, week: Period, now: datetime, manual: bool) -> bool:
        # Checked before building: the hourly catch-up of a week already sent reads one row,
        # not every kecamatan's register.
        with self.db.reading(self.kecamatan) as s:
            return bool(digest_claims.open_chats(s, week.code, [done_key(self.chat)], now, take_abandoned=manual))

    def _done(self, period: str, manual: bool) -> None:
        with self.db.transaction(self.kecamatan) as s:
            now = self.clock()
            if digest_claims.claim(s, done_key(self.chat), period, self.owner, now, take_abandoned=manual):
                digest_claims.mark_sent(s, done_key(self.chat), period, now)

    def _sent(self, key: str, period: str) -> bool:
        with self.db.reading(self.kecamatan) as s:
            row = digest_claims.get(s, key, period)
            return row is not None and row.sent_at is not None

    async def _send_week(self, week: Period, *, manual: bool) -> list[Outcome]:
        if not await asyncio.to_thread(self._owed, week, self.clock(), manual):
            return []
        digest = await asyncio.to_thread(self.build, week)
        sent_any = False
        for i, text in enumerate(digest.parts):
            result = await self._deliver(week.code, i, text, manual)
            if result is None:
                continue  # this part went out earlier
            if result.result != "terkirim":
                # Later parts wait for this one (they are read in order), also while another
                # holder's lease on it runs.
                return [result]
            sent_any = True
        await asyncio.to_thread(self._done, week.code, manual)
        if not sent_any:
            return [Outcome(self.chat, week.code, "sudah ditangani")]
        log.info("Ringkasan kabupaten %s terkirim ke chat %s (%d pesan)", week.code, self.chat, len(digest.parts))
        return [Outcome(self.chat, week.code, "terkirim")]

    async def _deliver(self, period: str, part: int, text: str, manual: bool) -> Outcome | None:
        key = claim_key(self.chat, part)
        claim = await asyncio.to_thread(
            self._record, lambda s: digest_claims.claim(s, key, period, self.owner, self.clock(),
                                                        take_abandoned=manual))
        if claim is None:
            return None if await asyncio.to_thread(self._sent, key, period) else Outcome(
                self.chat, period, "sudah ditangani")
        try:
            if self.pacer is not None:
                await self.pacer.wait(self.chat)
            message_id = await self.sender.send_text(self.chat, text, [])
        except Retry as exc:
            delay = max(min(MAX_BACKOFF, timedelta(minutes=2 ** (claim.attempts - 1))), timedelta(seconds=exc.delay))
            log.warning("Ringkasan kabupaten %s ke chat %s gagal (%s); dicoba lagi dalam %s", period, self.chat, exc, delay)
            await asyncio.to_thread(self._record, digest_claims.release, key, period, self.owner,
                                    self.clock(), str(exc), delay)
            if self._job_queue is not None and self._wake is not None:
                self._job_queue.run_once(self._wake, when=delay.total_seconds() + 1, name="digest-kabupaten-ulang")
            return Outcome(self.chat, period, "dicoba lagi", str(exc))
        except Undeliverable as exc:
            log.warning("Ringkasan kabupaten %s ke chat %s tidak dapat dikirim: %s", period, self.chat, exc)
            for k in (key, done_key(self.chat)):  # the rest of the week is given up with it
                await asyncio.to_thread(self._record, digest_claims.abandon, k, period, self.owner,
                                        self.clock(), str(exc))
            return Outcome(self.chat, period, "ditinggalkan", str(exc))
        except Exception as exc:
            log.exception("Ringkasan kabupaten %s ke chat %s gagal", period, self.chat)
            await asyncio.to_thread(self._record, digest_claims.release, key, period, self.owner,
                                    self.clock(), repr(exc), MAX_BACKOFF)
            return Outcome(self.chat, period, "dicoba lagi", repr(exc))

        def sent(s: Any) -> None:
            digest_claims.text_sent(s, key, period, message_id)
            digest_claims.mark_sent(s, key, period, self.clock())

        await asyncio.to_thread(self._record, sent)
        return Outcome(self.chat, period, "terkirim")


__all__ = ["KEY_PREFIX", "KabupatenDigestJob", "claim_key", "done_key"]
