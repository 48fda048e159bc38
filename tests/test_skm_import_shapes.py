# `sigap skm import` accepts what an office's files really hold (issue 10, SKM part): ISO 8601
# timestamps with T and seconds (and an offset), dates with and without a time, the service by
# code or name in any case, profile values as offices write them mapped to the form's classes,
# pekerjaan "Lainnya" with its free text kept, jenis kelamin L/P or in words. Both databases.
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.cli.sigap import main
from kpi.skm_profile import jenis_kelamin_class, pekerjaan_class, pendidikan_class
from kpi.skm_questionnaire import UNSUR_CODES
from storage.db import Database
from storage.models import SkmResponse

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
HEADER = ["Timestamp", "Layanan", "Jenis Kelamin", "Usia", "Pendidikan", "Pekerjaan",
          *(c.upper() for c in UNSUR_CODES), "Saran"]
FOURS = [4] * 9


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.setattr("bot.cli.skm._now", lambda: NOW)
    yield db


def write_csv(path: Path, records: list[list[Any]]) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(records)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def stored(db: Database) -> list[Any]:
    with db.reading() as s:
        return list(s.execute(select(SkmResponse.__table__).order_by(SkmResponse.id)))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("written, cls", [
    ("SD", "SD"), ("MI", "SD"), ("SLTP", "SMP"), ("MTs", "SMP"), ("smp", "SMP"),
    ("SLTA", "SMA"), ("SMK", "SMA"), ("MA", "SMA"), ("SMA/SMK", "SMA"),
    ("D1", "D1-D3"), ("D3", "D1-D3"), ("D-III", "D1-D3"), ("Diploma", "D1-D3"), ("Diploma III", "D1-D3"),
    ("D4", "S1"), ("D-IV", "S1"), ("Sarjana Terapan", "S1"),  # D4 is at the level of S1
    ("S1", "S1"), ("S-1", "S1"), ("s 1", "S1"), ("Sarjana", "S1"),
    ("S2", "S2"), ("Magister", "S2"), ("S-3", "S3"), ("Doktor", "S3"),
])
def test_pendidikan_as_offices_write_it(written: str, cls: str) -> None:
    assert pendidikan_class(written) == cls


@pytest.mark.parametrize("written", ["Tidak sekolah", "SMA kelas 2", "X"])
def test_unknown_pendidikan_is_not_guessed(written: str) -> None:
    assert pendidikan_class(written) is None


@pytest.mark.parametrize("written, expected", [
    ("PNS", ("PNS", None)), ("ASN", ("PNS", None)), ("tni", ("TNI", None)), ("Polisi", ("POLRI", None)),
    ("Pegawai Swasta", ("Swasta", None)), ("Wiraswasta", ("Wirausaha", None)),
    ("Lainnya", ("Lainnya", None)), ("Petani", ("Lainnya", "Petani")), ("Pelajar", ("Lainnya", "Pelajar")),
    ("Ibu rumah  tangga", ("Lainnya", "Ibu rumah tangga")), ("Lainnya: Nelayan", ("Lainnya", "Nelayan")),
    ("lainnya (Buruh tani)", ("Lainnya", "Buruh tani")),
])
def test_pekerjaan_keeps_the_free_text_of_lainnya(written: str, expected: tuple[str, str | None]) -> None:
    assert pekerjaan_class(written) == expected


@pytest.mark.parametrize("written, cls", [
    ("L", "L"), ("l", "L"), ("Laki-laki", "L"), ("LAKI-LAKI", "L"), ("laki laki", "L"),
    ("P", "P"), ("p", "P"), ("Perempuan", "P"), ("PEREMPUAN", "P"),
])
def test_jenis_kelamin_any_case(written: str, cls: str) -> None:
    assert jenis_kelamin_class(written) == cls


def test_import_of_an_office_export(cli: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ekspor.csv", [
        ["2026-08-03T09:15:27", "SKCK", "Laki-laki", "35", "SLTA", "Petani", *FOURS, ""],
        ["2026-08-04T10:00", "pengantar skck", "PEREMPUAN", "22", "D-III", "Pelajar", *FOURS, ""],
        ["2026-08-05 08:30:00", "KTP-KK", "l", "40", "D4", "Ibu rumah tangga", *FOURS, ""],
        # 30 Sep 20:00 UTC is 1 Oct 03:00 WIB: the office's local day, triwulan IV.
        ["2026-09-30T20:00:00Z", "skck", "p", "50", "S-1", "Wiraswasta", *FOURS, ""],
        ["2026-08-06T23:30:00+07:00", "skck", "", "", "MTs", "Lainnya: Nelayan", *FOURS, ""],
        ["07/08/2026 09:15", "skck", "", "", "Sarjana", "PNS", *FOURS, ""],
        ["08-08-2026 09:15:30", "skck", "", "", "", "", *FOURS, ""],
        ["2026-08-09", "skck", "", "", "", "", *FOURS, ""],
    ])
    code, out, err = run(capsys, "skm", "import", str(path))
    assert code == 0, err
    assert "8 kuesioner diimpor" in out
    rows = stored(cli)
    assert [r.tanggal for r in rows] == [date(2026, 8, 3), date(2026, 8, 4), date(2026, 8, 5),
                                         date(2026, 10, 1), date(2026, 8, 6), date(2026, 8, 7),
                                         date(2026, 8, 8), date(2026, 8, 9)]
    assert [r.period for r in rows][3] == "2026-Q4"
    assert [r.service for r in rows][:3] == ["skck", "skck", "ktp-kk"]
    assert [r.jenis_kelamin for r in rows][:4] == ["L", "P", "L", "P"]
    assert [r.pendidikan for r in rows][:6] == ["SMA", "D1-D3", "S1", "S1", "SMP", "S1"]
    assert [(r.pekerjaan, r.pekerjaan_lainnya) for r in rows][:6] == [
        ("Lainnya", "Petani"), ("Lainnya", "Pelajar"), ("Lainnya", "Ibu rumah tangga"),
        ("Wirausaha", None), ("Lainnya", "Nelayan"), ("PNS", None)]


def test_unmappable_values_are_reported_by_line_and_column(cli: Database, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    path = write_csv(tmp_path / "salah.csv", [
        ["2026-08-03T09:15:27", "skck", "L", "35", "SMA", "PNS", *FOURS, ""],
        ["2026-13-03T09:15", "paspor", "X", "35", "Tidak sekolah", "z" * 101, *FOURS, ""],
    ])
    code, _, err = run(capsys, "skm", "import", str(path))
    assert code == 1 and stored(cli) == []
    for needle in ["baris 3, kolom tanggal: Tanggal '2026-13-03T09:15' tidak dikenali",
                   "baris 3, kolom jenis_layanan: Jenis layanan tidak dikenal: 'paspor'",
                   "baris 3, kolom jenis_kelamin: Jenis kelamin tidak dikenal: 'X'",
                   "baris 3, kolom pendidikan: Pendidikan tidak dikenal: 'Tidak sekolah'",
                   "baris 3, kolom pekerjaan: Pekerjaan lainnya paling banyak 100 karakter"]:
        assert needle in err, needle
    assert "baris 2," not in err


def test_xlsx_timestamps_and_names(cli: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    # An XLSX date cell comes back naive: it is the local time the officer typed.
    typed = datetime(2026, 8, 3, 9, 15, 27)  # noqa: DTZ001
    ws.append([typed, "Pengantar SKCK", "Perempuan", 30, "SMK", "Pedagang", *FOURS, None])
    ws.append(["2026-08-04T10:00:00", "SKCK", "L", 41, "S-2", "TNI", *FOURS, None])
    path = tmp_path / "ekspor.xlsx"
    wb.save(path)
    code, out, err = run(capsys, "skm", "import", str(path))
    assert code == 0, err
    rows = stored(cli)
    assert [(r.tanggal, r.service, r.jenis_kelamin, r.pendidikan, r.pekerjaan, r.pekerjaan_lainnya)
            for r in rows] == [
        (date(2026, 8, 3), "skck", "P", "SMA", "Lainnya", "Pedagang"),
        (date(2026, 8, 4), "skck", "L", "S2", "TNI", None)]


def test_xlsx_report_lists_lainnya_texts_and_the_legend(cli: Database, capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_csv(tmp_path / "ekspor.csv", [
        ["2026-08-03T09:15:27", "skck", "L", "35", "SLTA", "Petani", *FOURS, ""],
        ["2026-08-04T09:15:27", "skck", "L", "35", "SLTA", "petani", *FOURS, ""],
        ["2026-08-05T09:15:27", "skck", "P", "35", "SLTA", "Pelajar", *FOURS, ""],
        ["2026-08-06T09:15:27", "skck", "P", "35", "SLTA", "PNS", *FOURS, ""],
    ])
    assert run(capsys, "skm", "import", str(path))[0] == 0
    out = tmp_path / "laporan.xlsx"
    code, _, err = run(capsys, "skm", "report", "--period", "2026-Q3", "--xlsx", str(out))
    assert code == 0, err
    wb = load_workbook(out)
    profile = [[c.value for c in r] for r in wb["Profil"].iter_rows()]
    start = next(i for i, r in enumerate(profile) if r[0] == "Pekerjaan lainnya (isian)")
    assert [r[:2] for r in profile[start + 1:start + 3]] == [["Petani", 2], ["Pelajar", 1]]
    assert len(profile) == start + 3 or profile[start + 3][0] is None  # the section ends
    sheet = [[c.value for c in r] for r in wb["Pengolahan"].iter_rows()]
    (legend_row,) = [i for i, r in enumerate(sheet) if r[0] == "Nilai persepsi"]
    assert sheet[legend_row + 4][:5] == [4, "3,5324 - 4,00", "88,31 - 100,00", "A", "Sangat baik"]
    flat = [r[0] for r in sheet]
    assert "IKM (skala 1-4) = jumlah NRR tertimbang; nilai konversi = IKM x 25" in flat
