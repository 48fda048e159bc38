# `sigap skm ...` end to end through bot.cli.sigap.main: the summary on domain.md's properties
# (all 4 -> 100,00 A, all 1 -> 25,00 D, 91,475 -> 91,48 exactly), the JSON keys, the XLSX read
# back, the paper import (all or nothing, every bad row by line and column, --skip-invalid),
# the population, the QR code (its modules decoded from the PNG) and the chart.
from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from openpyxl import Workbook, load_workbook
from PIL import Image
from sqlalchemy import select, update

from bot.cli.sigap import main
from bot.config.office import load_office
from bot.reports.charts import nrr_chart
from bot.reports.skm_qr import BOX, deep_link, qr_matrix
from bot.reports.skm_summary import current_skm_period, skm_summary, summary_json
from kpi.ikm import compute_ikm_from_responses
from kpi.periods import Period, parse_period
from kpi.sample_size import krejcie_morgan
from kpi.skm_questionnaire import UNSUR_CODES, age_band
from storage import migrate
from storage.db import Database
from storage.models import SkmResponse
from storage.skm import insert_responses, set_population
from tests.conftest import Register

OFFICE = load_office()
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
Q3 = parse_period("2026-Q3")
HEADER = ["tanggal", "jenis_layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan",
          *UNSUR_CODES, "saran"]


def row(tanggal: date, service: str, answers: dict[str, int | None], **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": "kertas", "respondent_key": None, "service": service, "period": "2026-Q3",
        "tanggal": tanggal, "answered_at": NOW, "consent_at": None, "jenis_kelamin": "L",
        "usia": 30, "pendidikan": "SMA", "pekerjaan": "Swasta", "saran": None,
        "recorded_by": "tes", "created_at": NOW, **answers,
    }
    base.update(kw)
    return base


def uniform(n: int, score: int, service: str = "skck") -> list[dict[str, Any]]:
    return [row(date(2026, 8, 1), service, dict.fromkeys(UNSUR_CODES, score)) for _ in range(n)]


def random_rows(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    codes = [sv.code for sv in OFFICE.services]
    return [
        row(date(2026, 7, 1 + rng.randrange(31)), rng.choice(codes),
            {c: (None if rng.random() < 0.05 else rng.choice([2, 3, 3, 4, 4])) for c in UNSUR_CODES},
            jenis_kelamin=rng.choice(["L", "P", None]), usia=rng.choice([None, 19, 20, 35, 61]),
            pendidikan=rng.choice(["SD", "S1", None]), pekerjaan=rng.choice(["PNS", "Lainnya"]),
            saran=rng.choice([None, "", "Tambah kursi tunggu", "Petugas ramah"]))
        for _ in range(n)
    ]


# ------------------------------------------------------------------------ summary (both DBs)


def seed(db: Database, rows: list[dict[str, Any]]) -> None:
    with db.transaction() as s:
        insert_responses(s, rows)


def test_all_fours_give_100_and_a(db: Database) -> None:
    seed(db, uniform(30, 4))
    with db.reading() as s:
        summary = skm_summary(s, OFFICE, Q3)
    assert summary.result is not None
    assert summary.result.konversi == Decimal("100.00")
    assert (summary.result.mutu, summary.result.kinerja) == ("A", "Sangat baik")
    data = summary_json(summary, OFFICE)
    assert data["ikm_konversi"] == 100.0 and data["ikm"] == 4.0 and data["mutu"] == "A"
    assert summary.per_service["skck"] is not None and summary.per_service["ktp-kk"] is None
    assert summary.per_service_respondents["skck"] == 30


def test_weight_setting_reaches_the_summary(db: Database) -> None:
    # domain.md: all answers 4 give 99,00 with the rounded weight 0,11.
    seed(db, uniform(10, 4))
    with db.reading() as s:
        summary = skm_summary(s, dataclasses.replace(OFFICE, skm_weight="0,11"), Q3)
    assert summary.result is not None and summary.result.konversi == Decimal("99.00")
    assert summary_json(summary)["weight"] == 0.11


def test_all_ones_give_25_and_d(db: Database) -> None:
    seed(db, uniform(12, 1, "ktp-kk"))
    with db.reading() as s:
        summary = skm_summary(s, OFFICE, Q3, "ktp-kk")
    assert summary.result is not None
    assert summary.result.konversi == Decimal("25.00")
    assert (summary.result.mutu, summary.result.kinerja) == ("D", "Tidak baik")
    assert summary.per_service == {}  # only for the all-services summary


def test_summary_equals_python_recomputation(db: Database) -> None:
    rows = random_rows(3, 300)
    seed(db, rows)
    answers = lambda rs: [{c: r[c] for c in UNSUR_CODES} for r in rs]  # noqa: E731
    with db.reading() as s:
        summary = skm_summary(s, OFFICE, Q3)
        assert summary.respondents == 300
        assert summary.result == compute_ikm_from_responses(answers(rows))
        for sv in OFFICE.services:
            mine = [r for r in rows if r["service"] == sv.code]
            assert summary.per_service_respondents[sv.code] == len(mine)
            assert summary.per_service[sv.code] == (compute_ikm_from_responses(answers(mine))
                                                    if mine else None)
        # Q4 holds none of them.
        empty = skm_summary(s, OFFICE, parse_period("2026-Q4"))
    assert empty.respondents == 0 and empty.result is None
    assert summary_json(empty)["nrr"] == dict.fromkeys(UNSUR_CODES)


def test_population_and_sample(db: Database) -> None:
    seed(db, uniform(240, 3))
    with db.transaction() as s:
        set_population(s, "2026-Q1", "", 100, "tes", NOW)
        set_population(s, "2026-Q3", "skck", 90, "tes", NOW)
    with db.reading() as s:
        q3 = skm_summary(s, OFFICE, Q3)
        # Nothing entered for Q3 overall: the office default (600) -> 234 needed, 240 is enough.
        assert (q3.population, q3.required_sample, q3.sample_adequate) == (600, 234, True)
        skck = skm_summary(s, OFFICE, Q3, "skck")
        assert (skck.population, skck.required_sample, skck.sample_adequate) == (90, 73, True)
        # A service with nothing entered has no population: the office default is for all.
        ktp = skm_summary(s, OFFICE, Q3, "ktp-kk")
        assert (ktp.population, ktp.required_sample, ktp.sample_adequate) == (None, None, None)
        # A year of triwulan: Q1 entered (100) plus the default for Q2, Q3, Q4.
        year = skm_summary(s, OFFICE, parse_period("2026"))
        assert year.population == 100 + 3 * 600
        assert year.required_sample == krejcie_morgan(1900)
        assert year.respondents == 240


def test_current_period_is_local() -> None:
    # 31 Dec 17:30 UTC is already 1 January 00:30 in Jelbuk.
    assert current_skm_period(OFFICE, datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == Period("quarter", 2027, 1)
    assert current_skm_period(OFFICE, datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == Period("quarter", 2026, 4)


# ------------------------------------------------------------------------ the command line


@pytest.fixture
def cli_db(register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    # `sigap skm ...` on the test's backend: SQLite in the data folder, or a PostgreSQL schema.
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("SIGAP_DATA_DIR", str(data))
    for key in ("SIGAP_OFFICE_FILE", "SIGAP_TELEGRAM_BOT_USERNAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr("bot.cli.skm._now", lambda: NOW)
    db = Database(register.url(data))
    migrate.upgrade(db)
    yield db
    db.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def stored(db: Database) -> list[Any]:
    # Plain rows: a reading session rolls back at the end, which would expire ORM objects.
    with db.reading() as s:
        return list(s.execute(select(SkmResponse.__table__).order_by(SkmResponse.id)))


def test_json_rounds_exactly_91_475_to_91_48(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    # 1000 respondents, 3069 answers of 3 and 5931 of 4: IKM x 25 = 91.475 exactly. A float
    # computation gives 91.47499... and rounds to 91.47; the report must say 91.48.
    scores = [3] * 3069 + [4] * 5931
    rows = [row(date(2026, 9, 30), "perizinan",
                {c: scores[i * 9 + j] for j, c in enumerate(UNSUR_CODES)}) for i in range(1000)]
    seed(cli_db, rows)
    code, out, _ = run(capsys, "skm", "report", "--period", "2026-q3", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("period", "respondents", "population", "required_sample", "sample_adequate", "nrr",
                "ikm", "ikm_konversi", "mutu", "kinerja", "weight", "lowest", "highest", "per_service"):
        assert key in data, key
    assert data["period"] == "2026-Q3"
    assert data["respondents"] == 1000
    assert (data["population"], data["required_sample"], data["sample_adequate"]) == (600, 234, True)
    assert list(data["nrr"]) == list(UNSUR_CODES)
    assert all(isinstance(v, float) for v in data["nrr"].values())
    assert data["ikm_konversi"] == 91.48
    assert '"ikm_konversi": 91.48,' in out
    assert data["ikm"] == 3.659
    assert (data["mutu"], data["kinerja"]) == ("A", "Sangat baik")
    assert data["weight"] == pytest.approx(1 / 9)
    assert data["per_service"]["perizinan"]["respondents"] == 1000
    assert data["per_service"]["perizinan"]["ikm_konversi"] == 91.48
    assert data["per_service"]["skck"]["ikm_konversi"] is None


def test_terminal_summary_is_indonesian(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    seed(cli_db, uniform(5, 4) + uniform(5, 1, "ktp-kk"))
    code, out, _ = run(capsys, "skm", "report", "--period", "2026-Q3")
    assert code == 0
    assert "Triwulan III 2026" in out
    assert "Nilai konversi (25-100): 62,50" in out  # (4 + 1) / 2 x 25
    assert "Mutu pelayanan: D (Tidak baik)" in out
    assert "2,500" in out  # NRR with a decimal comma
    assert "<b>" not in out
    code, out, _ = run(capsys, "skm", "report", "--period", "2026-Q3", "--layanan", "SKCK")
    assert code == 0 and "Nilai konversi (25-100): 100,00" in out and "Pengantar SKCK" in out


@pytest.mark.parametrize("period, needle", [("2026-W05", "minggu"), ("2026-Q5", "tidak dikenal"),
                                            ("kemarin", "tidak dikenal")])
def test_bad_periods_are_refused(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                 period: str, needle: str) -> None:
    code, out, err = run(capsys, "skm", "report", "--period", period)
    assert code == 1 and needle in err and out == ""


def test_unknown_service_lists_the_codes(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "skm", "report", "--period", "2026-Q3", "--layanan", "paspor")
    assert code == 1
    assert "paspor" in err and all(sv.code in err for sv in OFFICE.services)


def test_xlsx_read_back(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = random_rows(11, 60)
    seed(cli_db, rows)
    # Answers given with a guardian's consent (chat only; here flagged on the 19-year-olds).
    with cli_db.transaction() as s:
        s.execute(update(SkmResponse).where(SkmResponse.usia == 19).values(persetujuan_wali=True))
    out = tmp_path / "skm.xlsx"
    code, _, err = run(capsys, "skm", "report", "--period", "2026-Q3", "--xlsx", str(out))
    assert code == 0, err
    wb = load_workbook(out)
    assert wb.sheetnames == ["Pengolahan", "Profil", "Saran"]

    ws = wb["Pengolahan"]
    assert ws["A2"].value == "KECAMATAN JELBUK" and "Triwulan III 2026" in ws["A3"].value
    header = [c.value for c in ws[6]]
    assert header[:3] == ["No.", "Tanggal", "Jenis layanan"]
    assert header[3:12] == [c.upper() for c in UNSUR_CODES]
    assert ws["D6"].font.b and ws["D6"].border.left.style == "thin"
    grid = [[c.value for c in r] for r in ws.iter_rows(min_row=8, max_row=8 + 59)]
    assert [g[0] for g in grid] == list(range(1, 61))
    # The sheet's rows are the register's, in date order.
    assert sorted(g[1].date() for g in grid) == [g[1].date() for g in grid]
    sheet_answers = sorted(tuple(g[3:12]) for g in grid
                           if all(v is not None for v in g[3:12]))
    assert sheet_answers == sorted(tuple(r[c] for c in UNSUR_CODES) for r in rows
                                   if all(r[c] is not None for c in UNSUR_CODES))
    labels = {ws.cell(row=r, column=1).value: r for r in range(68, ws.max_row + 1)}
    sums = [ws.cell(row=labels["Jumlah nilai per unsur"], column=4 + j).value for j in range(9)]
    counts = [ws.cell(row=labels["Jumlah responden menjawab"], column=4 + j).value for j in range(9)]
    for j in range(9):
        column = [g[3 + j] for g in grid if g[3 + j] is not None]
        assert sums[j] == sum(column) and counts[j] == len(column)
    nrr_row = labels["NRR per unsur"]
    expected = compute_ikm_from_responses([{c: r[c] for c in UNSUR_CODES} for r in rows])
    for j, c in enumerate(UNSUR_CODES):
        cell = ws.cell(row=nrr_row, column=4 + j)
        assert cell.value == pytest.approx(float(expected.nrr[c]))  # type: ignore[arg-type]
        assert cell.number_format == "0.000"
        tert = ws.cell(row=labels["NRR tertimbang per unsur"], column=4 + j).value
        assert tert == pytest.approx(float(expected.nrr_tertimbang[c]))  # type: ignore[arg-type]
    konversi = labels["Konversi IKM (IKM x 25, skala 25-100)"]
    assert Decimal(str(ws.cell(row=konversi, column=4).value)) == expected.konversi
    assert ws.cell(row=konversi, column=5).value == str(expected.konversi).replace(".", ",")
    assert ws.cell(row=labels["Mutu pelayanan"], column=4).value == expected.mutu
    assert ws.cell(row=labels["Kinerja unit pelayanan"], column=4).value == expected.kinerja
    assert ws.cell(row=labels["Unsur terendah"], column=4).value == expected.lowest.upper()

    prof = {r[0]: r[1] for r in wb["Profil"].iter_rows(min_row=6, values_only=True) if r[0]}
    assert prof["Laki-laki"] == sum(1 for r in rows if r["jenis_kelamin"] == "L")
    assert prof["Perempuan"] == sum(1 for r in rows if r["jenis_kelamin"] == "P")
    assert prof["20 tahun ke bawah"] == sum(1 for r in rows if r["usia"] is not None
                                             and age_band(r["usia"]) == "<=20")
    assert prof["S1"] == sum(1 for r in rows if r["pendidikan"] == "S1")
    assert prof["PNS"] == sum(1 for r in rows if r["pekerjaan"] == "PNS")
    wali = sum(1 for r in rows if r["usia"] == 19)
    assert wali > 0
    assert prof["Di bawah batas usia, dengan persetujuan orang tua/wali"] == wali

    saran = [r for r in wb["Saran"].iter_rows(min_row=7, values_only=True) if r[0]]
    assert sorted(r[3] for r in saran) == sorted(r["saran"] for r in rows if r["saran"])


def test_chart_png(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed(cli_db, random_rows(5, 40))
    out = tmp_path / "nrr.png"
    code, _, _ = run(capsys, "skm", "report", "--period", "2026-Q3", "--chart", str(out))
    assert code == 0
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 800 and img.height > 500
    with cli_db.reading() as s:
        empty = skm_summary(s, OFFICE, parse_period("2025"))
    with Image.open(io.BytesIO(nrr_chart(empty, OFFICE))) as img:
        assert img.format == "PNG"


# ------------------------------------------------------------------------ import


def write_csv(path: Path, records: list[list[Any]], *, delimiter: str = ",", header: list[str] = HEADER) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header)
    w.writerows(records)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


GOOD = [
    ["2026-07-01", "ktp-kk", "L", "35", "SMA", "wirausaha", 4, 3, 3, 4, 3, 3, 4, 2, 3, "Ruang tunggu panas"],
    ["15/08/2026", "Pengantar SKCK", "p", "22", "s1", "PNS", 3, 3, 3, 4, 3, 4, 4, 3, "", ""],
    ["30-09-2026", "SKCK", "", "", "", "", 4, 4, 4, 4, 4, 4, 4, 4, 4, "Petugas\nramah"],
    ["2026-10-01", "pengaduan", "Perempuan", "61", "D1-D3", "lainnya", 2, 2, 2, 2, 2, 2, 2, 2, 2, ""],
]


def test_import_csv(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kuesioner.csv", GOOD, delimiter=";")
    code, out, err = run(capsys, "skm", "import", str(path))
    assert code == 0, err
    assert "4 kuesioner diimpor" in out
    rows = stored(cli_db)
    assert [r.service for r in rows] == ["ktp-kk", "skck", "skck", "pengaduan"]
    assert [r.period for r in rows] == ["2026-Q3", "2026-Q3", "2026-Q3", "2026-Q4"]
    assert [r.tanggal for r in rows] == [date(2026, 7, 1), date(2026, 8, 15), date(2026, 9, 30),
                                         date(2026, 10, 1)]
    assert {r.source for r in rows} == {"kertas"} and {r.respondent_key for r in rows} == {None}
    assert {r.recorded_by for r in rows} == {"impor:kuesioner.csv"}
    assert [(r.jenis_kelamin, r.usia, r.pendidikan, r.pekerjaan) for r in rows] == [
        ("L", 35, "SMA", "Wirausaha"), ("P", 22, "S1", "PNS"), (None, None, None, None),
        ("P", 61, "D1-D3", "Lainnya")]
    assert [r.u8 for r in rows] == [2, 3, 4, 2]  # u8 is sarana dan prasarana, 14th column
    assert rows[1].u9 is None  # left blank: not answered
    assert [r.saran for r in rows] == ["Ruang tunggu panas", None, "Petugas\nramah", None]


def test_the_same_file_is_imported_once_unless_asked_again(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kuesioner.csv", GOOD, delimiter=";")
    assert run(capsys, "skm", "import", str(path))[0] == 0
    # The same pile of paper forms under another name is still the same pile.
    copy = tmp_path / "salinan.csv"
    copy.write_bytes(path.read_bytes())
    code, _, err = run(capsys, "skm", "import", str(copy))
    assert code == 1 and "sudah pernah diimpor (kuesioner.csv, 4 kuesioner" in err
    assert len(stored(cli_db)) == 4
    code, out, err = run(capsys, "skm", "import", str(copy), "--ulang")
    assert code == 0, err
    assert len(stored(cli_db)) == 8


def test_import_xlsx(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([h.upper() if h.startswith("u") else h.replace("_", " ").title() for h in HEADER])
    # A date cell comes back from openpyxl as a datetime.
    ws.append([date(2026, 7, 1), "ktp-kk", "L", 35, "SMA", "Swasta", *([4.0] * 9), "Bagus"])
    ws.append([])  # a blank row is skipped
    ws.append(["02/07/2026", "Rekomendasi KTP/KK", "P", 40.0, "S2", "TNI", *([3] * 9), None])
    path = tmp_path / "kertas.xlsx"
    wb.save(path)
    code, out, err = run(capsys, "skm", "import", str(path))
    assert code == 0, err
    rows = stored(cli_db)
    assert [(r.tanggal, r.service, r.usia, r.u1) for r in rows] == [
        (date(2026, 7, 1), "ktp-kk", 35, 4), (date(2026, 7, 2), "ktp-kk", 40, 3)]


BAD = [
    GOOD[0],                                                                          # line 2
    ["2026-07-02", "ktp-kk", "L", "35", "SMA", "PNS", 4, 3, 3, 5, 3, 3, 4, 2, 3, ""],  # line 3: u4
    GOOD[1],                                                                          # line 4
    # line 5 (SLTA and Petani map since issue 10; "Tidak sekolah" and an overlong text do not)
    ["2026-07-03", "paspor", "X", "130", "Tidak sekolah", "p" * 101, 4, 4, 4, 4, 4, 4, 4, 4, 4, ""],
    ["31/02/2026", "skck", "L", "3,5", "SMA", "PNS", "a", "", "", "", "", "", "", "", "", ""],  # line 6
    GOOD[2],                                                                          # lines 7-8
    ["2026-12-01", "skck", "L", "", "", "", *([4] * 9), ""],                          # line 9: future
    ["", "", "", "", "", "", *([""] * 9), "hanya saran"],                             # line 10
]


def test_bad_rows_are_reported_and_nothing_is_imported(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    path = write_csv(tmp_path / "salah.csv", BAD)
    code, out, err = run(capsys, "skm", "import", str(path))
    assert code == 1
    assert stored(cli_db) == []
    for needle in [
        "baris 3, kolom u4: Jawaban u4 harus 1, 2, 3 atau 4, bukan '5'",
        "baris 5, kolom jenis_layanan: Jenis layanan tidak dikenal: 'paspor'",
        "baris 5, kolom jenis_kelamin:",
        "baris 5, kolom usia:",
        "baris 5, kolom pendidikan: Pendidikan tidak dikenal: 'Tidak sekolah'",
        "baris 5, kolom pekerjaan:",
        "baris 6, kolom tanggal: Tanggal '31/02/2026' tidak dikenali",
        "baris 6, kolom usia: Usia harus bilangan bulat",
        "baris 6, kolom u1: Jawaban u1 harus 1, 2, 3 atau 4, bukan 'a'",
        "baris 9, kolom tanggal: Tanggal 01-12-2026 ada di masa depan",
        "baris 10, kolom tanggal: Tanggal wajib diisi",
        "baris 10, kolom jenis_layanan: Jenis layanan wajib diisi",
        "baris 10, kolom u1: Semua jawaban u1 sampai u9 kosong",
    ]:
        assert needle in err, needle
    assert "baris 2," not in err and "baris 4," not in err and "baris 7," not in err
    assert "5 dari 8 baris salah" in err and "tidak ada yang diimpor" in err


def test_skip_invalid_imports_the_good_rows(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    path = write_csv(tmp_path / "salah.csv", BAD)
    code, out, err = run(capsys, "skm", "import", str(path), "--skip-invalid")
    # The good rows are in; the exit code still says the file had errors.
    assert code == 1
    assert "3 kuesioner diimpor" in out
    assert "Dilewati 5 baris yang salah: 3, 5, 6, 9, 10." in err
    assert [r.tanggal for r in stored(cli_db)] == [date(2026, 7, 1), date(2026, 8, 15), date(2026, 9, 30)]


def test_import_refuses_a_file_without_the_columns(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kolom.csv", [GOOD[0][:-2]], header=HEADER[:-2])
    code, _, err = run(capsys, "skm", "import", str(path), "--skip-invalid")
    assert code == 1 and stored(cli_db) == []
    assert "baris 1, kolom u9: Kolom 'u9' tidak ada di baris judul." in err
    assert "baris 1, kolom saran:" in err
    code, _, err = run(capsys, "skm", "import", str(tmp_path / "tidak-ada.csv"))
    assert code == 1 and "tidak ditemukan" in err


# ------------------------------------------------------------------------ population and QR


def test_population_command_feeds_the_report(cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    seed(cli_db, uniform(50, 4))
    code, out, _ = run(capsys, "skm", "populasi", "--period", "2026-Q3", "1000")
    assert code == 0 and "278" in out
    code, out, _ = run(capsys, "skm", "populasi", "--period", "2026-Q3", "--layanan", "skck", "50")
    assert code == 0 and "44" in out
    _, out, _ = run(capsys, "skm", "report", "--period", "2026-Q3", "--json")
    data = json.loads(out)
    assert (data["population"], data["required_sample"], data["sample_adequate"]) == (1000, 278, False)
    _, out, _ = run(capsys, "skm", "report", "--period", "2026-Q3", "--layanan", "skck", "--json")
    data = json.loads(out)
    assert (data["population"], data["required_sample"], data["sample_adequate"]) == (50, 44, True)
    code, _, err = run(capsys, "skm", "populasi", "--period", "2026-W10", "5")
    assert code == 1 and "minggu" in err


def modules_from_png(png: Path, size: int) -> list[list[bool]]:
    """Read the code back from the picture: the colour at the centre of every module."""
    with Image.open(png) as img:
        grey = img.convert("L")
        return [[grey.getpixel((x * BOX + BOX // 2, y * BOX + BOX // 2)) < 128  # type: ignore[operator]
                 for x in range(size)] for y in range(size)]


def test_qr_png_encodes_the_deep_link(cli_db: Database, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGAP_TELEGRAM_BOT_USERNAME", "@kantor_jelbuk_bot")
    out = tmp_path / "skck.png"
    code, stdout, err = run(capsys, "skm", "qr", "--layanan", "skck", "--out", str(out))
    assert code == 0, err
    link = "https://t.me/kantor_jelbuk_bot?start=skm_skck"
    assert link in stdout and deep_link("@kantor_jelbuk_bot", "skck") == link
    expected = qr_matrix(link)
    assert modules_from_png(out, len(expected)) == expected
    assert modules_from_png(out, len(expected)) != qr_matrix(deep_link("kantor_jelbuk_bot", "ktp-kk"))
    with Image.open(out) as img:
        # Room under the code for the office and service names, drawn in black.
        assert img.height > img.width
        caption = img.convert("L").crop((0, len(expected) * BOX, img.width, img.height))
        assert caption.getextrema()[0] < 64


def test_qr_svg_has_the_names(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "nikah.svg"
    code, _, err = run(capsys, "skm", "qr", "--layanan", "Dispensasi nikah", "--out", str(out))
    assert code == 0, err
    root = ET.parse(out).getroot()
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "Kecamatan Jelbuk" in texts and "Dispensasi nikah" in texts
    # Read the modules back from the path: one "Mx,y" square per dark module of 1.2 mm.
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    dark = {(round(float(x) / 1.2), round(float(y) / 1.2))
            for x, y in re.findall(r"M([0-9.]+),([0-9.]+)H", path.get("d", ""))}
    matrix = qr_matrix("https://t.me/sigap_jelbuk_bot?start=skm_dispensasi-nikah")
    assert dark == {(x, y) for y, line in enumerate(matrix) for x, on in enumerate(line) if on}
    # The names sit below the code and its quiet zone, inside the enlarged picture.
    side = len(matrix) * 1.2
    ys = [float(t.get("y", 0)) for t in root.iter() if t.tag.endswith("text")]
    view = [float(v) for v in root.get("viewBox", "").split()]
    assert min(ys) > side and max(ys) < view[3]


def test_qr_unknown_service(cli_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "skm", "qr", "--layanan", "paspor", "--out", str(tmp_path / "x.png"))
    assert code == 1
    assert "Kode layanan tidak dikenal: 'paspor'" in err and "ktp-kk" in err and "pengaduan" in err
    assert not (tmp_path / "x.png").exists()

