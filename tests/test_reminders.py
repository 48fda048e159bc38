# Deadline reminders (bot/jobs/reminders_job.py, storage/reminders.py) on both backends:
# each (complaint, kind, deadline) is queued once however often the job runs, only on working
# days in office hours, to the right chats, without the reporter's identity, and it shows in
# the complaint's history on the officers' private card.
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cards import render_card
from bot.config.office import load_office
from bot.dialogs.context import Runtime
from bot.jobs.reminders_job import ReminderJob
from bot.texts import to_plain
from storage import people, reminders
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, OutboxItem

WIB = ZoneInfo("Asia/Jakarta")
GROUP, LEADER, KOORDINATOR = "-1001", "-2002", 3003


def wib(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=WIB)


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    office = dataclasses.replace(load_office(), trantib_group=int(GROUP), leadership_chats=(int(LEADER),),
                                 escalation_days=2)
    policy = DeadlinePolicy(3, 5, {date(2026, 12, 25)}, WIB)
    return Runtime(office=office, policy=policy, tz=WIB, secret=b"k" * 32, bot_username="sigap_test_bot",
                   data_dir=tmp_path)


def complaint(db: Database, rt: Runtime, rahasia: bool) -> int:
    # Received Tue 1 December 2026: verify by Fri 4 December.
    with db.transaction() as s:
        if not people.list_officers(s):
            people.add_officer(s, KOORDINATOR, "Bu Koordinator", "koordinator", wib(2026, 12, 1))
        person = get_or_create_person(s, "telegram", "777", "Siti Pelapor", wib(2026, 12, 1))
        person.name, person.phone = "Siti Pelapor", "081234567890"
        c = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Panduman",
                              description="Musik keras tiap malam", channel="telegram",
                              received_at=wib(2026, 12, 1, 9), rahasia=rahasia),
            reporter=person, actor=Actor("warga", person.id, None, "warga"), now=wib(2026, 12, 1, 9),
            policy=rt.policy, prefix="TRB",
        )
        return c.id


def sent(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as s:
        return [(r.chat_id, to_plain(r.payload["text"])) for r in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]


def test_each_reminder_is_sent_once_to_the_right_chats(db: Database, rt: Runtime) -> None:
    job = ReminderJob(db, rt, lambda: wib(2026, 12, 3))
    open_one = complaint(db, rt, rahasia=False)
    secret = complaint(db, rt, rahasia=True)
    # Thu 3 Dec, the working day before Fri 4: "besok jatuh tempo" to the group, twice run.
    first = job.run_once(wib(2026, 12, 3))
    again = job.run_once(wib(2026, 12, 3, 14))
    assert sorted(q.kind for q in first) == ["besok", "besok"] and again == []
    out = sent(db)
    assert [chat for chat, _ in out] == [GROUP]  # both in one message (reminders_job.joined)
    (joined,) = [t for _, t in out]
    plain, hidden = joined.split("\n\n")[1:]
    assert "TRB-2026-00001" in plain and "TRB-2026-00002" in hidden
    assert "Besok jatuh tempo" in plain and "batas verifikasi: 4 Des 2026" in plain
    assert "Panduman" in plain  # not rahasia: category and desa shown
    assert "Panduman" not in hidden and "Musik" not in hidden  # rahasia in the group
    assert all("Siti" not in t and "0812" not in t for _, t in out)

    # Mon 7 Dec: the deadline passed; the koordinator hears, in the private chat.
    assert sorted(q.kind for q in job.run_once(wib(2026, 12, 7))) == ["terlambat", "terlambat"]
    assert job.run_once(wib(2026, 12, 7, 11)) == []
    late = sent(db)[1:]
    assert [chat for chat, _ in late] == [str(KOORDINATOR)]
    assert all("Terlambat" in t and "Panduman" in t and "Siti" not in t for _, t in late)

    # Tue 8 Dec: 2 working days past Fri 4 (7, 8 Dec): escalated to the pimpinan chats.
    escalated = job.run_once(wib(2026, 12, 8))
    assert sorted(q.kind for q in escalated) == ["eskalasi", "eskalasi"]
    assert job.run_once(wib(2026, 12, 9)) == []
    top = sent(db)[2:]
    assert [chat for chat, _ in top] == [LEADER]
    assert all(t.count("Eskalasi: terlambat 2 hari kerja") == 2 and "Siti" not in t for _, t in top)
    assert not any("Panduman" in t for t in top[0][1].split("\n\n") if "TRB-2026-00002" in t)

    # In the complaint's history on the officers' private card.
    with db.transaction() as s:
        assert [r.kind for r in reminders.sent_for(s, open_one)] == ["besok", "terlambat", "eskalasi"]
        c = s.get(Complaint, open_one)
        assert c is not None
        text, _ = render_card(rt, c, "pribadi", date(2026, 12, 9), s)
        plain = to_plain(text)
        assert "Pengingat besok jatuh tempo (batas 4 Des 2026)" in plain
        assert "Pengingat eskalasi ke pimpinan" in plain
        assert "Terlambat sejak 5 Des 2026" in plain
        # The next status has a new deadline, so its reminders are owed again.
        transition(s, c, "verifikasi", Actor("petugas", 1, "Pak Petugas", "petugas"), wib(2026, 12, 9),
                   policy=rt.policy)
    assert secret


def test_nothing_is_sent_on_a_saturday_a_holiday_or_after_hours(db: Database, rt: Runtime) -> None:
    complaint(db, rt, rahasia=False)
    job = ReminderJob(db, rt, lambda: wib(2026, 12, 5))
    assert job.run_once(wib(2026, 12, 5)) == []  # Saturday, deadline passed on Friday
    assert job.run_once(wib(2026, 12, 6, 9)) == []  # Sunday
    assert job.run_once(wib(2026, 12, 7, 7)) == []  # Monday before 08:00
    assert job.run_once(wib(2026, 12, 7, 15)) == []  # Monday from 15:00
    assert job.run_once(wib(2026, 12, 25)) == []  # Christmas (a holiday in the policy)
    assert sent(db) == []
    assert [q.kind for q in job.run_once(wib(2026, 12, 7, 8))] == ["terlambat"]
