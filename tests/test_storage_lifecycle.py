# The lifecycle table in storage/lifecycle.py, on every backend: each allowed move works and
# is recorded once; every other (status, action, role) is refused and leaves the record, as
# stored in the database, exactly as it was.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
    DIVERIFIKASI,
    DUPLIKAT,
    MOVES,
    MOVES_BY_ACTION,
    OFFICER_ROLES,
    SELESAI,
    STATUSES,
    Actor,
    MoveRefused,
    StaleMove,
    moves_from,
    transition,
)
from storage.models import Complaint, StatusChange

PREFIX = "TRB"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Jelbuk
ACTIONS = tuple(m.action for m in MOVES)
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
}


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
    raise AssertionError(action)


PAIRS = [(status, action) for status in STATUSES for action in (*ACTIONS, UNKNOWN_ACTION)]


def test_the_table_covers_every_status_and_reaches_every_status() -> None:
    # A guard on the parametrisation below: every action is in the table, every status is
    # reachable, and each (status, action) pair names at most one move.
    assert {m.target for m in MOVES} | {DITERIMA} == set(STATUSES)
    assert len(MOVES_BY_ACTION) == len(MOVES)
    assert len(PAIRS) == len(STATUSES) * (len(MOVES) + 1)


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_status_action_pair(db: Database, policy: DeadlinePolicy, original: str,
                                  status: str, action: str) -> None:
    move = MOVES_BY_ACTION.get(action)
    now = T0 + timedelta(days=10)
    f = fields(original)
    if move is not None and move.source == status:
        assert move in moves_from(status)
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
            untouched = set(COLUMNS) - set(changed) - {"status", "version"}
            assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
            assert history_after[:-1] == history
            assert len(history_after) == len(history) + 1
            new = history_after[-1]
            assert new[1:] == (now, who.kind, who.id, who.name, status, move.target,
                               f["public_note"], f["internal_note"])
    else:
        assert move is None or move not in moves_from(status)
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
    # And nothing moves them any further.
    assert moves_from(status) == []


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

        def predict(self, action: str, role: str, filled: bool, version: str) -> str | None:
            """The status the model expects after the move, or None if it must be refused."""
            move = MOVES_BY_ACTION.get(action)
            if move is None or version == "stale":
                return None
            if move.source != self.status or role not in move.roles:
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
