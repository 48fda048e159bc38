# IKU 2 from the source the decree names (issue 9): the official e-SUKMA figure register
# (history kept like the IKU registers), `sigap skm resmi` and /skm_resmi, and the IKU table
# using the official figure of an ended period with SIGAP's own beside it and the difference
# (text, JSON, xlsx). Every path on SQLite and PostgreSQL.
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli.sigap import main
from bot.config.office import load_office
from bot.dialogs.context import Runtime
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.reports.iku_report import iku_json, iku_table, report_context
from bot.reports.iku_xlsx import write_iku_xlsx
from bot.texts import render, to_plain
from kpi.skm_questionnaire import UNSUR_CODES
from storage import people, skm_official
from storage.complaints import DeadlinePolicy
from storage.db import Database
from storage.iku import RegisterError
from storage.models import OutboxItem, SkmOfficial
from storage.skm import insert_responses

OFFICE = load_office()
JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 16, 3, 0, tzinfo=UTC)
KOORDINATOR, PETUGAS = 12, 14


def responses(n: int, score: int, tanggal: date, period: str) -> list[dict[str, Any]]:
    return [{
        "source": "kertas", "respondent_key": None, "service": "skck", "period": period,
        "tanggal": tanggal, "answered_at": NOW, "consent_at": None, "jenis_kelamin": None,
        "usia": None, "pendidikan": None, "pekerjaan": None, "saran": None, "recorded_by": "tes",
        "created_at": NOW, **dict.fromkeys(UNSUR_CODES, score),
    } for _ in range(n)]


def seed_q1_all_threes(db: Database) -> None:
    # 20 forms, every answer 3: SIGAP's own IKM of TW I is 3 x 25 = 75,00 (C).
    with db.transaction() as s:
        insert_responses(s, responses(20, 3, date(2026, 2, 10), "2026-Q1"))


# ---------------------------------------------------------------------------- register


def test_register_keeps_history_and_one_current_per_period(db: Database) -> None:
    with db.transaction() as s:
        first = skm_official.set_official(s, "2026-q1", Decimal("84.12"), 150, "Laporan e-SUKMA TW I",
                                          "Rina", NOW)
        assert first.period == "2026-Q1"
    with db.transaction() as s:
        fixed = skm_official.set_official(s, "2026-Q1", Decimal("84.21"), 150, "Laporan e-SUKMA TW I",
                                          "Pak Camat", LATER, "salah ketik")
        assert fixed.replaces_id == first.id
    with db.reading() as s:
        current = skm_official.official_for(s, "2026-Q1")
        assert current is not None and current.value == Decimal("84.21") and current.recorded_by == "Pak Camat"
        chain = skm_official.history(s, "2026-Q1")
        assert [(e.value, e.recorded_by, e.note) for e in chain] == [
            (Decimal("84.12"), "Rina", None), (Decimal("84.21"), "Pak Camat", "salah ketik")]
        assert [skm_official.status_label(e) for e in chain] == ["dikoreksi", "berlaku"]
    with db.transaction() as s, pytest.raises(RegisterError, match="Tidak ada yang berubah"):
        skm_official.set_official(s, "2026-Q1", Decimal("84.21"), 150, "Laporan e-SUKMA TW I", "x", LATER)
    with db.transaction() as s:
        tomb = skm_official.remove_official(s, "2026-Q1", "Rina", LATER, "periode salah")
        assert tomb.removed_at is not None and tomb.replaces_id == fixed.id
    with db.reading() as s:
        assert skm_official.official_for(s, "2026-Q1") is None
        assert len(skm_official.history(s, "2026-Q1")) == 3
        assert int(s.scalar(select(func.count(SkmOfficial.id))) or 0) == 3


@pytest.mark.parametrize("value, respondents, document, needle", [
    (Decimal("24.99"), 10, "dok", "25-100"),
    (Decimal("100.01"), 10, "dok", "25-100"),
    (Decimal("80"), 0, "dok", "responden"),
    (Decimal("80"), 10, "  ", "Dokumen sumber"),
    (Decimal("80"), 10, "x" * 201, "terlalu panjang"),
])
def test_register_refuses_bad_entries(db: Database, value: Decimal, respondents: int, document: str,
                                      needle: str) -> None:
    with db.transaction() as s, pytest.raises(RegisterError, match=needle):
        skm_official.set_official(s, "2026-Q1", value, respondents, document, "Rina", NOW)
    with db.reading() as s:
        assert skm_official.current_list(s) == []


# ------------------------------------------------------------------------- IKU table


def test_iku_table_uses_official_figure_of_an_ended_period(db: Database, tmp_path: Path) -> None:
    seed_q1_all_threes(db)
    with db.transaction() as s:
        skm_official.set_official(s, "2026-Q1", Decimal("84.12"), 150, "Laporan e-SUKMA TW I 2026", "Rina", NOW)
    with db.reading() as s:
        during = {r.code: r for r in iku_table(s, OFFICE, 2026, date(2026, 3, 15))}["IKU-2"]
        rows = iku_table(s, OFFICE, 2026, date(2026, 5, 15))
    # Before TW I ended its figure is SIGAP's own: e-SUKMA publishes whole periods.
    assert during.realisation["q1"] == Decimal("75")
    assert during.detail["resmi"] == {} and during.detail["nilai_sumber"]["q1"] == "SIGAP"
    row = {r.code: r for r in rows}["IKU-2"]
    assert row.realisation["q1"] == Decimal("84.12")
    assert row.detail["nilai_sumber"] == {"q1": "e-SUKMA", "q2": "SIGAP", "q3": "SIGAP", "q4": "SIGAP",
                                          "ytd": "SIGAP"}
    # The year column pools SIGAP's own answers (no official figure of the year yet).
    assert row.realisation["ytd"] == Decimal("75")
    official = row.detail["resmi"]["q1"]
    assert (official["nilai"], official["sigap"], official["selisih"]) == (
        Decimal("84.12"), Decimal("75"), Decimal("9.12"))
    assert (official["mutu"], official["responden"], official["responden_sigap"]) == ("B", 150, 20)

    data = {r["code"]: r for r in iku_json(rows)}["IKU-2"]
    assert data["realisation"]["q1"] == 84.12
    assert data["detail"]["resmi"]["q1"]["selisih"] == 9.12
    assert data["detail"]["resmi"]["q1"]["sigap"] == 75.0
    assert data["detail"]["nilai_sumber"]["q1"] == "e-SUKMA"
    json.dumps(data)  # plain JSON

    ctx = report_context(rows, OFFICE, 2026, date(2026, 5, 15))
    text = to_plain(render("iku_laporan", **ctx))
    assert ("Nilai resmi e-SUKMA Triwulan I 2026: 84,12 (B), 150 responden, dokumen Laporan e-SUKMA "
            "TW I 2026; hitungan SIGAP 75,00, selisih +9,12.") in text
    chat = to_plain(render("iku_tabel", **ctx))
    assert "Nilai resmi e-SUKMA Triwulan I 2026: 84,12 (B)" in chat and "selisih +9,12" in chat
    assert "Mutu pelayanan C (Kurang baik), 20 responden (hitungan SIGAP tahun ini)." in text

    out = tmp_path / "iku.xlsx"
    write_iku_xlsx(out, rows, OFFICE, 2026, date(2026, 5, 15))
    ws = load_workbook(out)["IKU 2 e-SUKMA"]
    assert [c.value for c in ws[1]][:2] == ["Periode", "Nilai resmi e-SUKMA"]
    values = [c.value for c in ws[2]]
    assert values[0] == "Triwulan I 2026" and values[1] == pytest.approx(84.12)
    assert values[2:5] == ["B", 150, "Laporan e-SUKMA TW I 2026"]
    assert values[5] == pytest.approx(75.0) and values[6] == 20 and values[7] == pytest.approx(9.12)


def test_year_official_replaces_the_year_column_after_31_december(db: Database) -> None:
    seed_q1_all_threes(db)
    with db.transaction() as s:
        skm_official.set_official(s, "2026", Decimal("70.5"), 400, "LKjIP 2026", "Rina", NOW)
    with db.reading() as s:
        open_year = {r.code: r for r in iku_table(s, OFFICE, 2026, date(2026, 12, 30))}["IKU-2"]
        closed = {r.code: r for r in iku_table(s, OFFICE, 2026, date(2027, 1, 5))}["IKU-2"]
    assert open_year.realisation["ytd"] == Decimal("75") and open_year.detail["mutu"] == "C"
    assert closed.realisation["ytd"] == Decimal("70.5")
    assert closed.detail["mutu"] == "C" and closed.detail["resmi"]["ytd"]["selisih"] == Decimal("-4.5")
    text = to_plain(render("iku_laporan", **report_context([closed], OFFICE, 2026, date(2027, 1, 5))))
    assert "hitungan SIGAP 75,00, selisih -4,50." in text
    assert "Mutu pelayanan C (Kurang baik), 400 responden (nilai resmi e-SUKMA)." in text


# ------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.setattr("bot.cli.skm._now", lambda: NOW)
    yield db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_records_corrects_lists_and_withdraws(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    seed_q1_all_threes(cli)
    code, out, err = run(capsys, "skm", "resmi", "catat", "2026-q1", "84,12", "150", "Laporan e-SUKMA TW I",
                         "--oleh", "Rina")
    assert code == 0, err
    assert "Nilai IKM resmi e-SUKMA tercatat." in out
    assert "2026-Q1: IKM 84,12 (B), 150 responden, dokumen Laporan e-SUKMA TW I" in out
    assert "Hitungan SIGAP Triwulan I 2026: 75,00 dari 20 responden; selisih resmi - SIGAP +9,12." in out
    code, out, err = run(capsys, "skm", "resmi", "catat", "2026-Q1", "74,5", "150", "Laporan e-SUKMA TW I",
                         "--catatan", "angka diperbaiki")
    assert code == 0, err
    assert "Koreksi nilai IKM resmi tercatat: #2 menggantikan #1." in out and "selisih resmi - SIGAP -0,50" in out
    code, out, _ = run(capsys, "skm", "resmi", "daftar", "--tahun", "2026")
    assert code == 0 and "#2 2026-Q1: IKM 74,50 (C)" in out and "#1" not in out
    code, out, _ = run(capsys, "skm", "resmi", "riwayat", "2026-Q1")
    assert code == 0 and "#1 2026-Q1: IKM 84,12" in out and "dikoreksi" in out
    assert "dicatat cli (Rina)" in out and "catatan: angka diperbaiki" in out
    code, out, _ = run(capsys, "skm", "resmi", "hapus", "2026-Q1", "--catatan", "salah periode")
    assert code == 0 and "dihapus (dicatat sebagai #3)" in out
    with cli.reading() as s:
        assert skm_official.official_for(s, "2026-Q1") is None


@pytest.mark.parametrize("argv, needle", [
    (("2026-Q1", "84.12.5", "150", "dok"), "Nilai IKM harus berupa angka"),
    (("2026-Q1", "8412", "150", "dok"), "nilai konversi 25-100"),
    (("2026-Q1", "84,12", "seratus", "dok"), "Jumlah responden"),
    (("2026-W05", "84,12", "150", "dok"), "bukan per minggu"),
    (("2026-Q9", "84,12", "150", "dok"), "Periode tidak dikenal"),
])
def test_cli_refuses_in_indonesian_without_traceback(cli: Database, capsys: pytest.CaptureFixture[str],
                                                     argv: tuple[str, ...], needle: str) -> None:
    code, out, err = run(capsys, "skm", "resmi", "catat", *argv)
    assert code == 1 and needle in err and "Traceback" not in err
    with cli.reading() as s:
        assert skm_official.current_list(s) == []


# ------------------------------------------------------------------------------ chat


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return Runtime(office=OFFICE, policy=DeadlinePolicy(3, 5, set(), JAKARTA), tz=JAKARTA,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def say(db: Database, rt: Runtime, user: int, text: str) -> str:
    name, _, args = text.lstrip("/").partition(" ")
    caller = Caller("telegram", str(user), str(user), None, "private")
    with db.transaction() as s:
        last = s.scalar(select(func.max(OutboxItem.id))) or 0
        handle(rt, s, caller, Event(kind="command", command=name, args=args, text=text), NOW)
        rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
        return "\n".join(to_plain(r.payload["text"]) for r in rows)


def test_chat_command_roles_and_answers(db: Database, rt: Runtime) -> None:
    with db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
        people.add_officer(s, PETUGAS, "Budi", "petugas", NOW)
    seed_q1_all_threes(db)
    refused = say(db, rt, PETUGAS, '/skm_resmi 2026-Q1 84,12 150 "Laporan e-SUKMA"')
    assert "hanya untuk peran koordinator, pimpinan, admin" in refused
    text = say(db, rt, KOORDINATOR, '/skm_resmi 2026-Q1 84,12 150 "Laporan e-SUKMA TW I"')
    assert "Nilai IKM resmi e-SUKMA tercatat." in text
    assert "IKM 84,12 (B), 150 responden, dokumen Laporan e-SUKMA TW I" in text
    assert "selisih resmi - SIGAP +9,12" in text
    with db.reading() as s:
        entry = skm_official.official_for(s, "2026-Q1")
        assert entry is not None and entry.recorded_by == f"Rina (telegram {KOORDINATOR})"
    listing = say(db, rt, PETUGAS, "/skm_resmi")  # every officer may read the list
    assert "Nilai IKM resmi e-SUKMA tahun 2026" in listing and "/skm_resmi PERIODE NILAI RESPONDEN DOKUMEN" in listing
    bad = say(db, rt, KOORDINATOR, "/skm_resmi 2026-Q1 84,12")
    assert "Isian perintah tidak lengkap" in bad and "Format:" in bad and "/skm_resmi hapus PERIODE" in bad
    assert "menggantikan" in say(db, rt, KOORDINATOR, "/skm_resmi 2026-Q1 84,2 150 Laporan e-SUKMA TW I")
    typed = say(db, rt, KOORDINATOR, "/skm_resmi 2026-Q1 84,3 150 \u201cLaporan e-SUKMA TW I\u201d")
    assert "dokumen Laporan e-SUKMA TW I\n" in typed + "\n" and "\u201c" not in typed
    assert "Riwayat nilai IKM resmi Triwulan I 2026" in say(db, rt, PETUGAS, "/skm_resmi riwayat 2026-Q1")
    assert "dihapus" in say(db, rt, KOORDINATOR, "/skm_resmi hapus 2026-Q1 salah ketik")


def test_chat_confirmations_use_the_decimal_comma(db: Database, rt: Runtime) -> None:
    admin = 11
    with db.transaction() as s:
        people.add_officer(s, admin, "Bu Admin", "admin", NOW)
    text = say(db, rt, admin, "/iku_target IKU-4 2026 95,5")
    assert "IKU-4 tahun 2026: 95,5" in text and "95.5" not in text
    text = say(db, rt, admin, "/iku_sakip 2026 72,5 | 700/12/35.09/2026 | 2026-02-20")
    assert "SAKIP 2026: 72,5," in text
