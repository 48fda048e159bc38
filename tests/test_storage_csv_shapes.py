# What an office's files really hold: ISO 8601 timestamps, codes or names in any case, XLSX
# workbooks, the reason of a duplikat/diteruskan row; and an export Excel opens correctly
# (XLSX with labels and real dates, CSV with a BOM and ";").
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from storage.complaints import DeadlinePolicy, by_ticket
from storage.csv_io import (
    IMPORT_COLUMNS,
    XLSX_HEADERS,
    export_complaints,
    export_complaints_xlsx,
    parse_local,
)
from storage.db import Database
from tests.test_storage_csv import CATEGORIES, GOOD, JAKARTA, count, run_import, write_csv

WITH_REASON = (*IMPORT_COLUMNS, "alasan")


def test_parse_local_reads_iso_8601_and_seconds() -> None:
    wib = datetime(2026, 12, 2, 8, 15, 30, tzinfo=JAKARTA)
    for text in ("2026-12-02T08:15:30", "2026-12-02 08:15:30", "02-12-2026 08:15:30",
                 "02/12/2026 08:15:30", "2026-12-02T08:15:30.000", "2026-12-02T01:15:30Z",
                 "2026-12-02T08:15:30+07:00", "2026-12-02T09:15:30+08:00"):
        assert parse_local(text, JAKARTA) == (wib, True), text
    assert parse_local("2026-12-02T08:15", JAKARTA) == (wib.replace(second=0), True)
    assert parse_local("2026-12-02", JAKARTA) == (datetime(2026, 12, 2, tzinfo=JAKARTA), False)
    for text in ("2026-12-02T25:00", "2026-12-02T", "2026-02-30T08:00", "02-12-2026T08:15"):
        assert parse_local(text, JAKARTA) is None, text


def test_codes_or_names_in_any_case_and_iso_timestamps(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    rows = [
        ["TRB-2026-00020", "2026-12-01T08:15:00", "SP4N-LAPOR!", "PENGADUAN", "minuman KERAS",
         "jelbuk", "Pesta miras", "Selesai", "2026-12-03T16:45:10"],
        ["TRB-2026-00021", "2026-12-02T01:00:00Z", "media sosial", "Aspirasi", "MIRAS",
         "Panduman", "Usul ronda", "Diverifikasi", ""],
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert report.errors == []
    with db.transaction() as s:
        done = by_ticket(s, "TRB-2026-00020")
        assert done is not None
        assert (done.channel, done.kind, done.category, done.status) == (
            "sp4n-lapor", "pengaduan", "miras", "selesai")
        assert done.received_at == datetime(2026, 12, 1, 1, 15, tzinfo=UTC)
        assert done.resolved_at == datetime(2026, 12, 3, 9, 45, 10, tzinfo=UTC)
        other = by_ticket(s, "TRB-2026-00021")
        assert other is not None
        assert (other.channel, other.category) == ("media-sosial", "miras")
        assert other.received_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 08:00 WIB


def test_an_unmapped_value_is_still_reported_by_line_and_column(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    rows = [GOOD[0], ["", "2026-12-02T08:15:00", "faks", "pengaduan", "Narkoba", "Jelbuk",
                      "x", "diterima", ""]]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert [(e.line, e.column) for e in report.errors] == [(3, "kanal"), (3, "kategori")]
    assert "Kanal tidak dikenal: 'faks'" in report.errors[0].message
    assert count(db) == 0


def test_a_postponed_row_is_refused_with_how_to_import_it(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    rows = [GOOD[0], ["", "2026-12-02T08:15:00", "lisan", "pengaduan", "miras", "Jelbuk",
                      "x", "Ditunda", ""]]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert [(e.line, e.column) for e in report.errors] == [(3, "status")]
    assert "Status Ditunda tidak bisa diimpor" in report.errors[0].message
    assert count(db) == 0


def write_xlsx(tmp_path: Path, rows: list[list[object]], header: tuple[str, ...] = IMPORT_COLUMNS) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([h.upper() for h in header])  # headers as an office types them
    for r in rows:
        sheet.append(r)
    path = tmp_path / "register.xlsx"
    book.save(path)
    return path


def test_complaints_import_from_xlsx(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [
        # Excel dates: a datetime cell, a date-only cell (midnight), and a typed text date.
        [None, datetime(2026, 12, 2, 8, 15), "WhatsApp", "pengaduan", "Perjudian", "Sukowiryo",  # noqa: DTZ001
         "Judi sabung ayam", "selesai", datetime(2026, 12, 4)],  # noqa: DTZ001
        ["TRB-2026-00030", "03/12/2026 09:30", "lisan", "aspirasi", "lainnya", "Jelbuk",
         "Usul lampu", "diterima", None],
    ])
    report = run_import(db, policy, path)
    assert report.errors == []
    assert report.imported == 2
    with db.transaction() as s:
        first = by_ticket(s, report.tickets[0])
        assert first is not None
        assert first.received_at == datetime(2026, 12, 2, 1, 15, tzinfo=UTC)
        assert first.resolved_at == datetime(2026, 12, 4, tzinfo=JAKARTA)
        assert (first.channel, first.category) == ("whatsapp", "judi")


def test_xlsx_errors_name_the_spreadsheet_row(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [
        [None, None, None, None, None, None, None, None, None],  # blank row: skipped
        [None, "kemarin", "lisan", "pengaduan", "miras", "Jelbuk", "x", "diterima", None],
    ])
    report = run_import(db, policy, path)
    assert [(e.line, e.column) for e in report.errors] == [(3, "diterima")]
    bad = tmp_path / "rusak.xlsx"
    bad.write_text("nomor,diterima\n")
    report = run_import(db, policy, bad)
    assert [(e.line, e.column) for e in report.errors] == [(1, "")]
    assert "XLSX tidak dapat dibaca" in report.errors[0].message


def test_duplikat_and_diteruskan_keep_their_reason(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    rows = [
        [*GOOD[0], ""],
        ["TRB-2026-00018", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk",
         "Pesta miras lagi", "duplikat", "", "trb-2026-00017"],
        ["TRB-2026-00019", "2026-12-02", "surat", "pengaduan", "lainnya", "Jelbuk",
         "Jalan rusak", "Diteruskan", "", "  Dinas PU Bina Marga "],
        ["TRB-2026-00022", "2026-12-02", "surat", "pengaduan", "lainnya", "Jelbuk",
         "Bukan wewenang", "ditolak", "", "Urusan perdata"],
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows, header=WITH_REASON))
    assert report.errors == []
    with db.transaction() as s:
        dup = by_ticket(s, "TRB-2026-00018")
        fwd = by_ticket(s, "TRB-2026-00019")
        rej = by_ticket(s, "TRB-2026-00022")
        assert dup is not None and fwd is not None and rej is not None
        assert dup.duplicate_of == "TRB-2026-00017"
        assert fwd.forwarded_to == "Dinas PU Bina Marga"
        assert rej.reject_reason == "Urusan perdata"


def test_a_duplikat_or_diteruskan_without_its_reason_is_reported_by_line(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    rows = [
        [*GOOD[0], ""],
        ["", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk", "a", "duplikat", "", ""],
        ["", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk", "b", "diteruskan", "", ""],
        ["", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk", "c", "duplikat", "", "TRB-2026-00999"],
        ["", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk", "d", "diterima", "", "kenapa"],
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows, header=WITH_REASON))
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "alasan"), (4, "alasan"), (5, "alasan"), (6, "alasan")]
    assert "Nomor tiket laporan asli wajib diisi" in report.errors[0].message
    assert "Instansi tujuan wajib diisi" in report.errors[1].message
    assert "TRB-2026-00999 tidak ada" in report.errors[2].message
    # Without the column at all, a duplikat row is reported the same way.
    plain = [GOOD[0], ["", "2026-12-02", "lisan", "pengaduan", "miras", "Jelbuk", "a", "duplikat", ""]]
    report = run_import(db, policy, write_csv(tmp_path, plain, name="tanpa.csv"))
    assert [(e.line, e.column) for e in report.errors] == [(3, "alasan")]
    assert count(db) == 0


def test_xlsx_export_has_labels_description_and_real_dates(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    assert run_import(db, policy, write_csv(tmp_path, GOOD)).imported == 4
    out = tmp_path / "register-keluar.xlsx"
    with db.transaction() as s:
        n = export_complaints_xlsx(s, out, policy=policy, categories=CATEGORIES, tz=JAKARTA,
                                   today=date(2026, 12, 20))
    assert n == 4
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == XLSX_HEADERS
    by = {r[0]: dict(zip(XLSX_HEADERS, r, strict=True)) for r in rows[1:]}
    done = by["TRB-2026-00017"]
    assert done["Diterima"] == datetime(2026, 12, 1, 0, 0)  # noqa: DTZ001
    assert done["Selesai"] == datetime(2026, 12, 4, 0, 0)  # noqa: DTZ001
    assert done["Batas verifikasi"] == datetime(2026, 12, 4)  # a date cell reads back at 00:00  # noqa: DTZ001
    assert (done["Kanal"], done["Jenis"], done["Kategori"], done["Status"]) == (
        "Lisan (datang langsung)", "Pengaduan", "Minuman keras", "Selesai")
    assert done["Uraian"] == "Pesta miras di pos ronda"
    assert (done["Hari kerja sampai selesai"], done["Tepat waktu"], done["Terlambat"]) == (3, "Ya", "Tidak")
    info = by["TRB-2026-00018"]
    assert info["Diterima"] == datetime(2026, 12, 2, 8, 15)  # local time, as Excel holds it  # noqa: DTZ001
    assert info["Jenis"] == "Permintaan informasi"
    assert info["Hari kerja sampai selesai"] is None
    # Dates are shown day first, as in Indonesia.
    cell = sheet.cell(row=2, column=XLSX_HEADERS.index("Diterima") + 1)
    assert cell.number_format == "dd/mm/yyyy hh:mm"
    assert sheet.cell(row=2, column=XLSX_HEADERS.index("Batas verifikasi") + 1).number_format == "dd/mm/yyyy"


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_export_with_semicolons(db: Database, policy: DeadlinePolicy, tmp_path: Path, delimiter: str) -> None:
    assert run_import(db, policy, write_csv(tmp_path, GOOD)).imported == 4
    out = io.StringIO(newline="")
    with db.transaction() as s:
        export_complaints(s, out, policy=policy, tz=JAKARTA, today=date(2026, 12, 20), delimiter=delimiter)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=delimiter))
    assert rows[0][:3] == ["nomor", "diterima", "kanal"]
    assert len(rows) == 5 and all(len(r) == len(rows[0]) for r in rows)
