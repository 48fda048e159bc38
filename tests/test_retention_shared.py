# Retention of the tables no kecamatan owns (issue 14 leftovers): the nightly run for every
# kecamatan purges the inbox, outbox and dialog states ONCE, with the default (first)
# office's periods, not once per kecamatan with the shortest period winning; and a resident's
# kecamatan pick (chat_kecamatan) goes after dialog_days without a message, unless their
# Person has an open complaint. On both backends.
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from bot.config.office import DEFAULT_OFFICE_FILE, Office, load_office
from bot.jobs.retention_job import describe, run_retention_all
from storage import inbox, people, tenant_lookup
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import OPEN_STATUSES, Actor, transition
from storage.models import ChatKecamatan, Complaint, InboxItem

WIB = ZoneInfo("Asia/Jakarta")
JELBUK, ARJASA = "35.09.25", "35.09.22"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=WIB)
SHIPPED = DEFAULT_OFFICE_FILE.parent


def offices(jelbuk_inbox: int, arjasa_inbox: int) -> dict[str | None, Office]:
    """The scopes as kecamatan_jobs.scopes makes them: the default office (None) first."""
    jelbuk, arjasa = load_office(SHIPPED / "jelbuk.toml"), load_office(SHIPPED / "arjasa.toml")
    return {
        None: dataclasses.replace(jelbuk, retention=dataclasses.replace(jelbuk.retention, inbox_days=jelbuk_inbox)),
        ARJASA: dataclasses.replace(arjasa, retention=dataclasses.replace(arjasa.retention, inbox_days=arjasa_inbox)),
    }


def handled_update(db: Database, external_id: str, handled: datetime) -> None:
    with db.transaction() as s:
        inbox.store(s, "telegram", [(external_id, {"update_id": external_id})], handled)
        item = s.scalars(select(InboxItem).where(InboxItem.external_id == external_id)).one()
        inbox.mark_handled(s, [item.id], handled)


def test_shared_tables_are_purged_once_with_the_default_offices_periods(db: Database, tmp_path: Path) -> None:
    # Jelbuk (the default office) keeps handled updates 30 days, Arjasa 7: an update handled
    # 20 days ago stays (Arjasa's shorter period must not win for the register's inbox); one
    # handled 40 days ago goes, and is counted once, in the default office's report.
    handled_update(db, "u-20", NOW - timedelta(days=20))
    handled_update(db, "u-40", NOW - timedelta(days=40))
    reports = run_retention_all(db, offices(30, 7), NOW, tmp_path)
    with db.reading() as s:
        assert s.scalars(select(InboxItem.external_id)).all() == ["u-20"]
    assert reports[None].inbox_cleared == 1 and reports[ARJASA].inbox_cleared == 0
    assert sum(r.inbox_cleared for r in reports.values()) == 1
    assert f"\n  {'pesan masuk':<23}: 1\n" in describe(reports[None], dry_run=False)
    # The next night nothing is left to count twice.
    again = run_retention_all(db, offices(30, 7), NOW + timedelta(hours=1), tmp_path)
    assert sum(r.inbox_cleared for r in again.values()) == 0


def add_person(db: Database, kode: str, user: str, at: datetime, *, open_case: bool, closed: bool = False) -> None:
    policy = DeadlinePolicy(3, 5, holidays.country_holidays("ID"), WIB)
    system = Actor("sistem", None, "uji", "admin")
    with db.transaction(kode) as s:
        person = get_or_create_person(s, "telegram", user, None, at)
        if open_case or closed:
            c = create_complaint(s, ComplaintDraft("pengaduan", "miras", "Kamal", "uraian", "telegram", at),
                                 reporter=person, actor=Actor("warga", person.id, None, "warga"), now=at,
                                 policy=policy, prefix={JELBUK: "TRB", ARJASA: "ARJ"}[kode])
            if closed:
                transition(s, c, "verifikasi", system, at + timedelta(hours=1))
                transition(s, c, "tindaklanjuti", system, at + timedelta(days=1))
                transition(s, c, "selesaikan", system, at + timedelta(days=2), public_note="beres")


def pick(db: Database, user: str, kode: str, at: datetime) -> None:
    with db.transaction() as s:
        tenant_lookup.remember(s, "telegram", user, kode, at)


def test_a_kecamatan_pick_goes_after_dialog_days_without_a_message_unless_a_case_is_open(
    db: Database, tmp_path: Path
) -> None:
    old, recent = NOW - timedelta(days=60), NOW - timedelta(days=5)
    # 101: picked 60 days ago, never wrote again, no Person: dropped.
    pick(db, "101", ARJASA, old)
    # 102: picked 60 days ago, their complaint in Arjasa (a Person of another kecamatan than
    # the default's) is still open: kept.
    pick(db, "102", ARJASA, old)
    add_person(db, ARJASA, "102", old, open_case=True)
    # 103: picked 60 days ago, a dialog step 5 days ago: kept.
    pick(db, "103", ARJASA, old)
    with db.transaction() as s:
        people.save_state(s, "telegram", "103", "103", {"flow": "menu"}, recent)
    # 104: picked 60 days ago, wrote to Arjasa 5 days ago (its Person's last inbound): kept.
    pick(db, "104", ARJASA, old)
    add_person(db, ARJASA, "104", recent, open_case=False)
    # 105: picked 5 days ago: kept.
    pick(db, "105", JELBUK, recent)
    # 106: picked 60 days ago, their complaint closed long ago, silent since: dropped.
    pick(db, "106", ARJASA, old)
    add_person(db, ARJASA, "106", old - timedelta(days=10), open_case=False, closed=True)

    reports = run_retention_all(db, offices(30, 30), NOW, tmp_path)
    with db.reading() as s:
        assert sorted(s.scalars(select(ChatKecamatan.user_id)).all()) == ["102", "103", "104", "105"]
    assert reports[None].kecamatan_picks_dropped == 2 and reports[ARJASA].kecamatan_picks_dropped == 0
    assert reports[None].total >= 2
    text = describe(reports[None], dry_run=False)
    assert "\n  pilihan kecamatan warga: 2\n" in text

    # Once 102's complaint is closed and everyone stays silent past the period, all go.
    close_all(db, ARJASA, NOW)
    run_retention_all(db, offices(30, 30), NOW + timedelta(days=61), tmp_path)
    with db.reading() as s:
        assert s.scalars(select(ChatKecamatan.user_id)).all() == []


def close_all(db: Database, kode: str, at: datetime) -> None:
    system = Actor("sistem", None, "uji", "admin")
    with db.transaction(kode) as s:
        for c in s.scalars(select(Complaint).where(Complaint.status.in_(OPEN_STATUSES))).all():
            transition(s, c, "verifikasi", system, at + timedelta(hours=1))
            transition(s, c, "tindaklanjuti", system, at + timedelta(days=1))
            transition(s, c, "selesaikan", system, at + timedelta(days=2), public_note="beres")
