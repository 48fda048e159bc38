# The lifecycle table in storage/lifecycle.py, on every backend: each allowed move works and
# is recorded once; every other (status, action, role) is refused and leaves the record, as
# stored in the database, exactly as it was.
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import inspect, select

from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import (
    CLOSED_UNRESOLVED,
    DITERIMA,
    DITERUSKAN,
    DITINDAKLANJUTI,
    DITOLAK,
    DITUNDA,
    DIVERIFIKASI,
    DUPLIKAT,
    MOVES,
    MOVES_BY_ACTION,
    OFFICER_ROLES,
    POSTPONABLE,
    SELESAI,
    STATUSES,
    Actor,
    Move,
    MoveRefused,
    StaleMove,
    moves_from,
    transition,
)
from storage.models import Complaint, StatusChange

PREFIX = "TRB"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Jelbuk
ACTIONS = tuple(dict.fromkeys(m.action for m in MOVES))
UNKNOWN_ACTION = "hapus"
ROLES = (*OFFICER_ROLES, "warga", "sistem")
COLUMNS = tuple(a.key for a in inspect(Complaint).column_attrs)

# How to bring a fresh complaint to each status with allowed moves.
PATHS: dict[str, tuple[str, ...]] = {
    DITERIMA: (),
    DIVERIFIKASI: ("verifikasi",),
    DITINDAKLANJUTI: ("verifikasi", "tindaklanjuti"),
    SELESAI: ("verifikasi", "tindaklanjuti", "selesaikan"),
    DITOLAK: ("tolak",),
    DITERUSKAN: ("teruskan",),
    DUPLIKAT: ("duplikat",),
    DITUNDA: ("verifikasi", "tunda"),  # so "lanjutkan" goes back to diverifikasi
}
POSTPONE_UNTIL = date(2030, 1, 2)  # after any clock the tests reach


def move_at(status: str, action: str, postponed_from: str | None = DIVERIFIKASI) -> Move | None:
    """The move `action` names from `status` (for lanjutkan: back to where it was postponed)."""
    for m in MOVES:
        if m.action == action and m.source == status:
            if action == "lanjutkan" and m.target != postponed_from:
                continue
            return m
    return None


def actor(role: str) -> Actor:
    if role == "warga":
        return Actor("warga", 501, "Bu Sari", "warga")
    if role == "sistem":
        return Actor("sistem", None, "sistem", "sistem")
    return Actor("petugas", 7, f"Pak {role.title()}", role)


def allowed_role(action: str) -> str:
    return MOVES_BY_ACTION[action].roles[0] if action in MOVES_BY_ACTION else "admin"


def new_complaint(db: Database, policy: DeadlinePolicy, at: datetime = T0) -> tuple[int, str]:
    with db.transaction() as s:
        c = create_complaint(
            s,
            ComplaintDraft(
                kind="pengaduan",
                category="Kebisingan",
                desa="Jelbuk",
                description="Suara musik keras tiap malam",
                channel="telegram",
                received_at=at,
            ),
            reporter=None,
            actor=Actor("warga", None, None, "warga"),
            now=at,
            policy=policy,
            prefix=PREFIX,
        )
        return c.id, c.ticket


def fields(original_ticket: str) -> dict[str, Any]:
    """Every required field filled, so only the status or the role can make a move fail."""
    return {
        "public_note": "Sudah ditangani di lapangan",
        "internal_note": "catatan dalam",
        "forwarded_to": "Dinas Lingkungan Hidup",
        "duplicate_of": original_ticket,
        "postpone_until": POSTPONE_UNTIL,
    }


def at_status(db: Database, policy: DeadlinePolicy, status: str, original: str) -> int:
    cid, _ = new_complaint(db, policy)
    for i, action in enumerate(PATHS[status], start=1):
        with db.transaction() as s:
            c = s.get(Complaint, cid)
            assert c is not None
            transition(s, c, action, actor(allowed_role(action)), T0 + timedelta(hours=i),
                       **fields(original))
    return cid


def snapshot(db: Database, cid: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The complaint's columns and its history, read back in a transaction of their own."""
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        row = {k: getattr(c, k) for k in COLUMNS}
        history = [
            (h.id, h.at, h.actor_kind, h.actor_id, h.actor_name, h.from_status, h.to_status,
             h.public_note, h.internal_note)
            for h in s.scalars(
                select(StatusChange).where(StatusChange.complaint_id == cid).order_by(StatusChange.id)
            )
        ]
    return row, history


def attempt_refused(db: Database, cid: int, action: str, who: Actor, now: datetime,
                    **kwargs: Any) -> MoveRefused:
    """Try a move that must be refused, then COMMIT, so a half-done change would persist."""
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        in_memory = {k: getattr(c, k) for k in COLUMNS}
        with pytest.raises(MoveRefused) as info:
            transition(s, c, action, who, now, **kwargs)
        assert {k: getattr(c, k) for k in COLUMNS} == in_memory
        assert not s.new, "a refused move must not add anything to the session"
    assert str(info.value).strip()
    return info.value


@pytest.fixture
def original(db: Database, policy: DeadlinePolicy) -> str:
    """An existing ticket that duplicates can point at."""
    return new_complaint(db, policy)[1]


# What each allowed move is expected to change besides status and version.
def expected_changes(action: str, now: datetime, before: dict[str, Any], f: dict[str, Any]
                     ) -> dict[str, Any]:
    if action == "verifikasi":
        return {"verified_at": now}
    if action == "tindaklanjuti":
        return {"followed_up_at": now}
    if action == "selesaikan":
        return {"resolved_at": now, "closed_at": now, "feedback": None}
    if action == "tolak":
        return {"closed_at": now, "reject_reason": f["public_note"]}
    if action == "teruskan":
        return {"closed_at": now, "forwarded_to": f["forwarded_to"]}
    if action == "duplikat":
        return {"closed_at": now, "duplicate_of": f["duplicate_of"]}
    if action == "buka_kembali":
        return {"reopen_count": before["reopen_count"] + 1, "resolved_at": None,
                "closed_at": None, "feedback": "belum"}
    if action == "tunda":
        return {"postponed_from": before["status"], "postponed_until": f["postpone_until"],
                "postponed_at": now}
    if action == "lanjutkan":
        return {"postponed_from": None, "postponed_until": None, "postponed_at": None}
    if action == "kembalikan":
        return {
            "diverifikasi": {"verified_at": None},
            "ditindaklanjuti": {"followed_up_at": None},
            "selesai": {"resolved_at": None, "closed_at": None, "feedback": None},
            "ditolak": {"closed_at": None, "reject_reason": None},
            "diteruskan": {"closed_at": None, "forwarded_to": None},
            "duplikat": {"closed_at": None, "duplicate_of": None},
        }[before["status"]]
    raise AssertionError(action)


# The deadline columns each move sets (worked by hand in test_deadlines_* below).
DEADLINE_COLUMNS = {"current_due", "followup_due", "resolve_due", "verify_due"}


PAIRS = [(status, action) for status in STATUSES for action in (*ACTIONS, UNKNOWN_ACTION)]


def test_the_table_covers_every_status_and_reaches_every_status() -> None:
    # A guard on the parametrisation below: every action is in the table, every status is
    # reachable, and each (status, action) pair names at most one move.
    assert {m.target for m in MOVES} | {DITERIMA} == set(STATUSES)
    pairs = [(m.source, m.action) for m in MOVES if m.action != "lanjutkan"]
    assert len(set(pairs)) == len(pairs)
    # lanjutkan: one row per status a complaint can be postponed from, all from ditunda.
    assert sorted(m.target for m in MOVES if m.action == "lanjutkan") == sorted(POSTPONABLE)
    assert {m.source for m in MOVES if m.action == "lanjutkan"} == {DITUNDA}
    assert len(PAIRS) == len(STATUSES) * (len(ACTIONS) + 1)


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_status_action_pair(db: Database, policy: DeadlinePolicy, original: str,
                                  status: str, action: str) -> None:
    move = move_at(status, action)
    now = T0 + timedelta(days=10)
    f = fields(original)
    if move is not None:
        assert move.action in [m.action for m in moves_from(status)]
        for role in move.roles:
            cid = at_status(db, policy, status, original)
            before, history = snapshot(db, cid)
            who = actor(role)
            with db.transaction() as s:
                c = s.get(Complaint, cid)
                assert c is not None
                change = transition(s, c, action, who, now, **f)
                assert change.id is not None
            after, history_after = snapshot(db, cid)
            assert after["status"] == move.target
            assert after["version"] == before["version"] + 1
            changed = expected_changes(action, now, before, f)
            assert {k: after[k] for k in changed} == changed
            untouched = set(COLUMNS) - set(changed) - {"status", "version"} - DEADLINE_COLUMNS
            assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
            assert history_after[:-1] == history
            assert len(history_after) == len(history) + 1
            new = history_after[-1]
            assert new[1:] == (now, who.kind, who.id, who.name, status, move.target,
                               f["public_note"], f["internal_note"])
    else:
        assert action not in [m.action for m in moves_from(status)]
        cid = at_status(db, policy, status, original)
        unchanged = snapshot(db, cid)
        attempt_refused(db, cid, action, actor(allowed_role(action)), now, **f)
        assert snapshot(db, cid) == unchanged


@pytest.mark.parametrize("action", ACTIONS)
def test_roles_not_in_the_table_are_refused(db: Database, policy: DeadlinePolicy, original: str,
                                            action: str) -> None:
    move = MOVES_BY_ACTION[action]
    cid = at_status(db, policy, move.source, original)
    before = snapshot(db, cid)
    refused_roles = [r for r in ROLES if r not in move.roles]
    assert refused_roles
    for role in refused_roles:
        attempt_refused(db, cid, action, actor(role), T0 + timedelta(days=2), **fields(original))
    assert snapshot(db, cid) == before


def test_role_rules_from_the_office() -> None:
    # Spelled out so that a change to the table is a deliberate one.
    assert "petugas" not in MOVES_BY_ACTION["tolak"].roles
    assert all("pimpinan" not in m.roles for m in MOVES)
    assert [m.action for m in MOVES if "warga" in m.roles] == ["buka_kembali"]
    assert MOVES_BY_ACTION["buka_kembali"].roles == ("warga",)


@pytest.mark.parametrize(
    ("action", "missing"),
    [
        ("tolak", {"public_note": None}),
        ("tolak", {"public_note": "   "}),
        ("teruskan", {"forwarded_to": None}),
        ("teruskan", {"forwarded_to": " "}),
        ("duplikat", {"duplicate_of": None}),
        ("duplikat", {"duplicate_of": "TRB-2099-99999"}),  # no such ticket
        ("duplikat", {"duplicate_of": "SELF"}),  # itself
    ],
)
def test_required_fields_are_required(db: Database, policy: DeadlinePolicy, original: str,
                                      action: str, missing: dict[str, Any]) -> None:
    cid = at_status(db, policy, MOVES_BY_ACTION[action].source, original)
    before = snapshot(db, cid)
    f = fields(original) | missing
    if f["duplicate_of"] == "SELF":
        f["duplicate_of"] = before[0]["ticket"].lower()
    attempt_refused(db, cid, action, actor("admin"), T0 + timedelta(days=1), **f)
    assert snapshot(db, cid) == before


@pytest.mark.parametrize("note", [None, "", "  \n"])
def test_resolving_needs_a_note(db: Database, policy: DeadlinePolicy, original: str,
                                note: str | None) -> None:
    cid = at_status(db, policy, DITINDAKLANJUTI, original)
    before = snapshot(db, cid)
    attempt_refused(db, cid, "selesaikan", actor("petugas"), T0 + timedelta(days=1),
                    public_note=note)
    assert snapshot(db, cid) == before


def test_duplicate_of_is_normalised_and_must_exist(db: Database, policy: DeadlinePolicy,
                                                   original: str) -> None:
    cid = at_status(db, policy, DITERIMA, original)
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        transition(s, c, "duplikat", actor("koordinator"), T0 + timedelta(days=1),
                   duplicate_of=f"  {original.lower()} ")
    row, _ = snapshot(db, cid)
    assert row["status"] == DUPLIKAT
    assert row["duplicate_of"] == original


def test_expected_version_mismatch_is_a_stale_move(db: Database, policy: DeadlinePolicy,
                                                   original: str) -> None:
    cid = at_status(db, policy, DITERIMA, original)
    before = snapshot(db, cid)
    version = before[0]["version"]
    for wrong in (version - 1, version + 1):
        err = attempt_refused(db, cid, "verifikasi", actor("petugas"), T0 + timedelta(days=1),
                              expected_version=wrong)
        assert isinstance(err, StaleMove)
    assert snapshot(db, cid) == before
    # The same move with the right version goes through.
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        transition(s, c, "verifikasi", actor("petugas"), T0 + timedelta(days=1),
                   expected_version=version)
    assert snapshot(db, cid)[0]["version"] == version + 1
    # A second officer pressing the same (now stale) button is told so.
    err = attempt_refused(db, cid, "verifikasi", actor("petugas"), T0 + timedelta(days=1),
                          expected_version=version)
    assert isinstance(err, StaleMove)


def _move(db: Database, cid: int, action: str, now: datetime, **kwargs: Any) -> None:
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        transition(s, c, action, actor(allowed_role(action)), now,
                   public_note="catatan", **kwargs)


def test_reopen_only_once(db: Database, policy: DeadlinePolicy, original: str) -> None:
    cid = at_status(db, policy, SELESAI, original)
    first_resolved = snapshot(db, cid)[0]["resolved_at"]
    assert first_resolved is not None
    now = first_resolved + timedelta(days=1)
    _move(db, cid, "buka_kembali", now, max_reopens=1)
    row, _ = snapshot(db, cid)
    assert (row["status"], row["reopen_count"], row["resolved_at"]) == (DITINDAKLANJUTI, 1, None)
    _move(db, cid, "selesaikan", now + timedelta(hours=1))
    before = snapshot(db, cid)
    assert before[0]["resolved_at"] == now + timedelta(hours=1)
    attempt_refused(db, cid, "buka_kembali", actor("warga"), now + timedelta(hours=2),
                    max_reopens=1)
    assert snapshot(db, cid) == before


def test_reopen_only_within_the_window(db: Database, policy: DeadlinePolicy, original: str) -> None:
    window = timedelta(days=7)
    late = at_status(db, policy, SELESAI, original)
    resolved_at = snapshot(db, late)[0]["resolved_at"]
    before = snapshot(db, late)
    attempt_refused(db, late, "buka_kembali", actor("warga"),
                    resolved_at + window + timedelta(seconds=1), reopen_window=window)
    assert snapshot(db, late) == before

    on_time = at_status(db, policy, SELESAI, original)
    resolved_at = snapshot(db, on_time)[0]["resolved_at"]
    _move(db, on_time, "buka_kembali", resolved_at + window, reopen_window=window)
    assert snapshot(db, on_time)[0]["status"] == DITINDAKLANJUTI


@pytest.mark.parametrize("status", CLOSED_UNRESOLVED)
def test_honest_outcomes_are_never_resolved(db: Database, policy: DeadlinePolicy, original: str,
                                            status: str) -> None:
    assert status in (DITOLAK, DITERUSKAN, DUPLIKAT)
    cid = at_status(db, policy, status, original)
    row, history = snapshot(db, cid)
    assert row["status"] == status
    assert row["resolved_at"] is None
    assert row["closed_at"] is not None
    assert [h[6] for h in history] == [DITERIMA, status]
    # And nothing moves them any further: only a correction takes them back to diterima.
    assert [(m.action, m.target) for m in moves_from(status)] == [("kembalikan", DITERIMA)]


# ---------------------------------------------------------------- random sequences of actions

REOPEN_WINDOW = timedelta(days=7)


def replay(history: list[tuple[Any, ...]]) -> str | None:
    """Fold the history; None if a row does not start where the previous one ended."""
    status: str | None = None
    for row in history:
        from_status, to_status = row[5], row[6]
        if from_status != status:
            return None
        move_ok = from_status is None and to_status == DITERIMA or any(
            m.source == from_status and m.target == to_status for m in MOVES
        )
        if not move_ok:
            return None
        status = to_status
    return status


def test_replay_detects_a_broken_history() -> None:
    ok = [(1, None, "", None, None, None, DITERIMA), (2, None, "", None, None, DITERIMA, SELESAI)]
    assert replay(ok[:1]) == DITERIMA
    assert replay(ok) is None  # diterima -> selesai is not a move
    gap = [ok[0], (2, None, "", None, None, DIVERIFIKASI, DITINDAKLANJUTI)]
    assert replay(gap) is None


def test_random_action_sequences_keep_history_and_status_in_step(
    db: Database, policy: DeadlinePolicy, original: str
) -> None:
    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = T0
            self.cid, self.ticket = new_complaint(db, policy, T0)
            self.status = DITERIMA
            self.version = 1
            self.reopens = 0
            self.resolved_at: datetime | None = None
            self.postponed_from: str | None = None

        def predict(self, action: str, role: str, filled: bool, version: str) -> str | None:
            """The status the model expects after the move, or None if it must be refused."""
            move = move_at(self.status, action, self.postponed_from)
            if move is None or version == "stale":
                return None
            if role not in move.roles:
                return None
            if move.needs and not filled:
                return None
            if action == "buka_kembali":
                assert self.resolved_at is not None
                if self.reopens >= 1 or self.clock - self.resolved_at > REOPEN_WINDOW:
                    return None
            return move.target

        @rule(
            action=st.sampled_from((*ACTIONS, UNKNOWN_ACTION)),
            role=st.sampled_from(ROLES),
            filled=st.booleans(),
            version=st.sampled_from(("none", "current", "stale")),
            hours=st.integers(0, 24 * 5),
        )
        def act(self, action: str, role: str, filled: bool, version: str, hours: int) -> None:
            self.clock += timedelta(hours=hours)
            expected = self.predict(action, role, filled, version)
            kwargs: dict[str, Any] = fields(original) if filled else {}
            if version != "none":
                kwargs["expected_version"] = self.version + (1 if version == "stale" else 0)
            before = snapshot(db, self.cid)
            with db.transaction() as s:
                c = s.get(Complaint, self.cid)
                assert c is not None
                try:
                    transition(s, c, action, actor(role), self.clock, reopen_window=REOPEN_WINDOW,
                               max_reopens=1, **kwargs)
                    refused = False
                except MoveRefused:
                    refused = True
            after = snapshot(db, self.cid)
            if expected is None:
                assert refused, (action, role, self.status)
                assert after == before
                return
            assert not refused, (action, role, self.status)
            assert after[0]["status"] == expected
            assert len(after[1]) == len(before[1]) + 1
            if action == "buka_kembali":
                self.reopens += 1
            if expected == SELESAI:
                self.resolved_at = self.clock
            self.postponed_from = self.status if expected == DITUNDA else None
            self.status = expected
            self.version += 1

        @invariant()
        def history_replays_to_the_current_status(self) -> None:
            row, history = snapshot(db, self.cid)
            assert replay(history) == row["status"] == self.status
            assert row["version"] == self.version == len(history)
            assert row["reopen_count"] == self.reopens
            if row["status"] == SELESAI:
                assert row["resolved_at"] == self.resolved_at
            else:
                assert row["resolved_at"] is None
            assert (row["closed_at"] is not None) == (row["status"] in (SELESAI, *CLOSED_UNRESOLVED))

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ---------------------------------------------------------------- the deadline clock
# The `policy` fixture: 3 / 5 working days, 25 December off, resolution 60 calendar days.
# T0 is Tue 1 December 2026: verify by Fri 4 Dec, follow up by Tue 8 Dec, resolve by
# Sat 30 Jan 2027 (1 Dec + 60: 30 days left in December, 30 in January).

JKT = timedelta(hours=7)


def at_local(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC) - JKT


def _act(db: Database, policy: DeadlinePolicy, cid: int, action: str, now: datetime,
         role: str | None = None, **kwargs: Any) -> StatusChange:
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        kwargs.setdefault("public_note", "catatan")
        change = transition(s, c, action, actor(role or allowed_role(action)), now, policy=policy, **kwargs)
        s.expunge(change)
        return change


def _dues(db: Database, cid: int) -> tuple[Any, ...]:
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        return (c.status, c.verify_due, c.followup_due, c.resolve_due, c.current_due)


def test_deadlines_of_every_open_status_and_the_reopen(db: Database, policy: DeadlinePolicy) -> None:
    cid, _ = new_complaint(db, policy)
    assert _dues(db, cid) == (DITERIMA, date(2026, 12, 4), date(2026, 12, 8), date(2027, 1, 30),
                              date(2026, 12, 4))
    assert _act(db, policy, cid, "verifikasi", at_local(2026, 12, 2)).due_on == date(2026, 12, 8)
    change = _act(db, policy, cid, "tindaklanjuti", at_local(2026, 12, 3))
    assert change.due_on == date(2027, 1, 30) and change.on_time is None
    first = _act(db, policy, cid, "selesaikan", at_local(2026, 12, 10))
    assert (first.due_on, first.on_time) == (None, True)
    assert _dues(db, cid)[4] is None  # closed: no current deadline
    # Reopened Mon 14 Dec: follow-up by 15, 16, 17, 18, 21 Dec (5 working days); resolution
    # 14 Dec + 60 = 12 Feb 2027 (17 days left in December, 31 in January, 12).
    reopened = _act(db, policy, cid, "buka_kembali", at_local(2026, 12, 14), role="warga")
    assert reopened.due_on == date(2027, 2, 12)
    assert _dues(db, cid) == (DITINDAKLANJUTI, date(2026, 12, 4), date(2026, 12, 21),
                              date(2027, 2, 12), date(2027, 2, 12))
    # Judged on the last resolution: one day after the new deadline is late.
    last = _act(db, policy, cid, "selesaikan", at_local(2027, 2, 13))
    assert last.on_time is False


def test_resolved_on_its_deadline_day_is_on_time_but_late_verification_is_not(
    db: Database, policy: DeadlinePolicy
) -> None:
    on_day = new_complaint(db, policy)[0]
    _act(db, policy, on_day, "verifikasi", at_local(2026, 12, 4, 15))  # the verify due day
    _act(db, policy, on_day, "tindaklanjuti", at_local(2026, 12, 7))
    assert _act(db, policy, on_day, "selesaikan", at_local(2027, 1, 30, 16)).on_time is True
    late_verify = new_complaint(db, policy)[0]
    _act(db, policy, late_verify, "verifikasi", at_local(2026, 12, 7))  # Mon: one working day late
    _act(db, policy, late_verify, "tindaklanjuti", at_local(2026, 12, 7))
    assert _act(db, policy, late_verify, "selesaikan", at_local(2026, 12, 8)).on_time is False


def test_tunda_stops_the_clock_and_lanjutkan_goes_back(db: Database, policy: DeadlinePolicy) -> None:
    cid, _ = new_complaint(db, policy)
    wed = at_local(2026, 12, 2)
    before = snapshot(db, cid)
    # Refused, and nothing changes: no reason, no date, a date not after today, a petugas.
    attempt_refused(db, cid, "tunda", actor("koordinator"), wed, postpone_until=date(2026, 12, 10))
    attempt_refused(db, cid, "tunda", actor("koordinator"), wed, public_note="Menunggu pemilik")
    attempt_refused(db, cid, "tunda", actor("koordinator"), wed, public_note="Menunggu pemilik",
                    postpone_until=date(2026, 12, 2))
    attempt_refused(db, cid, "tunda", actor("petugas"), wed, public_note="Menunggu pemilik",
                    postpone_until=date(2026, 12, 10))
    attempt_refused(db, cid, "lanjutkan", actor("petugas"), wed)
    assert snapshot(db, cid) == before

    change = _act(db, policy, cid, "tunda", wed, public_note="Menunggu pemilik lahan",
                  postpone_until=date(2026, 12, 10))
    assert (change.from_status, change.to_status, change.due_on) == (DITERIMA, DITUNDA, date(2026, 12, 10))
    assert _dues(db, cid)[4] == date(2026, 12, 10)
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        assert (c.postponed_from, c.postponed_until) == (DITERIMA, date(2026, 12, 10))
        assert c.verified_at is None
    # Back on Tue 8 Dec: 4 working days waited (3, 4, 7, 8 Dec), so the verify deadline moves
    # from Fri 4 to Thu 10 Dec, follow-up from Tue 8 to Mon 14 Dec; the resolution deadline
    # (calendar days) by the 6 days waited, 30 Jan -> 5 Feb 2027.
    back = _act(db, policy, cid, "lanjutkan", at_local(2026, 12, 8), role="petugas")
    assert (back.from_status, back.to_status, back.due_on) == (DITUNDA, DITERIMA, date(2026, 12, 10))
    assert _dues(db, cid) == (DITERIMA, date(2026, 12, 10), date(2026, 12, 14), date(2027, 2, 5),
                              date(2026, 12, 10))
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        assert (c.postponed_from, c.postponed_until, c.postponed_at) == (None, None, None)


def test_a_postponed_complaint_is_open_and_overdue_past_its_new_date(
    db: Database, policy: DeadlinePolicy
) -> None:
    from storage.complaints import is_overdue, open_complaints, overdue_counts

    other, ticket = new_complaint(db, policy)
    cid = at_status(db, policy, DITINDAKLANJUTI, ticket)
    _act(db, policy, cid, "tunda", at_local(2026, 12, 2), postpone_until=date(2026, 12, 21))
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        assert not is_overdue(c, date(2026, 12, 21))
        assert is_overdue(c, date(2026, 12, 22))
        # Overdue first, longest overdue first: the other one since 4 Dec, this since 21 Dec.
        assert [x.id for x in open_complaints(s, date(2026, 12, 22))] == [other, cid]
        assert [x.id for x in open_complaints(s, date(2026, 12, 21))] == [other, cid]
        assert [x.id for x in open_complaints(s, date(2026, 12, 4))] == [other, cid]  # by receipt
        assert overdue_counts(s, date(2026, 12, 22)).by_status == {
            DITUNDA: 1, DITERIMA: 1  # the other complaint's verify deadline (4 Dec) passed
        }
    # Back to ditindaklanjuti, where it was postponed from.
    _act(db, policy, cid, "lanjutkan", at_local(2026, 12, 22))
    assert _dues(db, cid)[0] == DITINDAKLANJUTI


def test_the_migration_fills_the_deadlines_of_existing_rows(db: Database) -> None:
    # Rows as written before 0004: received Tue 1 Dec 2026 09:00 WIB, verify by 4 Dec, follow
    # up by 8 Dec. Resolution: 1 Dec + 60 = 30 Jan 2027. One still in ditindaklanjuti, one
    # resolved on 10 Dec after verification on 2 Dec (on time), one closed as duplikat.
    import sqlalchemy as sa

    from storage import migrate
    from storage.models import UTCDateTime

    migrate.downgrade(db, "0003")
    complaints = sa.table(
        "complaints", *(sa.column(n) for n in ("id", "ticket", "kind", "category", "desa", "description",
                                                "channel", "anonim", "rahasia", "status", "reopen_count",
                                                "version")),
        sa.column("received_at", UTCDateTime()), sa.column("created_at", UTCDateTime()),
        sa.column("verified_at", UTCDateTime()), sa.column("verify_due", sa.Date()),
        sa.column("followup_due", sa.Date()),
    )
    history = sa.table("status_history", sa.column("id"), sa.column("complaint_id"), sa.column("actor_kind"),
                       sa.column("from_status"), sa.column("to_status"), sa.column("at", UTCDateTime()))
    received = at_local(2026, 12, 1)
    with db.engine.begin() as conn:
        for cid, status in ((1, DITINDAKLANJUTI), (2, SELESAI), (3, DUPLIKAT)):
            conn.execute(complaints.insert().values(
                id=cid, ticket=f"TRB-2026-0000{cid}", kind="pengaduan", category="lainnya", desa="Jelbuk",
                description="x", channel="telegram", anonim=False, rahasia=True, status=status,
                reopen_count=0, version=1, received_at=received, created_at=received,
                verified_at=at_local(2026, 12, 2), verify_due=date(2026, 12, 4), followup_due=date(2026, 12, 8)))
            conn.execute(history.insert().values(id=cid * 10, complaint_id=cid, actor_kind="warga",
                                                 from_status=None, to_status=DITERIMA, at=received))
        conn.execute(history.insert().values(id=21, complaint_id=2, actor_kind="petugas",
                                             from_status=DITINDAKLANJUTI, to_status=SELESAI,
                                             at=at_local(2026, 12, 10)))
    migrate.upgrade(db)
    with db.transaction() as s:
        rows = {c.id: (c.resolve_due, c.current_due) for c in s.scalars(select(Complaint))}
        assert rows == {1: (date(2027, 1, 30), date(2027, 1, 30)), 2: (date(2027, 1, 30), None),
                        3: (date(2027, 1, 30), None)}
        changes = {h.id: (h.due_on, h.on_time) for h in s.scalars(select(StatusChange))}
        assert changes == {10: (date(2026, 12, 4), None), 20: (date(2026, 12, 4), None),
                           30: (date(2026, 12, 4), None), 21: (None, True)}
