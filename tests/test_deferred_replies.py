# Deferred read-only replies (bot/dialogs/deferred.py): which officer commands only queue a
# request (outbox kind "lihat") and which still write in their step; the request, built
# later from a read transaction, says exactly what the step would have said then.
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.dialogs import deferred
from bot.dialogs.context import Runtime
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.office import load_office
from bot.texts import to_plain
from storage import people
from storage.complaints import DeadlinePolicy
from storage.db import Database
from storage.models import IkuActivity, OutboxItem

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)
KOORDINATOR, WARGA = 12, 99


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return Runtime(office=load_office(), policy=DeadlinePolicy(3, 5, set(), JAKARTA), tz=JAKARTA,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def queued(db: Database, rt: Runtime, user: int, text: str) -> list[OutboxItem]:
    name, _, args = text.lstrip("/").partition(" ")
    caller = Caller("telegram", str(user), str(user), None, "private")
    with db.transaction() as s:
        last = s.scalar(select(func.max(OutboxItem.id))) or 0
        handle(rt, s, caller, Event(kind="command", command=name, args=args, text=text), NOW)
        return list(s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all())


def read(db: Database, rt: Runtime, item: OutboxItem) -> str:
    with db.reading() as s:
        return "\n".join(to_plain(p["text"]) for _, p in deferred.expand(rt, s, item.kind, item.payload))


def test_reads_are_deferred_and_writes_are_not(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
    for text in ("/ikm", "/iku", "/iku 2026", "/iku_kegiatan", "/iku_target", "/iku_dokumen riwayat 1"):
        [item] = queued(db, rt, KOORDINATOR, text)
        assert item.kind == deferred.KIND, text
        assert item.payload["now"] == NOW.isoformat() and item.payload["caller"]["chat_id"] == str(KOORDINATOR)
    # An entry is written in the step itself, and answered at once.
    [item] = queued(db, rt, KOORDINATOR, "/iku_kegiatan tambah 2026 | Pelatihan UMKM | 2026-02-10")
    assert item.kind == "text" and "Tercatat" in to_plain(item.payload["text"])
    # A resident is refused in the step; nothing is deferred for them.
    [item] = queued(db, rt, WARGA, "/iku")
    assert item.kind == "text" and "hanya untuk petugas" in to_plain(item.payload["text"])


def test_a_request_is_built_from_the_register_as_it_is_when_sent(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
    [request] = queued(db, rt, KOORDINATOR, "/iku_kegiatan")
    assert "Pelatihan UMKM" not in read(db, rt, request)
    queued(db, rt, KOORDINATOR, "/iku_kegiatan tambah 2026 | Pelatihan UMKM | 2026-02-10")
    shown = read(db, rt, request)
    assert "Pelatihan UMKM" in shown and "/iku_kegiatan hapus NOMOR_ENTRI" in shown
    with db.reading() as s:
        assert s.scalar(select(func.count(IkuActivity.id))) == 1


def test_a_view_cannot_write_to_another_chat(db: Database, rt: Runtime) -> None:
    with db.reading() as s:
        ctx = deferred.ReadCtx(rt, s, Caller("telegram", "1", "1", None, "private"), NOW)
        ctx.say("bukan_petugas")
        with pytest.raises(ValueError):
            ctx.send_to("telegram", "2", "x")
        with pytest.raises(ValueError):
            ctx.queue("telegram", "1", "card", {"complaint_id": 1})
        assert [k for k, _ in ctx.out] == ["text"]
