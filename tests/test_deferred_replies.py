# Deferred read-only replies (bot/dialogs/deferred.py): which officer commands only queue a
# request (outbox kind "lihat") and which still write in their step; the request, built
# later from a read transaction, says exactly what the step would have said then.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office
from bot.dialogs import deferred
from bot.dialogs.context import Runtime
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from storage import people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import Complaint, IkuActivity, OutboxItem

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)
KOORDINATOR, WARGA = 12, 99


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return Runtime(office=load_office(), policy=DeadlinePolicy(3, 5, set(), JAKARTA), tz=JAKARTA,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def queued(db: Database, rt: Runtime, user: int, text: str, event: Event | None = None) -> list[OutboxItem]:
    """What one message (a command, or `event`: typed text, a press) queued."""
    name, _, args = text.lstrip("/").partition(" ")
    caller = Caller("telegram", str(user), str(user), None, "private")
    with db.transaction() as s:
        last = s.scalar(select(func.max(OutboxItem.id))) or 0
        ctx = handle(rt, s, caller, event or Event(kind="command", command=name, args=args, text=text), NOW)
        assert not ctx.toast, ctx.toast  # a press refused ("Tombol ini sudah tidak berlaku.")
        return list(s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all())


def read(db: Database, rt: Runtime, item: OutboxItem) -> str:
    with db.reading() as s:
        return "\n".join(to_plain(p["text"]) for _, p in deferred.expand(rt, s, item.kind, item.payload))


def test_reads_are_deferred_and_writes_are_not(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
    for text in ("/ikm", "/iku", "/iku 2026", "/iku_kegiatan", "/iku_target", "/iku_dokumen riwayat 1",
                 "/kasus", "/kasus terlambat", "/start kasus_saya"):
        [item] = queued(db, rt, KOORDINATOR, text)
        assert item.kind == deferred.KIND, text
        assert item.payload["now"] == NOW.isoformat() and item.payload["caller"]["chat_id"] == str(KOORDINATOR)
    # One ticket's card is one row: answered in the step.
    [item] = queued(db, rt, KOORDINATOR, "/kasus TRB-2026-00009")
    assert item.kind == "text" and "Tiket TRB-2026-00009 tidak ditemukan." in to_plain(item.payload["text"])
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


# ------------------------------------------------------------------------------- /kasus

def file_complaints(db: Database, rt: Runtime, n: int) -> None:
    with db.transaction() as s:
        for i in range(n):
            create_complaint(
                s, ComplaintDraft(kind="pengaduan", category="miras", desa="Jelbuk", description=f"Laporan {i}",
                                  channel="lisan", received_at=NOW - timedelta(hours=i), rahasia=False),
                reporter=None, actor=Actor("warga", None, None, "warga"), now=NOW - timedelta(hours=i),
                policy=rt.policy, prefix="TRB")


def page(db: Database, rt: Runtime, request: OutboxItem) -> tuple[str, list[list[str | None]]]:
    """A /kasus request as the delivery builds it: its text and its buttons."""
    with db.reading() as s:
        [(kind, payload)] = deferred.build(rt, s, request.payload)
    assert kind == "text"
    return to_plain(payload["text"]), payload["buttons"]


def press(db: Database, rt: Runtime, user: int, buttons: list[list[str | None]], label: str) -> OutboxItem:
    [data] = [b[1] for b in buttons if b[0] == label]
    [request] = queued(db, rt, user, "", Event(kind="choice", data=str(data)))
    return request


def typed(db: Database, rt: Runtime, user: int, text: str) -> OutboxItem:
    [request] = queued(db, rt, user, text, Event(kind="text", text=text))
    return request


def test_kasus_pages_are_built_later_with_the_nonce_the_step_saved(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
    file_complaints(db, rt, 25)
    [request] = queued(db, rt, KOORDINATOR, "/kasus")
    assert request.kind == deferred.KIND and request.payload["view"] == "kasus"
    with db.reading() as s:
        state = people.load_state(s, "telegram", str(KOORDINATOR), str(KOORDINATOR))
    assert (state["flow"], state["q"], state["hal"]) == ("kasus", "", 1)
    text, buttons = page(db, rt, request)
    assert "Laporan terbuka: 25 laporan (halaman 1 dari 3)" in text and text.count("•") == 10
    # The button the delivery drew carries the nonce the step saved: the router accepts it.
    assert buttons == [["Berikutnya ›", f"d:{state['nonce']}:hal:2", None]]
    text, buttons = page(db, rt, press(db, rt, KOORDINATOR, buttons, "Berikutnya ›"))
    assert "(halaman 2 dari 3)" in text and [b[0] for b in buttons] == ["‹ Sebelumnya", "Berikutnya ›"]
    # Typing a button's number works too (the step saved the typed forms of its buttons).
    text, buttons = page(db, rt, typed(db, rt, KOORDINATOR, "2"))
    assert "(halaman 3 dari 3)" in text and text.count("•") == 5 and [b[0] for b in buttons] == ["‹ Sebelumnya"]
    assert "(halaman 2 dari 3)" in page(db, rt, typed(db, rt, KOORDINATOR, "1"))[0]
    # The step cannot know page 3 is the last, so it offered "Berikutnya" as 2 there too:
    # typed on the last page, it shows the last page again.
    typed(db, rt, KOORDINATOR, "2")
    text, buttons = page(db, rt, typed(db, rt, KOORDINATOR, "2"))
    assert "(halaman 3 dari 3)" in text and [b[0] for b in buttons] == ["‹ Sebelumnya"]

    # Fewer matches when a page is built than when it was asked for: the last page there is.
    _, buttons = page(db, rt, press(db, rt, KOORDINATOR, buttons, "‹ Sebelumnya"))
    request = press(db, rt, KOORDINATOR, buttons, "Berikutnya ›")  # page 3, built after ten are closed
    with db.transaction() as s:
        for c in s.scalars(select(Complaint).order_by(Complaint.id).limit(10)):
            c.status, c.current_due = "selesai", None
    text, buttons = page(db, rt, request)
    assert "Laporan terbuka: 15 laporan (halaman 2 dari 2)" in text and text.count("•") == 5
    assert [b[0] for b in buttons] == ["‹ Sebelumnya"]


def test_kasus_deep_link_pages_work(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
    file_complaints(db, rt, 12)
    [request] = queued(db, rt, KOORDINATOR, "/start kasus_Jelbuk")
    text, buttons = page(db, rt, request)
    assert 'Hasil pencarian "Jelbuk": 12 laporan (halaman 1 dari 2)' in text
    request = press(db, rt, KOORDINATOR, buttons, "Berikutnya ›")
    assert 'Hasil pencarian "Jelbuk": 12 laporan (halaman 2 dari 2)' in page(db, rt, request)[0]
    # A page drawn for a step the officer has moved on from is stale, as any old prompt.
    [old] = queued(db, rt, KOORDINATOR, "/kasus")
    queued(db, rt, KOORDINATOR, "/kasus Jelbuk")
    _, buttons = page(db, rt, old)
    caller = Caller("telegram", str(KOORDINATOR), str(KOORDINATOR), None, "private")
    with db.transaction() as s:
        ctx = handle(rt, s, caller, Event(kind="choice", data=str(buttons[0][1])), NOW)
    assert ctx.toast == "Tombol ini sudah tidak berlaku."
