# The SKM report as an Excel workbook, laid out as offices print it: "Pengolahan" (one row
# per respondent, one column per unsur U1..U9 in the standard form's order, then the sums,
# NRR, NRR tertimbang, IKM, its conversion, mutu and kinerja), "Profil" and "Saran".
# Invariants: written in openpyxl's write_only mode from streamed rows, so a million
# respondents never sit in memory; the footer figures are the SkmSummary's (database sums,
# exact arithmetic), not re-added from the rows; numeric cells are numbers with a number
# format (so the office can still compute with them) and the decimal comma comes from the
# reader's locale: an xlsx number format stores '.' as "the decimal separator", which Excel
# and LibreOffice set to Indonesian show as 91,48. Because a reader set to English would
# show 91.48, the headline figures (IKM, konversi) also get the Indonesian text beside them.
from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable, Iterator, Sequence
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from tqdm import tqdm

from bot.config.office import Office
from bot.reports.skm_summary import SkmSummary, formula_notes, legend
from bot.texts import angka, tanggal_pendek
from kpi.rounding import round_half_up
from kpi.skm_questionnaire import AGE_BANDS, PEKERJAAN, PENDIDIKAN, UNSUR
from storage import skm_stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

EXCEL_MAX_ROWS = 1_048_576
_HEADER_ROWS = 7  # title block (5) + two header rows
_FOOTER_ROWS = 18
MAX_RESPONDENTS = EXCEL_MAX_ROWS - _HEADER_ROWS - _FOOTER_ROWS

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEAD_FILL = PatternFill("solid", fgColor="D9D9D9")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
_DATE_FORMAT = "DD/MM/YYYY"
_INT_FORMAT = "#,##0"
_NRR_FORMAT = "0.000"
_KONVERSI_FORMAT = "0.00"
_PERCENT_FORMAT = "0.00%"
_DATA_COLS = 3  # No, Tanggal, Layanan before U1..U9

JENIS_KELAMIN_LABELS = {"L": "Laki-laki", "P": "Perempuan"}
AGE_BAND_LABELS = {
    "<=20": "20 tahun ke bawah",
    "21-30": "21-30 tahun",
    "31-40": "31-40 tahun",
    "41-50": "41-50 tahun",
    "51-60": "51-60 tahun",
    ">60": "di atas 60 tahun",
}
NOT_FILLED = "Tidak diisi"
UNSUR_NAMES = {u.code: u.nama for u in UNSUR}


class TooManyRowsError(ValueError):
    pass


# Style ids per workbook and style: setting font/border/format on a cell makes openpyxl hash
# the style objects to find their ids (measured: 70% of the export time), so each distinct
# style is resolved once and later cells copy its small array of ids.
_STYLE_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], StyleArray]] = (
    weakref.WeakKeyDictionary())


def _cell(ws: WriteOnlyWorksheet, value: Any, *, bold: bool = False, border: bool = False,
          fmt: str | None = None, align: Alignment | None = None, fill: bool = False,
          font: Font | None = None) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=value)
    key = (bold, border, fmt, id(align), fill, id(font))
    cache = _STYLE_CACHE.setdefault(ws.parent, {})
    style = cache.get(key)
    if style is not None:
        c._style = copy(style)
        return c
    if font is not None:
        c.font = font
    elif bold:
        c.font = _BOLD
    if border:
        c.border = _BORDER
    if fmt:
        c.number_format = fmt
    if align is not None:
        c.alignment = align
    if fill:
        c.fill = _HEAD_FILL
    cache[key] = copy(c._style)
    return c


def _cells_as_given(ws: WriteOnlyWorksheet) -> None:
    """Let ws.append take a row of the cells built by _cell as they are.

    openpyxl first tries each appended item as a value (cell.value = item), which for a cell
    raises a ValueError whose message formats the cell's repr, and then starts a new cell for
    the next column: a fifth of the export's time (bench/reports.py). A row with anything
    else in it still goes through openpyxl's own conversion; if a later openpyxl renames the
    private hook, this only stops saving time."""
    convert = ws._values_to_row

    def values_to_row(values: Sequence[Any], row_idx: int) -> Iterator[Cell]:
        if not all(isinstance(v, Cell) for v in values):
            yield from convert(values, row_idx)
            return
        for col_idx, cell in enumerate(values, 1):
            cell.column = col_idx
            cell.row = row_idx
            yield cell

    ws._values_to_row = values_to_row  # type: ignore[method-assign]


class _StyledCell(Cell):
    """A cell whose style id is resolved once: openpyxl looks it up (hashing the style) for
    every styled cell it writes, which the bare unstyled sheet never pays."""

    __slots__ = ("_style_id",)
    _style_id: int | None

    @property
    def style_id(self) -> int:
        # Resolved at the first write, as for any cell (a sheet without rows adds no style).
        if self._style_id is None:
            self._style_id = int(self.parent.parent._cell_styles.add(self._style))
        return self._style_id

    @property
    def has_style(self) -> bool:
        return True


def _data_row(ws: WriteOnlyWorksheet, *templates: WriteOnlyCell) -> Any:
    """A function of a row's values giving the cells to append, one reused cell per column,
    styled as its template (built by _cell). openpyxl's own append reuses one cell for a
    whole row the same way: a write-only sheet writes each appended row at once (the row
    goes to its XML stream inside ws.append), so no cell is still needed by the next row.
    Per respondent: a value set on each column's cell, instead of a new cell and a copy of
    its style (bench/reports.py measures the SKM xlsx beside a bare unstyled workbook)."""
    cells = []
    for template in templates:
        cell = _StyledCell(ws, row=1, column=1, style_array=copy(template._style))
        cell._style_id = None
        cells.append(cell)

    def row(values: Iterable[Any]) -> list[Cell]:
        for cell, value in zip(cells, values, strict=True):
            cell.value = value
        return cells

    return row


def _title_block(ws: WriteOnlyWorksheet, title: str, office: Office, summary: SkmSummary) -> None:
    p = summary.period
    service = office.service_name(summary.service) if summary.service else "Semua layanan"
    ws.append([_cell(ws, title, font=_TITLE)])
    ws.append([_cell(ws, office.name.upper(), bold=True)])
    ws.append([f"Periode: {p.label()} ({tanggal_pendek(p.first_day())} s.d. "
               f"{tanggal_pendek(p.last_day())})"])
    ws.append([f"Layanan: {service}"])
    ws.append([])


def _widths(ws: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _num(value: Any) -> float | None:
    # Fractions become the nearest double for the cell; the exact value is in the text beside.
    return None if value is None else float(value)


def _processing_sheet(wb: Workbook, session: Session, office: Office, summary: SkmSummary,
                      progress: bool) -> int:
    ws = wb.create_sheet("Pengolahan")
    _cells_as_given(ws)
    _widths(ws, [8, 12, 24] + [9] * len(UNSUR) + [14])
    ws.freeze_panes = "D8"
    ws.print_title_rows = "6:7"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    _title_block(ws, "PENGOLAHAN DATA SURVEI KEPUASAN MASYARAKAT PER RESPONDEN DAN PER UNSUR",
                 office, summary)
    ws.append([_cell(ws, h, bold=True, border=True, align=_CENTER, fill=True)
               for h in ["No.", "Tanggal", "Jenis layanan", *(u.code.upper() for u in UNSUR)]])
    ws.append([_cell(ws, "", border=True, fill=True) for _ in range(_DATA_COLS)]
              + [_cell(ws, u.nama, border=True, align=_CENTER, fill=True,
                       font=Font(size=8)) for u in UNSUR])

    names = {sv.code: sv.name for sv in office.services}
    p = summary.period
    rows = skm_stats.iter_answers(session, p.first_day(), p.last_day(), summary.service)
    bar = tqdm(total=summary.respondents, desc="Lembar Pengolahan", unit=" responden",
               file=sys.stderr, disable=None if progress else True, mininterval=0.5)
    written = 0
    data = _data_row(ws, _cell(ws, None, border=True), _cell(ws, None, border=True, fmt=_DATE_FORMAT),
                     _cell(ws, None, border=True),
                     *(_cell(ws, None, border=True, align=_CENTER) for _ in UNSUR))
    append = ws.append
    with bar:
        for tanggal, service, *answers in rows:
            written += 1
            append(data((written, tanggal, names.get(service, service), *answers)))
            if written % 1000 == 0:
                bar.update(1000)
        bar.update(written % 1000)

    result = summary.result
    codes = [u.code for u in UNSUR]

    def footer(label: str, values: Iterable[Any], fmt: str) -> None:
        ws.append([_cell(ws, label, bold=True, border=True), _cell(ws, None, border=True),
                   _cell(ws, None, border=True)]
                  + [_cell(ws, v, border=True, fmt=fmt, bold=True, align=_CENTER) for v in values])

    totals = skm_stats.unsur_totals(session, p.first_day(), p.last_day(), summary.service)
    footer("Jumlah nilai per unsur", (totals.sums[c] for c in codes), _INT_FORMAT)
    footer("Jumlah responden menjawab", (totals.counts[c] for c in codes), _INT_FORMAT)
    footer("NRR per unsur", ((_num(result.nrr[c]) if result else None) for c in codes), _NRR_FORMAT)
    footer("NRR tertimbang per unsur",
           ((_num(result.nrr_tertimbang[c]) if result else None) for c in codes), _NRR_FORMAT)
    ws.append([])

    def line(label: str, value: Any, fmt: str | None = None, text: str | None = None) -> None:
        cells = [_cell(ws, label, bold=True), None, None,
                 _cell(ws, value, bold=True, fmt=fmt, border=True, align=_CENTER)]
        if text is not None:
            cells.append(_cell(ws, text))
        ws.append(cells)

    if result is not None:
        ikm3 = round_half_up(result.ikm, 3)
        line("IKM (jumlah NRR tertimbang, skala 1-4)", _num(result.ikm), _NRR_FORMAT, angka(ikm3, 3))
        line("Konversi IKM (IKM x 25, skala 25-100)", result.konversi, _KONVERSI_FORMAT,
             angka(result.konversi, 2))
        # The 1-4 value the grade is taken from: the rounded converted value / 25.
        line("IKM untuk penetapan mutu (konversi / 25)", result.ikm_shown, "0.0000",
             angka(result.ikm_shown, 4))
        line("Mutu pelayanan", result.mutu)
        line("Kinerja unit pelayanan", result.kinerja)
        for label, code in (("Unsur terendah", result.lowest), ("Unsur tertinggi", result.highest)):
            nrr = result.nrr[code]
            line(label, code.upper(), None,
                 f"{UNSUR_NAMES[code]} (NRR {angka(round_half_up(nrr, 3), 3) if nrr else '-'})")
    else:
        line("IKM", "-")
        line("Keterangan", "Belum ada jawaban survei pada periode ini.")
    ws.append([])
    line("Jumlah responden", summary.respondents, _INT_FORMAT)
    if summary.required_sample is not None:
        line("Sampel minimum (Krejcie-Morgan)", summary.required_sample, _INT_FORMAT,
             f"populasi {angka(summary.population or 0, 0)}; "
             + ("memadai" if summary.sample_adequate else "belum memadai"))
    ws.append([f"Bobot per unsur: {summary.weight_setting.replace('.', ',')}. Angka desimal "
               "ditulis sebagai bilangan; tanda koma mengikuti pengaturan bahasa pembaca."])
    # The legend and formula notes the standard processing sheet carries (PermenPANRB 14/2017).
    ws.append([])
    ws.append([_cell(ws, h, bold=True, border=True, fill=True, align=_CENTER)
               for h in ("Nilai persepsi", "Interval IKM", "Interval konversi", "Mutu pelayanan",
                         "Kinerja unit pelayanan")])
    for g in legend():
        ws.append([_cell(ws, g["persepsi"], border=True, align=_CENTER),
                   _cell(ws, f"{angka(g['ikm_dari'], g['ikm_dari_desimal'])} - "
                             f"{angka(g['ikm_sampai'], g['ikm_sampai_desimal'])}", border=True),
                   _cell(ws, f"{angka(g['konversi_dari'])} - {angka(g['konversi_sampai'])}", border=True),
                   _cell(ws, g["mutu"], border=True, align=_CENTER), _cell(ws, g["kinerja"], border=True)])
    for note in formula_notes(summary.weight_setting):
        ws.append([note])
    return written


def _profile_rows(counts: dict[str | None, int], order: Sequence[str],
                  labels: dict[str, str] | None = None) -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    # Values of the form first in its order (case-insensitive match), then anything else the
    # register holds, then the blanks.
    by_key = {k.casefold(): k for k in counts if k is not None}
    seen: set[str] = set()
    for value in order:
        key = by_key.get(value.casefold())
        n = counts.get(key, 0) if key is not None else 0
        rows.append(((labels or {}).get(value, value), n))
        if key is not None:
            seen.add(key)
    for key in sorted(k for k in counts if k is not None and k not in seen):
        rows.append((key, counts[key]))
    if counts.get(None):
        rows.append((NOT_FILLED, counts[None]))
    return rows


def _profile_sheet(wb: Workbook, session: Session, office: Office, summary: SkmSummary) -> None:
    ws = wb.create_sheet("Profil")
    _widths(ws, [30, 14, 14])
    _title_block(ws, "PROFIL RESPONDEN SURVEI KEPUASAN MASYARAKAT", office, summary)
    p = summary.period
    prof = skm_stats.profile_counts(session, p.first_day(), p.last_day(), summary.service)
    sections = [
        ("Jenis kelamin", _profile_rows(prof.jenis_kelamin, list(JENIS_KELAMIN_LABELS),
                                        JENIS_KELAMIN_LABELS)),
        ("Usia", _profile_rows(prof.usia, list(AGE_BANDS), AGE_BAND_LABELS)),
        ("Pendidikan", _profile_rows(prof.pendidikan, PENDIDIKAN)),
        ("Pekerjaan", _profile_rows(prof.pekerjaan, PEKERJAAN)),
    ]
    total = summary.respondents
    for title, rows in sections:
        ws.append([_cell(ws, h, bold=True, border=True, fill=True, align=_CENTER)
                   for h in (title, "Jumlah", "Persentase")])
        for label, n in rows:
            ws.append([_cell(ws, label, border=True), _cell(ws, n, border=True, fmt=_INT_FORMAT),
                       _cell(ws, n / total if total else 0, border=True, fmt=_PERCENT_FORMAT)])
        ws.append([_cell(ws, "Jumlah", bold=True, border=True),
                   _cell(ws, total, bold=True, border=True, fmt=_INT_FORMAT),
                   _cell(ws, 1 if total else 0, bold=True, border=True, fmt=_PERCENT_FORMAT)])
        ws.append([])
    # UU 27/2022 Pasal 25: answers of respondents under the age limit are kept only with a
    # parent's or guardian's consent; the count shows the rule was followed.
    ws.append([_cell(ws, "Di bawah batas usia, dengan persetujuan orang tua/wali", border=True),
               _cell(ws, prof.persetujuan_wali, border=True, fmt=_INT_FORMAT)])
    ws.append([])
    # What "Lainnya" respondents wrote (Petani, Pelajar ...), most frequent first; "Petani"
    # and "petani" are one occupation, shown in its most frequent spelling.
    grouped: dict[str, list[tuple[str, int]]] = {}
    for text, n in sorted((k, n) for k, n in prof.pekerjaan_lainnya.items() if k is not None):
        grouped.setdefault(text.casefold(), []).append((text, n))
    others = sorted(((max(spellings, key=lambda sp: sp[1])[0], sum(n for _, n in spellings))
                     for spellings in grouped.values()), key=lambda item: (-item[1], item[0].casefold()))
    if others:
        ws.append([_cell(ws, h, bold=True, border=True, fill=True, align=_CENTER)
                   for h in ("Pekerjaan lainnya (isian)", "Jumlah")])
        for label, n in others:
            ws.append([_cell(ws, label, border=True), _cell(ws, n, border=True, fmt=_INT_FORMAT)])
        ws.append([])


def _suggestion_sheet(wb: Workbook, session: Session, office: Office, summary: SkmSummary) -> int:
    ws = wb.create_sheet("Saran")
    _cells_as_given(ws)
    _widths(ws, [6, 12, 24, 90])
    ws.print_title_rows = "6:6"
    _title_block(ws, "KRITIK DAN SARAN RESPONDEN", office, summary)
    ws.append([_cell(ws, h, bold=True, border=True, fill=True, align=_CENTER)
               for h in ("No.", "Tanggal", "Jenis layanan", "Kritik dan saran")])
    names = {sv.code: sv.name for sv in office.services}
    p = summary.period
    n = 0
    data = _data_row(ws, _cell(ws, None, border=True, align=_WRAP),
                     _cell(ws, None, border=True, fmt=_DATE_FORMAT, align=_WRAP),
                     _cell(ws, None, border=True, align=_WRAP), _cell(ws, None, border=True, align=_WRAP))
    for s in skm_stats.iter_suggestions(session, p.first_day(), p.last_day(), summary.service):
        n += 1
        ws.append(data((n, s.tanggal, names.get(s.service, s.service), s.saran)))
    if n == 0:
        ws.append(["Tidak ada kritik atau saran tertulis pada periode ini."])
    return n


def write_report_xlsx(path: Path, session: Session, office: Office, summary: SkmSummary,
                      *, progress: bool = True) -> int:
    """Write the workbook; returns the respondent rows written to "Pengolahan"."""
    if summary.respondents > MAX_RESPONDENTS:
        raise TooManyRowsError(
            f"Jumlah responden {angka(summary.respondents, 0)} melebihi batas satu lembar Excel "
            f"({angka(MAX_RESPONDENTS, 0)} baris). Buat laporan per layanan atau per triwulan.")
    wb = Workbook(write_only=True)
    written = _processing_sheet(wb, session, office, summary, progress)
    _profile_sheet(wb, session, office, summary)
    _suggestion_sheet(wb, session, office, summary)
    wb.save(path)
    return written


__all__ = ["MAX_RESPONDENTS", "TooManyRowsError", "write_report_xlsx"]

