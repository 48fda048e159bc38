# The office's register in and out as CSV: importing the older spreadsheet register, and
# exporting the register for the office's own reports (CSV, or XLSX for Excel).
# Invariants: an import checks every row before it writes anything; if one row is bad,
# nothing is imported and every bad row is reported with its line (the header is line 1),
# its column and an Indonesian message. Imported tickets that follow PREFIX-YYYY-NNNNN keep
# their number and new intakes continue after the highest one. Each imported complaint gets
# exactly one history row, written by "sistem". The export never carries the reporter's
# identity (the CSV not the description either, which may be rahasia; the XLSX, for the
# office's own files, carries it) and streams rows from the database.
# An import reads CSV (UTF-8, "," or ";") or XLSX (first sheet); dates may be ISO 8601
# ("2026-12-02T08:15:30", with "Z" or an offset), "TTTT-BB-HH", "HH-BB-TTTT" or "HH/BB/TTTT",
# with or without a time; kanal, jenis, kategori and status by code or by name, any case.
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from kpi.workdays import WorkingDayCount
from storage import tenancy
from storage.complaints import (
    CHANNELS,
    KINDS,
    MAX_DESCRIPTION,
    DeadlinePolicy,
    format_ticket,
    next_seq,
    parse_ticket,
    reserve_seq_at_least,
)
from storage.lifecycle import (
    CLOSED_UNRESOLVED,
    DITERIMA,
    DITERUSKAN,
    DITOLAK,
    DITUNDA,
    DIVERIFIKASI,
    DUPLIKAT,
    OPEN_STATUSES,
    SELESAI,
    STATUS_LABELS,
    STATUSES,
    due_of_status,
)
from storage.models import Complaint, Officer, StatusChange

JAKARTA = ZoneInfo("Asia/Jakarta")

IMPORT_COLUMNS = (
    "nomor", "diterima", "kanal", "jenis", "kategori", "desa", "uraian", "status", "selesai_pada",
)
EXPORT_COLUMNS = (
    "nomor", "diterima", "kanal", "jenis", "kategori", "desa", "status",
    "batas_verifikasi", "batas_tindak_lanjut", "diverifikasi_pada", "ditindaklanjuti_pada",
    "selesai_pada", "hari_kerja_sampai_selesai", "tepat_waktu", "terlambat", "dibuka_kembali",
    # The deadline clock: the resolution deadline in effect, and "ya" while an open complaint
    # is past the deadline of its current status (storage.complaints.is_overdue).
    "batas_penyelesaian", "lewat_batas",
    # The officer assigned to it (storage/assignment.py), by name; empty when none.
    "petugas",
)
# Optional: why a complaint was closed without being resolved. Required for duplikat (the
# original ticket) and diteruskan (the agency it went to); for ditolak, the reason if known.
REASON_COLUMN = "alasan"
IMPORT_ACTOR = "impor CSV"
IMPORT_NOTE = "Diimpor dari register lama"
MAX_TICKET = 32  # Complaint.ticket is String(32)
MAX_FORWARDED_TO = 200  # Complaint.forwarded_to is String(200)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S")
# ISO 8601 as spreadsheets and other systems write it: "T" or a space, seconds and fractions
# optional, "Z" or an offset optional (then converted to the office's time zone).
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_LOCAL_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class RowError:
    line: int  # physical line in the file where the row starts; the header is line 1
    column: str  # column name, or "" for a problem with the whole row or file
    message: str  # Indonesian, for the officer who prepared the file


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)  # in file order, when imported

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    ticket: str | None
    year: int | None
    seq: int | None
    received_at: datetime
    channel: str
    kind: str
    category: str
    desa: str
    description: str
    status: str
    resolved_at: datetime | None
    reason: str | None = None


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _lookup(canonical: Collection[str], labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Case-insensitive name -> canonical value. A Mapping (value -> label, such as category
    code -> name) also accepts its labels."""
    if labels is None and isinstance(canonical, Mapping):
        labels = canonical
    table = {_key(c): c for c in canonical}
    for value, label in (labels or {}).items():
        table.setdefault(_key(label), value)
    return table


def parse_local(text: str, tz: tzinfo) -> tuple[datetime, bool] | None:
    """A date ("YYYY-MM-DD", "DD-MM-YYYY", "DD/MM/YYYY", optionally " HH:MM" or " HH:MM:SS",
    or ISO 8601 with "T") as a local time in `tz`; the flag says whether a time was given.
    A time with "Z" or an offset is converted to `tz`. None if it is none of those."""
    text = " ".join(text.split())
    if _ISO.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=tz), True
        return moment.astimezone(tz), True
    for fmt in _DATE_FORMATS:
        for time_fmt in (None, *_TIME_FORMATS):
            try:
                local = datetime.strptime(text, f"{fmt} {time_fmt}" if time_fmt else fmt).replace(
                    tzinfo=tz
                )
            except ValueError:
                continue
            return local, time_fmt is not None
    return None


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def _decode(raw: bytes) -> tuple[str | None, RowError | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, RowError(line, "", "Berkas harus ber-encoding UTF-8 (simpan ulang sebagai "
                                        "'CSV UTF-8'); ada karakter yang tidak terbaca.")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every non-blank record, header included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    start = 1
    for cells in reader:
        if any(c.strip() for c in cells):
            yield start, cells
        start = reader.line_num + 1


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV would hold: dates as ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(path: Path) -> tuple[Iterator[tuple[int, list[str]]] | None, RowError | None]:
    """(row number, cells) of the first sheet's non-blank rows; the header is row 1 as in
    the spreadsheet, so errors point at the row the officer sees."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook at all (a renamed CSV, a damaged file)
        return None, RowError(1, "", "Berkas XLSX tidak dapat dibaca; simpan ulang sebagai "
                                     "'Excel Workbook (.xlsx)' atau sebagai CSV UTF-8.")
    sheet = book.worksheets[0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values]
                if any(c.strip() for c in cells):
                    yield number, cells
        finally:
            book.close()

    return rows(), None


def import_complaints(
    session: Session,
    path: Path,
    *,
    policy: DeadlinePolicy,
    prefix: str,
    categories: Collection[str],
    desa: Collection[str],
    now: datetime,
    tz: tzinfo = JAKARTA,
) -> ImportReport:
    """Import an older register (see IMPORT_COLUMNS) in the caller's transaction.

    `categories` and `desa` are the accepted values, matched case-insensitively and stored
    as given; a Mapping (e.g. category code -> name) accepts the names too and stores codes.
    A path ending in .xlsx is read as a workbook (first sheet), anything else as CSV.

    Every row is checked first; if any is bad, nothing is written and the report lists every
    problem. Otherwise all rows are inserted and report.imported is their number.
    """
    report = ImportReport()
    records: Iterator[tuple[int, list[str]]] | None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        records, err = _xlsx_records(path)
    else:
        text, err = _decode(path.read_bytes())
        records = _records(text) if text is not None else None
    if records is None:
        assert err is not None
        report.errors.append(err)
        return report
    first = next(records, None)
    if first is None:
        report.errors.append(RowError(1, "", "Berkas kosong: baris judul kolom tidak ada."))
        return report
    header_line, header_cells = first
    header = [_key(h) for h in header_cells]
    for col in IMPORT_COLUMNS:
        if col not in header:
            report.errors.append(RowError(header_line, col, f"Kolom '{col}' tidak ada di baris judul."))
    for col in set(header):
        if col and header.count(col) > 1 and col in IMPORT_COLUMNS:
            report.errors.append(RowError(header_line, col, f"Kolom '{col}' muncul lebih dari sekali."))
    if report.errors:
        return report
    index = {col: header.index(col) for col in IMPORT_COLUMNS}
    if REASON_COLUMN in header:
        index[REASON_COLUMN] = header.index(REASON_COLUMN)

    checker = _RowChecker(prefix, categories, desa, now, tz)
    rows: list[_Row] = []
    for line, cells in records:
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        elif len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            report.errors.append(RowError(
                line, "", f"Baris ini berisi {len(cells)} kolom, baris judul hanya {len(header)}."))
            continue
        values = {col: cells[i] for col, i in index.items()}
        values.setdefault(REASON_COLUMN, "")
        row = checker.check(line, values, report.errors)
        if row is not None:
            rows.append(row)
    checker.check_register(session, report.errors)
    if report.errors:
        report.errors.sort(key=lambda e: (e.line, IMPORT_COLUMNS.index(e.column)
                                          if e.column in IMPORT_COLUMNS
                                          else (len(IMPORT_COLUMNS) if e.column else -1)))
        return report

    # Every row is good: write them all. Explicit numbers first, so that a row without a
    # number cannot be given one that a later row of the file carries.
    highest: dict[int, int] = {}
    for r in rows:
        if r.year is not None and r.seq is not None:
            highest[r.year] = max(highest.get(r.year, 0), r.seq)
    for year, seq in sorted(highest.items()):
        reserve_seq_at_least(session, year, seq)
    for r in rows:
        if r.ticket is None:
            # A row without a number is numbered in the year it was received.
            r.year = policy.local_date(r.received_at).year
            r.seq = next_seq(session, r.year)
            r.ticket = format_ticket(prefix, r.year, r.seq)
        verify_due, followup_due = policy.due_dates(r.received_at)
        resolve_due = policy.resolve_due(policy.local_date(r.received_at), r.category, r.kind)
        complaint = Complaint(
            ticket=r.ticket,
            year=r.year,
            seq=r.seq,
            kind=r.kind,
            category=r.category,
            desa=r.desa,
            description=r.description,
            channel=r.channel,
            anonim=False,
            rahasia=True,
            status=r.status,
            received_at=r.received_at,
            created_at=now,
            verify_due=verify_due,
            followup_due=followup_due,
            resolve_due=resolve_due,
            resolved_at=r.resolved_at,
            closed_at=r.resolved_at,
            reopen_count=0,
            version=1,
        )
        # Why it was closed unresolved, as transition() keeps it (see _RowChecker._reason).
        if r.status == DUPLIKAT:
            complaint.duplicate_of = r.reason
        elif r.status == DITERUSKAN:
            complaint.forwarded_to = r.reason
        elif r.status == DITOLAK:
            complaint.reject_reason = r.reason
        complaint.current_due = due_of_status(complaint)
        session.add(complaint)
        # The history is dated when things happened, not when they were imported, so that
        # figures as of a past date (storage.complaint_stats) read the imported register
        # the way it stood then: received on received_at, resolved on resolved_at.
        resolved_row = r.status == SELESAI and r.resolved_at is not None
        session.add(StatusChange(
            complaint=complaint,
            at=r.received_at,
            actor_kind="sistem",
            actor_id=None,
            actor_name=IMPORT_ACTOR,
            from_status=None,
            to_status=DITERIMA if resolved_row else r.status,
            public_note=IMPORT_NOTE,
            due_on=verify_due if resolved_row else complaint.current_due,
        ))
        if resolved_row:
            assert r.resolved_at is not None
            session.add(StatusChange(
                complaint=complaint,
                at=r.resolved_at,
                actor_kind="sistem",
                actor_id=None,
                actor_name=IMPORT_ACTOR,
                from_status=DITERIMA,
                to_status=SELESAI,
                public_note=IMPORT_NOTE,
                due_on=None,
                # The old register has no verification date: judged on the resolution alone.
                on_time=policy.local_date(r.resolved_at) <= resolve_due,
            ))
        report.tickets.append(r.ticket)
    session.flush()
    report.imported = len(rows)
    return report


class _RowChecker:
    def __init__(self, prefix: str, categories: Collection[str], desa: Collection[str],
                 now: datetime, tz: tzinfo) -> None:
        self.prefix = prefix
        self.now = now
        self.tz = tz
        self.channels = _lookup(CHANNELS, CHANNELS)
        self.kinds = _lookup(KINDS, KINDS)  # the label accepts "permintaan informasi"
        self.statuses = _lookup(STATUSES, STATUS_LABELS)
        self.categories = _lookup(categories)
        self.desa = _lookup(desa)
        self.seen: dict[str, int] = {}  # ticket -> first line
        self.originals: dict[int, str] = {}  # line of a duplikat -> its original ticket

    def check(self, line: int, cells: dict[str, str], errors: list[RowError]) -> _Row | None:
        before = len(errors)

        def bad(column: str, message: str) -> None:
            errors.append(RowError(line, column, message))

        def choose(column: str, table: dict[str, str], what: str, options: Collection[str]) -> str:
            value = cells[column].strip()
            if not value:
                bad(column, f"{what} wajib diisi.")
                return ""
            found = table.get(_key(value))
            if found is None:
                bad(column, f"{what} tidak dikenal: '{value}'. Pilihan: {', '.join(options)}.")
                return ""
            return found

        ticket, year, seq = self._ticket(cells["nomor"], line, bad)

        received_at: datetime | None = None
        raw = cells["diterima"].strip()
        if not raw:
            bad("diterima", "Tanggal diterima wajib diisi.")
        else:
            parsed = parse_local(raw, self.tz)
            if parsed is None:
                bad("diterima", _date_message(raw))
            elif parsed[0] > self.now:
                bad("diterima", f"Tanggal diterima '{raw}' ada di masa depan.")
            else:
                received_at = parsed[0]

        channel = choose("kanal", self.channels, "Kanal", list(CHANNELS))
        kind = choose("jenis", self.kinds, "Jenis laporan", [KINDS[k] for k in KINDS])
        category = choose("kategori", self.categories, "Kategori", sorted(self.categories.values()))
        desa = choose("desa", self.desa, "Desa", sorted(self.desa.values()))
        status = choose("status", self.statuses, "Status", list(STATUSES))
        if status == DITUNDA:
            # A postponement needs its new date and the status to return to, which the
            # register's columns do not carry: the office postpones it again in SIGAP.
            bad("status", "Status Ditunda tidak bisa diimpor (tanggal baru dan status asalnya "
                          "tidak ada di berkas). Impor dengan status sebelum ditunda, lalu "
                          "tunda di SIGAP.")
            status = ""

        description = cells["uraian"].strip()
        if not description:
            bad("uraian", "Uraian wajib diisi.")
        elif len(description) > MAX_DESCRIPTION:
            bad("uraian", f"Uraian paling banyak {MAX_DESCRIPTION} karakter (ada {len(description)}).")

        resolved_at: datetime | None = None
        raw = cells["selesai_pada"].strip()
        if status == SELESAI and not raw:
            bad("selesai_pada", "Tanggal selesai wajib diisi untuk laporan berstatus selesai.")
        elif status and status != SELESAI and raw:
            bad("selesai_pada", f"Tanggal selesai hanya diisi untuk status selesai (status: {status}).")
        elif raw:
            parsed = parse_local(raw, self.tz)
            if parsed is None:
                bad("selesai_pada", _date_message(raw))
            elif parsed[0] > self.now:
                bad("selesai_pada", f"Tanggal selesai '{raw}' ada di masa depan.")
            elif received_at is not None:
                resolved_at, with_time = parsed
                if resolved_at.date() < received_at.date():
                    bad("selesai_pada", "Tanggal selesai lebih awal dari tanggal diterima.")
                elif resolved_at < received_at:
                    if with_time:
                        bad("selesai_pada", "Waktu selesai lebih awal dari waktu diterima.")
                    # Same day, no time given: it was done that day, after it arrived.
                    resolved_at = received_at

        reason = self._reason(line, status, ticket, cells[REASON_COLUMN], bad)

        if len(errors) > before or received_at is None:
            return None
        return _Row(line, ticket, year, seq, received_at, channel, kind, category, desa,
                    description, status, resolved_at, reason)

    def _reason(self, line: int, status: str, ticket: str | None, raw: str,
                bad: Callable[[str, str], None]) -> str | None:
        value = " ".join(raw.split())
        if status == DUPLIKAT:
            if not value:
                bad(REASON_COLUMN, "Nomor tiket laporan asli wajib diisi untuk laporan duplikat.")
                return None
            parsed = parse_ticket(self.prefix, value.upper())
            original = format_ticket(self.prefix, *parsed) if parsed else value.upper()
            if original == ticket:
                bad(REASON_COLUMN, "Laporan tidak bisa menjadi duplikat dirinya sendiri.")
                return None
            if len(original) > MAX_TICKET:
                bad(REASON_COLUMN, f"Nomor tiket asli paling banyak {MAX_TICKET} karakter.")
                return None
            self.originals[line] = original
            return original
        if status == DITERUSKAN:
            if not value:
                bad(REASON_COLUMN, "Instansi tujuan wajib diisi untuk laporan yang diteruskan.")
                return None
            if len(value) > MAX_FORWARDED_TO:
                bad(REASON_COLUMN, f"Instansi tujuan paling banyak {MAX_FORWARDED_TO} karakter.")
                return None
            return value
        if status == DITOLAK:
            return value or None
        if value:
            bad(REASON_COLUMN, "Alasan hanya diisi untuk status duplikat, diteruskan atau ditolak.")
        return None

    def _ticket(self, raw: str, line: int, bad: Callable[[str, str], None]
                ) -> tuple[str | None, int | None, int | None]:
        value = raw.strip().upper()
        if not value:
            return None, None, None
        parsed = parse_ticket(self.prefix, value)
        year: int | None = None
        seq: int | None = None
        if parsed is not None:
            year, seq = parsed
            if seq < 1:
                bad("nomor", f"Nomor '{raw.strip()}' tidak sah: nomor urut mulai dari 1.")
                return None, None, None
            value = format_ticket(self.prefix, year, seq)
        if len(value) > MAX_TICKET:
            bad("nomor", f"Nomor paling banyak {MAX_TICKET} karakter.")
            return None, None, None
        if value in self.seen:
            bad("nomor", f"Nomor {value} sudah dipakai di baris {self.seen[value]}.")
            return None, None, None
        self.seen[value] = line
        return value, year, seq

    def check_register(self, session: Session, errors: list[RowError]) -> None:
        """Numbers of the file that the register already holds."""
        tickets = list(self.seen)
        for start in range(0, len(tickets), 500):
            chunk = tickets[start:start + 500]
            for (existing,) in session.execute(
                select(Complaint.ticket).where(Complaint.ticket.in_(chunk))
            ):
                errors.append(RowError(self.seen[existing], "nomor",
                                       f"Nomor {existing} sudah ada di register."))
        # The original of a duplikat: a ticket of this file or one the register holds.
        wanted = sorted({t for t in self.originals.values() if t not in self.seen})
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            known.update(session.scalars(
                select(Complaint.ticket).where(Complaint.ticket.in_(wanted[start:start + 500]))))
        for line, original in self.originals.items():
            if original not in self.seen and original not in known:
                errors.append(RowError(line, REASON_COLUMN,
                                       f"Tiket asli {original} tidak ada di berkas maupun register."))


def _date_message(raw: str) -> str:
    return (f"Tanggal '{raw}' tidak dikenali. Gunakan TTTT-BB-HH, HH-BB-TTTT atau HH/BB/TTTT, "
            "boleh diikuti jam JJ:MM atau JJ:MM:DD, atau ISO 8601 (2026-12-02T08:15:00).")


# ------------------------------------------------------------------------------------ export


def _local(moment: datetime | None, tz: tzinfo) -> str:
    # _LOCAL_FORMAT written by isoformat (C, no format parsing): half the time of strftime;
    # [:16] drops the offset the aware datetime would add.
    return moment.astimezone(tz).isoformat(" ", "minutes")[:16] if moment is not None else ""


def _day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None


# A local day or due date: a date, or its ISO text (the CSV export compares the text the
# database gives, "TTTT-BB-HH" sorts as the date does). One type per call.
D = TypeVar("D", date, str)


def _pending(due: D, today: D) -> bool | None:
    # A step still to be done is late once today is past its due date, undecided before.
    return False if today > due else None


def timeliness(status: str, verify_due: date, followup_due: date, verified_at: datetime | None,
               followed_up_at: datetime | None, resolved_at: datetime | None,
               closed_at: datetime | None, today: date, tz: tzinfo = JAKARTA) -> tuple[str, str]:
    """(tepat_waktu: "ya"/"tidak"/"-", terlambat: "ya"/"tidak") against the standard times.

    Two steps: verification by verify_due (rejecting, forwarding or marking a duplicate is
    the verification decision and ends the clock) and the follow-up by followup_due. The
    follow-up is dated by followed_up_at, or by resolved_at when no follow-up was recorded
    (imported registers only know when a complaint was resolved: resolved late is late).
    A verification whose time was not recorded counts as on time if a later step was still
    within verify_due, and is otherwise left undecided rather than held against the office.
    "terlambat" is "ya" when a step was late or is overdue today (for an open complaint this
    is storage.complaints.is_overdue); "tepat_waktu" is "ya" once the last step was on time
    and none was late, "-" while that is not known. A moment counts by its local day in `tz`.
    """
    return _steps(status, verify_due, followup_due, _day(verified_at, tz), _day(followed_up_at, tz),
                  _day(resolved_at, tz), _day(closed_at, tz), today)


def _steps(status: str, verify_due: D, followup_due: D, verified: D | None, followed_up: D | None,
           resolved: D | None, closed: D | None, today: D) -> tuple[str, str]:
    """timeliness() on local days (dates, or ISO texts of them)."""
    verify: bool | None
    if status in CLOSED_UNRESOLVED:
        verify = closed <= verify_due if closed is not None else None
        steps, final = [verify], verify
    else:
        later = followed_up if followed_up is not None else resolved
        if verified is not None:
            verify = verified <= verify_due
        elif status == DITERIMA:
            verify = _pending(verify_due, today)
        elif later is not None and later <= verify_due:
            verify = True
        else:
            verify = None
        followup: bool | None
        if later is not None:
            followup = later <= followup_due
        elif status in (DITERIMA, DIVERIFIKASI):
            followup = _pending(followup_due, today)
        else:
            followup = None
        steps, final = [verify, followup], followup
    late = False in steps
    on_time = "tidak" if late else ("ya" if final is True else "-")
    return on_time, "ya" if late else "tidak"


def _verdict(status: str, verify_due: D, followup_due: D, verified: D | None, followed_up: D | None,
             resolved: D | None, closed: D | None, resolve_due: D | None, current_due: D | None,
             today: D) -> tuple[str, str, bool]:
    """(tepat_waktu, terlambat, lewat batas now) of one exported complaint, on local days."""
    if status in OPEN_STATUSES and current_due is not None and today > current_due:
        # Past the deadline of its current status (e.g. the resolution deadline in
        # ditindaklanjuti): late, whatever the steps so far say.
        return "tidak", "ya", True
    if status == SELESAI and resolved is not None and resolve_due is not None:
        # The same rule as IKU 4's "within the standard times" (StatusChange.on_time, set by
        # storage.lifecycle and by the import): verified by its deadline (an imported register
        # has no verification date) and resolved by the resolution deadline in effect, so the
        # export and the report never disagree about one complaint.
        met = (verified is None or verified <= verify_due) and resolved <= resolve_due
        return ("ya", "tidak", False) if met else ("tidak", "ya", False)
    on_time, late = _steps(status, verify_due, followup_due, verified, followed_up, resolved, closed, today)
    return on_time, late, False


def _working_days(holidays: Container[date]) -> Callable[[Any, Any], int]:
    """Working days between two local days, counted once per pair: a year's register holds a
    few thousand distinct pairs, and counting day by day for each row (each day a holiday
    look-up) was 40% of the export's time (bench/reports.py). Bounded by the pairs, not rows;
    each new pair is a subtraction of per-day totals (kpi.workdays.WorkingDayCount)."""
    pairs: dict[tuple[Any, Any], int] = {}
    count = WorkingDayCount(holidays)

    def between(start: date | str, end: date | str) -> int:
        n = pairs.get((start, end))
        if n is None:
            first = date.fromisoformat(start) if isinstance(start, str) else start
            last = date.fromisoformat(end) if isinstance(end, str) else end
            n = pairs[(start, end)] = count.between(first, last)
        return n

    return between


def _local_minutes(tz: tzinfo) -> Callable[[str | None], str]:
    """UTC minute text ("TTTT-BB-HH JJ:MM", as _export_text_rows selects it) to the local
    minute text of _local(), with one zone look-up per hour instead of one per value: in an
    hour with a whole-hour offset (WIB all year) the local text is the hour's local prefix
    and the same minutes. Any other hour (a half-hour zone, a DST change) converts each value."""
    hours: dict[str, str] = {}

    def local(utc: str | None) -> str:
        if utc is None:
            return ""
        prefix = hours.get(utc[:13])
        if prefix is None:
            if len(hours) > 20_000:  # rows come in received order: the past hours are done
                hours.clear()
            start = datetime.fromisoformat(utc[:13] + ":00").replace(tzinfo=UTC)
            offset = start.astimezone(tz).utcoffset()
            whole = (offset is not None and offset % _HOUR == _NO_TIME
                     and (start + _LAST_MINUTE).astimezone(tz).utcoffset() == offset)
            prefix = hours[utc[:13]] = _local(start, tz)[:13] if whole else ""
        if prefix:
            return prefix + utc[13:16]
        return _local(datetime.fromisoformat(utc).replace(tzinfo=UTC), tz)

    return local


_HOUR = timedelta(hours=1)
_LAST_MINUTE = timedelta(minutes=59)
_NO_TIME = timedelta(0)


def export_complaints(
    session: Session,
    out: TextIO,
    *,
    policy: DeadlinePolicy,
    tz: tzinfo = JAKARTA,
    today: date | None = None,
    delimiter: str = ",",
) -> int:
    """Write the register as CSV (EXPORT_COLUMNS), oldest first; returns the rows written.

    `today` (default: today in `tz`) decides which open complaints are overdue. Excel with
    Indonesian regional settings splits columns on ";": pass delimiter=";" for it.
    Every field is text already, so the rows are the database's text (dates as ISO text, times
    as UTC minutes made local per hour): no datetime object per value, a few dictionary
    look-ups per row (bench/reports.py measures it beside a bare csv.writer).
    """
    if today is None:
        today = datetime.now(tz).date()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(EXPORT_COLUMNS)
    write = writer.writerow
    local = _local_minutes(tz)
    between = _working_days(policy.holidays)
    now = today.isoformat()
    count = 0
    for (ticket, received_at, channel, kind, category, desa, status, verify_due, followup_due,
         verified_at, followed_up_at, resolved_at, closed_at, reopen_count, resolve_due, current_due,
         received_date_only, petugas) in _export_text_rows(session):
        received = local(received_at)
        received_day = received[:10]
        verified = local(verified_at) if verified_at is not None else ""
        followed_up = local(followed_up_at) if followed_up_at is not None else ""
        resolved = local(resolved_at) if resolved_at is not None else ""
        resolved_day = resolved[:10] if resolved else None
        on_time, late, overdue = _verdict(
            status, verify_due, followup_due, verified[:10] or None, followed_up[:10] or None,
            resolved_day,
            # Only a closure without resolution is dated by closed_at (_steps).
            local(closed_at)[:10] if closed_at is not None and status in CLOSED_UNRESOLVED else None,
            resolve_due, current_due, now)
        write((
            ticket,
            # A day without a time (/catat) is written as the day, not as midnight.
            received_day if received_date_only else received,
            channel,
            kind,
            category,
            desa,
            status,
            verify_due,
            followup_due,
            verified,
            followed_up,
            resolved,
            between(received_day, resolved_day) if status == SELESAI and resolved_day is not None else "",
            on_time,
            late,
            reopen_count,
            resolve_due or "",
            "ya" if overdue else "tidak",
            petugas or "",
        ))
        count += 1
    return count


def _export_text_rows(session: Session) -> Iterator[Any]:
    """The CSV export's columns as text, oldest first, streamed (server-side on PostgreSQL):
    datetimes as UTC minutes "TTTT-BB-HH JJ:MM", dates as "TTTT-BB-HH". SQLite holds them as
    that text already (SQLAlchemy's storage format, UTC for UTCDateTime); PostgreSQL writes it
    with to_char. Nothing is converted per value in Python on the way."""
    sqlite = session.get_bind().dialect.name == "sqlite"

    def minutes(column: Any) -> Any:
        if sqlite:
            return type_coerce(func.substr(type_coerce(column, String), 1, 16), String)
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI", type_=String)

    def day(column: Any) -> Any:
        return type_coerce(column, String) if sqlite else func.to_char(column, "YYYY-MM-DD", type_=String)

    stmt = (
        select(
            Complaint.ticket, minutes(Complaint.received_at), Complaint.channel, Complaint.kind,
            Complaint.category, Complaint.desa, Complaint.status, day(Complaint.verify_due),
            day(Complaint.followup_due), minutes(Complaint.verified_at), minutes(Complaint.followed_up_at),
            minutes(Complaint.resolved_at), minutes(Complaint.closed_at), Complaint.reopen_count,
            day(Complaint.resolve_due), day(Complaint.current_due), Complaint.received_date_only,
            Officer.name,
        )
        .outerjoin(Officer, Officer.id == Complaint.assigned_to)
        .order_by(Complaint.received_at, Complaint.id)
    )
    # Sent on the session's own DBAPI connection (its transaction, its snapshot), compiled by
    # SQLAlchemy for it: the driver's tuples go straight to the writer, without the ORM's
    # Row per row (through session.execute the export took 1.5 times as long: bench/reports.py).
    # A statement that bypasses the ORM names its kecamatan by hand (storage/tenancy.py).
    # PostgreSQL reads through a named (server-side) cursor, 2000 rows a round trip: memory
    # stays flat.
    kode = tenancy.current(session)
    stmt = stmt.where(Complaint.kecamatan == kode)
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor: Any
    if sqlite:
        cursor = dbapi.cursor()
        cursor.execute(str(compiled), [params[name] for name in compiled.positiontup or ()])
    else:
        cursor = dbapi.cursor(name="sigap_export")  # type: ignore[call-arg]  # psycopg's
        cursor.itersize = 2000
        cursor.execute(str(compiled), params)
    return iter(cursor)


# The XLSX export: what a person reads (labels, not codes), the description, and real dates
# and times (local, without zone, as Excel holds them) formatted the Indonesian way.
XLSX_HEADERS = (
    "Nomor", "Diterima", "Kanal", "Jenis", "Kategori", "Desa", "Uraian", "Status",
    "Batas verifikasi", "Batas tindak lanjut", "Diverifikasi", "Ditindaklanjuti", "Selesai",
    "Hari kerja sampai selesai", "Tepat waktu", "Terlambat", "Dibuka kembali", "Alasan",
    "Batas penyelesaian", "Lewat batas", "Petugas",
)
_XLSX_DATETIME = "dd/mm/yyyy hh:mm"
_XLSX_DATE = "dd/mm/yyyy"


def export_complaints_xlsx(
    session: Session,
    path: Path,
    *,
    policy: DeadlinePolicy,
    categories: Mapping[str, str] | None = None,
    tz: tzinfo = JAKARTA,
    today: date | None = None,
) -> int:
    """Write the register as an XLSX workbook (XLSX_HEADERS), oldest first; returns the rows.

    `categories` maps category codes to the office's names (an unknown code stays as is).
    Written in openpyxl's write-only mode, so a large register does not sit in memory.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if today is None:
        today = datetime.now(tz).date()
    labels = dict(categories or {})
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Register pengaduan")
    widths = (18, 16, 14, 14, 22, 14, 50, 22, 12, 12, 16, 16, 16, 10, 8, 8, 8, 30, 12, 8, 20)
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    bold = Font(bold=True)
    header = []
    for title in XLSX_HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def when(moment: datetime | None) -> WriteOnlyCell | None:
        if moment is None:
            return None
        cell = WriteOnlyCell(sheet, value=moment.astimezone(tz).replace(tzinfo=None, microsecond=0))
        cell.number_format = _XLSX_DATETIME
        return cell

    def day(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _XLSX_DATE
        return cell

    yes_no = {"ya": "Ya", "tidak": "Tidak", "-": "-"}
    count = 0
    for c, workdays, on_time, late, overdue in _export_rows(session, policy, tz, today):
        reason = c.duplicate_of or c.forwarded_to or c.reject_reason or None
        sheet.append([
            c.ticket,
            day(c.received_at.astimezone(tz).date()) if c.received_date_only else when(c.received_at),
            CHANNELS.get(c.channel, c.channel),
            KINDS.get(c.kind, c.kind),
            labels.get(c.category, c.category),
            c.desa,
            c.description,
            STATUS_LABELS.get(c.status, c.status),
            day(c.verify_due),
            day(c.followup_due),
            when(c.verified_at),
            when(c.followed_up_at),
            when(c.resolved_at),
            workdays,
            yes_no[on_time],
            yes_no[late],
            c.reopen_count,
            reason,
            day(c.resolve_due) if c.resolve_due is not None else None,
            yes_no["ya" if overdue else "tidak"],
            c.petugas,
        ])
        count += 1
    book.save(path)
    return count


def _export_rows(session: Session, policy: DeadlinePolicy, tz: tzinfo, today: date,
                 ) -> Iterator[tuple[Any, int | None, str, str, bool]]:
    """(row, working days to resolution or None, tepat_waktu, terlambat, lewat batas) of the
    XLSX export, which writes real dates and times, streamed."""
    columns = [
        Complaint.ticket, Complaint.received_at, Complaint.channel, Complaint.kind,
        Complaint.category, Complaint.desa, Complaint.status, Complaint.verify_due,
        Complaint.followup_due, Complaint.verified_at, Complaint.followed_up_at,
        Complaint.resolved_at, Complaint.closed_at, Complaint.reopen_count,
        Complaint.resolve_due, Complaint.current_due, Complaint.received_date_only,
        Complaint.description, Complaint.duplicate_of, Complaint.forwarded_to,
        Complaint.reject_reason,
    ]
    stmt = (
        select(*columns, Officer.name.label("petugas"))
        .outerjoin(Officer, Officer.id == Complaint.assigned_to)
        .order_by(Complaint.received_at, Complaint.id)
        .execution_options(yield_per=500)
    )
    between = _working_days(policy.holidays)
    for c in session.execute(stmt):
        resolved = _day(c.resolved_at, tz)
        workdays = (between(c.received_at.astimezone(tz).date(), resolved)
                    if c.status == SELESAI and resolved is not None else None)
        on_time, late, overdue = _verdict(
            c.status, c.verify_due, c.followup_due, _day(c.verified_at, tz), _day(c.followed_up_at, tz),
            resolved, _day(c.closed_at, tz), c.resolve_due, c.current_due, today)
        yield c, workdays, on_time, late, overdue


__all__ = [
    "EXPORT_COLUMNS",
    "IMPORT_COLUMNS",
    "ImportReport",
    "RowError",
    "XLSX_HEADERS",
    "export_complaints",
    "export_complaints_xlsx",
    "import_complaints",
    "parse_local",
    "timeliness",
]
