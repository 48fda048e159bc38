# The scheduled work of every kecamatan the deployment serves (bot/jobs/offices.py), wired
# for bot/app/service.py: the digest round (each kecamatan's digest, then the kabupaten
# digest), the reminders of each kecamatan, and which scopes the nightly retention purges.
# Invariant: the first office runs in the register's own scope (kecamatan None: exactly the
# single-office jobs of before), every other in its kode's; a kode is never run twice.
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.app.delivery import Sender
from bot.config.office import Office
from bot.config.settings import Settings
from bot.dialogs.context import Runtime
from bot.jobs import reminders_job
from bot.jobs.digest_job import DigestJob, _instance_name
from bot.jobs.digest_rounds import DigestRounds
from bot.jobs.kabupaten_digest_job import KabupatenDigestJob
from bot.jobs.offices import runtime_for, served_offices
from bot.jobs.pacing import ChatPacer
from storage.db import Database


def scopes(db: Database, settings: Settings, first: Office) -> dict[str | None, Office]:
    """{scope: Office}: None (the register's own kecamatan) for `first`, the kode for the others."""
    out: dict[str | None, Office] = {None: first}
    for kode, office in served_offices(settings, first).items():
        if office is not first and kode != db.kecamatan:
            out[kode] = office
    return out


def digest_rounds(db: Database, rt: Runtime, settings: Settings, sender: Sender,
                  clock: Callable[[], datetime], bot_senders: dict[str, Sender] | None = None) -> DigestRounds:
    """`sender` is the shared bot's; `bot_senders` those of the kecamatan with a bot of their
    own (by kode), which post their own digests. One pacer per bot: Telegram counts a group's
    20 messages a minute per bot."""
    bots = bot_senders or {}
    pacers: dict[str | None, ChatPacer] = {}

    def pacer_of(own: str | None) -> ChatPacer:
        # Made once per bot, and only for a bot that posts something.
        if own not in pacers:
            pacers[own] = ChatPacer()
        return pacers[own]

    offices = scopes(db, settings, rt.office)
    jobs = []
    for kode, office in offices.items():
        own = office.kode_wilayah if office.kode_wilayah in bots else None
        jobs.append(DigestJob(db, runtime_for(rt, office), bots[own] if own else sender, clock, kecamatan=kode,
                              pacer=pacer_of(own)))
    kabupaten = None
    if settings.kabupaten_chat is not None:
        by_kode = {kode or db.kecamatan: office for kode, office in offices.items()}
        kabupaten = KabupatenDigestJob(db, by_kode, str(settings.kabupaten_chat), sender, clock,
                                       owner=_instance_name(), pacer=pacer_of(None))
    return DigestRounds(db, jobs, kabupaten)


def schedule_reminders(job_queue: Any, db: Database, rt: Runtime, settings: Settings,
                       clock: Callable[[], datetime]) -> list[reminders_job.ReminderJob]:
    jobs = [reminders_job.ReminderJob(db, runtime_for(rt, office), clock, kecamatan=kode)
            for kode, office in scopes(db, settings, rt.office).items()]
    reminders_job.schedule_all(job_queue, jobs)
    return jobs


__all__ = ["digest_rounds", "schedule_reminders", "scopes"]
