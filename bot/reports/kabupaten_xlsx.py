# The kabupaten IKU table as an Excel workbook: one row per IKU, for each kecamatan its
# realisation (year to date), capaian and rank, then the kabupaten figure.
# Invariants: cells hold numbers rounded half up as the report shows them (bot.reports.
# iku_report.shown), so the workbook and the chat/terminal table agree; a missing figure is an
# empty cell and the Keterangan column says why (official IKM not pooled, frozen without parts).
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from bot.reports.iku_report import shown
from bot.reports.kabupaten import KabupatenRow
from bot.texts import tanggal

_THIN = Side(style="thin")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
GROUP_ROW, HEADER_ROW = 4, 5
PER_KECAMATAN = ("Realisasi", "Capaian (%)", "Peringkat")


def _header(ws, row: int, col: int, value: str, width: float | None = None) -> None:  # type: ignore[no-untyped-def]
    cell = ws.cell(row=row, column=col, value=value)
    cell.font = Font(bold=True)
    cell.border = BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if width is not None:
        ws.column_dimensions[get_column_letter(col)].width = width


def write_kabupaten_xlsx(path: Path, rows: Sequence[KabupatenRow], kabupaten: str, year: int, today: date) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"IKU Kecamatan {year}"
    ws["A1"] = f"PENGUKURAN KINERJA KECAMATAN SE-{kabupaten.upper()}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = (f"Tahun {year}, keadaan {tanggal(min(today, date(year, 12, 31)))}; peringkat menurut capaian, "
                "angka kabupaten dari jumlah pembilang dan penyebut semua kecamatan")
    ws["A2"].font = Font(italic=True)
    kecamatan = [(c.kode, c.nama) for c in rows[0].cells] if rows else []
    for col, (title, width) in enumerate((("No", 5), ("Indikator kinerja", 48), ("Satuan", 10)), start=1):
        ws.merge_cells(start_row=GROUP_ROW, start_column=col, end_row=HEADER_ROW, end_column=col)
        _header(ws, GROUP_ROW, col, title, width)
    col = 4
    for kode, nama in kecamatan:
        ws.merge_cells(start_row=GROUP_ROW, start_column=col, end_row=GROUP_ROW, end_column=col + 2)
        _header(ws, GROUP_ROW, col, f"{nama} ({kode})")
        for j, title in enumerate(PER_KECAMATAN):
            _header(ws, HEADER_ROW, col + j, title, 11)
        col += 3
    for title, width in (("Kabupaten", 12), ("Keterangan", 40)):
        ws.merge_cells(start_row=GROUP_ROW, start_column=col, end_row=HEADER_ROW, end_column=col)
        _header(ws, GROUP_ROW, col, title, width)
        col += 1
    for i, r in enumerate(rows, start=1):
        values: list[object] = [i, f"{r.code} {r.name}", r.unit]
        for c in r.cells:
            values += [shown(c.realisation, r.kind), shown(c.capaian, "rasio"), c.rank]
        values += [shown(r.kabupaten, r.kind), r.note or ""]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=HEADER_ROW + i, column=col, value=value)
            cell.border = BORDER
            cell.alignment = Alignment(vertical="top", wrap_text=col in (2, len(values)))
            if isinstance(value, (int, float)) or value is None:
                is_rank = col >= 4 and col < 4 + 3 * len(r.cells) and (col - 4) % 3 == 2
                whole = is_rank or col == 1 or (r.kind == "jumlah" and (col - 4) % 3 == 0)
                cell.number_format = "0" if whole else "#,##0.00"
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=4)
    wb.save(path)
