# The IKU table as an Excel workbook (openpyxl), LKjIP style: a header with the office and
# the year, one row per indicator (sasaran, indikator, satuan, target, realisasi triwulan
# I-IV, s.d. triwulan ini, capaian, kategori), and a second sheet listing the complaints
# left out of IKU 4 with their reasons.
# Invariants: cells hold numbers (not text), rounded half up as the report shows them
# (counts whole, the rest 2 decimals), so a sum in Excel matches the printed figures; the
# number format leaves the decimal separator to the reader's Excel locale.
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bot.config.office import Office
from bot.reports.iku_report import IkuRow, shown
from bot.reports.skm_official import add_official_sheet
from bot.texts import tanggal

HEADERS = (
    "No", "Sasaran strategis", "Indikator kinerja", "Satuan", "Target",
    "Realisasi TW I", "Realisasi TW II", "Realisasi TW III", "Realisasi TW IV",
    "Realisasi s.d. triwulan ini", "Capaian (%)", "Kategori",
)
WIDTHS = (5, 38, 52, 10, 10, 12, 12, 12, 12, 14, 12, 16)
_THIN = Side(style="thin")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_ROW = 4


def _number(value: Decimal | None, kind: str) -> Decimal | None:
    return shown(value, kind)


def write_iku_xlsx(path: Path, rows: Sequence[IkuRow], office: Office, year: int, today: date) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"IKU {year}"
    ws["A1"] = f"PENGUKURAN KINERJA {office.name.upper()}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"Tahun {year}, keadaan {tanggal(min(today, date(year, 12, 31)))}"
    ws["A2"].font = Font(italic=True)
    iku4 = next((r.detail for r in rows if r.detail.get("sumber") == "pengaduan"), None)
    if iku4 is not None and iku4.get("definisi"):
        # Which definition produced the IKU 4 number (README "The IKU 4 definition in use").
        ws["A3"] = (f"Definisi IKU 4 ({iku4['definisi']}): {iku4['definisi_rumus']}; "
                    "status per tanggal keadaan, dari riwayat status.")
        ws["A3"].font = Font(italic=True)
    for col, (title, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=title)
        cell.font = Font(bold=True)
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, r in enumerate(rows, start=1):
        line = HEADER_ROW + i
        values = (
            i, r.sasaran, f"{r.code} {r.name}", r.unit, _number(r.target, r.kind),
            *(_number(r.realisation.get(k), r.kind) for k in ("q1", "q2", "q3", "q4", "ytd")),
            _number(r.capaian, "rasio"), r.band or "",
        )
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=line, column=col, value=value)
            cell.border = BORDER
            cell.alignment = Alignment(vertical="top", wrap_text=col in (2, 3))
            if 5 <= col <= 11:
                cell.number_format = "#,##0" if r.kind == "jumlah" and col != 11 else "#,##0.00"
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)

    excluded = next((r.detail.get("excluded") for r in rows if r.detail.get("sumber") == "pengaduan"), None)
    ex = wb.create_sheet("Pengecualian IKU 4")
    for col, (title, width) in enumerate(
        zip(("Nomor tiket", "Status", "Alasan"), (18, 14, 60), strict=True), start=1
    ):
        cell = ex.cell(row=1, column=col, value=title)
        cell.font = Font(bold=True)
        cell.border = BORDER
        ex.column_dimensions[get_column_letter(col)].width = width
    for i, e in enumerate(excluded or [], start=2):
        for col, value in enumerate((e.ticket, e.status, e.reason), start=1):
            ex.cell(row=i, column=col, value=value).border = BORDER
    add_official_sheet(wb, rows)  # IKU 2: official e-SUKMA figures beside SIGAP's own
    wb.save(path)
