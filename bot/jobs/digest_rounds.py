# The weekly digests of every kecamatan of the deployment, and then the kabupaten digest, as
# one round on PTB's JobQueue.
# Invariants:
# - A round runs the kecamatan one after another (each DigestJob in its own scope, with its
#   own office: chats, leaders, calendar, claims), then the kabupaten digest, so that
#   building 31 digests never takes every worker thread at 07:00 (the batch of residents'
#   updates shares them), and the kabupaten digest follows the kecamatan ones.
# - Every send goes through its bot's ChatPacer (bot/jobs/pacing.py; one per bot, made in
#   bot/jobs/kecamatan_jobs.py, since Telegram counts per bot): a group gets at most 20 digest
#   messages a minute from one bot however many kecamatan post to it through that bot.
# - Of several processes on one register, one runs a round at a time (storage/job_locks.py);
#   the others skip it, and their next tick finds only what is still owed (the claims decide
#   what is owed, so a skipped round loses nothing). Two processes interleaving their sends to
#   one group would each pace only their own.
# - A kecamatan whose digest fails is logged and the round goes on with the next.
# - With one office file the jobs are named, scheduled and run as the single DigestJob was:
#   "digest" at the office's weekday and time, "digest-susulan" at startup and every hour.
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from bot.jobs.digest_job import CATCH_UP_EVERY, CATCH_UP_JOB, DAILY_JOB, DigestJob, Outcome
from bot.jobs.kabupaten_digest_job import KabupatenDigestJob
from storage import job_locks
from storage.db import Database

log = logging.getLogger(__name__)
LOCK = "ringkasan-mingguan"


class DigestRounds:
    def __init__(self, db: Database, jobs: Sequence[DigestJob], kabupaten: KabupatenDigestJob | None = None) -> None:
        if not jobs:
            raise ValueError("Ringkasan mingguan memerlukan sedikitnya satu kecamatan")
        self.db = db
        self.jobs = list(jobs)
        self.kabupaten = kabupaten
        self._lock = asyncio.Lock()

    def slots(self) -> list[tuple[int, time, str]]:
        """The distinct (weekday, time, time zone) at which some kecamatan's digest is due, the
        first office's first."""
        found = [(j.office.digest_weekday, j.office.digest_time, j.office.timezone) for j in self.jobs]
        return list(dict.fromkeys(found))

    def schedule(self, job_queue: Any) -> None:
        for job in self.jobs:
            job.attach(job_queue, self._tick)
        if self.kabupaten is not None:
            self.kabupaten.attach(job_queue, self._tick)
        for i, (weekday, at, tz) in enumerate(self.slots()):
            # PTB counts days from Sunday (0); the office file from Monday (0).
            job_queue.run_daily(self._tick, time=at.replace(tzinfo=ZoneInfo(tz)), days=((weekday + 1) % 7,),
                                name=DAILY_JOB if i == 0 else f"{DAILY_JOB}-{i + 1}")
        job_queue.run_repeating(self._tick, interval=CATCH_UP_EVERY.total_seconds(), first=1, name=CATCH_UP_JOB)

    async def _tick(self, _context: object) -> None:
        try:
            await self.run_due()
        except Exception:  # the next tick tries again; a failed digest must not stop the bot
            log.exception("Ringkasan mingguan gagal diproses")

    async def run_due(self) -> list[Outcome]:
        async with self._lock:
            held = contextlib.ExitStack()
            mine = await asyncio.to_thread(held.enter_context, job_locks.exclusive(self.db, LOCK))
            try:
                if not mine:
                    log.info("Ringkasan mingguan dilewati: proses lain sedang mengirimnya")
                    return []
                outcomes: list[Outcome] = []
                for job in self.jobs:
                    try:
                        outcomes += await job.run_due()
                    except Exception:
                        log.exception("Ringkasan mingguan %s gagal diproses", job.office.name)
                if self.kabupaten is not None:
                    outcomes += await self.kabupaten.run_due()
                return outcomes
            finally:
                await asyncio.to_thread(held.close)


__all__ = ["LOCK", "DigestRounds"]
