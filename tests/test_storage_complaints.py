# Complaint intake and look-ups: ticket numbers (format, per-year sequence, no gaps even with
# rollbacks and concurrent intakes), deadlines in working days, overdue ordering, erasure.
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    by_ticket,
    complaints_of,
    count_since,
    create_complaint,
    erase_identity,
    format_ticket,
    get_or_create_person,
    is_overdue,
    open_complaints,
    parse_ticket,
    reserve_seq_at_least,
)
from storage.db import Database
from storage.lifecycle import (
    DITERIMA,
    DITINDAKLANJUTI,
    DITOLAK,
    DIVERIFIKASI,
    SELESAI,
    Actor,
    transition,
)
from storage.models import Complaint, Person, StatusChange, TicketCounter
from storage.tenancy import DEFAULT_KECAMATAN

PREFIX = "TRB"
JAKARTA = ZoneInfo("Asia/Jakarta")
WARGA = Actor("warga", None, None, "warga")
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")


def draft(received_at: datetime, **kw: object) -> ComplaintDraft:
    base: dict[str, object] = {
        "kind": "pengaduan",
        "category": "Kebisingan",
        "desa": "Jelbuk",
        "description": "Knalpot brong tiap malam",
        "channel": "telegram",
        "received_at": received_at,
    }
    base.update(kw)
    return ComplaintDraft(**base)  # type: ignore[arg-type]


def intake(db: Database, policy: DeadlinePolicy, now: datetime, *,
           received_at: datetime | None = None, reporter_id: int | None = None) -> Complaint:
    with db.transaction() as s:
        reporter = s.get(Person, reporter_id) if reporter_id is not None else None
        return create_complaint(s, draft(received_at or now), reporter=reporter, actor=WARGA,
                                now=now, policy=policy, prefix=PREFIX)


def all_seqs(db: Database, year: int) -> list[int]:
    with db.transaction() as s:
        return [int(x) for x in s.scalars(
            select(Complaint.seq).where(Complaint.year == year).order_by(Complaint.seq))
            if x is not None]


NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB


def test_ticket_format_and_sequence(db: Database, policy: DeadlinePolicy) -> None:
    tickets = [intake(db, policy, NOW + timedelta(minutes=i)).ticket for i in range(3)]
    assert tickets == ["TRB-2026-00001", "TRB-2026-00002", "TRB-2026-00003"]
    with db.transaction() as s:
        c = by_ticket(s, " trb-2026-00002 ")
        assert c is not None
        assert (c.year, c.seq, c.status, c.version) == (2026, 2, DITERIMA, 1)
        assert [(h.from_status, h.to_status) for h in
                s.scalars(select(StatusChange).where(StatusChange.complaint_id == c.id))] == [
            (None, DITERIMA)
        ]
    assert format_ticket(PREFIX, 2026, 123456) == "TRB-2026-123456"
    assert parse_ticket(PREFIX, "trb-2026-00017") == (2026, 17)
    assert parse_ticket(PREFIX, "TRB-26-17") is None
    assert parse_ticket(PREFIX, "XYZ-2026-00017") is None


def test_new_year_restarts_at_one_in_jakarta_time(db: Database, policy: DeadlinePolicy) -> None:
    assert intake(db, policy, datetime(2026, 12, 31, 10, 0, tzinfo=UTC)).ticket == "TRB-2026-00001"
    # 16:59Z is 23:59 WIB: still 2026.
    assert intake(db, policy, datetime(2026, 12, 31, 16, 59, tzinfo=UTC)).ticket == "TRB-2026-00002"
    # 17:30Z is 00:30 WIB on 1 January: already 2027, numbering restarts.
    assert intake(db, policy, datetime(2026, 12, 31, 17, 30, tzinfo=UTC)).ticket == "TRB-2027-00001"
    assert intake(db, policy, datetime(2027, 1, 1, 1, 0, tzinfo=UTC)).ticket == "TRB-2027-00002"
    assert all_seqs(db, 2026) == [1, 2]
    assert all_seqs(db, 2027) == [1, 2]


def test_rolled_back_intake_gives_its_number_back(db: Database, policy: DeadlinePolicy) -> None:
    assert intake(db, policy, NOW).seq == 1

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.transaction() as s:
        c = create_complaint(s, draft(NOW), reporter=None, actor=WARGA, now=NOW, policy=policy,
                             prefix=PREFIX)
        assert c.ticket == "TRB-2026-00002"
        raise Boom
    assert intake(db, policy, NOW).ticket == "TRB-2026-00002"
    assert all_seqs(db, 2026) == [1, 2]


def test_invalid_draft_takes_no_number(db: Database, policy: DeadlinePolicy) -> None:
    for bad in (draft(NOW, kind="gosip"), draft(NOW, channel="merpati"),
                draft(NOW, description="   "), draft(NOW, description="x" * 2001)):
        with pytest.raises(ValueError), db.transaction() as s:
            create_complaint(s, bad, reporter=None, actor=WARGA, now=NOW, policy=policy,
                             prefix=PREFIX)
    assert intake(db, policy, NOW).seq == 1


def test_reserve_seq_at_least_only_moves_forward(db: Database, policy: DeadlinePolicy) -> None:
    with db.transaction() as s:
        reserve_seq_at_least(s, 2026, 17)
        reserve_seq_at_least(s, 2026, 5)
    assert intake(db, policy, NOW).ticket == "TRB-2026-00018"
    with db.transaction() as s:
        assert s.get(TicketCounter, (DEFAULT_KECAMATAN, 2026)).last_seq == 18  # type: ignore[union-attr]


def test_concurrent_intakes_never_share_or_skip_a_number(db: Database,
                                                         policy: DeadlinePolicy) -> None:
    threads_n, per_thread = 8, 25
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    seen: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                now = NOW + timedelta(seconds=k * 1000 + i)
                with db.transaction() as s:
                    c = create_complaint(s, draft(now), reporter=None, actor=WARGA, now=now,
                                         policy=policy, prefix=PREFIX)
                    seq = c.seq
                assert seq is not None
                with lock:
                    seen.append(seq)
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    total = threads_n * per_thread
    assert sorted(seen) == list(range(1, total + 1))
    assert all_seqs(db, 2026) == list(range(1, total + 1))
    with db.transaction() as s:
        assert s.scalar(select(func.count(func.distinct(Complaint.ticket)))) == total
        assert s.get(TicketCounter, (DEFAULT_KECAMATAN, 2026)).last_seq == total  # type: ignore[union-attr]


def test_deadlines_are_working_days_after_the_local_receipt_date(
    db: Database, policy: DeadlinePolicy
) -> None:
    friday = datetime(2026, 12, 18, 9, 0, tzinfo=JAKARTA)
    c = intake(db, policy, friday)
    assert c.verify_due == date(2026, 12, 23)  # Mon 21, Tue 22, Wed 23
    # Mon 21 .. Thu 24, Fri 25 is the fixture's holiday, then the weekend: Mon 28.
    assert c.followup_due == date(2026, 12, 28)
    # Thursday 18:00Z is already Friday 01:00 in Jelbuk: the local date decides.
    late_thursday = datetime(2026, 12, 17, 18, 0, tzinfo=UTC)
    assert policy.due_dates(late_thursday) == (date(2026, 12, 23), date(2026, 12, 28))
    early_thursday = datetime(2026, 12, 17, 16, 0, tzinfo=UTC)
    assert policy.due_dates(early_thursday) == (date(2026, 12, 22), date(2026, 12, 24))
    with db.transaction() as s:
        stored = s.get(Complaint, c.id)
        assert stored is not None
        assert (stored.verify_due, stored.followup_due) == (date(2026, 12, 23), date(2026, 12, 28))
        assert stored.received_at == friday
        assert stored.received_at.tzinfo is not None


def _move(db: Database, cid: int, *actions: str, now: datetime = NOW) -> None:
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        for a in actions:
            transition(s, c, a, ADMIN if a != "buka_kembali" else WARGA, now,
                       public_note="catatan")


def test_is_overdue(db: Database, policy: DeadlinePolicy) -> None:
    c = intake(db, policy, datetime(2026, 12, 18, 9, 0, tzinfo=JAKARTA))
    assert (c.verify_due, c.followup_due) == (date(2026, 12, 23), date(2026, 12, 28))
    assert not is_overdue(c, date(2026, 12, 23))  # the due day itself is on time
    assert is_overdue(c, date(2026, 12, 24))
    _move(db, c.id, "verifikasi")
    with db.transaction() as s:
        c = s.get(Complaint, c.id)  # type: ignore[assignment]
        assert c.status == DIVERIFIKASI
        assert not is_overdue(c, date(2026, 12, 24))
        assert not is_overdue(c, date(2026, 12, 28))
        assert is_overdue(c, date(2026, 12, 29))
    _move(db, c.id, "tindaklanjuti")
    with db.transaction() as s:
        c = s.get(Complaint, c.id)  # type: ignore[assignment]
        assert c.status == DITINDAKLANJUTI
        # In ditindaklanjuti the resolution deadline runs: 60 calendar days from receipt,
        # 18 Dec 2026 + 60 = 16 Feb 2027 (13 days of Dec + 31 of Jan + 16 of Feb).
        assert c.resolve_due == c.current_due == date(2027, 2, 16)
        assert not is_overdue(c, date(2027, 2, 16))
        assert is_overdue(c, date(2027, 2, 17))


def test_open_complaints_overdue_first_then_oldest(db: Database, policy: DeadlinePolicy) -> None:
    def at(day: int, month: int = 12) -> datetime:
        return datetime(2026, month, day, 9, 0, tzinfo=JAKARTA)

    old_in_progress = intake(db, policy, at(20, 11))
    overdue_1 = intake(db, policy, at(1))
    overdue_2 = intake(db, policy, at(2))
    fresh = intake(db, policy, at(17))
    done = intake(db, policy, at(3))
    rejected = intake(db, policy, at(4))
    verified_overdue = intake(db, policy, at(5))
    _move(db, old_in_progress.id, "verifikasi", "tindaklanjuti")
    _move(db, done.id, "verifikasi", "tindaklanjuti", "selesaikan")
    _move(db, rejected.id, "tolak")
    _move(db, verified_overdue.id, "verifikasi")
    today = date(2026, 12, 18)
    with db.transaction() as s:
        rows = open_complaints(s, today)
        assert [c.id for c in rows] == [
            overdue_1.id, overdue_2.id, verified_overdue.id,  # overdue, oldest first
            old_in_progress.id, fresh.id,  # not overdue, oldest first
        ]
        assert [is_overdue(c, today) for c in rows] == [True, True, True, False, False]
        statuses = {c.status for c in rows}
        assert SELESAI not in statuses and DITOLAK not in statuses


def test_erase_identity_keeps_the_complaints(db: Database, policy: DeadlinePolicy) -> None:
    with db.transaction() as s:
        p = get_or_create_person(s, "telegram", "123456", None, NOW)
        p.name, p.phone = "Siti Aminah", "+6281234567890"
        pid = p.id
    first = intake(db, policy, NOW, reporter_id=pid)
    second = intake(db, policy, NOW + timedelta(hours=1), reporter_id=pid)
    later = NOW + timedelta(days=1)
    with db.transaction() as s:
        p = s.get(Person, pid)  # type: ignore[assignment]
        erase_identity(s, p, later)
    with db.transaction() as s:
        p = s.get(Person, pid)  # type: ignore[assignment]
        assert (p.name, p.phone, p.channel_user_id) == (None, None, None)
        assert p.erased_at == later
        assert [c.id for c in complaints_of(s, pid)] == [second.id, first.id]
        assert s.scalar(select(func.count(Complaint.id))) == 2
        # The same account coming back is a new person, not linked to the old complaints.
        again = get_or_create_person(s, "telegram", "123456", "Siti", later)
        assert again.id != pid
        assert list(complaints_of(s, again.id)) == []


def test_count_since(db: Database, policy: DeadlinePolicy) -> None:
    with db.transaction() as s:
        a = get_or_create_person(s, "whatsapp", "62811", None, NOW).id
        b = get_or_create_person(s, "whatsapp", "62822", None, NOW).id
    for hours in (0, 5, 23, 30):
        intake(db, policy, NOW + timedelta(hours=hours), reporter_id=a)
    intake(db, policy, NOW + timedelta(hours=24), reporter_id=b)
    with db.transaction() as s:
        assert count_since(s, a, NOW) == 4
        assert count_since(s, a, NOW + timedelta(hours=5)) == 3  # inclusive bound
        assert count_since(s, a, NOW + timedelta(hours=24)) == 1
        assert count_since(s, b, NOW) == 1
        assert count_since(s, a, NOW + timedelta(days=30)) == 0
