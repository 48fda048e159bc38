# Paper SKM questionnaires in bulk: `sigap skm import FILE` (CSV or XLSX).
# Invariants: every row is checked before anything is written, and reported by its line (the
# header is line 1) and column in Indonesian; a file with a bad row imports nothing unless
# the officer asks to skip the bad rows; the file is read twice (check, then write) instead
# of being held in memory, and the write is one transaction of chunked executemany inserts,
# so a large file neither fills memory nor half-lands; answers are stored by unsur code in
# the standard form's order (u8 sarana dan prasarana, u9 penanganan pengaduan); paper forms
# have no respondent key and no identity.
from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tqdm import tqdm

from bot.config.office import Office
from kpi.periods import period_of_date
from kpi.skm_profile import (
    PEKERJAAN_LAINNYA_LIMIT,
    jenis_kelamin_class,
    pekerjaan_class,
    pendidikan_class,
)
from kpi.skm_questionnaire import JENIS_KELAMIN, PENDIDIKAN, SCORES, UNSUR_CODES
from storage import people
from storage.csv_io import RowError
from storage.setting_keys import setting_key
from storage.skm import insert_responses

if TYPE_CHECKING:
    from storage.db import Database

COLUMNS: tuple[str, ...] = (
    "tanggal", "jenis_layanan", "jenis_kelamin", "usia", "pendidikan", "pekerjaan",
    *UNSUR_CODES, "saran",
)
SOURCE = "kertas"
MAX_AGE = 120
MAX_SARAN = 5000
# Day first, as Indonesian forms write it; ISO 8601 is tried first (datetime.fromisoformat).
_DATE_FORMATS = tuple(f"{d}{t}" for d in ("%d/%m/%Y", "%d-%m-%Y")
                      for t in ("", " %H:%M", " %H:%M:%S", " %H.%M", " %H.%M.%S"))
_XLSX_SUFFIXES = (".xlsx", ".xlsm")


class FileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, header)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass
class SkmImportReport:
    rows: int = 0  # data rows read (blank rows are not counted)
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)  # lines with at least one error
    file_error: bool = False  # the file itself could not be read: nothing can be imported

    @property
    def ok(self) -> bool:
        return not self.errors


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _header_key(text: Any) -> str:
    # "Jenis Layanan", "jenis-layanan" and "U1" all name their column.
    return "_".join(str(text or "").replace("-", " ").split()).casefold()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # XLSX numbers come back as 4.0
    return str(value).strip()


# ------------------------------------------------------------------------------ reading


def _csv_records(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            delimiter = ";" if first.count(";") > first.count(",") else ","
            fh.seek(0)  # the utf-8-sig decoder drops the BOM again after the rewind
            reader = csv.reader(fh, delimiter=delimiter)
            start = 1
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield start, cells
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise FileProblem([RowError(0, "", "Berkas harus ber-encoding UTF-8 (simpan ulang sebagai "
                                           "'CSV UTF-8'); ada karakter yang tidak terbaca.")]) from exc
    except csv.Error as exc:
        raise FileProblem([RowError(0, "", f"Berkas CSV tidak dapat dibaca: {exc}.")]) from exc


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise FileProblem([RowError(0, "", f"Berkas XLSX tidak dapat dibaca: {exc}.")]) from exc
    try:
        ws = wb.worksheets[0]
        for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(values)
            if any(_text(c) for c in cells):
                yield line, cells
    finally:
        wb.close()


def records(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) of every non-blank row, the header first."""
    if not path.is_file():
        raise FileProblem([RowError(0, "", f"Berkas tidak ditemukan: {path}.")])
    if path.suffix.lower() in _XLSX_SUFFIXES:
        return _xlsx_records(path)
    return _csv_records(path)


# Other names offices' files give the columns (a form export's "Timestamp", "Layanan").
HEADER_ALIASES = {
    "timestamp": "tanggal", "waktu": "tanggal", "tanggal_survei": "tanggal", "cap_waktu": "tanggal",
    "layanan": "jenis_layanan", "kelamin": "jenis_kelamin", "umur": "usia",
    "pendidikan_terakhir": "pendidikan", "pekerjaan_utama": "pekerjaan",
}


def _header(line: int, cells: list[Any]) -> dict[str, int]:
    keys = [_header_key(c) for c in cells]
    # An alias counts only when the standard name is absent (never two columns for one).
    keys = [HEADER_ALIASES[k] if k in HEADER_ALIASES and HEADER_ALIASES[k] not in keys else k
            for k in keys]
    errors = [RowError(line, col, f"Kolom '{col}' tidak ada di baris judul.")
              for col in COLUMNS if col not in keys]
    errors += [RowError(line, col, f"Kolom '{col}' muncul lebih dari sekali.")
               for col in COLUMNS if keys.count(col) > 1]
    if errors:
        raise FileProblem(errors)
    return {col: keys.index(col) for col in COLUMNS}


def rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, {column: raw value}) of every data row; raises FileProblem for the file."""
    it = records(path)
    first = next(it, None)
    if first is None:
        raise FileProblem([RowError(1, "", "Berkas kosong: baris judul kolom tidak ada.")])
    index = _header(*first)
    for line, cells in it:
        yield line, {col: (cells[i] if i < len(cells) else None) for col, i in index.items()}


# ------------------------------------------------------------------------------ checking


class RowChecker:
    def __init__(self, office: Office, today: date, *, file_name: str, now: datetime) -> None:
        self.office = office
        self.today = today
        self.now = now
        self.recorded_by = f"impor:{file_name}"[:200]
        self.services: dict[str, str] = {}
        for sv in office.services:
            self.services.setdefault(_key(sv.code), sv.code)
            self.services.setdefault(_key(sv.name), sv.code)

    def check(self, line: int, cells: dict[str, Any], errors: list[RowError]) -> dict[str, Any] | None:
        """The row to insert, or None after appending its errors (every column is checked)."""
        before = len(errors)

        def bad(column: str, message: str) -> None:
            errors.append(RowError(line, column, message))

        tanggal = self._date(cells["tanggal"], bad)
        service = self._service(cells["jenis_layanan"], bad)
        jk = self._choice("jenis_kelamin", cells["jenis_kelamin"], jenis_kelamin_class, "Jenis kelamin",
                          [*JENIS_KELAMIN, "Laki-laki", "Perempuan"], bad)
        usia = self._age(cells["usia"], bad)
        pendidikan = self._choice("pendidikan", cells["pendidikan"], pendidikan_class, "Pendidikan",
                                  [*PENDIDIKAN, "atau sebutan setara (SLTA, SMK, MA, D3, D4, S-1, ...)"], bad)
        pekerjaan, pekerjaan_lainnya = self._occupation(cells["pekerjaan"], bad)
        answers: dict[str, int | None] = {}
        for code in UNSUR_CODES:
            answers[code] = self._answer(code, cells[code], bad)
        if all(_text(cells[c]) == "" for c in UNSUR_CODES):
            bad("u1", "Semua jawaban u1 sampai u9 kosong: kuesioner tanpa jawaban tidak diimpor.")
        saran = _text(cells["saran"]) or None
        if saran is not None and len(saran) > MAX_SARAN:
            bad("saran", f"Saran paling banyak {MAX_SARAN} karakter (ada {len(saran)}).")
        if len(errors) > before or tanggal is None or service is None:
            return None
        return {
            "source": SOURCE,
            "respondent_key": None,
            "service": service,
            "period": period_of_date(self.office.skm_period, tanggal).code,
            "tanggal": tanggal,
            "answered_at": self.now,
            "consent_at": None,
            "jenis_kelamin": jk,
            "usia": usia,
            "pendidikan": pendidikan,
            "pekerjaan": pekerjaan,
            "pekerjaan_lainnya": pekerjaan_lainnya,
            **answers,
            "saran": saran,
            "recorded_by": self.recorded_by,
            "created_at": self.now,
        }

    def _date(self, raw: Any, bad: Any) -> date | None:
        value: date | None = None
        if isinstance(raw, datetime):
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        else:
            text = _text(raw)
            if not text:
                bad("tanggal", "Tanggal wajib diisi.")
                return None
            value = self._parse_date(text)
            if value is None:
                bad("tanggal", f"Tanggal '{text}' tidak dikenali. Gunakan TTTT-BB-HH, HH/BB/TTTT "
                               "atau HH-BB-TTTT, boleh dengan jam (2026-08-03T09:15:00, "
                               "03/08/2026 09:15).")
                return None
        if value > self.today:
            bad("tanggal", f"Tanggal {value:%d-%m-%Y} ada di masa depan.")
            return None
        return value

    def _parse_date(self, text: str) -> date | None:
        """The local survey date of what was written: ISO 8601 with or without time ("T" or a
        space, seconds, "Z" or an offset), or day first with or without a time."""
        parsed: datetime | None = None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - local, as written
                    break
                except ValueError:
                    continue
        if parsed is None:
            return None
        if parsed.tzinfo is not None:
            # A timestamp with its offset (a form export in UTC): the office's local day.
            parsed = parsed.astimezone(ZoneInfo(self.office.timezone))
        return parsed.date()

    def _service(self, raw: Any, bad: Any) -> str | None:
        text = _text(raw)
        if not text:
            bad("jenis_layanan", "Jenis layanan wajib diisi.")
            return None
        code = self.services.get(_key(text))
        if code is None:
            known = ", ".join(f"{sv.code} ({sv.name})" for sv in self.office.services)
            bad("jenis_layanan", f"Jenis layanan tidak dikenal: '{text}'. Pilihan: {known}.")
        return code

    @staticmethod
    def _choice(column: str, raw: Any, lookup: Callable[[str], str | None], what: str, options: Any,
                bad: Any) -> str | None:
        text = _text(raw)
        if not text:
            return None  # left blank on the form
        found = lookup(text)
        if found is None:
            bad(column, f"{what} tidak dikenal: '{text}'. Pilihan: {', '.join(options)}.")
        return found

    @staticmethod
    def _occupation(raw: Any, bad: Any) -> tuple[str | None, str | None]:
        text = _text(raw)
        if not text:
            return None, None
        found = pekerjaan_class(text)
        if found is None:
            bad("pekerjaan", f"Pekerjaan lainnya paling banyak {PEKERJAAN_LAINNYA_LIMIT} karakter "
                             f"(ada {len(text)}).")
            return None, None
        return found

    @staticmethod
    def _integer(raw: Any) -> int | None:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float):
            return int(raw) if raw.is_integer() else None
        text = _text(raw)
        return int(text) if text.isascii() and text.isdigit() else None

    def _age(self, raw: Any, bad: Any) -> int | None:
        if _text(raw) == "":
            return None
        value = self._integer(raw)
        if value is None or not 0 <= value <= MAX_AGE:
            bad("usia", f"Usia harus bilangan bulat 0 sampai {MAX_AGE}, bukan '{_text(raw)}'.")
            return None
        return value

    def _answer(self, code: str, raw: Any, bad: Any) -> int | None:
        if _text(raw) == "":
            return None  # unanswered: left out of that unsur's NRR
        value = self._integer(raw)
        if value not in SCORES:
            bad(code, f"Jawaban {code} harus 1, 2, 3 atau 4, bukan '{_text(raw)}'.")
            return None
        return value


# ------------------------------------------------------------------------------ importing


def _bar(desc: str, total: int | None, progress: bool) -> tqdm:
    # disable=None: shown only when stderr is a terminal, so logs and tests stay clean.
    return tqdm(total=total, desc=desc, unit=" baris", file=sys.stderr, mininterval=0.5,
                disable=None if progress else True)


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_skm_file(db: Database, path: Path, office: Office, *, now: datetime, today: date,
                    skip_invalid: bool = False, progress: bool = True, again: bool = False) -> SkmImportReport:
    """Check every row of `path`; then, if it is clean (or skip_invalid), insert the good rows
    in one transaction. report.imported is what was written (0 when nothing was).

    The same file (by content) is imported once: paper forms carry no respondent, so nothing
    else would stop a pile from being counted twice. `again` overrides this."""
    report = SkmImportReport()
    try:
        seen_key = setting_key("skm_impor", _fingerprint(path))
    except OSError:
        seen_key = ""  # unreadable: rows() below reports it in Indonesian
    if seen_key and not again:
        with db.reading() as session:
            seen = people.get_setting(session, seen_key)
        if seen is not None:
            report.errors.append(RowError(0, "", f"Berkas yang sama sudah pernah diimpor ({seen}). "
                                                 "Ulangi dengan --ulang bila memang ingin mengimpornya lagi."))
            report.file_error = True
            return report
    checker = RowChecker(office, today, file_name=path.name, now=now)
    good = 0
    try:
        with _bar("Memeriksa", None, progress) as bar:
            for line, cells in rows(path):
                report.rows += 1
                before = len(report.errors)
                if checker.check(line, cells, report.errors) is not None:
                    good += 1
                elif len(report.errors) > before:
                    report.bad_lines.append(line)
                bar.update(1)
    except FileProblem as exc:
        report.errors.extend(exc.errors)
        report.file_error = True
        return report
    if report.rows == 0:
        report.errors.append(RowError(1, "", "Berkas tidak berisi satu baris jawaban pun."))
        report.file_error = True
        return report
    if (report.errors and not skip_invalid) or good == 0:
        return report

    def good_rows() -> Iterator[dict[str, Any]]:
        errors: list[RowError] = []
        for line, cells in rows(path):
            row = checker.check(line, cells, errors)
            if row is not None:
                yield row
                bar.update(1)
        if len(errors) != len(report.errors):
            # The file changed between the two readings: roll the whole import back.
            raise FileProblem([RowError(0, "", "Berkas berubah selama impor; ulangi impor.")])

    try:
        with _bar("Mengimpor", good, progress) as bar, db.transaction() as session:
            report.imported = insert_responses(session, good_rows())
            if seen_key:
                people.set_setting(session, seen_key, f"{path.name}, {report.imported} kuesioner, {now:%Y-%m-%d %H:%M} UTC", now)
    except FileProblem as exc:
        report.errors.extend(exc.errors)
        report.file_error = True
        report.imported = 0
    return report


__all__ = ["COLUMNS", "FileProblem", "RowChecker", "SkmImportReport", "import_skm_file", "rows"]
