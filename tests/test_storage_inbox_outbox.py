# The inbox (nothing inbound lost, nothing handled twice), the outbox (nothing outbound lost,
# retries with backoff, per-chat order), cards, dialog state and officers.
from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from storage import dialog_states, inbox, outbox, people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import InboxItem, OutboxItem

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------ inbox


def test_store_ignores_a_repeated_external_id(db: Database) -> None:
    with db.transaction() as s:
        assert inbox.store(s, "telegram", [("1", {"text": "halo"}), ("2", {"text": "lapor"})],
                           NOW) == 2
    with db.transaction() as s:
        # A redelivered batch: one old id with a different payload, one new id.
        assert inbox.store(s, "telegram", [("2", {"text": "GANTI"}), ("3", {"n": [1, 2]})],
                           NOW + timedelta(seconds=5)) == 1
        assert inbox.store(s, "telegram", [("1", {}), ("3", {})], NOW) == 0
        assert inbox.store(s, "telegram", [], NOW) == 0
        # The same id from another channel is another update.
        assert inbox.store(s, "whatsapp", [("1", {"text": "hai"})], NOW) == 1
    with db.transaction() as s:
        rows = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [(r.source, r.external_id) for r in rows] == [
            ("telegram", "1"), ("telegram", "2"), ("telegram", "3"), ("whatsapp", "1")]
        assert rows[1].payload == {"text": "lapor"}  # the first copy is kept
        assert rows[2].payload == {"n": [1, 2]}
        assert rows[2].received_at == NOW + timedelta(seconds=5)
        assert all(r.handled_at is None and r.attempts == 0 for r in rows)


# A wamid as WhatsApp sends them ("wamid." and base64 of a protobuf), 130 characters: past
# the 100 of inbox.external_id. WhatsApp documents no length, and ids have grown.
LONG_WAMID = "wamid." + base64.b64encode(bytes(range(7, 100))).decode()


def test_a_wamid_longer_than_the_column_is_stored_by_its_digest_once(db: Database) -> None:
    assert len(LONG_WAMID) == 130
    sibling = LONG_WAMID[:100] + "X" * 30  # the same first 100 characters: another message
    with db.transaction() as s:
        # On PostgreSQL the id itself would fail the whole batch (StringDataRightTruncation).
        assert inbox.store(s, "whatsapp", [(LONG_WAMID, {"id": LONG_WAMID}), ("wamid.short", {})], NOW) == 2
    with db.transaction() as s:
        assert inbox.store(s, "whatsapp", [(LONG_WAMID, {"again": True})], NOW) == 0  # redelivered
        assert inbox.store(s, "whatsapp", [(sibling, {"id": sibling})], NOW) == 1
    with db.reading() as s:
        rows = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        keys = [r.external_id for r in rows]
        assert keys == [inbox.key(LONG_WAMID), "wamid.short", inbox.key(sibling)]
        assert keys[0].startswith("sha256:") and len(keys[0]) == 71 and keys[0] != keys[2]
        assert rows[0].payload == {"id": LONG_WAMID}  # the id itself is kept in the payload
        # claim_batch hands out the key the channel looks its fresh items up by.
        assert [ext for _, ext, _ in inbox.claim_batch(s, "whatsapp")] == keys
    # The WhatsApp webhook keys a message so (bot/channels/whatsapp.py).
    from bot.channels.whatsapp import split_messages

    webhook = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "contacts": [{"wa_id": "628123"}], "messages": [{"id": LONG_WAMID, "from": "628123", "type": "text"}]}}]}]}
    [(ext, payload)] = split_messages(webhook)
    assert ext == keys[0] and payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == LONG_WAMID
    assert inbox.key("wamid.short") == "wamid.short" and inbox.key("x" * 100) == "x" * 100


def test_pending_claim_and_mark_failed(db: Database) -> None:
    with db.transaction() as s:
        inbox.store(s, "telegram", [(str(i), {"i": i}) for i in range(1, 5)], NOW)
        inbox.store(s, "whatsapp", [("wamid.1", {"i": 99})], NOW)
    with db.transaction() as s:
        assert [p.payload["i"] for p in inbox.pending(s)] == [1, 2, 3, 4, 99]
        assert [p.payload["i"] for p in inbox.pending(s, "telegram", limit=2)] == [1, 2]
        assert [p.payload["i"] for p in inbox.pending(s, "whatsapp")] == [99]
        first, second, third = (p.id for p in inbox.pending(s, "telegram", limit=3))

    # Handling marks the item done in the same transaction as its effects.
    with db.transaction() as s:
        item = inbox.claim(s, first)
        assert item is not None and item.payload == {"i": 1}
        item.handled_at = NOW
    with db.transaction() as s:
        assert inbox.claim(s, first) is None  # already handled
        assert inbox.claim(s, 10_000) is None  # no such item
        # A failure that will be retried stays pending and counts the attempt.
        inbox.mark_failed(s, second, "x" * 5000, NOW, give_up=False)
        inbox.mark_failed(s, third, "rusak", NOW, give_up=True)
        inbox.mark_failed(s, 10_000, "hilang", NOW, give_up=True)  # no error for a missing id
    with db.transaction() as s:
        assert [p.id for p in inbox.pending(s, "telegram")] == [second, max(first, second, third) + 1]
        again = s.get(InboxItem, second)
        assert again is not None
        assert (again.attempts, len(again.error or ""), again.handled_at) == (1, 2000, None)
        given_up = s.get(InboxItem, third)
        assert given_up is not None
        assert (given_up.attempts, given_up.error, given_up.handled_at) == (1, "rusak", NOW)
        assert inbox.claim(s, third) is None
    with db.transaction() as s:
        inbox.mark_failed(s, second, "lagi", NOW, give_up=False)
    with db.transaction() as s:
        assert s.get(InboxItem, second).attempts == 2  # type: ignore[union-attr]


def test_rolled_back_handling_leaves_the_item_pending(db: Database) -> None:
    with db.transaction() as s:
        inbox.store(s, "telegram", [("42", {"text": "/start"})], NOW)
    with pytest.raises(RuntimeError), db.transaction() as s:
        item = inbox.claim(s, inbox.pending(s)[0].id)
        assert item is not None
        item.handled_at = NOW
        raise RuntimeError("crash in the middle of handling")
    with db.transaction() as s:
        assert [p.external_id for p in inbox.pending(s)] == ["42"]


def test_claim_batch_and_mark_handled(db: Database) -> None:
    with db.transaction() as s:
        inbox.store(s, "telegram", [(str(i), {"i": i}) for i in range(1, 6)], NOW)
        inbox.store(s, "whatsapp", [("wamid.1", {"i": 99})], NOW)
    with db.transaction() as s:
        batch = inbox.claim_batch(s, "telegram", limit=4)
        assert [(ext, attempts) for _, ext, attempts in batch] == [("1", 0), ("2", 0), ("3", 0), ("4", 0)]
        ids = [item_id for item_id, _, _ in batch]
        assert ids == sorted(ids)
        inbox.mark_failed(s, ids[1], "sekali gagal", NOW, give_up=False)
        inbox.mark_handled(s, [ids[0], ids[1], ids[2]], NOW + timedelta(seconds=1))
        inbox.mark_handled(s, [], NOW)  # nothing to do
    with db.transaction() as s:
        # Handled items leave the queue; the rest keeps its order; other sources stay apart.
        assert [ext for _, ext, _ in inbox.claim_batch(s, "telegram")] == ["4", "5"]
        rows = {r.external_id: r for r in s.scalars(select(InboxItem).where(InboxItem.source == "telegram"))}
        assert [(rows[e].attempts, rows[e].handled_at) for e in ("1", "2", "3", "4")] == [
            (1, NOW + timedelta(seconds=1)), (2, NOW + timedelta(seconds=1)),
            (1, NOW + timedelta(seconds=1)), (0, None)]
        # Marking again changes nothing: an item takes effect once.
        inbox.mark_handled(s, [ids[0]], NOW + timedelta(hours=1))
    with db.transaction() as s:
        again = s.get(InboxItem, ids[0])
        assert again is not None and (again.attempts, again.handled_at) == (1, NOW + timedelta(seconds=1))
        assert inbox.payloads(s, [ids[3], ids[0]]) == {ids[3]: {"i": 4}, ids[0]: {"i": 1}}
        assert inbox.payloads(s, []) == {}


def test_two_workers_claim_disjoint_items_and_a_held_chat_waits(db: Database) -> None:
    # Chat A: items 1, 2, 4; chat B: item 3.
    with db.transaction() as s:
        inbox.store(s, "telegram", [("1", {"c": "A"}), ("2", {"c": "A"}), ("3", {"c": "B"}),
                                    ("4", {"c": "A"})], NOW)
    if db.engine.dialect.name != "postgresql":
        # SQLite: one process, one writer; nothing is ever held elsewhere.
        with db.transaction() as s:
            batch = inbox.claim_batch(s, "telegram", limit=1)
            assert [ext for _, ext, _ in batch] == ["1"]
            assert inbox.held_elsewhere(s, "telegram", [i for i, _, _ in batch]) == {}
        return
    first, second = db._sessions(), db._sessions()
    try:
        first.begin()
        a = inbox.claim_batch(first, "telegram", limit=1)
        assert [ext for _, ext, _ in a] == ["1"]
        # The second worker does not wait for the first: it skips item 1 ...
        second.begin()
        b = inbox.claim_batch(second, "telegram", limit=10)
        assert [ext for _, ext, _ in b] == ["2", "3", "4"]
        # ... and learns that item 1 (chat A) is held elsewhere, so chat A is not its to handle.
        held = inbox.held_elsewhere(second, "telegram", [i for i, _, _ in b])
        assert list(held.values()) == [{"c": "A"}]
        assert inbox.held_elsewhere(first, "telegram", [i for i, _, _ in a]) == {}
        second.rollback()
        # The first worker commits item 1: chat A then holds nothing for anyone.
        inbox.mark_handled(first, [a[0][0]], NOW)
        first.commit()
        second.begin()
        b = inbox.claim_batch(second, "telegram", limit=10)
        assert [ext for _, ext, _ in b] == ["2", "3", "4"]
        assert inbox.held_elsewhere(second, "telegram", [i for i, _, _ in b]) == {}
        second.rollback()
    finally:
        first.close()
        second.close()


def test_a_killed_workers_claim_ends_with_its_connection(db: Database) -> None:
    """The lock is the lease: a worker whose connection is gone (killed) holds nothing."""
    with db.transaction() as s:
        inbox.store(s, "telegram", [("1", {"c": "A"}), ("2", {"c": "A"})], NOW)
    dead = db._sessions()
    dead.begin()
    assert [ext for _, ext, _ in inbox.claim_batch(dead, "telegram", limit=1)] == ["1"]
    if db.engine.dialect.name == "postgresql":
        pid = dead.scalar(text("SELECT pg_backend_pid()"))
        with db.transaction() as s:  # what the server does when the worker's socket closes
            s.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # pg_terminate_backend only signals: the backend's locks go when it has exited.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.reading() as s:
                if s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}) == 0:
                    break
            time.sleep(0.05)
        dead.invalidate()
    else:
        dead.rollback()
    dead.close()
    with db.transaction() as s:
        batch = inbox.claim_batch(s, "telegram", limit=10)
        assert [ext for _, ext, _ in batch] == ["1", "2"]
        assert inbox.held_elsewhere(s, "telegram", [i for i, _, _ in batch]) == {}


def _selects_of_states(db: Database) -> Any:
    """A list that records the statements on dialog_states sent while the context is open."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "dialog_states" in statement:
            sent.append(statement.split()[0])

    @contextlib.contextmanager
    def recording() -> Iterator[list[str]]:
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield sent
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return recording()


def test_hold_dialog_states_loads_exactly_the_asked_states(db: Database) -> None:
    with db.transaction() as s:
        people.save_state(s, "telegram", "1", "1", {"flow": "menu"}, NOW)
        people.save_state(s, "telegram", "-100", "1", {"flow": "catatan"}, NOW)
        people.save_state(s, "telegram", "-100", "2", {"flow": "catatan", "n": 2}, NOW)
        people.save_state(s, "whatsapp", "1", "1", {"flow": "lapor"}, NOW)
    with db.transaction() as s, _selects_of_states(db) as sent:
        found = inbox.hold_dialog_states(
            s, [("telegram", "-100", "2"), ("telegram", "1", "1"), ("telegram", "1", "1"), ("telegram", "9", "9")]
        )
        assert found == 2
        assert inbox.hold_dialog_states(s, []) == 0
        assert sent == ["SELECT"]
        # Held, the dialog's loads cost no query: a state, and a state known to be absent.
        assert people.load_state(s, "telegram", "-100", "2") == {"flow": "catatan", "n": 2}
        assert people.load_state(s, "telegram", "9", "9") == {}
        assert sent == ["SELECT"]
        # A write goes to the database at once and is what a later step of the batch loads.
        people.save_state(s, "telegram", "9", "9", {"flow": "lapor", "langkah": 1}, NOW)
        assert people.load_state(s, "telegram", "9", "9") == {"flow": "lapor", "langkah": 1}
        assert sent == ["SELECT", "INSERT"]
        # Not held: read from the database.
        assert people.load_state(s, "whatsapp", "1", "1") == {"flow": "lapor"}
        assert sent == ["SELECT", "INSERT", "SELECT"]
    with db.transaction() as s:
        assert people.load_state(s, "telegram", "9", "9") == {"flow": "lapor", "langkah": 1}
        assert people.load_state(s, "telegram", "-100", "1") == {"flow": "catatan"}


def test_a_state_written_in_a_rolled_back_savepoint_is_not_read_after_it(db: Database) -> None:
    """What the batch does when a step fails in its savepoint (bot/channels/batch.py): the
    write is rolled back with it, and the transaction's cache of states is forgotten, so no
    later step reads the state that never was."""
    with db.transaction() as s:
        people.save_state(s, "telegram", "5", "5", {"flow": "menu"}, NOW)
    with db.transaction() as s:
        inbox.hold_dialog_states(s, [("telegram", "5", "5")])
        with contextlib.suppress(RuntimeError), s.begin_nested():
            people.save_state(s, "telegram", "5", "5", {"flow": "lapor"}, NOW)
            raise RuntimeError("langkah gagal")
        dialog_states.forget(s)
        assert people.load_state(s, "telegram", "5", "5") == {"flow": "menu"}
    with db.transaction() as s:
        assert people.load_state(s, "telegram", "5", "5") == {"flow": "menu"}


# ----------------------------------------------------------------------------------- outbox


def _complaint(db: Database, policy: DeadlinePolicy) -> int:
    with db.transaction() as s:
        return create_complaint(
            s,
            ComplaintDraft(kind="pengaduan", category="Kebisingan", desa="Jelbuk",
                           description="Sound horeg sampai pagi", channel="whatsapp",
                           received_at=NOW),
            reporter=None, actor=Actor("warga", None, None, "warga"), now=NOW, policy=policy,
            prefix="TRB",
        ).id


def test_enqueue_and_due_in_id_order(db: Database, policy: DeadlinePolicy) -> None:
    cid = _complaint(db, policy)
    with db.transaction() as s:
        a = outbox.enqueue(s, "telegram", 111, "text", {"text": "satu"}, NOW)
        b = outbox.enqueue(s, "telegram", "222", "card", {"ticket": "TRB-2026-00001"}, NOW,
                           complaint_id=cid)
        outbox.enqueue(s, "whatsapp", "62811", "text", {"text": "wa"}, NOW)
        c = outbox.enqueue(s, "telegram", 111, "location", {"lat": -8.1, "lon": 113.7}, NOW)
        s.flush()
        ids = [a.id, b.id, c.id]
    with db.transaction() as s:
        due = outbox.due(s, "telegram", NOW)
        assert [i.id for i in due] == ids
        assert [i.chat_id for i in due] == ["111", "222", "111"]
        assert due[1].payload == {"ticket": "TRB-2026-00001"} and due[1].complaint_id == cid
        assert (due[0].attempts, due[0].sent_at, due[0].next_attempt_at) == (0, None, NOW)
        assert [i.id for i in outbox.due(s, "telegram", NOW, limit=2)] == ids[:2]
        assert [i.payload for i in outbox.due(s, "whatsapp", NOW)] == [{"text": "wa"}]
        assert outbox.due(s, "sandbox", NOW) == []


def test_claimed_items_are_leased_to_one_worker_and_hold_their_chat(db: Database) -> None:
    lease = timedelta(minutes=5)
    with db.transaction() as s:
        a1 = outbox.enqueue(s, "telegram", "A", "text", {"text": "a1"}, NOW)
        b1 = outbox.enqueue(s, "telegram", "B", "text", {"text": "b1"}, NOW)
        s.flush()
        ids = {"a1": a1.id, "b1": b1.id}
    with db.transaction() as s:
        mine = outbox.claim_due(s, "telegram", NOW, lease, limit=1)
        assert [o.id for o in mine] == [ids["a1"]]
        # A reply written meanwhile for chat A, by a handling transaction that sends it itself.
        s.info[outbox.LEASE_KEY] = NOW + lease
        a2 = outbox.enqueue(s, "telegram", "A", "text", {"text": "a2"}, NOW)
        s.flush()
        ids["a2"] = a2.id
    with db.transaction() as s:
        # Another worker: a1 and a2 are leased, so chat A is not due; chat B is.
        assert [o.id for o in outbox.claim_due(s, "telegram", NOW + timedelta(seconds=1), lease)] == [ids["b1"]]
        assert outbox.claim_due(s, "telegram", NOW + timedelta(seconds=2), lease) == []
        outbox.mark_sent(s, ids["b1"], NOW + timedelta(seconds=2), 5)
    with db.transaction() as s:
        # a2 given back (its writer could not send it before a1): still behind a1's lease.
        outbox.lease_items(s, [ids["a2"]], NOW + timedelta(seconds=3))
        assert outbox.claim_due(s, "telegram", NOW + timedelta(seconds=3), lease) == []
    with db.transaction() as s:
        # The worker holding a1 was killed: after the lease, chat A is taken over, in order.
        later = NOW + lease + timedelta(seconds=1)
        assert [o.id for o in outbox.claim_due(s, "telegram", later, lease)] == [ids["a1"], ids["a2"]]
        outbox.mark_sent(s, ids["a1"], later, 7)
    with db.transaction() as s:
        item = s.get(OutboxItem, ids["a2"])
        assert item is not None and item.next_attempt_at == NOW + 2 * lease + timedelta(seconds=1)


def test_two_workers_claiming_at_once_never_share_a_chat(db: Database) -> None:
    lease = timedelta(minutes=5)
    with db.transaction() as s:
        for chat, n in (("A", 1), ("A", 2), ("B", 1), ("A", 3)):
            outbox.enqueue(s, "telegram", chat, "text", {"text": f"{chat}{n}"}, NOW)
    if db.engine.dialect.name != "postgresql":
        with db.transaction() as s:  # SQLite: one worker takes everything due, in order
            assert [o.payload["text"] for o in outbox.claim_due(s, "telegram", NOW, lease)] == [
                "A1", "A2", "B1", "A3"]
        return
    first, second = db._sessions(), db._sessions()
    try:
        first.begin()
        assert [o.payload["text"] for o in outbox.claim_due(first, "telegram", NOW, lease, limit=1)] == ["A1"]
        # Before the first commits: its row is skipped, and chat A (A1 unsent, not ours) refused.
        second.begin()
        assert [o.payload["text"] for o in outbox.claim_due(second, "telegram", NOW, lease)] == ["B1"]
        second.commit()
        first.commit()
        with db.transaction() as s:
            assert outbox.claim_due(s, "telegram", NOW, lease) == []
    finally:
        first.close()
        second.close()


def test_a_chat_with_an_item_held_elsewhere_in_its_middle_is_not_claimed(db: Database) -> None:
    lease = timedelta(minutes=5)
    with db.transaction() as s:
        items = [outbox.enqueue(s, "telegram", "A", "text", {"text": f"A{n}"}, NOW) for n in (1, 2, 3)]
        s.flush()
        a1, a2, a3 = (o.id for o in items)
    if db.engine.dialect.name != "postgresql":
        with db.transaction() as s:
            assert [o.id for o in outbox.claim_due(s, "telegram", NOW, lease)] == [a1, a2, a3]
        return
    other = db._sessions()
    try:
        other.begin()
        other.execute(select(OutboxItem.id).where(OutboxItem.id == a2).with_for_update())
        with db.transaction() as s:
            # A1 and A3 are free, but A2 between them is another worker's: chat A waits.
            assert outbox.claim_due(s, "telegram", NOW, lease) == []
        other.rollback()
    finally:
        other.close()


def test_mark_sent_and_mark_failed_take_items_out_of_the_queue(
    db: Database, policy: DeadlinePolicy
) -> None:
    cid = _complaint(db, policy)
    with db.transaction() as s:
        items = [outbox.enqueue(s, "telegram", str(100 + i), "text", {"i": i}, NOW,
                                complaint_id=cid) for i in range(3)]
        s.flush()
        sent, failed, waiting = (i.id for i in items)
    later = NOW + timedelta(seconds=3)
    with db.transaction() as s:
        outbox.mark_sent(s, sent, later, 98765)
        outbox.mark_failed(s, failed, later, "Forbidden: bot was blocked by the user")
    with db.transaction() as s:
        assert [i.id for i in outbox.due(s, "telegram", later)] == [waiting]
        done = s.get(OutboxItem, sent)
        assert done is not None
        assert (done.sent_at, done.result_message_id, done.attempts) == (later, 98765, 1)
        gone = s.get(OutboxItem, failed)
        assert gone is not None
        assert (gone.failed_at, gone.attempts) == (later, 1)
        assert gone.error == "Forbidden: bot was blocked by the user"
        # The officers can see what could not be delivered for a complaint.
        assert [i.id for i in outbox.undelivered_for_complaint(s, cid)] == [failed]


def test_retry_waits_for_its_backoff_and_holds_back_its_chat(db: Database) -> None:
    with db.transaction() as s:
        first = outbox.enqueue(s, "telegram", "111", "text", {"n": 1}, NOW)
        second = outbox.enqueue(s, "telegram", "111", "text", {"n": 2}, NOW)
        other = outbox.enqueue(s, "telegram", "222", "text", {"n": 3}, NOW)
        s.flush()
        ids = (first.id, second.id, other.id)
    with db.transaction() as s:
        outbox.mark_retry(s, ids[0], NOW, timedelta(seconds=30), "429 Too Many Requests" * 100)
    with db.transaction() as s:
        item = s.get(OutboxItem, ids[0])
        assert item is not None
        assert item.attempts == 1
        assert item.next_attempt_at == NOW + timedelta(seconds=30)
        assert item.error is not None and len(item.error) == 1000
        assert outbox.next_wakeup(s, "telegram") == NOW
        # Before the backoff ends, the retried item is not due, and neither is the later
        # message to the same chat (per-chat order); other chats are not held back.
        assert [i.id for i in outbox.due(s, "telegram", NOW + timedelta(seconds=10))] == [ids[2]]
        # Once it ends, the chat's messages come in their original order.
        assert [i.id for i in outbox.due(s, "telegram", NOW + timedelta(seconds=30))] == list(ids)
        outbox.mark_sent(s, ids[2], NOW, 1)
    with db.transaction() as s:
        assert outbox.next_wakeup(s, "telegram") == NOW  # the second message, never tried
        outbox.mark_sent(s, ids[1], NOW, 2)
    with db.transaction() as s:
        assert outbox.next_wakeup(s, "telegram") == NOW + timedelta(seconds=30)
        outbox.mark_sent(s, ids[0], NOW + timedelta(seconds=31), 3)
    with db.transaction() as s:
        assert outbox.next_wakeup(s, "telegram") is None
        assert outbox.due(s, "telegram", NOW + timedelta(days=1)) == []


def test_card_message_is_remembered_per_chat(db: Database, policy: DeadlinePolicy) -> None:
    cid = _complaint(db, policy)
    with db.transaction() as s:
        assert outbox.card_message(s, cid, "-100123") is None
        outbox.set_card_message(s, cid, "-100123", 555, NOW)
        outbox.set_card_message(s, cid, "999", 7, NOW)
    with db.transaction() as s:
        assert outbox.card_message(s, cid, "-100123") == 555
        outbox.set_card_message(s, cid, "-100123", 556, NOW + timedelta(minutes=1))
    with db.transaction() as s:
        assert outbox.card_message(s, cid, "-100123") == 556
        assert outbox.card_message(s, cid, "999") == 7
        assert outbox.card_message(s, cid, "nope") is None


def test_batch_helpers_created_in_undelivered_and_mark_sent_many(db: Database) -> None:
    with db.transaction() as s:
        old = outbox.enqueue(s, "telegram", 111, "text", {"text": "lama"}, NOW)
        s.flush()
        with outbox.created_in(s) as created:
            a = outbox.enqueue(s, "telegram", 111, "text", {"text": "a"}, NOW)
            b = outbox.enqueue(s, "telegram", 222, "text", {"text": "b"}, NOW)
            outbox.enqueue(s, "whatsapp", "62811", "text", {"text": "wa"}, NOW)
            s.flush()
        outbox.enqueue(s, "telegram", 333, "text", {"text": "after"}, NOW)  # no longer collected
        s.flush()
        assert [o.payload["text"] for o in sorted(created, key=lambda o: o.id)] == ["a", "b", "wa"]
        # What a new item of each chat must wait for: the earlier items not yet out.
        assert outbox.undelivered_in_chats(s, "telegram", ["111", "222", "444"], [a.id, b.id]) == {
            "111": {old.id}}
        assert outbox.undelivered_in_chats(s, "telegram", [], []) == {}
        ids = (old.id, a.id, b.id)
    with db.transaction() as s:
        outbox.mark_sent_many(s, [(ids[0], 7), (ids[2], None)], NOW)
        outbox.mark_sent_many(s, [], NOW)
        if not db.is_sqlite:
            # Sent marks commit without waiting for the WAL flush, in this transaction only.
            assert s.execute(text("SHOW synchronous_commit")).scalar() == "off"
    if not db.is_sqlite:
        with db.transaction() as s:
            assert s.execute(text("SHOW synchronous_commit")).scalar() == "on"
    with db.transaction() as s:
        rows = [s.get(OutboxItem, i) for i in ids]
        assert [(r.sent_at, r.result_message_id, r.attempts) for r in rows if r] == [
            (NOW, 7, 1), (None, None, 0), (NOW, None, 1)]
        assert outbox.undelivered_in_chats(s, "telegram", ["111"], []) == {"111": {ids[1]}}


# ------------------------------------------------------------------------- people and state


def test_dialog_state_round_trip(db: Database) -> None:
    state = {"flow": "lapor", "step": "desa", "draft": {"kategori": "Miras", "foto": ["a.jpg"]},
             "catatan": "Warga RT 03 — ‘keberatan’", "n": 3, "ok": True, "nil": None}
    with db.transaction() as s:
        assert people.load_state(s, "telegram", "111", "111") == {}
        people.save_state(s, "telegram", "111", "111", state, NOW)
        people.save_state(s, "telegram", "-100", "111", {"flow": "grup"}, NOW)
    with db.transaction() as s:
        assert people.load_state(s, "telegram", "111", "111") == state
        assert people.load_state(s, "telegram", "-100", "111") == {"flow": "grup"}
        assert people.load_state(s, "whatsapp", "111", "111") == {}
        people.save_state(s, "telegram", "111", "111", {"flow": "skm", "step": 1}, NOW)
    with db.transaction() as s:
        assert people.load_state(s, "telegram", "111", "111") == {"flow": "skm", "step": 1}


def test_dialog_state_nested_change_in_one_transaction_is_saved(db: Database) -> None:
    # A dialog step loads its state, changes a nested value and saves it in the same
    # transaction; the change must reach the database.
    with db.transaction() as s:
        people.save_state(s, "whatsapp", "62811", "62811",
                          {"step": "kategori", "draft": {"kategori": None}}, NOW)
    with db.transaction() as s:
        state = people.load_state(s, "whatsapp", "62811", "62811")
        state["draft"]["kategori"] = "Parkir liar"
        state["step"] = "desa"
        people.save_state(s, "whatsapp", "62811", "62811", state, NOW)
    with db.transaction() as s:
        assert people.load_state(s, "whatsapp", "62811", "62811") == {
            "step": "desa", "draft": {"kategori": "Parkir liar"}}
    with db.transaction() as s:
        state = people.load_state(s, "whatsapp", "62811", "62811")
        state["draft"]["kategori"] = "Miras"  # only a nested change this time
        people.save_state(s, "whatsapp", "62811", "62811", state, NOW)
    with db.transaction() as s:
        assert people.load_state(s, "whatsapp", "62811", "62811")["draft"] == {"kategori": "Miras"}


def test_add_officer_validates_roles(db: Database) -> None:
    with db.transaction() as s:
        for bad in ("camat", "", "Admin", "warga"):
            with pytest.raises(ValueError, match="Peran"):
                people.add_officer(s, 1, "Pak X", bad, NOW)
        assert people.list_officers(s) == []
        o = people.add_officer(s, 1001, "Bu Rina", "petugas", NOW)
        assert (o.role, o.active) == ("petugas", True)
        people.add_officer(s, 1002, "Pak Camat", "pimpinan", NOW)
    with db.transaction() as s:
        found = people.officer_by_telegram(s, 1001)
        assert found is not None and found.name == "Bu Rina"
        found.active = False
    with db.transaction() as s:
        assert people.officer_by_telegram(s, 1001) is None  # inactive officers are not found
        # Adding again updates the role and reactivates, without a second row.
        again = people.add_officer(s, 1001, "Bu Rina S.", "koordinator", NOW)
    with db.transaction() as s:
        found = people.officer_by_telegram(s, 1001)
        assert found is not None and found.id == again.id
        assert (found.name, found.role, found.active) == ("Bu Rina S.", "koordinator", True)
        assert [x.telegram_id for x in people.list_officers(s)] == [1001, 1002]
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0


def test_settings_round_trip(db: Database) -> None:
    with db.transaction() as s:
        assert people.get_setting(s, "trantib_chat") is None
        people.set_setting(s, "trantib_chat", "-100555", NOW)
    with db.transaction() as s:
        assert people.get_setting(s, "trantib_chat") == "-100555"
        people.set_setting(s, "trantib_chat", "-100777", NOW)
    with db.transaction() as s:
        assert people.get_setting(s, "trantib_chat") == "-100777"


def test_scheduled_work_runs_in_one_process_at_a_time(db: Database) -> None:
    from storage import job_locks

    with job_locks.exclusive(db, "retensi") as first:
        assert first
        with job_locks.exclusive(db, "retensi") as second, job_locks.exclusive(db, "lain") as other:
            # PostgreSQL: another process asking meanwhile skips; other work is not held up.
            assert second is (db.engine.dialect.name != "postgresql")
            assert other
    with job_locks.exclusive(db, "retensi") as again:
        assert again  # released when the work ended


def test_a_block_seen_by_a_kecamatans_own_bot_is_recorded_on_the_person(db: Database) -> None:
    # Arjasa's own bot sends on "telegram:35.09.22"; the resident's Person says "telegram".
    from storage.models import Person

    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    with db.transaction() as s:
        s.add(Person(channel="telegram", channel_user_id="42", created_at=now))
        other = Person(channel="telegram", channel_user_id="43", created_at=now)
        s.add(other)
        item = outbox.enqueue(s, "telegram:35.09.22", "42", "text", {"text": "x", "buttons": []}, now)
        s.flush()
        item_id = item.id
        outbox.mark_chat_blocked(s, "telegram:35.09.22", "42", now)
    with db.transaction() as s:
        blocked = {p.channel_user_id: p.blocked_at for p in s.scalars(select(Person))}
        assert blocked["42"] is not None and blocked["43"] is None
        failed = s.get(OutboxItem, item_id)
        assert failed is not None and failed.failed_at is not None
