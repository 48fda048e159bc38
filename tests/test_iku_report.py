# The IKU table (bot.reports.iku_report.iku_table) on a seeded register, its JSON and xlsx forms,
# and `sigap iku ...` through bot.cli.sigap.main. Each test states the rule it would catch broken:
# ratio indicators from summed numerators and denominators (never averaged percentages),
# counts summed, capaian in both directions, bands at their edges from the office file,
# SAKIP grades at 90.00/90.01, the IKU 6 threshold, quarters not started left empty.
from __future__ import annotations

import dataclasses
import getpass
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.cli.sigap import main
from bot.config.office import Band, Office, load_office
from bot.reports.iku_report import IkuRow, iku_json, iku_table
from bot.reports.iku_xlsx import write_iku_xlsx
from bot.reports.skm_summary import skm_summary
from kpi.periods import Period
from storage import iku, skm
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import IkuActivity, IkuDocument, ProgramIndicator
from tests.conftest import Register

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)
TODAY = date(2026, 5, 15)  # in Q2: Q3 and Q4 have not started
WHO = "cli:tester"
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")
WARGA = Actor("warga", None, None, "warga")
POLICY = DeadlinePolicy(verify_days=3, followup_days=5, holidays=set(), tz=JAKARTA)


@pytest.fixture
def office() -> Office:
    return load_office()


def row(rows: list[IkuRow], code: str) -> IkuRow:
    return next(r for r in rows if r.code == code)


def table(db: Database, office: Office, today: date = TODAY, year: int = 2026) -> list[IkuRow]:
    with db.reading() as s:
        return iku_table(s, office, year, today)


def complaint(s, received: datetime, outcome: str | None = None) -> None:  # type: ignore[no-untyped-def]
    draft = ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Ribut",
                           channel="lisan", received_at=received)
    c = create_complaint(s, draft, reporter=None, actor=WARGA, now=received, policy=POLICY, prefix="TRB")
    t = received + timedelta(hours=1)
    if outcome == "selesai":
        transition(s, c, "verifikasi", ADMIN, t)
        transition(s, c, "tindaklanjuti", ADMIN, t)
        transition(s, c, "selesaikan", ADMIN, t, public_note="Beres")
    elif outcome == "duplikat":
        transition(s, c, "duplikat", ADMIN, t, duplicate_of="TRB-2026-00001")
    elif outcome == "diteruskan":
        transition(s, c, "teruskan", ADMIN, t, forwarded_to="Polsek Jelbuk")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)  # type: ignore[misc]


def test_ratio_ytd_is_summed_not_averaged(db: Database, office: Office) -> None:
    with db.transaction() as s:
        # IKU 4: Q1 1 of 1 resolved (100%), Q2 1 of 3 (33.33%): the mean of the quarters
        # would be 66.67%, the year is 2 of 4 = 50%. Excluded ones do not count at all.
        complaint(s, wib(2026, 2, 2, 9, 0), "selesai")
        complaint(s, wib(2026, 2, 3, 9, 0), "duplikat")
        complaint(s, wib(2026, 4, 6, 9, 0), "selesai")
        complaint(s, wib(2026, 4, 7, 9, 0))
        complaint(s, wib(2026, 4, 8, 9, 0))
        complaint(s, wib(2026, 4, 9, 9, 0), "diteruskan")
        # IKU 3 the same way: Q1 1 of 1 facilitated, Q2 1 of 3.
        for planned, done in ((date(2026, 1, 10), date(2026, 1, 12)), (date(2026, 4, 2), date(2026, 4, 3)),
                              (date(2026, 5, 2), None), (date(2026, 6, 2), None)):
            a = iku.add(s, IkuActivity, {"year": 2026, "name": f"Kegiatan {planned}", "planned_on": planned},
                        WHO, NOW)
            if done:
                iku.facilitate(s, a.id, done, "foto", WHO, NOW)
    rows = table(db, office)
    iku4 = row(rows, "IKU-4")
    assert iku4.realisation["q1"] == Decimal(100)
    assert iku4.realisation["q2"] == Decimal(1) / Decimal(3) * 100
    assert iku4.realisation["ytd"] == Decimal(50)
    assert iku4.capaian == Decimal(50) / Decimal(90) * 100  # office target 90
    assert iku4.detail["numerators"] == {"q1": 1, "q2": 1, "ytd": 2}
    assert iku4.detail["denominators"] == {"q1": 1, "q2": 3, "ytd": 4}
    assert [e.status for e in iku4.detail["excluded"]] == ["duplikat", "diteruskan"]
    assert iku4.detail["excluded_total"] == 2
    assert iku4.detail["by_channel"]["lisan"].received == 6
    iku3 = row(rows, "IKU-3")
    assert (iku3.realisation["q1"], iku3.realisation["ytd"]) == (Decimal(100), Decimal(50))
    assert iku3.capaian == Decimal(50) and iku3.band == "Sangat kurang"


def test_iku3_year_denominator_includes_undated_and_later_plans(db: Database, office: Office) -> None:
    with db.transaction() as s:
        a = iku.add(s, IkuActivity, {"year": 2026, "name": "Pelatihan", "planned_on": date(2026, 2, 1)}, WHO, NOW)
        iku.facilitate(s, a.id, date(2026, 4, 20), "daftar hadir", WHO, NOW)  # planned Q1, done Q2
        iku.add(s, IkuActivity, {"year": 2026, "name": "Posyandu"}, WHO, NOW)  # no planned date
        iku.add(s, IkuActivity, {"year": 2026, "name": "Bazar", "planned_on": date(2026, 9, 1)}, WHO, NOW)
    r = row(table(db, office), "IKU-3")
    # Q1: planned 1, facilitated 0; Q2: planned 0 (no ratio), facilitated 1.
    assert r.realisation["q1"] == Decimal(0) and r.realisation["q2"] is None
    assert r.realisation["q3"] is None and r.realisation["q4"] is None
    assert r.realisation["ytd"] == Decimal(1) / Decimal(3) * 100
    assert r.detail["denominators"]["ytd"] == 3 and r.detail["planned_undated"] == 1


def test_count_indicator_sums_started_quarters(db: Database, office: Office) -> None:
    with db.transaction() as s:
        for d in (date(2026, 1, 5), date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 2),
                  date(2026, 8, 1), date(2025, 12, 31)):
            iku.add(s, IkuDocument, {"doc_type": "sop-pelayanan", "title": f"SOP {d}", "doc_date": d}, WHO, NOW)
    r = row(table(db, office), "IKU-1")
    assert r.realisation == {"q1": Decimal(2), "q2": Decimal(3), "q3": None, "q4": None, "ytd": Decimal(5)}
    assert r.capaian == Decimal("62.5") and r.band == "Kurang"  # 5 of the office's 8
    # At the end of the year every quarter counts.
    r = row(table(db, office, today=date(2026, 12, 31)), "IKU-1")
    assert r.realisation["q3"] == Decimal(1) and r.realisation["ytd"] == Decimal(6)
    # A year that has not started has no realisation at all.
    r = row(table(db, office, today=date(2025, 12, 31)), "IKU-1")
    assert set(r.realisation.values()) == {None} and r.capaian is None and r.band is None


def test_register_target_overrides_office_file(db: Database, office: Office) -> None:
    with db.transaction() as s:
        for i in range(4):
            iku.add(s, IkuDocument, {"doc_type": "lakip", "title": f"D{i}", "doc_date": date(2026, 2, 1)}, WHO, NOW)
    assert row(table(db, office), "IKU-1").target == Decimal(8)
    with db.transaction() as s:
        iku.set_target(s, "IKU-1", 2026, Decimal(5), WHO, NOW)
    r = row(table(db, office), "IKU-1")
    assert r.target == Decimal(5) and r.capaian == Decimal(80) and r.detail["target_source"] == "register"
    # Another year keeps the office file's (none for 2027 in the shipped file).
    assert row(table(db, office, today=date(2027, 2, 1), year=2027), "IKU-1").target is None


def test_capaian_both_directions_and_sakip_detail(db: Database, office: Office) -> None:
    with db.transaction() as s:
        iku.set_sakip(s, 2026, Decimal("72.5"), "700/12/35.09/2026", date(2026, 2, 20), WHO, NOW)
    r = row(table(db, office), "IKU-5")
    assert r.realisation == {"q1": None, "q2": None, "q3": None, "q4": None, "ytd": Decimal("72.5")}
    assert r.capaian == Decimal("72.5") / Decimal(70) * 100  # 103.57..., shown as it is
    assert r.detail["grade"] == "BB" and r.detail["lhe_number"] == "700/12/35.09/2026"
    # The same score where lower would be better: (2 x 70 - 72.5) / 70 x 100.
    flipped = dataclasses.replace(office, iku=tuple(
        dataclasses.replace(d, higher_is_better=False) if d.code == "IKU-5" else d for d in office.iku))
    assert row(table(db, flipped), "IKU-5").capaian == (140 - Decimal("72.5")) / Decimal(70) * 100


@pytest.mark.parametrize(("score", "grade"), [("90.00", "A"), ("90.01", "AA"), ("80", "BB"), ("30", "D")])
def test_sakip_grade_boundaries(db: Database, office: Office, score: str, grade: str) -> None:
    with db.transaction() as s:
        iku.set_sakip(s, 2026, Decimal(score), "700/1", date(2026, 2, 1), WHO, NOW)
    assert row(table(db, office), "IKU-5").detail["grade"] == grade


def test_bands_at_their_edges_from_the_office_file(db: Database, office: Office) -> None:
    with db.transaction() as s:
        iku.set_target(s, "IKU-5", 2026, Decimal(100), WHO, NOW)
    expected = [("91", "Sangat baik"), ("90.99", "Baik"), ("76", "Baik"), ("75.99", "Cukup"), ("66", "Cukup"),
                ("65.99", "Kurang"), ("51", "Kurang"), ("50.99", "Sangat kurang"), ("0", "Sangat kurang")]
    for score, label in expected:
        with db.transaction() as s:
            iku.set_sakip(s, 2026, Decimal(score), "700/1", date(2026, 2, 1), WHO, NOW)
        r = row(table(db, office), "IKU-5")
        assert (r.capaian, r.band) == (Decimal(score), label)
    # Labels and edges are the office's: another office's bands are used as given.
    custom = dataclasses.replace(office, bands=(Band(Decimal(100), "Tercapai"), Band(Decimal(0), "Belum")))
    with db.transaction() as s:
        iku.set_sakip(s, 2026, Decimal("99.99"), "700/1", date(2026, 2, 1), WHO, NOW)
    assert row(table(db, custom), "IKU-5").band == "Belum"
    with db.transaction() as s:
        iku.set_sakip(s, 2026, Decimal(100), "700/1", date(2026, 2, 1), WHO, NOW)
    assert row(table(db, custom), "IKU-5").band == "Tercapai"


def test_iku6_threshold_100_and_91(db: Database, office: Office) -> None:
    with db.transaction() as s:
        for realisation, higher in (("100", True), ("95", True), ("90", True), (None, True), ("2.2", False)):
            values = {"year": 2026, "program": "P", "name": f"I {realisation}", "unit": "%",
                      "target": Decimal(100) if higher else Decimal(2), "higher_is_better": higher}
            if realisation is not None:
                values["realisation"] = Decimal(realisation)
            iku.add(s, ProgramIndicator, values, WHO, NOW)
    # Capaian: 100, 95, 90, none, and (2 x 2 - 2.2) / 2 = 90 for the lower-is-better one.
    r = row(table(db, office), "IKU-6")
    assert office.iku6_threshold == Decimal(100)
    assert (r.detail["numerators"]["ytd"], r.detail["denominators"]["ytd"]) == (1, 5)
    assert r.realisation["ytd"] == Decimal(20)
    at_91 = row(table(db, dataclasses.replace(office, iku6_threshold=Decimal(91))), "IKU-6")
    assert at_91.detail["numerators"]["ytd"] == 2 and at_91.realisation["ytd"] == Decimal(40)
    at_90 = row(table(db, dataclasses.replace(office, iku6_threshold=Decimal(90))), "IKU-6")
    assert at_90.detail["numerators"]["ytd"] == 4


def test_iku2_is_the_pooled_ikm_not_a_mean_of_quarters(db: Database, office: Office) -> None:
    service = office.services[0].code
    with db.transaction() as s:
        # Q1: one respondent answering 4 everywhere (100); Q2: three answering 2 (50).
        # Pooled over the year: NRR 2.5 -> 62.50; the mean of the quarters would be 75.
        answers = [(date(2026, 2, 1), "2026-Q1", 4)] + [(date(2026, 5, 1), "2026-Q2", 2)] * 3
        for i, (day, period, value) in enumerate(answers):
            draft = skm.ResponseDraft(service=service, period=period, tanggal=day,
                                      answers={f"u{j}": value for j in range(1, 10)})
            skm.record_response(s, draft, source="kertas", now=NOW, recorded_by=f"kertas {i}")
    r = row(table(db, office), "IKU-2")
    assert (r.realisation["q1"], r.realisation["q2"], r.realisation["ytd"]) == (
        Decimal(100), Decimal(50), Decimal("62.5"))
    with db.reading() as s:
        assert skm_summary(s, office, Period("year", 2026)).result.konversi == r.realisation["ytd"]  # type: ignore[union-attr]
    assert r.capaian == Decimal("62.5") / Decimal(82) * 100
    assert r.detail["respondents"] == {"q1": 1, "q2": 3, "ytd": 4}


def test_json_keys_and_numbers(db: Database, office: Office) -> None:
    with db.transaction() as s:
        complaint(s, wib(2026, 2, 2, 9, 0), "selesai")
        complaint(s, wib(2026, 2, 2, 10, 0))
        complaint(s, wib(2026, 2, 2, 11, 0))
        complaint(s, wib(2026, 2, 2, 12, 0), "duplikat")
    data = json.loads(json.dumps(iku_json(table(db, office))))
    assert [d["code"] for d in data] == ["IKU-1", "IKU-2", "IKU-3", "IKU-4", "IKU-5", "IKU-6"]
    for d in data:
        assert {"code", "name", "unit", "target", "realisation", "capaian", "band"} <= d.keys()
        assert set(d["realisation"]) == {"q1", "q2", "q3", "q4", "ytd"}
    iku4 = data[3]
    # 1 of 3: 33.333... rounded half up to 2 decimals; capaian 33.33.../90 = 37.037...
    # Q2 received nothing: no ratio at all (None), which is not 0%.
    assert iku4["realisation"] == {"q1": 33.33, "q2": None, "q3": None, "q4": None, "ytd": 33.33}
    assert (iku4["target"], iku4["capaian"], iku4["band"]) == (90.0, 37.04, "Sangat kurang")
    assert iku4["detail"]["excluded"][0]["reason"] == "Duplikat dari TRB-2026-00001"
    assert iku4["detail"]["counts"]["counted"] == 3


def test_xlsx_opened_back(db: Database, office: Office, tmp_path: Path) -> None:
    with db.transaction() as s:
        complaint(s, wib(2026, 2, 2, 9, 0), "selesai")
        complaint(s, wib(2026, 2, 2, 10, 0), "diteruskan")
        iku.add(s, IkuDocument, {"doc_type": "lakip", "title": "LKjIP", "doc_date": date(2026, 2, 1)}, WHO, NOW)
    path = tmp_path / "iku.xlsx"
    write_iku_xlsx(path, table(db, office), office, 2026, TODAY)
    wb = openpyxl.load_workbook(path)
    ws = wb["IKU 2026"]
    assert "KECAMATAN JELBUK" in ws["A1"].value and "2026" in ws["A2"].value
    headers = [c.value for c in ws[4]]
    assert headers[:5] == ["No", "Sasaran strategis", "Indikator kinerja", "Satuan", "Target"]
    assert headers[-3:] == ["Realisasi s.d. triwulan ini", "Capaian (%)", "Kategori"]
    assert all(c.font.bold for c in ws[4]) and ws["E4"].border.left.style == "thin"
    assert ws.column_dimensions["C"].width == 52
    iku1 = [c.value for c in ws[5]]
    assert iku1[2].startswith("IKU-1") and iku1[4] == 8 and iku1[5] == 1 and iku1[7] is None
    assert ws["E5"].number_format == "#,##0" and ws["K5"].number_format == "#,##0.00"
    iku4 = [c.value for c in ws[8]]
    assert iku4[2].startswith("IKU-4") and iku4[9] == 100 and iku4[11] == "Sangat baik"
    assert isinstance(iku4[10], float | int) and round(iku4[10], 2) == 111.11
    ex = wb["Pengecualian IKU 4"]
    assert [c.value for c in ex[2]] == ["TRB-2026-00002", "diteruskan",
                                        "Diteruskan ke Polsek Jelbuk (bukan wewenang)"]


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli(register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # `sigap iku ...` on SQLite in tmp_path, or on the PostgreSQL schema `register` set.
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_registers_report_and_errors(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    who = f"cli:{getpass.getuser()}"
    assert main(["iku", "target", "set", "IKU-4", "2026", "80"]) == 0
    assert main(["iku", "target", "set", "iku-4", "2026", "75,5"]) == 0
    assert "menggantikan #1" in capsys.readouterr().out
    assert main(["iku", "target", "set", "IKU-9", "2026", "90"]) == 1
    assert "Kode IKU 'IKU-9' tidak dikenal" in capsys.readouterr().err
    assert main(["iku", "target", "list", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert "IKU-4" in out and "75,50%" in out and who in out

    assert main(["iku", "dokumen", "add", "--jenis", "lakip", "--judul", "LKjIP 2025", "--nomor", "050/1",
                 "--tanggal", "2026-03-01"]) == 0
    assert main(["iku", "dokumen", "add", "--jenis", "buku", "--judul", "x", "--tanggal", "2026-03-01"]) == 1
    assert "Jenis dokumen 'buku' tidak dikenal" in capsys.readouterr().err
    assert main(["iku", "dokumen", "add", "--jenis", "sop-pelayanan", "--judul", "SOP", "--tanggal",
                 "2026-13-01"]) == 1
    assert "TTTT-BB-HH" in capsys.readouterr().err
    assert main(["iku", "dokumen", "add", "--jenis", "sop-pelayanan", "--judul", "SOP KTP",
                 "--tanggal", "2026-04-02", "--berkas", str(cli / "tidak-ada.pdf")]) == 1
    assert "tidak ditemukan" in capsys.readouterr().err
    (cli / "sop.pdf").write_bytes(b"%PDF")
    assert main(["iku", "dokumen", "add", "--jenis", "sop-pelayanan", "--judul", "SOP KTP",
                 "--tanggal", "2026-04-02", "--berkas", str(cli / "sop.pdf")]) == 0
    assert main(["iku", "dokumen", "correct", "1", "--judul", "LKjIP Tahun 2025", "--catatan", "judul"]) == 0
    assert main(["iku", "dokumen", "correct", "1", "--judul", "lagi"]) == 1
    assert "sudah dikoreksi menjadi nomor 3" in capsys.readouterr().err
    assert main(["iku", "history", "dokumen", "3"]) == 0
    out = capsys.readouterr().out
    assert "[dikoreksi] #1" in out and "[berlaku] #3" in out and "LKjIP Tahun 2025" in out

    assert main(["iku", "kegiatan", "add", "--year", "2026", "--nama", "Pelatihan UMKM", "--rencana",
                 "2026-02-10"]) == 0
    assert main(["iku", "kegiatan", "add", "--year", "2026", "--nama", "Posyandu"]) == 0
    assert main(["iku", "kegiatan", "facilitate", "1", "--tanggal", "2026-02-11", "--bukti", "foto"]) == 0
    assert main(["iku", "kegiatan", "facilitate", "3", "--tanggal", "2026-02-12", "--bukti", "foto"]) == 1
    assert "sudah tercatat difasilitasi" in capsys.readouterr().err
    assert main(["iku", "kegiatan", "facilitate", "2", "--tanggal", "2099-01-01", "--bukti", "foto"]) == 1
    assert "belum terjadi" in capsys.readouterr().err
    assert main(["iku", "sakip", "set", "--year", "2026", "--nilai", "90,01", "--lhe-nomor", "700/5",
                 "--lhe-tanggal", "2026-02-20"]) == 0
    assert main(["iku", "sakip", "set", "--year", "2026", "--nilai", "abc", "--lhe-nomor", "700/5",
                 "--lhe-tanggal", "2026-02-20"]) == 1
    assert "Nilai SAKIP harus berupa angka" in capsys.readouterr().err
    assert main(["iku", "program", "add", "--year", "2026", "--program", "Program Trantib", "--nama",
                 "Patroli", "--satuan", "kali", "--target", "12"]) == 0
    assert main(["iku", "program", "realisasi", "1", "12"]) == 0
    assert main(["iku", "program", "add", "--year", "2026", "--program", "Program Pelayanan", "--nama",
                 "Waktu layanan", "--satuan", "hari", "--target", "3", "--arah", "turun", "--realisasi", "4"]) == 0
    assert main(["iku", "program", "remove", "3", "--alasan", "bukan program kecamatan"]) == 0
    capsys.readouterr()

    assert main(["iku", "report", "--year", "2026", "--per", "2026-11-24", "--json"]) == 0
    data = {d["code"]: d for d in json.loads(capsys.readouterr().out)}
    assert data["IKU-1"]["realisation"] == {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 0.0, "ytd": 2.0}
    assert data["IKU-3"]["realisation"]["ytd"] == 50.0
    assert data["IKU-4"]["target"] == 75.5 and data["IKU-4"]["target_source"] == "register"
    assert data["IKU-5"]["realisation"]["ytd"] == 90.01 and data["IKU-5"]["detail"]["grade"] == "AA"
    # The withdrawn program indicator is gone; the other is achieved: 1 of 1.
    assert data["IKU-6"]["realisation"]["ytd"] == 100.0 and data["IKU-6"]["capaian"] == 111.11

    assert main(["iku", "report", "--year", "2026", "--per", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert "PENGUKURAN KINERJA (IKU) KECAMATAN JELBUK" in out and "s.d. TW IV" in out
    assert "90,01" in out and "128,59%" in out and "Sangat baik" in out
    assert main(["iku", "report", "--year", "2026", "--xlsx", str(cli / "iku.xlsx")]) == 0
    assert openpyxl.load_workbook(cli / "iku.xlsx")["IKU 2026"]["A1"].value.endswith("KECAMATAN JELBUK")
    assert main(["iku", "report", "--year", "2026", "--xlsx", str(cli / "no" / "dir" / "x.xlsx")]) == 1
    assert "Tidak bisa menulis" in capsys.readouterr().err

    assert main(["iku", "dokumen", "list", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert who in out and "#1 " not in out and "#3 " in out
