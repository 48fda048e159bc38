# The office's register in and out as CSV: importing the older spreadsheet register, and
# exporting the register for the office's own reports.
# Invariants: an import checks every row before it writes anything; if one row is bad,
# nothing is imported and every bad row is reported with its line (the header is line 1),
# its column and an Indonesian message. Imported tickets that follow PREFIX-YYYY-NNNNN keep
# their number and new intakes continue after the highest one. Each imported complaint gets
# exactly one history row, written by "sistem". The export never carries the reporter's
# identity (nor the description, which may be rahasia) and streams rows from the database.
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpi.workdays import working_days_between
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
    DIVERIFIKASI,
    SELESAI,
    STATUS_LABELS,
    STATUSES,
)
from storage.models import Complaint, StatusChange

JAKARTA = ZoneInfo("Asia/Jakarta")

IMPORT_COLUMNS = (
    "nomor", "diterima", "kanal", "jenis", "kategori", "desa", "uraian", "status", "selesai_pada",
)
EXPORT_COLUMNS = (
    "nomor", "diterima", "kanal", "jenis", "kategori", "desa", "status",
    "batas_verifikasi", "batas_tindak_lanjut", "diverifikasi_pada", "ditindaklanjuti_pada",
    "selesai_pada", "hari_kerja_sampai_selesai", "tepat_waktu", "terlambat", "dibuka_kembali",
)
IMPORT_ACTOR = "impor CSV"
IMPORT_NOTE = "Diimpor dari register lama"
MAX_TICKET = 32  # Complaint.ticket is String(32)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
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
    """A date ("YYYY-MM-DD", "DD-MM-YYYY", "DD/MM/YYYY", optionally " HH:MM") as a local
    time in `tz`; the flag says whether a time was given. None if it is not one of those."""
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        for with_time in (False, True):
            try:
                local = datetime.strptime(text, f"{fmt} %H:%M" if with_time else fmt).replace(
                    tzinfo=tz
                )
            except ValueError:
                continue
            return local, with_time
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

    Every row is checked first; if any is bad, nothing is written and the report lists every
    problem. Otherwise all rows are inserted and report.imported is their number.
    """
    report = ImportReport()
    text, err = _decode(path.read_bytes())
    if text is None:
        assert err is not None
        report.errors.append(err)
        return report
    records = _records(text)
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

    checker = _RowChecker(prefix, categories, desa, now, tz)
    rows: list[_Row] = []
    for line, cells in records:
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        elif len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            report.errors.append(RowError(
                line, "", f"Baris ini berisi {len(cells)} kolom, baris judul hanya {len(header)}."))
            continue
        row = checker.check(line, {col: cells[i] for col, i in index.items()}, report.errors)
        if row is not None:
            rows.append(row)
    checker.check_register(session, report.errors)
    if report.errors:
        report.errors.sort(key=lambda e: (e.line, IMPORT_COLUMNS.index(e.column)
                                          if e.column in IMPORT_COLUMNS else -1))
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
            resolved_at=r.resolved_at,
            closed_at=r.resolved_at,
            reopen_count=0,
            version=1,
        )
        session.add(complaint)
        session.add(StatusChange(
            complaint=complaint,
            at=now,
            actor_kind="sistem",
            actor_id=None,
            actor_name=IMPORT_ACTOR,
            from_status=None,
            to_status=r.status,
            public_note=IMPORT_NOTE,
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

        if len(errors) > before or received_at is None:
            return None
        return _Row(line, ticket, year, seq, received_at, channel, kind, category, desa,
                    description, status, resolved_at)

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


def _date_message(raw: str) -> str:
    return (f"Tanggal '{raw}' tidak dikenali. Gunakan TTTT-BB-HH, HH-BB-TTTT atau HH/BB/TTTT, "
            "boleh diikuti jam JJ:MM.")


# ------------------------------------------------------------------------------------ export


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime(_LOCAL_FORMAT) if moment is not None else ""


def _by_due(moment: datetime, due: date, tz: tzinfo) -> bool:
    return moment.astimezone(tz).date() <= due


def _pending(due: date, today: date) -> bool | None:
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
    and none was late, "-" while that is not known.
    """
    verify: bool | None
    if status in CLOSED_UNRESOLVED:
        verify = _by_due(closed_at, verify_due, tz) if closed_at is not None else None
        steps, final = [verify], verify
    else:
        later = followed_up_at or resolved_at
        if verified_at is not None:
            verify = _by_due(verified_at, verify_due, tz)
        elif status == DITERIMA:
            verify = _pending(verify_due, today)
        elif later is not None and _by_due(later, verify_due, tz):
            verify = True
        else:
            verify = None
        followup: bool | None
        if later is not None:
            followup = _by_due(later, followup_due, tz)
        elif status in (DITERIMA, DIVERIFIKASI):
            followup = _pending(followup_due, today)
        else:
            followup = None
        steps, final = [verify, followup], followup
    late = False in steps
    on_time = "tidak" if late else ("ya" if final is True else "-")
    return on_time, "ya" if late else "tidak"


def export_complaints(
    session: Session,
    out: TextIO,
    *,
    policy: DeadlinePolicy,
    tz: tzinfo = JAKARTA,
    today: date | None = None,
) -> int:
    """Write the register as CSV (EXPORT_COLUMNS), oldest first; returns the rows written.

    `today` (default: today in `tz`) decides which open complaints are overdue.
    """
    if today is None:
        today = datetime.now(tz).date()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    stmt = (
        select(
            Complaint.ticket, Complaint.received_at, Complaint.channel, Complaint.kind,
            Complaint.category, Complaint.desa, Complaint.status, Complaint.verify_due,
            Complaint.followup_due, Complaint.verified_at, Complaint.followed_up_at,
            Complaint.resolved_at, Complaint.closed_at, Complaint.reopen_count,
        )
        .order_by(Complaint.received_at, Complaint.id)
        .execution_options(yield_per=500)
    )
    count = 0
    for c in session.execute(stmt):
        workdays = ""
        if c.status == SELESAI and c.resolved_at is not None:
            workdays = str(working_days_between(
                c.received_at.astimezone(tz).date(), c.resolved_at.astimezone(tz).date(),
                policy.holidays))
        on_time, late = timeliness(c.status, c.verify_due, c.followup_due, c.verified_at,
                                   c.followed_up_at, c.resolved_at, c.closed_at, today, tz)
        writer.writerow((
            c.ticket,
            _local(c.received_at, tz),
            c.channel,
            c.kind,
            c.category,
            c.desa,
            c.status,
            c.verify_due.isoformat(),
            c.followup_due.isoformat(),
            _local(c.verified_at, tz),
            _local(c.followed_up_at, tz),
            _local(c.resolved_at, tz),
            workdays,
            on_time,
            late,
            c.reopen_count,
        ))
        count += 1
    return count


__all__ = [
    "EXPORT_COLUMNS",
    "IMPORT_COLUMNS",
    "ImportReport",
    "RowError",
    "export_complaints",
    "import_complaints",
    "parse_local",
    "timeliness",
]
