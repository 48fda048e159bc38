"""The digest's figures from the database, and the claims that keep it once per chat and week
(on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kpi.periods import parse_period, weeks_back
from storage import digest_claims, digest_stats
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint

WIB = ZoneInfo("Asia/Jakarta")
SYSTEM = Actor("sistem", None, "uji", "admin")
WARGA = Actor("warga", None, "warga", "warga")
W48 = parse_period("2026-W48")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


def add(s, policy, received: datetime, category: str = "miras", desa: str = "Jelbuk") -> Complaint:  # type: ignore[no-untyped-def]
    draft = ComplaintDraft("pengaduan", category, desa, "uraian", "telegram", received)
    return create_complaint(s, draft, reporter=None, actor=SYSTEM, now=received, policy=policy, prefix="TRB")


def resolve(s, c: Complaint, verified: datetime, followed: datetime, resolved: datetime) -> None:  # type: ignore[no-untyped-def]
    transition(s, c, "verifikasi", SYSTEM, verified)
    transition(s, c, "tindaklanjuti", SYSTEM, followed)
    transition(s, c, "selesaikan", SYSTEM, resolved, public_note="beres")


@pytest.fixture
def register(db: Database, policy: DeadlinePolicy) -> dict[str, str]:
    """A small register around week 2026-W48 (23-29 Nov), with times chosen where the local
    day (WIB) and the UTC day differ."""
    p = DeadlinePolicy(policy.verify_days, policy.followup_days, policy.holidays, WIB)
    t: dict[str, str] = {}
    with db.transaction() as s:
        c1 = add(s, p, wib(2026, 11, 23, 9, 0))  # W48, resolved in 2 working days, on time
        resolve(s, c1, wib(2026, 11, 23, 10), wib(2026, 11, 24, 9), wib(2026, 11, 25, 10))
        # Sunday 23:30 WIB is 16:30 UTC: still W48.
        c2 = add(s, p, wib(2026, 11, 29, 23, 30), "judi", "Panduman")
        # Monday 00:30 WIB is Sunday 17:30 UTC: W49, not W48.
        c3 = add(s, p, wib(2026, 11, 30, 0, 30))
        c4 = add(s, p, wib(2026, 11, 2, 9, 0), "keributan", "Sukowiryo")  # W45, never touched: overdue
        c5 = add(s, p, wib(2026, 11, 16, 9, 0))  # W47, duplicate of c4
        transition(s, c5, "duplikat", SYSTEM, wib(2026, 11, 16, 10), duplicate_of=c4.ticket)
        # W46; verified late (due 13 Nov); resolved Monday 23 Nov 00:30 WIB = Sunday 22 Nov UTC.
        c6 = add(s, p, wib(2026, 11, 10, 9, 0))
        resolve(s, c6, wib(2026, 11, 16, 9), wib(2026, 11, 17, 9), wib(2026, 11, 23, 0, 30))
        # W47, resolved then reopened by the reporter: open, not resolved, not overdue.
        c8 = add(s, p, wib(2026, 11, 17, 9, 0))
        resolve(s, c8, wib(2026, 11, 17, 10), wib(2026, 11, 18, 9), wib(2026, 11, 19, 9))
        transition(s, c8, "buka_kembali", WARGA, wib(2026, 11, 20, 9))
        # Around Christmas (a holiday in the fixture's calendar): 23 Dec -> 28 Dec is 2 days.
        c7 = add(s, p, wib(2026, 12, 23, 9, 0))
        resolve(s, c7, wib(2026, 12, 23, 10), wib(2026, 12, 24, 9), wib(2026, 12, 28, 9))
        for name, c in dict(c1=c1, c2=c2, c3=c3, c4=c4, c5=c5, c6=c6, c7=c7, c8=c8).items():
            t[name] = c.ticket
    return t


def test_week_counts_use_local_week_bounds(db: Database, register: dict[str, str]) -> None:
    with db.reading() as s:
        wc = digest_stats.week_counts(s, W48.start(WIB), W48.end(WIB))
    assert wc.received == 2  # c1 and c2 (Sunday 23:30 WIB), not c3 (Monday 00:30 WIB)
    assert wc.by_category == {"miras": 1, "judi": 1}
    assert wc.by_desa == {"Jelbuk": 1, "Panduman": 1}


def test_open_and_overdue(db: Database, register: dict[str, str]) -> None:
    with db.reading() as s:
        oc = digest_stats.open_counts(s, wib(2026, 11, 30, 7).date())
        later = digest_stats.open_counts(s, wib(2026, 12, 10, 7).date(), limit=2)
    assert (oc.open_now, oc.overdue, oc.overdue_tickets) == (4, 1, [register["c4"]])
    # Ten days on, c2 and c3 are past verification too; the list is cut, the count is not.
    assert (later.open_now, later.overdue) == (4, 3)
    assert later.overdue_tickets == [register["c4"], register["c2"]]
    # c8 was reopened on 20 Nov into ditindaklanjuti: its new resolution deadline is 60 days on
    # (19 Jan 2027); past it, it is overdue too, like on its card and in /kasus.
    with db.reading() as s:
        before = digest_stats.open_counts(s, wib(2027, 1, 19, 7).date())
        after = digest_stats.open_counts(s, wib(2027, 1, 20, 7).date())
    assert (before.overdue, after.overdue) == (3, 4)
    assert register["c8"] in after.overdue_tickets


def test_resolution_figures_histogram_in_local_working_days(db: Database, register: dict[str, str], policy: DeadlinePolicy) -> None:
    year = parse_period("2026")
    with db.reading() as s:
        rf = digest_stats.resolution_figures(s, year.start(WIB), year.end(WIB), WIB, policy.holidays)
    c = rf.counts
    assert (c.received, c.excluded_duplicate, c.excluded_forwarded) == (8, 1, 0)
    # c1, c6, c7 are selesai; c8 was reopened and is not.
    assert c.resolved == 3
    # c1: 2 days; c7: 2 days over Christmas; c6: 10 Nov -> Monday 23 Nov local = 9 days
    # (the UTC date, Sunday 22 Nov, would give 8).
    assert rf.durations == {2: 2, 9: 1}
    # c6 was verified after its verification due date.
    assert c.within_standard == 2


def test_resolution_figures_up_to_the_end_of_a_week(db: Database, register: dict[str, str], policy: DeadlinePolicy) -> None:
    with db.reading() as s:
        rf = digest_stats.resolution_figures(s, parse_period("2026").start(WIB), W48.end(WIB), WIB, policy.holidays)
    assert (rf.counts.received, rf.counts.resolved, rf.durations) == (6, 2, {2: 1, 9: 1})


def test_weekly_series(db: Database, register: dict[str, str]) -> None:
    weeks = weeks_back(parse_period("2026-W49"), 5)
    with db.reading() as s:
        buckets = digest_stats.weekly_series(s, [w.start(WIB) for w in weeks] + [weeks[-1].end(WIB)])
        with pytest.raises(ValueError):
            digest_stats.weekly_series(s, [W48.end(WIB), W48.start(WIB)])
    got = {w.code: (b.received, b.counted, b.cohort_resolved, b.resolved) for w, b in zip(weeks, buckets, strict=True)}
    assert got == {
        "2026-W45": (1, 1, 0, 0),
        "2026-W46": (1, 1, 1, 0),
        "2026-W47": (2, 1, 0, 0),  # c5 duplicate not counted; c8 reopened
        "2026-W48": (2, 2, 1, 2),  # resolved in W48: c1 and c6 (Monday 00:30 WIB)
        "2026-W49": (1, 1, 0, 0),
    }


# --- Claims ------------------------------------------------------------------------------

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
CHAT = "-1009876543210"


def claim(db: Database, owner: str, at: datetime, period: str = "2026-W48", **kw: object) -> digest_claims.Claim | None:
    with db.transaction() as s:
        return digest_claims.claim(s, CHAT, period, owner, at, **kw)  # type: ignore[arg-type]


def test_since_is_set_once(db: Database) -> None:
    with db.transaction() as s:
        first = digest_claims.since(s, T0)
    with db.transaction() as s:
        again = digest_claims.since(s, T0 + timedelta(days=3))
    assert first == again == T0


def test_claim_is_exclusive_until_the_lease_runs_out(db: Database) -> None:
    a = claim(db, "A", T0)
    assert a is not None and (a.attempts, a.text_message_id) == (1, None)
    assert claim(db, "B", T0 + timedelta(minutes=1)) is None
    assert claim(db, "A", T0 + timedelta(minutes=1)) is None  # not re-entrant either
    # A died: after the lease B takes it over, and A can no longer release B's claim.
    b = claim(db, "B", T0 + digest_claims.LEASE)
    assert b is not None and b.attempts == 2
    with db.transaction() as s:
        digest_claims.release(s, CHAT, "2026-W48", "A", T0 + digest_claims.LEASE, "basi", timedelta(0))
    assert claim(db, "C", T0 + digest_claims.LEASE + timedelta(minutes=1)) is None
    with db.reading() as s:
        row = digest_claims.get(s, CHAT, "2026-W48")
        assert row is not None and row.claimed_by == "B" and row.error is None


def test_released_claim_is_retried_after_the_delay_and_keeps_the_text_id(db: Database) -> None:
    assert claim(db, "A", T0) is not None
    with db.transaction() as s:
        digest_claims.text_sent(s, CHAT, "2026-W48", 77)
        digest_claims.release(s, CHAT, "2026-W48", "A", T0, "502 Bad Gateway", timedelta(minutes=2))
    with db.reading() as s:
        assert digest_claims.open_chats(s, "2026-W48", [CHAT], T0 + timedelta(minutes=1)) == []
        assert digest_claims.open_chats(s, "2026-W48", [CHAT], T0 + timedelta(minutes=2)) == [CHAT]
    assert claim(db, "B", T0 + timedelta(minutes=1)) is None
    again = claim(db, "B", T0 + timedelta(minutes=2))
    assert again is not None and (again.attempts, again.text_message_id) == (2, 77)
    with db.reading() as s:
        row = digest_claims.get(s, CHAT, "2026-W48")
        assert row is not None and row.error == "502 Bad Gateway" and row.sent_at is None


def test_sent_is_never_claimed_again(db: Database) -> None:
    assert claim(db, "A", T0) is not None
    with db.transaction() as s:
        assert digest_claims.mark_sent(s, CHAT, "2026-W48", T0 + timedelta(seconds=2))
    much_later = T0 + timedelta(days=30)
    assert claim(db, "B", much_later) is None
    assert claim(db, "B", much_later, take_abandoned=True) is None
    with db.transaction() as s:
        assert not digest_claims.mark_sent(s, CHAT, "2026-W48", much_later)  # first time stays
        assert not digest_claims.abandon(s, CHAT, "2026-W48", "B", much_later, "terlambat")
        assert digest_claims.open_chats(s, "2026-W48", [CHAT, "42"], much_later) == ["42"]
        row = digest_claims.get(s, CHAT, "2026-W48")
        assert row is not None and row.sent_at == T0 + timedelta(seconds=2) and row.abandoned_at is None


def test_abandoned_is_not_sent_unless_by_hand(db: Database) -> None:
    with db.transaction() as s:
        assert digest_claims.abandon(s, CHAT, "2026-W48", "A", T0, "terlambat 49 jam")
        assert not digest_claims.abandon(s, CHAT, "2026-W48", "A", T0, "lagi")  # logged once
    assert claim(db, "B", T0 + timedelta(hours=1)) is None
    by_hand = claim(db, "B", T0 + timedelta(hours=1), take_abandoned=True)
    assert by_hand is not None
    with db.reading() as s:
        row = digest_claims.get(s, CHAT, "2026-W48")
        assert row is not None and row.abandoned_at is None and row.claimed_by == "B"


def test_abandon_does_not_take_a_claim_being_sent(db: Database) -> None:
    assert claim(db, "A", T0) is not None
    with db.transaction() as s:
        assert not digest_claims.abandon(s, CHAT, "2026-W48", "B", T0 + timedelta(minutes=1), "terlambat")
        # Its own holder may (the chat refused the bot).
        assert digest_claims.abandon(s, CHAT, "2026-W48", "A", T0 + timedelta(minutes=1), "Forbidden")


def _race(db: Database, action) -> list[object]:  # type: ignore[no-untyped-def]
    """Run `action(database, k)` in two threads on two Database objects (two instances),
    started together; returns both results and fails on any exception."""
    other = Database(db.url)
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]
    errors: list[BaseException] = []

    def run(k: int, database: Database) -> None:
        try:
            barrier.wait(timeout=10)
            results[k] = action(database, k)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(k, d)) for k, d in enumerate((db, other))]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
    finally:
        other.dispose()
    assert not errors, errors
    return results


def test_two_instances_racing_one_winner(db: Database) -> None:
    for week in range(1, 21):
        period = f"2026-W{week:02d}"
        results = _race(db, lambda d, k, p=period: claim(d, f"instance-{k}", T0, p))
        assert sum(r is not None for r in results) == 1, (period, results)


def test_two_instances_racing_a_takeover_one_winner(db: Database) -> None:
    for week in range(1, 11):
        period = f"2026-W{week:02d}"
        assert claim(db, "dead", T0, period) is not None
        later = T0 + digest_claims.LEASE + timedelta(seconds=1)
        results = _race(db, lambda d, k, p=period, t=later: claim(d, f"instance-{k}", t, p))
        assert sum(r is not None for r in results) == 1, (period, results)


def test_pdp_figures_count_open_requests_and_breaches_still_to_tell(db: Database) -> None:
    from storage import pdp

    now = wib(2026, 12, 2, 10, 0)
    with db.transaction() as s:
        assert digest_stats.pdp_figures(s, now) == digest_stats.PdpFigures(0, 0, None, 0, None)
        assert not digest_stats.pdp_figures(s, now).any
        late = pdp.record_request(s, kind="hapus", via="surat", requester="A", detail=None,
                                  received_at=now - timedelta(hours=80), recorded_by="uji", now=now)
        pdp.record_request(s, kind="akses", via="langsung", requester="B", detail=None,
                           received_at=now - timedelta(hours=2), recorded_by="uji", now=now)
        answered = pdp.record_request(s, kind="akses", via="surat", requester="C", detail=None,
                                      received_at=now - timedelta(hours=90), recorded_by="uji", now=now)
        pdp.answer_request(s, answered.id, "dijawab", "uji", now)
        kw = dict(what="x", occurred_at=None, how="x", affected="x", actions="x", recorded_by="uji", now=now)
        # Told everyone by chat: not listed; some unreachable, or nobody told: listed; older than 72 h: not.
        pdp.record_incident(s, discovered_at=now - timedelta(hours=5), notified_chats=3, unreachable=0, **kw)
        told_some = pdp.record_incident(s, discovered_at=now - timedelta(hours=30), notified_chats=2, unreachable=1, **kw)
        pdp.record_incident(s, discovered_at=now - timedelta(hours=6), notified_chats=0, unreachable=0, **kw)
        pdp.record_incident(s, discovered_at=now - timedelta(hours=73), notified_chats=0, unreachable=4, **kw)
        got = digest_stats.pdp_figures(s, now)
    assert (got.open_requests, got.overdue_requests, got.incidents) == (2, 1, 2)
    assert got.nearest_due == late.due_at and got.incident_due == told_some.due_at
    assert got.any
