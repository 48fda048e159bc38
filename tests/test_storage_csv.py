# The older register in (all rows or none, every bad row reported) and the register out
# (no reporter identity, dates in Jelbuk time, timeliness against the standard times).
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    by_ticket,
    create_complaint,
    get_or_create_person,
    is_overdue,
)
from storage.csv_io import (
    EXPORT_COLUMNS,
    IMPORT_COLUMNS,
    ImportReport,
    RowError,
    export_complaints,
    import_complaints,
    parse_local,
    timeliness,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, StatusChange, TicketCounter
from storage.tenancy import DEFAULT_KECAMATAN

JAKARTA = ZoneInfo("Asia/Jakarta")
PREFIX = "TRB"
NOW = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)  # Sunday 10:00 WIB, the day of the import
CATEGORIES = {"keributan": "Keributan / gangguan ketenteraman", "miras": "Minuman keras",
              "judi": "Perjudian", "lainnya": "Lainnya"}
DESA = ["Jelbuk", "Panduman", "Sucopangepok", "Sugerkidul", "Sukojember", "Sukowiryo"]

GOOD = [
    # nomor, diterima, kanal, jenis, kategori, desa, uraian, status, selesai_pada
    ["TRB-2026-00017", "2026-12-01", "lisan", "pengaduan", "miras", "jelbuk",
     "Pesta miras di pos ronda", "selesai", "2026-12-04"],
    ["", "02-12-2026 08:15", "WhatsApp", "Permintaan Informasi", "Perjudian", "PANDUMAN",
     "Jadwal patroli malam?", "diverifikasi", ""],
    ["LAMA/2025/031", "30/12/2025 23:30", "surat", "aspirasi", "lainnya", "Sukojember",
     "Usul lampu jalan", "ditolak", ""],
    ["trb-2026-00003", "2026-12-18 09:00", "sp4n-lapor", "permintaan_informasi", "keributan",
     "Sukowiryo", "Sound system keras", "diterima", ""],
]


def write_csv(tmp_path: Path, rows: Sequence[Sequence[str]], *, delimiter: str = ",",
              bom: bool = False, header: Sequence[str] = IMPORT_COLUMNS,
              name: str = "register.csv") -> Path:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


def run_import(db: Database, policy: DeadlinePolicy, path: Path) -> ImportReport:
    with db.transaction() as s:
        return import_complaints(s, path, policy=policy, prefix=PREFIX, categories=CATEGORIES,
                                 desa=DESA, now=NOW)


def count(db: Database) -> int:
    with db.transaction() as s:
        return int(s.scalar(select(func.count(Complaint.id))) or 0)


def intake(db: Database, policy: DeadlinePolicy, now: datetime, reporter_id: int | None = None
           ) -> Complaint:
    with db.transaction() as s:
        return create_complaint(
            s,
            ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk",
                           description="Knalpot brong", channel="telegram", received_at=now),
            reporter=get_or_create_person(s, "telegram", str(reporter_id), None, now)
            if reporter_id is not None else None,
            actor=Actor("warga", None, None, "warga"), now=now, policy=policy, prefix=PREFIX,
        )


def test_a_good_file_imports_every_row(db: Database, policy: DeadlinePolicy,
                                       tmp_path: Path) -> None:
    report = run_import(db, policy, write_csv(tmp_path, GOOD))
    assert report.errors == []
    assert report.ok and report.imported == 4
    # The explicit numbers are reserved first, so the row without one comes after 00017.
    assert report.tickets == ["TRB-2026-00017", "TRB-2026-00018", "LAMA/2025/031",
                              "TRB-2026-00003"]
    with db.transaction() as s:
        first = by_ticket(s, "TRB-2026-00017")
        assert first is not None
        assert (first.year, first.seq, first.status, first.version) == (2026, 17, "selesai", 1)
        assert (first.channel, first.kind, first.category, first.desa) == (
            "lisan", "pengaduan", "miras", "Jelbuk")
        assert first.received_at == datetime(2026, 12, 1, tzinfo=JAKARTA)
        assert first.resolved_at == first.closed_at == datetime(2026, 12, 4, tzinfo=JAKARTA)
        assert (first.verify_due, first.followup_due) == policy.due_dates(first.received_at)
        assert first.reporter_id is None and first.created_at == NOW

        numbered = by_ticket(s, "TRB-2026-00018")
        assert numbered is not None
        assert (numbered.kind, numbered.category, numbered.desa, numbered.channel) == (
            "permintaan_informasi", "judi", "Panduman", "whatsapp")
        assert numbered.received_at == datetime(2026, 12, 2, 1, 15, tzinfo=UTC)  # 08:15 WIB
        assert numbered.resolved_at is None and numbered.closed_at is None

        old = by_ticket(s, "lama/2025/031")
        assert old is not None
        assert (old.year, old.seq, old.status, old.resolved_at) == (None, None, "ditolak", None)
        assert old.received_at == datetime(2025, 12, 30, 16, 30, tzinfo=UTC)

        lower = by_ticket(s, "TRB-2026-00003")
        assert lower is not None and lower.seq == 3

        # The history is dated when things happened (received, resolved), not at import
        # time, so figures as of a past date read the imported register as it stood then.
        history = s.scalars(select(StatusChange).order_by(StatusChange.id)).all()
        assert {(h.actor_kind, h.actor_name, h.public_note) for h in history} == {
            ("sistem", "impor CSV", "Diimpor dari register lama")}
        assert [(h.complaint.ticket, h.from_status, h.to_status, h.at, h.on_time)
                for h in history] == [
            ("TRB-2026-00017", None, "diterima", first.received_at, None),
            ("TRB-2026-00017", "diterima", "selesai", first.resolved_at, True),
            ("TRB-2026-00018", None, "diverifikasi", numbered.received_at, None),
            ("LAMA/2025/031", None, "ditolak", old.received_at, None),
            ("TRB-2026-00003", None, "diterima", lower.received_at, None),
        ]
        assert s.get(TicketCounter, (DEFAULT_KECAMATAN, 2026)).last_seq == 18  # type: ignore[union-attr]
    # New intakes continue after the imported numbers.
    assert intake(db, policy, NOW).ticket == "TRB-2026-00019"


def test_new_complaint_after_an_imported_ticket_continues_its_numbering(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    assert intake(db, policy, datetime(2026, 1, 5, 3, 0, tzinfo=UTC)).ticket == "TRB-2026-00001"
    report = run_import(db, policy, write_csv(tmp_path, [GOOD[0]]))
    assert report.tickets == ["TRB-2026-00017"]
    assert intake(db, policy, NOW).ticket == "TRB-2026-00018"
    # Importing a lower number does not move the counter back.
    report = run_import(db, policy, write_csv(tmp_path, [
        ["TRB-2026-00005", "2026-02-01", "lisan", "aspirasi", "lainnya", "Jelbuk", "x",
         "diterima", ""]], name="second.csv"))
    assert report.imported == 1
    assert intake(db, policy, NOW).ticket == "TRB-2026-00019"


def test_two_bad_rows_import_nothing_and_both_are_reported(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    multiline = list(GOOD[1])
    multiline[6] = "Baris satu\nbaris dua\nbaris tiga"  # a quoted field over three lines
    rows = [
        GOOD[0],  # line 2
        multiline,  # lines 3-5
        ["", "2026-13-01", "lisan", "pengaduan", "miras", "Jelbuk", "x", "diterima", ""],  # 6
        GOOD[3],  # line 7
        ["", "2026-12-05", "merpati", "pengaduan", "narkoba", "Jelbuk", "x", "selesai", ""],  # 8
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert report.imported == 0 and report.tickets == [] and not report.ok
    assert [(e.line, e.column) for e in report.errors] == [
        (6, "diterima"), (8, "kanal"), (8, "kategori"), (8, "selesai_pada")]
    assert all(e.message.strip() for e in report.errors)
    assert "2026-13-01" in report.errors[0].message
    assert count(db) == 0
    with db.transaction() as s:
        assert s.scalar(select(func.count(StatusChange.id))) == 0
        assert s.get(TicketCounter, (DEFAULT_KECAMATAN, 2026)) is None
    # Nothing was reserved either: numbering starts at 1.
    assert intake(db, policy, NOW).ticket == "TRB-2026-00001"


VALID = dict(zip(IMPORT_COLUMNS, GOOD[1], strict=True))


def row(**changes: str) -> list[str]:
    """A valid row (GOOD[1]) with some cells changed."""
    assert set(changes) <= set(IMPORT_COLUMNS)
    return list((VALID | changes).values())


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("diterima", ""),
        ("diterima", "1 Desember 2026"),
        ("diterima", "2026/12/01"),
        ("diterima", "31-02-2026"),
        ("diterima", "2026-12-01 25:00"),
        ("diterima", "2027-01-01"),  # after the import
        ("kanal", ""),
        ("kanal", "fax"),
        ("jenis", "keluhan"),
        ("kategori", "Narkoba"),
        ("desa", "Arjasa"),
        ("uraian", "   "),
        ("uraian", "x" * 2001),
        ("status", "proses"),
        ("selesai_pada", "2026-12-05"),  # status is not selesai
        ("nomor", "TRB-2026-00000"),
        ("nomor", "N" * 33),
    ],
)
def test_each_bad_value_is_reported_in_its_column(
    db: Database, policy: DeadlinePolicy, tmp_path: Path, column: str, value: str
) -> None:
    report = run_import(db, policy, write_csv(tmp_path, [GOOD[0], row(**{column: value})]))
    assert [(e.line, e.column) for e in report.errors] == [(3, column)]
    assert report.imported == 0
    assert count(db) == 0


@pytest.mark.parametrize(
    ("status", "selesai", "message"),
    [
        ("selesai", "", "wajib"),
        ("selesai", "2026-11-30", "lebih awal"),  # received 2026-12-02
        ("selesai", "2026-12-02 07:00", "lebih awal"),  # received 08:15 the same day
        ("ditolak", "2026-12-05", "hanya"),
    ],
)
def test_selesai_pada_is_required_exactly_for_resolved_rows(
    db: Database, policy: DeadlinePolicy, tmp_path: Path, status: str, selesai: str, message: str
) -> None:
    report = run_import(db, policy,
                        write_csv(tmp_path, [row(status=status, selesai_pada=selesai)]))
    assert [(e.line, e.column) for e in report.errors] == [(2, "selesai_pada")]
    assert message in report.errors[0].message
    assert count(db) == 0


def test_resolved_the_same_day_without_a_time_is_not_before_receipt(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    resolved = row(nomor="TRB-2026-00002", status="Selesai", selesai_pada="02/12/2026")
    assert run_import(db, policy, write_csv(tmp_path, [resolved])).imported == 1
    with db.transaction() as s:
        c = by_ticket(s, "TRB-2026-00002")
        assert c is not None
        assert c.resolved_at == c.received_at == datetime(2026, 12, 2, 8, 15, tzinfo=JAKARTA)


def test_numbers_must_be_unique_in_the_file_and_new_to_the_register(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    assert run_import(db, policy, write_csv(tmp_path, [GOOD[0]], name="a.csv")).imported == 1
    rows = [
        row(nomor="TRB-2026-00017"),  # line 2: already in the register
        row(nomor="LAMA-1"),  # line 3
        row(nomor="lama-1"),  # line 4: the same number again
        row(nomor=""),  # line 5: no number is fine, any number of times
        row(nomor="TRB-2026-00099"),  # line 6
        row(nomor="TRB-2026-000099"),  # line 7: six digits, the same ticket as line 6
        row(nomor=""),  # line 8
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows, name="b.csv"))
    assert [(e.line, e.column) for e in report.errors] == [(2, "nomor"), (4, "nomor"),
                                                          (7, "nomor")]
    assert "register" in report.errors[0].message
    assert "baris 3" in report.errors[1].message
    assert "baris 6" in report.errors[2].message
    assert count(db) == 1


def test_header_problems_are_reported_on_line_one(db: Database, policy: DeadlinePolicy,
                                                 tmp_path: Path) -> None:
    header = [c for c in IMPORT_COLUMNS if c != "desa"]
    rows = [[v for c, v in zip(IMPORT_COLUMNS, GOOD[0], strict=True) if c != "desa"]]
    report = run_import(db, policy, write_csv(tmp_path, rows, header=header))
    assert report.errors == [RowError(1, "desa", report.errors[0].message)]
    empty = tmp_path / "kosong.csv"
    empty.write_text("\n\n", encoding="utf-8")
    assert [e.line for e in run_import(db, policy, empty).errors] == [1]
    assert count(db) == 0


def test_rows_with_too_many_cells_are_reported(db: Database, policy: DeadlinePolicy,
                                               tmp_path: Path) -> None:
    rows = [GOOD[0] + [""], GOOD[1] + ["catatan nyasar"], GOOD[3][:7]]  # empty extra is fine
    report = run_import(db, policy, write_csv(tmp_path, rows))
    # Line 3 has a stray cell; line 4 lacks status and selesai_pada, so its status is empty.
    assert [(e.line, e.column) for e in report.errors] == [(3, ""), (4, "status")]
    assert "10 kolom" in report.errors[0].message
    assert count(db) == 0


def test_import_runs_in_the_callers_transaction(db: Database, policy: DeadlinePolicy,
                                                tmp_path: Path) -> None:
    path = write_csv(tmp_path, GOOD)
    with pytest.raises(RuntimeError), db.transaction() as s:
        report = import_complaints(s, path, policy=policy, prefix=PREFIX, categories=CATEGORIES,
                                   desa=DESA, now=NOW)
        assert report.imported == 4
        assert s.scalar(select(func.count(Complaint.id))) == 4
        raise RuntimeError("the officer cancelled")
    assert count(db) == 0
    assert intake(db, policy, NOW).ticket == "TRB-2026-00001"


def test_not_utf8_is_refused_with_its_line(db: Database, policy: DeadlinePolicy,
                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path, GOOD[:2])
    path.write_bytes(path.read_bytes().replace(b"Jadwal", b"J\xe9dwal"))  # latin-1 byte
    report = run_import(db, policy, path)
    assert [e.line for e in report.errors] == [3]
    assert "UTF-8" in report.errors[0].message
    assert count(db) == 0


def test_bom_semicolons_extra_columns_and_blank_lines(db: Database, policy: DeadlinePolicy,
                                                      tmp_path: Path) -> None:
    # As Excel saves "CSV UTF-8" with an Indonesian locale: BOM, ';', columns in another
    # order, an extra column (ignored, never stored) and empty trailing rows.
    header = ["Nomor ", "Nama Pelapor", *reversed(IMPORT_COLUMNS[1:])]
    rows = [[r[0], "Siti Aminah", *reversed(r[1:])] for r in GOOD]
    rows.insert(2, [""] * len(header))
    rows.append([""] * len(header))
    path = write_csv(tmp_path, rows, delimiter=";", bom=True, header=header)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf" + b"Nomor ;")
    report = run_import(db, policy, path)
    assert report.errors == []
    assert report.imported == 4
    with db.transaction() as s:
        c = by_ticket(s, "TRB-2026-00017")
        assert c is not None and c.desa == "Jelbuk" and c.status == "selesai"
        assert c.description == "Pesta miras di pos ronda"
    # A ',' file without BOM next to it imports the same way.
    report = run_import(db, policy, write_csv(tmp_path, [row(nomor="X-1")], name="comma.csv"))
    assert report.errors == [] and report.tickets == ["X-1"]


def test_bad_row_line_numbers_with_bom_and_semicolons(db: Database, policy: DeadlinePolicy,
                                                      tmp_path: Path) -> None:
    bad = list(GOOD[1])
    bad[4] = "Narkoba"
    path = write_csv(tmp_path, [GOOD[0], bad], delimiter=";", bom=True)
    assert [(e.line, e.column) for e in run_import(db, policy, path).errors] == [(3, "kategori")]


def test_parse_local() -> None:
    wib = datetime(2026, 12, 2, 8, 15, tzinfo=JAKARTA)
    for text in ("2026-12-02 08:15", "02-12-2026 08:15", "02/12/2026  8:15", " 2/12/2026 08:15 "):
        assert parse_local(text, JAKARTA) == (wib, True)
    assert parse_local("2026-12-02", JAKARTA) == (datetime(2026, 12, 2, tzinfo=JAKARTA), False)
    for text in ("12/02/26", "2026.12.02", "02-12-2026T08:15", "", "kemarin"):
        assert parse_local(text, JAKARTA) is None


# ------------------------------------------------------------------------------------ export


def export(db: Database, policy: DeadlinePolicy, today: date) -> tuple[str, list[dict[str, str]]]:
    out = io.StringIO(newline="")
    with db.transaction() as s:
        n = export_complaints(s, out, policy=policy, tz=JAKARTA, today=today)
    text = out.getvalue()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert n == len(rows)
    return text, rows


def test_export_round_trip(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    assert run_import(db, policy, write_csv(tmp_path, GOOD)).imported == 4
    text, rows = export(db, policy, date(2026, 12, 20))
    assert text.splitlines()[0].split(",") == list(EXPORT_COLUMNS)
    by = {r["nomor"]: r for r in rows}
    assert list(by) == ["LAMA/2025/031", "TRB-2026-00017", "TRB-2026-00018", "TRB-2026-00003"]
    done = by["TRB-2026-00017"]
    assert done["diterima"] == "2026-12-01 00:00"
    assert done["selesai_pada"] == "2026-12-04 00:00"
    assert (done["status"], done["kanal"], done["jenis"], done["kategori"], done["desa"]) == (
        "selesai", "lisan", "pengaduan", "miras", "Jelbuk")
    assert (done["batas_verifikasi"], done["batas_tindak_lanjut"]) == ("2026-12-04", "2026-12-08")
    assert done["hari_kerja_sampai_selesai"] == "3"
    assert (done["tepat_waktu"], done["terlambat"], done["dibuka_kembali"]) == ("ya", "tidak", "0")
    assert done["diverifikasi_pada"] == done["ditindaklanjuti_pada"] == ""

    info = by["TRB-2026-00018"]
    assert info["diterima"] == "2026-12-02 08:15"
    assert (info["status"], info["jenis"], info["selesai_pada"]) == (
        "diverifikasi", "permintaan_informasi", "")
    assert info["hari_kerja_sampai_selesai"] == ""
    # Received Wed 2 Dec: follow-up due Wed 9 Dec, still not done on 20 Dec.
    assert (info["batas_tindak_lanjut"], info["tepat_waktu"], info["terlambat"]) == (
        "2026-12-09", "tidak", "ya")

    rejected = by["LAMA/2025/031"]
    assert rejected["diterima"] == "2025-12-30 23:30"
    assert (rejected["status"], rejected["tepat_waktu"], rejected["terlambat"]) == (
        "ditolak", "-", "tidak")

    fresh = by["TRB-2026-00003"]
    assert fresh["diterima"] == "2026-12-18 09:00"
    assert (fresh["batas_verifikasi"], fresh["tepat_waktu"], fresh["terlambat"]) == (
        "2026-12-23", "-", "tidak")

    # Parsing the export back gives the imported dates and statuses.
    with db.transaction() as s:
        for row in rows:
            c = by_ticket(s, row["nomor"])
            assert c is not None
            assert parse_local(row["diterima"], JAKARTA) == (c.received_at, True)
            assert row["status"] == c.status
            resolved = parse_local(row["selesai_pada"], JAKARTA)
            assert (resolved[0] if resolved else None) == c.resolved_at
            assert date.fromisoformat(row["batas_verifikasi"]) == c.verify_due
            assert date.fromisoformat(row["batas_tindak_lanjut"]) == c.followup_due


def test_export_follows_the_lifecycle_and_never_names_the_reporter(
    db: Database, policy: DeadlinePolicy
) -> None:
    received = datetime(2026, 12, 18, 9, 0, tzinfo=JAKARTA)  # Friday
    with db.transaction() as s:
        person = get_or_create_person(s, "telegram", "777000111", "Siti Aminah", received)
        person.name, person.phone = "Siti Aminah", "+6281234567890"
        pid = person.id
    late = intake(db, policy, received, reporter_id=777000111)
    ontime = intake(db, policy, received + timedelta(minutes=1))
    waiting = intake(db, policy, received + timedelta(minutes=2))
    officer = Actor("petugas", 1, "Pak Koordinator", "koordinator")
    warga = Actor("warga", pid, "Siti Aminah", "warga")
    steps = [
        (ontime.id, "verifikasi", officer, received + timedelta(days=3)),  # Mon 21
        (ontime.id, "tindaklanjuti", officer, received + timedelta(days=4)),
        (ontime.id, "selesaikan", officer, received + timedelta(days=6)),  # Thu 24
        (ontime.id, "buka_kembali", warga, received + timedelta(days=7)),
        (ontime.id, "selesaikan", officer, received + timedelta(days=10, hours=1)),  # Mon 28
        (late.id, "verifikasi", officer, datetime(2026, 12, 24, 9, 0, tzinfo=JAKARTA)),
    ]
    for cid, action, who, at in steps:
        with db.transaction() as s:
            c = s.get(Complaint, cid)
            assert c is not None
            transition(s, c, action, who, at, public_note="Sudah ditertibkan, Bu Siti Aminah")
    text, rows = export(db, policy, date(2026, 12, 29))
    assert "Siti" not in text and "Aminah" not in text
    assert "6281234567890" not in text and "777000111" not in text
    assert "Knalpot" not in text and "ditertibkan" not in text  # no description, no notes
    by = {r["nomor"]: r for r in rows}
    assert len(by) == 3

    r = by[ontime.ticket]
    assert (r["status"], r["dibuka_kembali"]) == ("selesai", "1")
    assert r["diverifikasi_pada"] == "2026-12-21 09:00"
    assert r["ditindaklanjuti_pada"] == "2026-12-22 09:00"
    assert r["selesai_pada"] == "2026-12-28 10:00"
    # Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25 holiday), Mon 28.
    assert r["hari_kerja_sampai_selesai"] == "5"
    assert (r["tepat_waktu"], r["terlambat"]) == ("ya", "tidak")

    r = by[late.ticket]  # verified Thu 24, due Wed 23; not followed up by Mon 28
    assert (r["status"], r["tepat_waktu"], r["terlambat"]) == ("diverifikasi", "tidak", "ya")

    r = by[waiting.ticket]
    assert (r["status"], r["tepat_waktu"], r["terlambat"]) == ("diterima", "tidak", "ya")

    # An open complaint that the register calls overdue is exported as late.
    for today in (date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)):
        _, rows = export(db, policy, today)
        with db.transaction() as s:
            for r in rows:
                c = by_ticket(s, r["nomor"])
                assert c is not None
                if is_overdue(c, today):
                    assert r["terlambat"] == "ya", (r, today)
        waiting_row = next(r for r in rows if r["nomor"] == waiting.ticket)
        assert (waiting_row["terlambat"] == "ya") == (today > date(2026, 12, 23))


def test_timeliness_rules() -> None:
    v, f = date(2026, 12, 23), date(2026, 12, 28)

    def at(day: int) -> datetime:
        return datetime(2026, 12, day, 20, 0, tzinfo=JAKARTA)

    # Open, nothing done yet.
    assert timeliness("diterima", v, f, None, None, None, None, date(2026, 12, 23)) == ("-", "tidak")
    assert timeliness("diterima", v, f, None, None, None, None, date(2026, 12, 24)) == ("tidak", "ya")
    # Verified on time, follow-up still open.
    assert timeliness("diverifikasi", v, f, at(22), None, None, None, date(2026, 12, 28)) == (
        "-", "tidak")
    assert timeliness("diverifikasi", v, f, at(22), None, None, None, date(2026, 12, 29)) == (
        "tidak", "ya")
    # Resolved on time, only the resolution known (imported).
    assert timeliness("selesai", v, f, None, None, at(23), at(23), date(2027, 1, 1)) == (
        "ya", "tidak")
    # Resolved late, no follow-up recorded (imported): late.
    assert timeliness("selesai", v, f, None, None, at(29), at(29), date(2027, 1, 1)) == (
        "tidak", "ya")
    # Followed up on time, resolved later: the standard times were met.
    assert timeliness("selesai", v, f, at(21), at(22), at(29), at(29), date(2027, 1, 1)) == (
        "ya", "tidak")
    # Followed up late.
    assert timeliness("ditindaklanjuti", v, f, at(21), at(29), None, None, date(2027, 1, 1)) == (
        "tidak", "ya")
    # Verification recorded late, even if the rest was quick.
    assert timeliness("selesai", v, f, at(24), at(24), at(24), at(24), date(2027, 1, 1)) == (
        "tidak", "ya")
    # Resolved within the follow-up time, verification time unknown: not held against it.
    assert timeliness("selesai", v, f, None, None, at(24), at(24), date(2027, 1, 1)) == (
        "ya", "tidak")
    # Imported as being followed up, no dates at all: cannot tell.
    assert timeliness("ditindaklanjuti", v, f, None, None, None, None, date(2027, 1, 1)) == (
        "-", "tidak")
    # A rejection is the verification decision.
    assert timeliness("ditolak", v, f, None, None, None, at(22), date(2027, 1, 1)) == ("ya", "tidak")
    assert timeliness("diteruskan", v, f, None, None, None, at(24), date(2027, 1, 1)) == (
        "tidak", "ya")
    # Local date decides: 23 Dec 23:30 WIB is 16:30 UTC, still on time.
    late_evening = datetime(2026, 12, 23, 16, 30, tzinfo=UTC)
    assert timeliness("duplikat", v, f, None, None, None, late_evening, date(2027, 1, 1)) == (
        "ya", "tidak")


def test_large_export_streams_every_row(db: Database, policy: DeadlinePolicy,
                                        tmp_path: Path) -> None:
    rows = [["", f"{1 + i % 28:02d}-11-2026 {i % 24:02d}:{i % 60:02d}", "lisan", "pengaduan",
             "lainnya", DESA[i % len(DESA)], f"Laporan ke-{i}", "diterima", ""]
            for i in range(1200)]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert report.errors == [] and report.imported == 1200
    assert report.tickets[0] == "TRB-2026-00001" and report.tickets[-1] == "TRB-2026-01200"
    _, exported = export(db, policy, date(2026, 12, 1))
    assert len(exported) == 1200
    assert {r["nomor"] for r in exported} == set(report.tickets)
    received = [r["diterima"] for r in exported]
    assert received == sorted(received)


def test_an_imported_register_reads_as_it_stood_on_past_dates(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    # Imported on 20 December 2026: one complaint received and resolved in Q1, one received in
    # Q1 and resolved in Q2, one still open. As of each quarter's end, the Q1 cohort reads the
    # way the paper register stood then, not as "open since the import".
    from storage.complaint_stats import resolution_by_quarter

    rows = [
        ["", "2026-02-02 09:00", "surat", "pengaduan", "miras", "Jelbuk", "a", "selesai", "2026-02-10"],
        ["", "2026-03-02 09:00", "lisan", "pengaduan", "judi", "Jelbuk", "b", "selesai", "2026-05-04"],
        ["", "2026-03-03 09:00", "lisan", "pengaduan", "judi", "Jelbuk", "c", "diterima", ""],
    ]
    report = run_import(db, policy, write_csv(tmp_path, rows))
    assert report.errors == []
    with db.transaction() as s:
        q1_only = resolution_by_quarter(s, 2026, JAKARTA, as_of=datetime(2026, 3, 31, 23, 0, tzinfo=JAKARTA))
        whole = resolution_by_quarter(s, 2026, JAKARTA)
    assert (q1_only[1].received, q1_only[1].resolved) == (3, 1)
    # Each quarter is counted as of its own last day: Q1 still 1 of 3 at the year's end.
    assert (whole[1].received, whole[1].resolved) == (3, 1)
