# Overdue as officers read it (issue 9): the /kasus list puts overdue first, the group cards
# say since when, the export has the resolution deadline and "lewat batas", and the officer
# dialog postpones (tunda) with a typed date and reason, and resumes (lanjutkan).
from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cards import render_card
from bot.config.office import load_office
from bot.dialogs import deferred
from bot.dialogs.context import Ctx, Runtime
from bot.dialogs.officer import note_choice, note_step, parse_postpone, press_card
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.texts import render, to_plain
from storage import csv_io, people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import DITINDAKLANJUTI, DITUNDA, Actor, transition
from storage.models import Complaint, OutboxItem

WIB = ZoneInfo("Asia/Jakarta")
KOORDINATOR = 4004


def wib(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=WIB)


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    office = dataclasses.replace(load_office(), trantib_group=-1001)
    return Runtime(office=office, policy=DeadlinePolicy(3, 5, {date(2026, 12, 25)}, WIB), tz=WIB,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def intake(db: Database, rt: Runtime, received: datetime, rahasia: bool = False) -> int:
    with db.transaction() as s:
        if not people.list_officers(s):
            people.add_officer(s, KOORDINATOR, "Bu Koordinator", "koordinator", received)
        c = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Sukowiryo",
                              description="Keributan di pasar", channel="lisan", received_at=received,
                              rahasia=rahasia),
            reporter=None, actor=Actor("petugas", None, "Pak Petugas", "petugas"), now=received,
            policy=rt.policy, prefix="TRB",
        )
        return c.id


def follow_up(db: Database, rt: Runtime, cid: int, now: datetime) -> None:
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        who = Actor("petugas", 1, "Pak Petugas", "petugas")
        transition(s, c, "verifikasi", who, now, policy=rt.policy)
        transition(s, c, "tindaklanjuti", who, now, policy=rt.policy)


def test_past_the_resolution_deadline_is_overdue_everywhere(db: Database, rt: Runtime) -> None:
    # Received Tue 1 Dec 2026: resolution by 30 Jan 2027 (60 calendar days). On 2 Feb it is late.
    late = intake(db, rt, wib(2026, 12, 1))
    follow_up(db, rt, late, wib(2026, 12, 2))
    secret = intake(db, rt, wib(2026, 12, 1), rahasia=True)
    follow_up(db, rt, secret, wib(2026, 12, 2))
    fresh = intake(db, rt, wib(2027, 2, 1))  # received 1 Feb 2027: verify by Thu 4 Feb
    now = wib(2027, 2, 2)
    caller = Caller("telegram", str(KOORDINATOR), str(KOORDINATOR), None, "private")
    with db.transaction() as s:
        handle(rt, s, caller, Event(kind="command", command="kasus", args="", text="/kasus"), now)
        item = s.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
        assert item is not None
        # The list is built by the delivery (a deferred.KIND request): as it builds it.
        [(_, built)] = deferred.expand(rt, s, item.kind, item.payload)
        listing = to_plain(built["text"])
    lines = [x for x in listing.splitlines() if x.startswith("•")]
    assert lines[0].startswith("• ⏰ TRB-2026-00001 Ditindaklanjuti") and "batas 30 Jan 2027 (terlambat)" in lines[0]
    assert lines[1].startswith("• ⏰ TRB-2026-00002")
    assert lines[2] == "• TRB-2027-00001 Diterima, Sukowiryo, batas 4 Feb 2027"

    with db.transaction() as s:
        c = s.get(Complaint, late)
        assert c is not None
        group, _ = render_card(rt, c, "grup", now.date(), s)
        assert "⏰ Terlambat sejak 31 Jan 2027 (batas penyelesaian: 30 Jan 2027)" in to_plain(group)
        assert "penyelesaian: 30 Jan 2027" in to_plain(group)
        hidden = s.get(Complaint, secret)
        assert hidden is not None
        text = to_plain(render_card(rt, hidden, "grup", now.date(), s)[0])
        assert "Batas penyelesaian: 30 Jan 2027" in text and "Terlambat sejak 31 Jan 2027" in text
        assert "Keributan di pasar" not in text
        ok = s.get(Complaint, fresh)
        assert ok is not None
        assert "Terlambat" not in to_plain(render_card(rt, ok, "grup", now.date(), s)[0])

        out = io.StringIO()
        csv_io.export_complaints(s, out, policy=rt.policy, tz=WIB, today=now.date())
    rows = {r["nomor"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert (rows["TRB-2026-00001"]["batas_penyelesaian"], rows["TRB-2026-00001"]["lewat_batas"]) == ("2027-01-30", "ya")
    assert rows["TRB-2026-00001"]["terlambat"] == "ya"
    assert (rows["TRB-2027-00001"]["batas_penyelesaian"], rows["TRB-2027-00001"]["lewat_batas"]) == ("2027-04-02", "tidak")


def test_parse_postpone() -> None:
    assert parse_postpone("15-02-2027\nMenunggu mediasi") == (date(2027, 2, 15), "Menunggu mediasi")
    assert parse_postpone("15/2/2027 menunggu mediasi") == (date(2027, 2, 15), "menunggu mediasi")
    assert parse_postpone("2027-02-15: menunggu") == (date(2027, 2, 15), "menunggu")
    assert parse_postpone("31-02-2027 x") == (None, "31-02-2027 x")
    assert parse_postpone("besok saja") == (None, "besok saja")


def test_tunda_and_lanjutkan_from_the_officer_dialog(db: Database, rt: Runtime) -> None:
    cid = intake(db, rt, wib(2026, 12, 1))
    follow_up(db, rt, cid, wib(2026, 12, 2))
    caller = Caller("telegram", str(KOORDINATOR), str(KOORDINATOR), None, "private")
    now = wib(2026, 12, 3)

    def said(s: object, since: int) -> str:
        rows = s.scalars(select(OutboxItem).where(OutboxItem.id > since).order_by(OutboxItem.id)).all()  # type: ignore[attr-defined]
        return "\n".join(to_plain(r.payload.get("text", "")) for r in rows)

    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        ctx = Ctx(rt, s, caller, now)
        state = press_card(ctx, f"k:{cid}:tunda:{c.version}", {})
        assert state["flow"] == "catatan"
        mark = s.scalar(select(func.max(OutboxItem.id))) or 0
        # A date not after today is refused at the preview, before anything is sent.
        state = note_step(ctx, state, Event(kind="text", text="03-12-2026\nMenunggu mediasi"))
        state = note_step(ctx, state, Event(kind="text", text="-"))
        assert "Tanggal baru harus sesudah hari ini." in said(s, mark)
        assert c.status == DITINDAKLANJUTI and state["langkah"] == "umum"
        state = note_step(ctx, state, Event(kind="text", text="15-12-2026\nMenunggu jadwal mediasi"))
        state = note_step(ctx, state, Event(kind="text", text="-"))
        assert state["langkah"] == "pratinjau" and c.status == DITINDAKLANJUTI
        note_choice(ctx, state, "kirim")
        assert (c.status, c.postponed_until, c.current_due) == (DITUNDA, date(2026, 12, 15), date(2026, 12, 15))
        assert c.history[-1].public_note == "Menunggu jadwal mediasi"
        card = to_plain(render_card(rt, c, "grup", now.date(), s)[0])
        assert "Ditunda sampai 15 Des 2026" in card
        notice = to_plain(render("notif_status", c=c, catatan=c.history[-1].public_note))
        assert "Status sekarang: Ditunda" in notice and "Ditunda sampai: 15 Des 2026" in notice
        assert [b[0] for b in render_card(rt, c, "grup", now.date(), s)[1]] == ["Lanjutkan", "Tugaskan ke saya"]
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        ctx = Ctx(rt, s, caller, wib(2026, 12, 10))
        press_card(ctx, f"k:{cid}:lanjutkan:{c.version}", {})
        # Back to ditindaklanjuti; 5 working days waited (4, 7, 8, 9, 10 Dec) are 7 calendar
        # days off the resolution clock: 30 Jan -> 6 Feb 2027.
        assert (c.status, c.resolve_due, c.current_due) == (DITINDAKLANJUTI, date(2027, 2, 6), date(2027, 2, 6))
