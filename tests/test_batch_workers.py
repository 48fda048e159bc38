# Two workers handling one channel's inbox at once (PostgreSQL): each takes items the other
# does not hold, and a chat whose earlier item the other worker is handling waits for it,
# so each chat's updates are handled once and in order. SQLite: one worker, as before.
from __future__ import annotations

import threading
from datetime import UTC, datetime

from bot.channels.batch import BatchHandler, Prepared
from storage import inbox
from storage.db import Database

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
ROWS = [("1", {"chat": "X"}), ("2", {"chat": "X"}), ("3", {"chat": "Y"})]


def test_a_chat_held_by_one_worker_waits_while_the_other_handles_the_rest(db: Database) -> None:
    handled: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def step(_s: object, p: Prepared, _now: datetime) -> None:
        if p.note == "1" and db.engine.dialect.name == "postgresql":
            entered.set()
            assert release.wait(10)  # worker A stays inside its transaction meanwhile
        handled.append(str(p.note))
        return None

    def handler(limit: int) -> BatchHandler:
        return BatchHandler(db, "telegram", step, lambda payload: payload["chat"], lambda: NOW, 3, limit=limit)

    # `note` carries the external id here only to name the item in `handled`.
    prepared = {ext: Prepared(order_key=payload["chat"], note=ext) for ext, payload in ROWS}
    with db.transaction() as s:
        inbox.store(s, "telegram", ROWS, NOW)
    if db.engine.dialect.name != "postgresql":
        batch = handler(100).handle([], prepared)
        assert (batch.handled, batch.left, handled) == (3, 0, ["1", "2", "3"])
        return
    results = []
    a = threading.Thread(target=lambda: results.append(handler(1).handle([], prepared)))
    a.start()
    try:
        assert entered.wait(10)
        # Worker B, while A holds item 1 of chat X: item 2 (chat X) waits, item 3 is B's.
        b = handler(100).handle([], prepared)
        assert (b.handled, b.left, handled) == (1, 1, ["3"])
    finally:
        release.set()
        a.join(10)
    assert results[0].handled == 1
    # A committed item 1: now chat X's next item is anyone's.
    b = handler(100).handle([], prepared)
    assert (b.handled, b.left, handled) == (1, 0, ["3", "1", "2"])
    with db.reading() as s:
        assert inbox.pending(s, "telegram") == []
