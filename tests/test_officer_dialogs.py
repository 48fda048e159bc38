# What officers read and type (issue 10), through router.handle one transaction per event
# as a channel runs it, on SQLite and PostgreSQL: the note in two steps with a preview the
# reporter then receives word for word (never the internal note), /kasus search and pages,
# /bantuan per role, assignment, and taking a wrong press back.
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office
from bot.dialogs import deferred, router
from bot.dialogs.context import Runtime
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from storage import csv_io, outbox, people
from storage.complaint_search import CaseQuery, search_complaints
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, OutboxItem

TZ = ZoneInfo("Asia/Jakarta")
WARGA, PETUGAS, KOORDINATOR, PIMPINAN, ADMIN, PETUGAS2 = 1001, 2001, 2002, 2003, 2004, 2005
GROUP = -100555
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 WIB


class Chats:
    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.db = db
        self.rt = Runtime(office=load_office(), policy=DeadlinePolicy(3, 5, set(), TZ), tz=TZ, secret=b"s" * 32,
                          bot_username="sigap_test_bot", data_dir=tmp_path)
        self.now = NOW
        self.toast: str | None = None
        with db.transaction() as s:
            for tid, name, role in ((PETUGAS, "Budi", "petugas"), (KOORDINATOR, "Rina", "koordinator"),
                                    (PIMPINAN, "Bu Camat", "pimpinan"), (ADMIN, "Admin", "admin"),
                                    (PETUGAS2, "Joko", "petugas")):
                people.add_officer(s, tid, name, role, NOW)

    def send(self, user: int, event: Event, chat: int | None = None, message_id: int | None = None) -> list[dict[str, Any]]:
        chat = user if chat is None else chat
        caller = Caller("telegram", str(chat), str(user), None, "private" if chat > 0 else "group", message_id)
        with self.db.transaction() as s:
            last = s.scalar(select(func.max(OutboxItem.id))) or 0
            ctx = router.handle(self.rt, s, caller, event, self.now)
            self.toast = ctx.toast
            rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
            # A request (deferred.KIND, e.g. a /kasus page) as the delivery builds it.
            return [dict(p, chat=r.chat_id, kind=k) for r in rows for k, p in deferred.expand(self.rt, s, r.kind, r.payload)]

    def say(self, user: int, text: str, chat: int | None = None) -> list[dict[str, Any]]:
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            return self.send(user, Event(kind="command", command=head, args=args, text=text), chat)
        return self.send(user, Event(kind="text", text=text), chat)

    def press_data(self, user: int, data: str, chat: int | None = None, message_id: int | None = None) -> list[dict[str, Any]]:
        return self.send(user, Event(kind="choice", data=data), chat, message_id)

    def press(self, user: int, label: str, out: list[dict[str, Any]], chat: int | None = None,
              message_id: int | None = None) -> list[dict[str, Any]]:
        for o in reversed(out):
            for b in o.get("buttons") or []:
                if b[0] == label:
                    return self.press_data(user, b[1], chat, message_id)
        raise AssertionError(f"no button {label!r}")

    def card_press(self, user: int, cid: int, action: str, chat: int = GROUP) -> list[dict[str, Any]]:
        with self.db.reading() as s:
            c = s.get(Complaint, cid)
            assert c is not None
            version = c.version
        return self.press_data(user, self.rt.signed(f"k:{cid}:{action}:{version}"), chat)

    def to_reporter(self, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [o for o in out if o["chat"] == str(WARGA)]

    def complaint(self, cid: int) -> Complaint:
        with self.db.transaction() as s:
            c = s.get(Complaint, cid)
            assert c is not None
            c.history  # noqa: B018 - loaded before the session closes
            return c


def text(out: list[dict[str, Any]]) -> str:
    return "\n".join(to_plain(o.get("text", "")) for o in out)


def labels(out: list[dict[str, Any]]) -> list[str]:
    return [b[0] for o in out for b in o.get("buttons") or []]


def file(c: Chats, *, desa: str = "Sukowiryo", category: str = "miras", description: str = "Pesta miras di pos ronda",
         received: datetime = NOW, reporter: bool = True, to: str | None = None) -> int:
    with c.db.transaction() as s:
        person = get_or_create_person(s, "telegram", str(WARGA), "Siti", received) if reporter else None
        made = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category=category, desa=desa, description=description,
                              channel="telegram" if reporter else "lisan", received_at=received, rahasia=False),
            reporter=person, actor=Actor("warga", None, None, "warga"), now=received, policy=c.rt.policy,
            prefix="TRB")
        who = Actor("petugas", 1, "Budi", "petugas")
        steps = {"diverifikasi": ("verifikasi",), "ditindaklanjuti": ("verifikasi", "tindaklanjuti")}
        for action in steps.get(to or "", ()):
            transition(s, made, action, who, received + timedelta(minutes=5), policy=c.rt.policy)
        return made.id


@pytest.fixture
def chats(db: Database, tmp_path: Path) -> Chats:
    return Chats(db, tmp_path)


# -------------------------------------------------------------- notes in two steps + preview

def test_note_in_two_steps_preview_is_exactly_what_the_reporter_receives(chats: Chats) -> None:
    c = chats
    cid = file(c, to="ditindaklanjuti")
    asked = c.card_press(PETUGAS, cid, "selesaikan")
    assert "catatan penyelesaian" in text(asked) and "dikirim ke pelapor" in text(asked)
    assert "Internal:" not in text(asked)  # the old convention is gone
    assert asked[-1].get("force_reply")
    # A multi-line public note, then the internal one as a separate step.
    out = c.say(PETUGAS, "Warung ditertibkan bersama Babinsa.\nPemilik membuat surat pernyataan.", GROUP)
    assert "Catatan internal" in text(out) and "tidak pernah dikirim ke pelapor" in text(out)
    assert c.to_reporter(out) == [] and c.complaint(cid).status == "ditindaklanjuti"
    preview = c.say(PETUGAS, "pemilik residivis, pantau", GROUP)
    shown = text(preview)
    assert "Pesan yang akan diterima pelapor" in shown
    assert "Catatan petugas: Warung ditertibkan bersama Babinsa.\nPemilik membuat surat pernyataan." in shown
    assert "Catatan internal (hanya petugas): pemilik residivis, pantau" in shown
    assert labels(preview) == ["Kirim", "Ubah", "Batal"]
    assert c.to_reporter(preview) == [] and c.complaint(cid).status == "ditindaklanjuti"

    sent = c.press(PETUGAS, "Kirim", preview, GROUP)
    [notice] = c.to_reporter(sent)
    # Word for word (the HTML too) the message shown between the lines of the preview.
    assert notice["text"] in preview[-1]["text"]
    assert "Catatan petugas: Warung ditertibkan" in to_plain(notice["text"])
    assert "residivis" not in notice["text"]
    done = c.complaint(cid)
    assert done.status == "selesai"
    assert done.history[-1].public_note == "Warung ditertibkan bersama Babinsa.\nPemilik membuat surat pernyataan."
    assert done.history[-1].internal_note == "pemilik residivis, pantau"


def test_ubah_rewrites_and_batal_sends_nothing(chats: Chats) -> None:
    c = chats
    cid = file(c, to="ditindaklanjuti")
    c.card_press(PETUGAS, cid, "selesaikan")
    c.say(PETUGAS, "Sudah ditertibkn", GROUP)
    preview = c.say(PETUGAS, "-", GROUP)  # no internal note
    assert "Catatan internal (hanya petugas): –" in text(preview)
    again = c.press(PETUGAS, "Ubah", preview, GROUP)
    assert "catatan penyelesaian" in text(again)
    c.say(PETUGAS, "Sudah ditertibkan", GROUP)
    preview = c.say(PETUGAS, "tidak ada", GROUP)
    assert "Catatan petugas: Sudah ditertibkan" in text(preview) and "ditertibkn" not in text(preview)
    cancelled = c.press(PETUGAS, "Batal", preview, GROUP)
    assert "Dibatalkan" in text(cancelled) and c.to_reporter(cancelled) == []
    assert c.complaint(cid).status == "ditindaklanjuti"
    # The preview's buttons are spent: pressing Kirim now changes nothing.
    late = c.press(PETUGAS, "Kirim", preview, GROUP)
    assert c.to_reporter(late) == [] and c.complaint(cid).status == "ditindaklanjuti"
    assert "tidak berlaku" in (c.toast or "")


def test_typed_kirim_and_a_refused_move_is_caught_before_the_preview(chats: Chats) -> None:
    c = chats
    cid = file(c)
    c.card_press(KOORDINATOR, cid, "duplikat")
    c.say(KOORDINATOR, "TRB-2099-99999", GROUP)
    out = c.say(KOORDINATOR, "-", GROUP)
    assert "Tiket TRB-2099-99999 tidak ditemukan." in text(out) and "nomor tiket laporan asli" in text(out)
    assert c.to_reporter(out) == [] and c.complaint(cid).status == "diterima"
    # A walk-in complaint (no chat reporter): the preview says nobody is messaged.
    walk_in = file(c, reporter=False)
    c.card_press(KOORDINATOR, walk_in, "tolak")
    c.say(KOORDINATOR, "Bukan wewenang kecamatan", GROUP)
    preview = c.say(KOORDINATOR, "-", GROUP)
    assert "Pelapor tidak menerima pesan" in text(preview) and "Bukan wewenang kecamatan" in text(preview)
    done = c.say(KOORDINATOR, "kirim", GROUP)  # typing the button's label presses it
    assert c.complaint(walk_in).status == "ditolak" and c.to_reporter(done) == []


def _preview(c: Chats, cid: int) -> list[dict[str, Any]]:
    c.card_press(PETUGAS, cid, "selesaikan")
    c.say(PETUGAS, "Sudah ditertibkan", GROUP)
    return c.say(PETUGAS, "-", GROUP)


def _buttons_off(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in out if o["kind"] == outbox.BUTTONS_OFF]


def test_the_previews_buttons_come_off_once_answered(chats: Chats) -> None:
    c = chats
    # Pressed on Telegram: the buttons come off the pressed message, after the answer.
    preview = _preview(c, file(c, to="ditindaklanjuti"))
    sent = c.press(PETUGAS, "Kirim", preview, GROUP, message_id=77)
    assert [o["kind"] for o in sent][-1] == outbox.BUTTONS_OFF
    assert _buttons_off(sent) == [{"message_id": 77, "chat": str(GROUP), "kind": outbox.BUTTONS_OFF}]
    assert c.to_reporter(sent)  # the move itself went through
    # Typed ("batal"): no pressed message, so the preview's own outbox item is named, the one
    # whose sent message id the delivery reads.
    preview = _preview(c, file(c, to="ditindaklanjuti"))
    cancelled = c.say(PETUGAS, "batal", GROUP)
    assert "Dibatalkan" in text(cancelled)
    [off] = _buttons_off(cancelled)
    with c.db.reading() as s:
        item = s.get(OutboxItem, off["outbox_id"])
        assert item is not None and item.payload["text"] == preview[-1]["text"]
        assert "Pratinjau" in item.payload["text"]
    # Ubah spends the preview too (a new one follows); a stale press removes nothing more.
    preview = _preview(c, file(c, to="ditindaklanjuti"))
    again = c.press(PETUGAS, "Ubah", preview, GROUP, message_id=90)
    assert "catatan penyelesaian" in text(again) and len(_buttons_off(again)) == 1
    late = c.press(PETUGAS, "Kirim", preview, GROUP, message_id=90)
    assert _buttons_off(late) == [] and "tidak berlaku" in (c.toast or "")
    # /batal while the preview is on screen.
    preview = _preview(c, file(c, to="ditindaklanjuti"))
    [off] = _buttons_off(c.say(PETUGAS, "/batal", GROUP))
    assert "outbox_id" in off


# -------------------------------------------------------------------------- /kasus search

def _register(c: Chats) -> None:
    for i in range(23):
        file(c, desa="Sukowiryo" if i % 2 else "Panduman", category="miras" if i % 3 else "judi",
             description=f"Laporan nomor {i} di pasar" if i < 4 else f"Laporan nomor {i}",
             received=NOW - timedelta(hours=i))
    # Two overdue ones: received three weeks ago, never verified.
    for _ in range(2):
        file(c, desa="Jelbuk", category="keributan", description="Keributan lama", received=NOW - timedelta(days=21))


def test_kasus_counts_pages_and_filters(chats: Chats) -> None:
    c = chats
    _register(c)
    first = c.say(PETUGAS, "/kasus")
    shown = text(first)
    assert "Laporan terbuka: 25 laporan (halaman 1 dari 3)" in shown
    rows = [x for x in shown.splitlines() if x.startswith("•")]
    assert len(rows) == 10 and rows[0].startswith("• ⏰ TRB-2026-") and "(terlambat)" in rows[1]
    assert "⏰" not in rows[2]
    assert labels(first) == ["Berikutnya ›"]
    second = c.press(PETUGAS, "Berikutnya ›", first)
    assert "(halaman 2 dari 3)" in text(second) and labels(second) == ["‹ Sebelumnya", "Berikutnya ›"]
    page2 = [x for x in text(second).splitlines() if x.startswith("•")]
    assert not set(page2) & set(rows)
    third = c.press(PETUGAS, "Berikutnya ›", second)
    assert "(halaman 3 dari 3)" in text(third) and labels(third) == ["‹ Sebelumnya"]
    assert len([x for x in text(third).splitlines() if x.startswith("•")]) == 5
    # The first page's button is stale now (another prompt was drawn).
    c.press(PETUGAS, "Berikutnya ›", first)
    assert "tidak berlaku" in (c.toast or "")

    overdue = text(c.say(PETUGAS, "/kasus terlambat"))
    assert 'Hasil pencarian "terlambat": 2 laporan' in overdue and "halaman" not in overdue
    both = text(c.say(PETUGAS, "/kasus Sukowiryo judi"))
    # i odd and i % 3 == 0: 3, 9, 15, 21.
    assert 'Hasil pencarian "Sukowiryo judi": 4 laporan' in both
    assert text(c.say(PETUGAS, "/kasus minuman keras pasar")).count("•") == 2  # i = 1, 2 (i % 3 != 0)
    assert 'Hasil pencarian "PASAR": 4 laporan' in text(c.say(PETUGAS, "/kasus PASAR"))
    assert "Tidak ada laporan untuk pencarian" in text(c.say(PETUGAS, "/kasus selesai"))
    assert "bukan_petugas" not in text(c.say(WARGA, "/kasus"))
    assert "petugas" in text(c.say(WARGA, "/kasus")).lower()


def test_search_is_sql_count_and_page(chats: Chats) -> None:
    c = chats
    _register(c)
    today = NOW.astimezone(TZ).date()
    with c.db.reading() as s:
        rows, total = search_complaints(s, CaseQuery(), today, page=3, page_size=10)
        assert total == 25 and len(rows) == 5
        first, _ = search_complaints(s, CaseQuery(), today, page=1, page_size=2)
        assert [r.desa for r in first] == ["Jelbuk", "Jelbuk"]  # overdue first
        assert search_complaints(s, CaseQuery(words=("100%",)), today)[1] == 0  # % is a character
        assert search_complaints(s, CaseQuery(words=("nomor 1",)), today)[1] == 11  # 1, 10..19
        assert search_complaints(s, CaseQuery(statuses=("selesai",)), today) == ([], 0)


# ---------------------------------------------------------------------------- /bantuan

def test_bantuan_lists_the_commands_of_the_role(chats: Chats) -> None:
    c = chats
    petugas = text(c.say(PETUGAS, "/bantuan"))
    assert "Bantuan SIGAP untuk petugas (Budi, peran petugas)" in petugas
    assert "/kasus" in petugas and "/catat" in petugas and "/tugaskan" in petugas
    assert "/kembalikan" not in petugas and "/petugas:" not in petugas
    pimpinan = text(c.say(PIMPINAN, "/bantuan"))
    assert "/catat" not in pimpinan and "/digest" in pimpinan and "/iku" in pimpinan
    # /dasbor kecamatan on its own line right under /dasbor, for the roles that may use /dasbor.
    lines = pimpinan.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("• /dasbor: "))
    assert lines[at + 1] == ("• /dasbor kecamatan: bila Anda juga pembaca kabupaten, tautan ke dasbor kecamatan "
                             "Anda sendiri (tanpa kata ini Anda mendapat tautan dasbor kabupaten)")
    assert "/dasbor" not in petugas
    admin = text(c.say(ADMIN, "/bantuan"))
    assert "/petugas:" in admin and "/daftarkan_grup" in admin and "/kembalikan" in admin
    resident = text(c.say(WARGA, "/bantuan"))
    assert "Buat laporan" in resident and "/kasus" not in resident


# ---------------------------------------------------------------------------- assignment

def test_assignment_by_button_and_command_in_card_kasus_saya_and_export(chats: Chats) -> None:
    c = chats
    one, two = file(c), file(c, desa="Jelbuk")
    c.card_press(PETUGAS, one, "tugaskan")
    assert c.toast == "TRB-2026-00001 ditugaskan ke Budi."
    out = c.say(PETUGAS, "/tugaskan TRB-2026-00002 2005")
    assert "Hanya koordinator atau admin" in text(out)
    out = c.say(KOORDINATOR, "/tugaskan TRB-2026-00002 2005")
    assert "TRB-2026-00002 ditugaskan ke Joko." in text(out)
    assert "Bu Camat berperan pimpinan" in text(c.say(KOORDINATOR, "/tugaskan TRB-2026-00002 2003"))
    assert "Format" in text(c.say(KOORDINATOR, "/tugaskan"))
    with c.db.reading() as s:
        assert s.get(Complaint, two).assigned_to is not None  # type: ignore[union-attr]
        assert s.get(Complaint, one).version == 1  # type: ignore[union-attr]  # buttons stay valid

    mine = text(c.say(PETUGAS, "/kasus saya"))
    assert 'Hasil pencarian "saya": 1 laporan' in mine and "TRB-2026-00001" in mine
    card = c.say(PETUGAS, "/kasus TRB-2026-00001")
    assert card[0]["kind"] == "card"
    from bot.cards import render_card

    with c.db.reading() as s:
        drawn, buttons = render_card(c.rt, s.get(Complaint, one), "pribadi", NOW.date(), s)  # type: ignore[arg-type]
    assert "Petugas: Budi" in to_plain(drawn)
    assert "Ditugaskan ke Budi (oleh Budi)" in to_plain(drawn)
    assert "Tugaskan ke saya" in [b[0] for b in buttons]

    with c.db.reading() as s:
        out_csv = io.StringIO()
        csv_io.export_complaints(s, out_csv, policy=c.rt.policy, tz=TZ, today=NOW.date())
    rows = {r["nomor"]: r for r in csv.DictReader(io.StringIO(out_csv.getvalue()))}
    assert (rows["TRB-2026-00001"]["petugas"], rows["TRB-2026-00002"]["petugas"]) == ("Budi", "Joko")


# ------------------------------------------------------------------------------ kembalikan

def test_koordinator_takes_a_wrong_press_back_with_a_reason(chats: Chats) -> None:
    c = chats
    cid = file(c, to="diverifikasi")
    assert "tidak boleh" in text(c.say(PETUGAS, "/kembalikan TRB-2026-00001 salah"))
    asked = c.say(KOORDINATOR, "/kembalikan TRB-2026-00001 Verifikasi tertekan sebelum dicek ke lapangan")
    assert "Catatan internal" in text(asked)
    preview = c.say(KOORDINATOR, "-")
    assert "Status sekarang: Diterima" in text(preview)
    assert "Catatan petugas: Verifikasi tertekan sebelum dicek ke lapangan" in text(preview)
    sent = c.press(KOORDINATOR, "Kirim", preview)
    [notice] = c.to_reporter(sent)
    assert notice["text"] in preview[-1]["text"]
    back = c.complaint(cid)
    assert (back.status, back.verified_at, back.current_due) == ("diterima", None, back.verify_due)
    assert [(h.from_status, h.to_status) for h in back.history][-1] == ("diverifikasi", "diterima")
    from bot.cards import render_card

    with c.db.reading() as s:
        drawn, buttons = render_card(c.rt, s.get(Complaint, cid), "pribadi", NOW.date(), s)  # type: ignore[arg-type]
    assert "Diterima, dikembalikan dari Diverifikasi (Rina)" in to_plain(drawn)
    assert "Publik: Verifikasi tertekan" in to_plain(drawn)
    # Not two steps: diterima was not entered by a forward move.
    assert "Kembalikan (salah tekan)" not in [b[0] for b in buttons]
    # A selesai that was wrong goes back to ditindaklanjuti by the card's button.
    other = file(c, to="ditindaklanjuti")
    with c.db.transaction() as s:
        made = s.get(Complaint, other)
        assert made is not None
        transition(s, made, "selesaikan", Actor("petugas", 1, "Budi", "petugas"), NOW, public_note="Beres",
                   policy=c.rt.policy)
    c.card_press(KOORDINATOR, other, "kembalikan")
    c.say(KOORDINATOR, "Belum beres, warga melapor lagi", GROUP)
    preview = c.say(KOORDINATOR, "salah tekan oleh Budi", GROUP)
    c.press(KOORDINATOR, "Kirim", preview, GROUP)
    reopened = c.complaint(other)
    assert (reopened.status, reopened.resolved_at, reopened.closed_at) == ("ditindaklanjuti", None, None)
    assert reopened.current_due == reopened.resolve_due
    assert reopened.history[-1].internal_note == "salah tekan oleh Budi"


# ---------------------------------------------------------------------------------- /catat

def _catat(c: Chats, tanggal: str, pelapor: str) -> str:
    out = c.say(PETUGAS, "/catat")
    out = c.press(PETUGAS, "Surat", out)
    out = c.say(PETUGAS, tanggal) if tanggal != "Hari ini" else c.press(PETUGAS, "Hari ini", out)
    out = c.press(PETUGAS, "Pengaduan", out)
    out = c.press(PETUGAS, "Minuman keras", out)
    out = c.press(PETUGAS, "Jelbuk", out)
    out = c.say(PETUGAS, "Warung menjual miras dekat sekolah")
    assert "Nama dan nomor telepon pelapor" in text(out)
    out = c.say(PETUGAS, pelapor) if pelapor != "Lewati" else c.press(PETUGAS, "Lewati", out)
    out = c.press(PETUGAS, "Rahasia", out)
    return text(out)


def test_catat_speaks_to_the_officer_and_keeps_a_date_as_a_date(chats: Chats) -> None:
    c = chats
    summary = _catat(c, "23-11-2026", "Pak Slamet 0812-3456-7890")
    assert "Periksa laporan yang Anda catat" in summary and "Periksa laporan Anda" not in summary
    assert "Kanal: Surat\nDiterima: Senin, 23 November 2026\nPelapor: Pak Slamet · 081234567890" in summary
    assert "pukul" not in summary and "Identitas" not in summary
    done = text(c.press(PETUGAS, "Kirim", [{"buttons": c_last_buttons(c)}]))
    assert "Laporan dari warga sudah dicatat sebagai TRB-2026-00001." in done
    assert "Laporan Anda" not in done
    with c.db.transaction() as s:
        made = s.scalars(select(Complaint)).one()
        assert made.received_date_only is True
        assert made.received_at == datetime(2026, 11, 23, 0, 0, tzinfo=TZ)
        assert (made.reporter.name, made.reporter.phone) == ("Pak Slamet", "081234567890")  # type: ignore[union-attr]
        from bot.cards import render_card

        drawn = to_plain(render_card(c.rt, made, "pribadi", NOW.date(), s)[0])
        assert "Diterima: 23 Nov 2026\n" in drawn and "00.00" not in drawn
        out_csv = io.StringIO()
        csv_io.export_complaints(s, out_csv, policy=c.rt.policy, tz=TZ, today=NOW.date())
    assert next(csv.DictReader(io.StringIO(out_csv.getvalue())))["diterima"] == "2026-11-23"

    # With a time it is that moment; no reporter is "tidak disebutkan".
    summary = _catat(c, "24-11-2026 14.30", "Lewati")
    assert "Diterima: Selasa, 24 November 2026 pukul 14.30\nPelapor: tidak disebutkan" in summary
    c.press(PETUGAS, "Kirim", [{"buttons": c_last_buttons(c)}])
    with c.db.transaction() as s:
        second = s.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
        assert second is not None and second.received_date_only is None
        assert second.received_at == datetime(2026, 11, 24, 14, 30, tzinfo=TZ)


def c_last_buttons(c: Chats) -> list[list[Any]]:
    with c.db.reading() as s:
        for r in s.scalars(select(OutboxItem).where(OutboxItem.chat_id == str(PETUGAS)).order_by(OutboxItem.id.desc())):
            if r.payload.get("buttons"):
                return list(r.payload["buttons"])
    raise AssertionError("no buttons")


def test_the_sandbox_enters_a_multi_line_note() -> None:
    from bot.app.sandbox import GROUP as SANDBOX_GROUP
    from bot.app.sandbox import PETUGAS as SANDBOX_PETUGAS
    from bot.app.sandbox import Terminal

    class Emu:
        def __init__(self) -> None:
            self.texts: list[tuple[int, str, int]] = []

        def send_text(self, user: int, text: str, chat: int) -> None:
            self.texts.append((user, text, chat))

    emu = Emu()
    term = Terminal(emu, out=io.StringIO())  # type: ignore[arg-type]
    term.handle("/sebagai petugas")
    term.handle("Warung ditertibkan bersama Babinsa. \\")
    term.handle("Pemilik membuat surat pernyataan.\\")
    assert emu.texts == []  # still typing
    term.handle("Selesai pukul 21.00")
    term.handle("Baris satu\\nbaris dua")
    assert emu.texts == [
        (SANDBOX_PETUGAS, "Warung ditertibkan bersama Babinsa. \nPemilik membuat surat pernyataan.\nSelesai pukul 21.00",
         SANDBOX_GROUP),
        (SANDBOX_PETUGAS, "Baris satu\nbaris dua", SANDBOX_GROUP),
    ]


def test_name_and_phone_from_one_line() -> None:
    from bot.dialogs.intake import parse_date_time, split_name_phone

    assert split_name_phone("Pak Slamet 0812-3456-7890") == ("Pak Slamet", "081234567890")
    assert split_name_phone("Bu Sri, +62 812 3456 7890") == ("Bu Sri", "+6281234567890")
    assert split_name_phone("Pak Harun (surat tertanggal 08-12-2026)") == ("Pak Harun (surat tertanggal 08-12-2026)", None)
    assert split_name_phone("081234567890") == (None, "081234567890")
    assert parse_date_time("23-11-2026")[1] is None
    assert str(parse_date_time("23-11-2026 pukul 7.05 WIB")[1]) == "07:05:00"
    assert parse_date_time("23-11-2026 25.00") == (None, None)
