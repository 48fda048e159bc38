# Many reminders due at once (bot/jobs/reminders_job.py joined): the reminders one run owes one
# chat go out as few messages as fit under Telegram's 4096 characters, each ticket named once,
# each reminder still claimed on its own: a second run sends nothing, and a run that fails
# while queueing claims nothing and sends nothing, so the next run sends them all. On both
# backends.
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office
from bot.dialogs.context import Runtime
from bot.jobs import reminders_job
from bot.jobs.reminders_job import ReminderJob, joined
from bot.texts import to_plain
from storage import outbox, people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import OutboxItem, ReminderClaim

WIB = ZoneInfo("Asia/Jakarta")
GROUP, KOORDINATOR = "-1001", 3003
SYSTEM = Actor("sistem", None, "uji", "admin")
TICKET = re.compile(r"TRB-2026-\d{5}")


def wib(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=WIB)


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    office = dataclasses.replace(load_office(), trantib_group=int(GROUP), leadership_chats=(), escalation_days=2)
    return Runtime(office=office, policy=DeadlinePolicy(3, 5, {date(2026, 12, 25)}, WIB), tz=WIB,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def many(db: Database, rt: Runtime, n: int) -> list[str]:
    """n complaints received Tue 1 Dec 2026 (verify by Fri 4 Dec), every third rahasia."""
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Bu Koordinator", "koordinator", wib(2026, 12, 1))
        return [
            create_complaint(
                s, ComplaintDraft("pengaduan", "keributan", "Panduman", "Musik keras tiap malam", "lisan",
                                  wib(2026, 12, 1, 9), rahasia=i % 3 == 0),
                reporter=None, actor=SYSTEM, now=wib(2026, 12, 1, 9), policy=rt.policy, prefix="TRB",
            ).ticket
            for i in range(n)
        ]


def queued(db: Database) -> list[tuple[str, str, int | None]]:
    with db.reading() as s:
        return [(r.chat_id, r.payload["text"], r.complaint_id)
                for r in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]


def test_forty_reminders_for_one_group_are_two_or_three_messages_naming_each_ticket_once(
    db: Database, rt: Runtime
) -> None:
    tickets = many(db, rt, 40)
    job = ReminderJob(db, rt, lambda: wib(2026, 12, 3))
    # Thu 3 Dec: all 40 are due tomorrow, for the group.
    assert len(job.run_once(wib(2026, 12, 3))) == 40
    assert job.run_once(wib(2026, 12, 3, 11)) == []  # each reminder once
    out = queued(db)
    assert {chat for chat, _, _ in out} == {GROUP}
    assert 2 <= len(out) <= 3
    assert all(cid is None for _, _, cid in out)  # a joined message is about no one complaint
    # Every ticket in exactly one reminder block (a block names it twice: title and /kasus).
    named = [t for _, text, _ in out for block in text.split("\n\n")[1:] for t in set(TICKET.findall(block))]
    assert sorted(named) == sorted(tickets)
    for n, (_, html, _) in enumerate(out, start=1):
        assert len(html.encode("utf-16-le")) // 2 <= 4096
        plain = to_plain(html)
        lines = plain.split("\n")
        assert lines[0] == f"🔔 40 pengingat tenggat · bagian {n} dari {len(out)}"
        assert lines[1] == ""
        blocks = plain.split("\n\n")[1:]
        for block in blocks:
            rows = block.split("\n")
            assert rows[0].startswith("⏳ Besok jatuh tempo · ")
            assert rows[1] == "Status: Diterima · batas verifikasi: 4 Des 2026"
            assert rows[-1].startswith("Buka di chat pribadi dengan bot: /kasus TRB-2026-")
            (ticket,) = set(TICKET.findall(block))
            secret = tickets.index(ticket) % 3 == 0
            assert len(rows) == (3 if secret else 4)  # rahasia: no category or desa in the group
            assert ("Panduman" in block) is not secret
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ReminderClaim)) == 40

    # Mon 7 Dec: all 40 overdue, for the koordinator's private chat: joined the same way.
    assert len(job.run_once(wib(2026, 12, 7))) == 40
    late = [text for chat, text, _ in queued(db) if chat == str(KOORDINATOR)]
    assert 2 <= len(late) <= 3
    assert sorted(t for text in late for t in set(TICKET.findall(text))) == sorted(tickets)


def test_a_run_that_fails_while_queueing_claims_nothing_and_the_next_sends_all(
    db: Database, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = many(db, rt, 40)
    job = ReminderJob(db, rt, lambda: wib(2026, 12, 3))
    real, calls = outbox.enqueue, []

    def crash_on_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("mati listrik")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminders_job.outbox, "enqueue", crash_on_second)
    with pytest.raises(RuntimeError):
        job.run_once(wib(2026, 12, 3))
    assert queued(db) == []
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ReminderClaim)) == 0
    monkeypatch.setattr(reminders_job.outbox, "enqueue", real)
    assert len(job.run_once(wib(2026, 12, 3, 11))) == 40
    named = [t for _, text, _ in queued(db) for t in set(TICKET.findall(text))]
    assert sorted(named) == sorted(tickets)


def test_one_reminder_keeps_its_own_message_and_a_long_list_is_split_between_reminders() -> None:
    assert joined([]) == []
    entry = "⏳ <b>Besok jatuh tempo</b> · <b>TRB-2026-{:05d}</b>\n" + "x" * 300
    texts = [entry.format(i) for i in range(1, 31)]
    parts = joined(texts)
    assert len(parts) == 3  # about 10 000 characters
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    # Never a reminder cut in two: each part holds whole entries, in order.
    assert [e for p in parts for e in p.split("\n\n")[1:]] == texts
