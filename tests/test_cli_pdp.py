# `sigap pdp catat/jawab/daftar/hapus/samarkan/insiden` and `sigap retensi --dry-run`'s
# list per rule, on SQLite and PostgreSQL. The 3 x 24-hour clock is 72 calendar hours.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.sigap import main
from storage import pdp
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, OutboxItem, PdpIncident, PdpRequest, Person

ADMIN = Actor("petugas", 1, "Pak Admin", "admin")


@pytest.fixture
def env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.url)
    monkeypatch.chdir(tmp_path)
    return db


def _complaint(db: Database, policy: DeadlinePolicy, user: str, name: str, at: datetime, *, close: bool) -> str:
    with db.transaction() as s:
        person = get_or_create_person(s, "telegram", user, None, at)
        person.name = name
        c = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="miras", desa="Jelbuk", description=f"Miras di rumah {name}",
                              channel="telegram", received_at=at, address="Jl. Mawar 3"),
            reporter=person, actor=Actor("warga", person.id, None, "warga"), now=at, policy=policy, prefix="TRB",
        )
        if close:
            transition(s, c, "tolak", ADMIN, at + timedelta(hours=1), public_note=f"Bukan wewenang, {name}")
        return c.ticket


def test_hours_left_is_calendar_hours() -> None:
    due = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # received Fri 27 Nov 16.00 WIB: due Mon 30 Nov 16.00 WIB
    assert timedelta(hours=72) == pdp.CLOCK
    assert pdp.hours_left(due, due - timedelta(hours=2, minutes=30)) == 2
    assert pdp.hours_left(due, due - timedelta(minutes=1)) == 0
    assert pdp.hours_left(due, due + timedelta(minutes=1)) == -1
    assert pdp.hours_left(due, due + timedelta(hours=3, minutes=30)) == -4


def test_request_logged_listed_with_its_clock_and_answered(env: Database, capsys: pytest.CaptureFixture[str]) -> None:
    # A letter received on a Friday afternoon: due Monday at the same hour (weekend counts).
    assert main(["pdp", "catat", "--jenis", "hapus", "--cara", "surat", "--pemohon", "Ibu Sumarni",
                 "--diterima", "2026-11-27 16:00", "--petugas", "Pak Admin"]) == 0
    out = capsys.readouterr().out
    assert "Permintaan nomor 1 (menghapus data, lewat surat) dari Ibu Sumarni tercatat." in out
    assert "Diterima 27 Nov 2026 16.00 WIB; wajib dijawab paling lambat 30 Nov 2026 16.00 WIB" in out
    # One received 69.5 hours ago: 2 whole hours left.
    recent = (datetime.now(UTC) - timedelta(hours=69, minutes=30)).astimezone(pdp_tz()).strftime("%Y-%m-%d %H:%M")
    assert main(["pdp", "catat", "--jenis", "akses", "--cara", "langsung", "--pemohon", "Pak Joko",
                 "--diterima", recent, "--petugas", "Pak Admin"]) == 0
    capsys.readouterr()
    assert main(["pdp", "daftar"]) == 0
    listed = capsys.readouterr().out
    assert "Permintaan data pribadi belum dijawab: 2 (batas 3 x 24 jam sejak diterima)" in listed
    assert "• #2 melihat data, Pak Joko (langsung), sisa 2 jam, batas " in listed
    assert "• ⏰ #1 menghapus data, Ibu Sumarni (surat), TERLAMBAT " in listed
    assert "batas 30 Nov 2026 16.00 WIB" in listed
    assert "<b>" not in listed  # plain text on the terminal
    assert listed.index("#1 ") < listed.index("#2 ")  # the most urgent first
    assert main(["pdp", "jawab", "1", "--jawaban", "Data dihapus", "--petugas", "Pak Admin"]) == 0
    assert "(TERLAMBAT, lewat 3 x 24 jam)" in capsys.readouterr().out
    assert main(["pdp", "daftar"]) == 0
    assert "Ibu Sumarni" not in capsys.readouterr().out
    with env.reading() as s:
        row = s.get(PdpRequest, 1)
        assert row is not None and row.due_at - row.received_at == timedelta(hours=72)
    # Mistakes: one Indonesian line, exit 2.
    assert main(["pdp", "catat", "--jenis", "hapus", "--cara", "surat", "--pemohon", "X",
                 "--diterima", "kemarin", "--petugas", "A"]) == 2
    assert "--diterima harus berbentuk YYYY-MM-DD HH:MM" in capsys.readouterr().err
    assert main(["pdp", "jawab", "9", "--jawaban", "x", "--petugas", "A"]) == 2
    assert "Tidak ada permintaan nomor 9." in capsys.readouterr().err


def pdp_tz():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Jakarta")


def test_erase_by_ticket_and_redaction(env: Database, policy: DeadlinePolicy, capsys: pytest.CaptureFixture[str]) -> None:
    at = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    ticket = _complaint(env, policy, "5001", "Sumarni", at, close=True)
    assert main(["pdp", "samarkan", ticket, "--teks", "Miras di sebuah rumah di Jelbuk", "--petugas", "Pak Admin"]) == 0
    assert "dipakai saat uraian asli dihapus" in capsys.readouterr().out
    assert main(["pdp", "hapus", ticket, "--petugas", "Pak Admin"]) == 0
    out = capsys.readouterr().out
    assert f"Identitas pelapor {ticket} dihapus" in out and "Isi 1 laporan yang sudah ditutup" in out
    with env.reading() as s:
        c = s.scalars(select(Complaint)).one()
        assert (c.description, c.address, c.status) == ("Miras di sebuah rumah di Jelbuk", None, "ditolak")
        assert s.scalars(select(Person.name)).all() == [None]
    assert main(["pdp", "hapus", "TRB-1999-00001", "--petugas", "A"]) == 2
    assert "Tidak ada laporan dengan tiket TRB-1999-00001." in capsys.readouterr().err


def test_breach_notices_by_chat_and_report(env: Database, policy: DeadlinePolicy, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    at = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    reachable = _complaint(env, policy, "5001", "Sumarni", at, close=False)
    erased = _complaint(env, policy, "5002", "Joko", at, close=True)
    assert main(["pdp", "hapus", erased, "--petugas", "Pak Admin"]) == 0
    capsys.readouterr()
    report = tmp_path / "laporan.txt"
    assert main([
        "pdp", "insiden", "--apa", "Ekspor register berisi uraian laporan", "--kapan", "2026-12-01 08:00",
        "--diketahui", "2026-12-01 20:00", "--cara", "Berkas terkirim ke grup yang salah",
        "--terdampak", f"{reachable},{erased},TRB-1999-00009", "--tindakan", "Pesan dihapus dari grup",
        "--petugas", "Pak Admin", "--laporan", str(report),
    ]) == 0
    out = capsys.readouterr().out
    assert "Batas pemberitahuan: 4 Des 2026 20.00 WIB (3 x 24 jam sejak diketahui)" in out
    assert f"ke 1 orang; 1 laporan tidak dapat dihubungi lewat chat (beri tahu dengan surat atau telepon): {erased}" in out
    assert "Tiket tidak ditemukan: TRB-1999-00009." in out
    text = report.read_text(encoding="utf-8")
    assert "Waktu kejadian    : 1 Des 2026 08.00 WIB" in text
    assert "Waktu diketahui   : 1 Des 2026 20.00 WIB" in text
    assert "Ekspor register berisi uraian laporan" in text and "Pesan dihapus dari grup" in text
    with env.reading() as s:
        notices = s.scalars(select(OutboxItem).where(OutboxItem.payload["text"].as_string().contains("insiden"))).all()
        assert [n.chat_id for n in notices] == ["5001"]
        assert "Berkas terkirim ke grup yang salah" in notices[0].payload["text"]
        incident = s.scalars(select(PdpIncident)).one()
        assert (incident.notified_chats, incident.unreachable) == (1, 1)
    # The clock is read at a chosen moment, so the text does not depend on the day the test runs.
    assert main(["pdp", "daftar", "--per", "2026-12-03T18:00"]) == 0
    assert "• #1 diketahui 1 Des 2026 20.00 WIB, batas 4 Des 2026 20.00 WIB, sisa " in capsys.readouterr().out
    assert main(["pdp", "daftar", "--per", "2026-12-04 23:00"]) == 0
    assert "batas 4 Des 2026 20.00 WIB, batas lewat 3 jam" in capsys.readouterr().out
    assert main(["pdp", "daftar", "--per", "besok"]) == 2
    assert "--per harus berbentuk YYYY-MM-DD HH:MM, bukan 'besok'." in capsys.readouterr().err


def test_retensi_dry_run_lists_each_rule(env: Database, policy: DeadlinePolicy, capsys: pytest.CaptureFixture[str]) -> None:
    at = datetime.now(UTC) - timedelta(days=800)
    ticket = _complaint(env, policy, "5001", "Sumarni", at, close=True)
    with env.transaction() as s:  # she wrote again lately: her identity stays, the old case's content goes
        get_or_create_person(s, "telegram", "5001", None, datetime.now(UTC))
    assert main(["retensi", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"  uraian laporan         : 1 ({ticket})" in out
    assert f"  alamat dan titik GPS   : 1 ({ticket})" in out
    assert f"  catatan status         : 1 ({ticket})" in out
    assert "  identitas pelapor      : 0" in out
    with env.reading() as s:
        assert s.scalars(select(Complaint.address)).one() == "Jl. Mawar 3"  # nothing changed
