# Deadline reminders on PTB's JobQueue: the Trantib group the working day before a deadline,
# the koordinator officers' private chats once it has passed, the pimpinan chats after the
# office's escalation interval.
# Invariants: sent only on working days within the office's reminder hours (office time
# zone); each (complaint, kind, deadline) is claimed in reminder_claims in the transaction
# that queues its messages in the outbox (storage/reminders.py), so it goes out once across
# restarts and processes, and the outbox delivers it. The messages never name the reporter,
# and a rahasia complaint's say only its ticket, status and deadline outside the koordinator's
# private chat, as the group card does.
# The reminders one run owes one chat are joined into as few messages as fit under Telegram's
# 4096 characters (a group takes 20 messages a minute); one reminder alone keeps its own
# message, which names its complaint.
# One ReminderJob is one kecamatan's (`kecamatan`; None is the register's own): its complaints,
# its officers, its Trantib group and leaders, its calendar. `schedule_all` runs every
# kecamatan's in turn from one JobQueue job.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from bot.cards import DEADLINE_NAMES
from bot.channels import telegram_bots
from bot.dialogs.context import Ctx, Runtime
from bot.dialogs.types import Caller
from bot.texts import render, status_label
from kpi.workdays import is_working_day, working_days_between
from storage import outbox, people, reminders
from storage.db import Database

log = logging.getLogger(__name__)
JOB = "pengingat-tenggat"
EVERY = timedelta(minutes=15)
TELEGRAM_TEXT_LIMIT = 4096
HEADER_ROOM = 200  # pengingat_gabungan.j2's header line, with its numbers
SEPARATOR = "\n\n"  # between two reminders of a joined message (pengingat_gabungan.j2)


@dataclass(frozen=True)
class Queued:
    ticket: str
    kind: str
    chats: int


class ReminderJob:
    def __init__(self, db: Database, rt: Runtime, clock: Callable[[], datetime], *,
                 kecamatan: str | None = None) -> None:
        self.db = db
        self.rt = rt
        self.office = rt.office
        self.clock = clock
        self.kecamatan = kecamatan

    def schedule(self, job_queue: Any) -> None:
        job_queue.run_repeating(self._tick, interval=EVERY.total_seconds(), first=60, name=JOB)

    async def _tick(self, _context: object) -> None:
        try:
            await asyncio.to_thread(self.run_once)
        except Exception:  # the next tick tries again; reminders must not stop the bot
            log.exception("Pengingat tenggat %s gagal diproses", self.office.name)

    def in_office_hours(self, now: datetime) -> bool:
        local = now.astimezone(self.rt.tz)
        return (
            self.office.reminders_on
            and is_working_day(local.date(), self.rt.policy.holidays)
            and self.office.reminder_from <= local.time() < self.office.reminder_until
        )

    def run_once(self, now: datetime | None = None) -> list[Queued]:
        now = now or self.clock()
        if not self.in_office_hours(now):
            return []
        today = now.astimezone(self.rt.tz).date()
        holidays = self.rt.policy.holidays
        queued: list[Queued] = []
        with self.db.transaction(self.kecamatan) as s:
            ctx = Ctx(self.rt, s, Caller("telegram", "", "", None, "private"), now)
            group = ctx.trantib_group()
            coordinators = [str(o.telegram_id) for o in people.list_officers(s)
                            if o.active and o.role == "koordinator"]
            leaders = [str(c) for c in dict.fromkeys(self.office.leadership_chats)]
            targets = {reminders.BESOK: [group] if group else [], reminders.TERLAMBAT: coordinators,
                       reminders.ESKALASI: leaders}
            # What each chat is told this run, in the order owed() gives (most urgent first):
            # every claim is made here, and the messages are queued after, joined per chat, in
            # the same transaction, so a crash loses neither and a rerun sends neither again.
            per_chat: dict[str, list[tuple[str, int]]] = {}
            for item in reminders.owed(s, today, holidays, self.office.escalation_days):
                chats = targets[item.kind]
                if not chats:
                    continue  # nobody to tell yet: stays owed until someone is set up
                if not reminders.claim(s, item, now, len(chats)):
                    continue  # another process has it
                c = item.complaint
                # Full detail (category, desa) only in the koordinator's private chat, or for
                # a complaint that is not rahasia; never the reporter.
                detail = item.kind == reminders.TERLAMBAT or not c.rahasia
                text = render(
                    "pengingat", jenis=item.kind, c=c, status=status_label(c.status),
                    batas_nama=DEADLINE_NAMES.get(c.status, ""), rinci=detail,
                    kategori=self.office.category_name(c.category),
                    hari=working_days_between(item.due_on, today, holidays),
                )
                for chat in chats:
                    per_chat.setdefault(chat, []).append((text, c.id))
                queued.append(Queued(c.ticket, item.kind, len(chats)))
            bot = telegram_bots.channel_for(self.office)  # the kecamatan's own bot, if it has one
            for chat, entries in per_chat.items():
                if len(entries) == 1:
                    text, complaint_id = entries[0]
                    outbox.enqueue(s, bot, chat, "text", {"text": text, "buttons": []}, now, complaint_id)
                    continue
                # A joined message is about several complaints, so it names none of them.
                for text in joined([t for t, _ in entries]):
                    outbox.enqueue(s, bot, chat, "text", {"text": text, "buttons": []}, now, None)
        if queued:
            log.info("Pengingat tenggat %s: %d diantrekan", self.office.name, len(queued))
        return queued


def _telegram_length(text: str) -> int:
    # Telegram counts UTF-16 code units (an emoji is two), after the HTML tags are parsed
    # away; counting the tags too keeps a message safely under the limit.
    return len(text.encode("utf-16-le")) // 2


def joined(texts: Sequence[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Reminders for one chat as few messages as fit under `limit`: each lists whole
    reminders (one is never split over two messages), under a header naming how many and
    which part. 40 at once as 40 messages would pass a group's 20 messages a minute."""
    if not texts:
        return []
    room = limit - HEADER_ROOM
    parts: list[list[str]] = [[]]
    size = 0
    for text in texts:
        cost = _telegram_length(text) + len(SEPARATOR)
        if parts[-1] and size + cost > room:
            parts.append([])
            size = 0
        parts[-1].append(text)
        size += cost
    total = len(texts)
    return [
        render("pengingat_gabungan", jumlah=total, bagian=n, bagian_total=len(parts),
               isi=[Markup(t) for t in part])  # each already rendered, escaped, by pengingat.j2
        for n, part in enumerate(parts, start=1)
    ]


def schedule_all(job_queue: Any, jobs: Sequence[ReminderJob]) -> None:
    """One JobQueue job for every kecamatan's reminders, one kecamatan after another (a failure
    in one is logged and the next still runs)."""
    async def tick(context: object) -> None:
        for job in jobs:
            await job._tick(context)

    job_queue.run_repeating(tick, interval=EVERY.total_seconds(), first=60, name=JOB)
