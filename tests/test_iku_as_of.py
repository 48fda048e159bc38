# IKU figures as of a date, counted from the status history (issue 9): a register built
# across quarters and years with status changes dated in the past and a reopen; the
# figures for each quarter and the year, before and after later events, against values
# computed by hand below; every definition and carry-over rule; the CLI on both databases.
from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.sigap import main
from bot.config.office import Office, load_office
from bot.reports.iku_report import IkuRow, iku_table
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint

JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")
WARGA = Actor("warga", None, None, "warga")
POLICY = DeadlinePolicy(verify_days=3, followup_days=5, holidays=set(), tz=JAKARTA)


def wib(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=JAKARTA)


def _new(s, received: datetime) -> Complaint:  # type: ignore[no-untyped-def]
    draft = ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Ribut malam",
                           channel="lisan", received_at=received)
    return create_complaint(s, draft, reporter=None, actor=WARGA, now=received, policy=POLICY, prefix="TRB")


def _resolve(s, c: Complaint, at: datetime) -> None:  # type: ignore[no-untyped-def]
    if c.status == "diterima":
        transition(s, c, "verifikasi", ADMIN, at)
    if c.status == "diverifikasi":
        transition(s, c, "tindaklanjuti", ADMIN, at)
    transition(s, c, "selesaikan", ADMIN, at, public_note="Sudah ditertibkan")


def _get(s, ticket: str) -> Complaint:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return s.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()


# The register (WIB dates; "r" received, then its moves):
#   A  r 2025-11-10, selesai 2026-01-15        (received in one year, resolved in the next)
#   B  r 2026-02-02, selesai 2026-02-10
#   C  r 2026-03-20, selesai 2026-04-06        (received in Q1, resolved in Q2)
#   D  r 2026-01-12, selesai 2026-01-20, reopened 2026-04-01, selesai again 2026-05-04
#   E  r 2026-02-05, duplikat 2026-02-06
#   F  r 2026-04-10, still open
#   G  r 2026-05-05, ditolak 2026-05-06
# Stage 1 holds what had happened by 15 April 2026; stage 2 adds the later events.
def _stage1(db: Database) -> dict[str, str]:
    with db.transaction() as s:
        a = _new(s, wib(2025, 11, 10))
        b = _new(s, wib(2026, 2, 2))
        c = _new(s, wib(2026, 3, 20))
        d = _new(s, wib(2026, 1, 12))
        e = _new(s, wib(2026, 2, 5))
        f = _new(s, wib(2026, 4, 10))
        _resolve(s, a, wib(2026, 1, 15))
        _resolve(s, b, wib(2026, 2, 10))
        _resolve(s, c, wib(2026, 4, 6))
        _resolve(s, d, wib(2026, 1, 20))
        transition(s, d, "buka_kembali", WARGA, wib(2026, 4, 1))
        transition(s, e, "duplikat", ADMIN, wib(2026, 2, 6), duplicate_of=b.ticket)
        return {"A": a.ticket, "B": b.ticket, "C": c.ticket, "D": d.ticket, "E": e.ticket, "F": f.ticket}


def _stage2(db: Database, t: dict[str, str]) -> None:
    with db.transaction() as s:
        _resolve(s, _get(s, t["D"]), wib(2026, 5, 4))
        g = _new(s, wib(2026, 5, 5))
        transition(s, g, "tolak", ADMIN, wib(2026, 5, 6), public_note="Bukan gangguan ketertiban")
        t["G"] = g.ticket


def _iku4(db: Database, office: Office, year: int, as_of: date) -> IkuRow:
    with db.reading() as s:
        return next(r for r in iku_table(s, office, year, as_of) if r.code == "IKU-4")


def pct(num: int, den: int) -> Decimal:
    return Decimal(num) / Decimal(den) * 100 if num % den else Decimal(100 * num // den)


def _real(r: IkuRow) -> dict[str, Decimal | None]:
    return {k: r.realisation[k] for k in ("q1", "q2", "q3", "q4", "ytd")}


@pytest.fixture
def office() -> Office:
    return load_office()


def test_quarter_and_year_as_of_before_and_after_later_events(db: Database, office: Office) -> None:
    t = _stage1(db)
    # As of 15 April 2026. Q1 (as of 31 March): B, C, D, E received; E duplikat; B and D
    # selesai on 31 March (C only on 6 April) -> 2 of 3. Year (as of 15 April): B..F, D
    # reopened on 1 April -> B, C of 4 = 50%.
    early = _iku4(db, office, 2026, date(2026, 4, 15))
    assert early.realisation["q1"] == pct(2, 3)
    assert early.realisation["q2"] == Decimal(0)  # F open
    assert early.realisation["ytd"] == Decimal(50)
    assert early.detail["numerators"] == {"q1": 2, "q2": 0, "ytd": 2}
    assert early.detail["denominators"] == {"q1": 3, "q2": 1, "ytd": 4}
    _stage2(db, t)
    # The same report run again after D was resolved again and G came and was rejected:
    # nothing it said moves.
    again = _iku4(db, office, 2026, date(2026, 4, 15))
    assert _real(again) == _real(early)
    assert again.detail["counts"] == early.detail["counts"]
    # As of 30 June: Q1 still 2 of 3; Q2: F open, G ditolak -> 0 of 2; the year: B, C, D of
    # B..G less E -> 3 of 5 = 60%.
    june = _iku4(db, office, 2026, date(2026, 6, 30))
    assert june.realisation["q1"] == pct(2, 3)
    assert june.realisation["q2"] == Decimal(0)
    assert june.realisation["q3"] is None and june.realisation["q4"] is None
    assert june.realisation["ytd"] == Decimal(60)
    assert june.capaian == Decimal(60) / Decimal(90) * 100  # office target 90
    assert [e.ticket for e in june.detail["excluded"]] == [t["E"]]
    assert june.detail["by_channel"]["lisan"].resolved == 3
    # During the reopen (as of 20 April) D is unresolved in the year to date, resolved in Q1.
    reopened = _iku4(db, office, 2026, date(2026, 4, 20))
    assert reopened.realisation["q1"] == pct(2, 3) and reopened.realisation["ytd"] == Decimal(50)


def test_past_year_is_as_of_its_31_december(db: Database, office: Office) -> None:
    _stage1(db)
    # A was received in November 2025 and resolved in January 2026: under the default rule it
    # counts in 2025, unresolved (as of 31 December 2025), however late the report is run.
    for when in (date(2025, 12, 31), date(2026, 6, 30), date(2027, 3, 1)):
        r = _iku4(db, office, 2025, when)
        assert (r.realisation["q4"], r.realisation["ytd"]) == (Decimal(0), Decimal(0)), when
        assert r.detail["counts"].received == 1
    # ...and it is not in 2026's cohort.
    assert _iku4(db, office, 2026, date(2026, 6, 30)).detail["counts"].received == 5


def test_definitions_and_carry_over_rule(db: Database, office: Office) -> None:
    t = _stage1(db)
    _stage2(db, t)
    june = date(2026, 6, 30)
    # The decree literally: diselesaikan / masuk. Q1 2 of 4, year 3 of 6.
    r = _iku4(db, dataclasses.replace(office, iku4_definition="keputusan"), 2026, june)
    assert (r.realisation["q1"], r.realisation["ytd"]) == (Decimal(50), Decimal(50))
    assert r.detail["excluded"] == [] and r.detail["definisi"] == "keputusan"
    # Ditolak counted as handled: the year (B, C, D, G) of 5 = 80%; Q2 G of F, G = 50%.
    r = _iku4(db, dataclasses.replace(office, iku4_definition="ditolak_ditangani"), 2026, june)
    assert (r.realisation["q2"], r.realisation["ytd"]) == (Decimal(50), Decimal(80))
    # bawa_sisa: A (open on 1 January) also counts in 2026 Q1, resolved 15 January: Q1 A, B, D
    # of A..E less E = 3 of 4; the year A, B, C, D of 6 = 66.67%.
    r = _iku4(db, dataclasses.replace(office, iku4_carry_over="bawa_sisa"), 2026, june)
    assert r.realisation["q1"] == Decimal(75)
    assert r.realisation["ytd"] == Decimal(Fraction(4, 6).numerator * 100) / Decimal(Fraction(4, 6).denominator)
    assert r.detail["counts"].received == 7


def test_digest_shows_one_iku4_value(db: Database, office: Office) -> None:
    from bot.reports.digest import build_digest
    from kpi.periods import parse_period

    t = _stage1(db)
    _stage2(db, t)
    week = parse_period("2026-W16")  # 13-19 April 2026: D reopened, C resolved
    with db.reading() as s:
        d = build_digest(s, office, week, datetime(2026, 6, 30, 1, 0, tzinfo=UTC), holidays=set())
    iku4 = next(i for i in d.content.indicators if i.code == "IKU-4")
    # As of Sunday 19 April: B, C of B..F less E = 2 of 4, in the year line and the table.
    assert d.content.year.rate == Decimal("50.00")
    assert iku4.realisation == Decimal(50)
    assert "50,00%" in d.plain and "Belum ada laporan yang dihitung" not in d.plain
    assert "IKU-4 Persentase tingkat penyelesaian laporan dan pelanggaran ketertiban umum serta ketentraman masyarakat\n90% · 50% · 55,56% Kurang" in d.plain


def test_cli_report_per_date_and_definition_on_both_databases(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _stage1(db)
    _stage2(db, t)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.url)
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    assert main(["iku", "report", "--year", "2026", "--per", "2026-04-15", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    iku4 = next(r for r in rows if r["code"] == "IKU-4")
    assert iku4["realisation"] == {"q1": 66.67, "q2": 0.0, "q3": None, "q4": None, "ytd": 50.0}
    assert iku4["detail"]["definisi"] == "bawaan"
    assert main(["iku", "report", "--year", "2026", "--per", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    assert "keadaan Selasa, 30 Juni 2026" in out or "30 Juni 2026" in out
    assert "Definisi IKU 4 (bawaan): selesai / (masuk - duplikat - diteruskan bukan wewenang)" in out
    assert "60,00" in out
    # The xlsx says the same: as of that date, with the definition that produced IKU 4.
    import openpyxl

    path = tmp_path / "iku.xlsx"
    assert main(["iku", "report", "--year", "2026", "--per", "2026-04-15", "--xlsx", str(path)]) == 0
    ws = openpyxl.load_workbook(path)["IKU 2026"]
    assert ws["A2"].value == "Tahun 2026, keadaan Rabu, 15 April 2026"
    assert ws["A3"].value.startswith("Definisi IKU 4 (bawaan): selesai / (masuk - duplikat")
    iku4_line = next(row for row in ws.iter_rows(values_only=True) if str(row[2]).startswith("IKU-4"))
    assert [round(v, 2) if v is not None else None for v in iku4_line[5:10]] == [66.67, 0.0, None, None, 50.0]


def test_iku2_counts_answers_by_survey_date_up_to_the_as_of_date(db: Database, office: Office) -> None:
    from storage import skm

    service = office.services[0].code
    with db.transaction() as s:
        # 1 June: one respondent answering 4 everywhere (100). 10 June (after the as-of date
        # below) and 5 October: answers of 1 (25), recorded now.
        answers = [(date(2026, 6, 1), "2026-Q2", 4), (date(2026, 6, 10), "2026-Q2", 1),
                   (date(2026, 10, 5), "2026-Q4", 1)]
        for i, (day, period, value) in enumerate(answers):
            draft = skm.ResponseDraft(service=service, period=period, tanggal=day,
                                      answers={f"u{j}": value for j in range(1, 10)})
            skm.record_response(s, draft, source="kertas", now=datetime(2026, 11, 1, tzinfo=UTC),
                                recorded_by=f"kertas {i}")
    with db.reading() as s:
        r = next(x for x in iku_table(s, office, 2026, date(2026, 6, 5)) if x.code == "IKU-2")
    # As of 5 June only the 1 June answer exists: 100 in Q2 and the year to date.
    assert (r.realisation["q2"], r.realisation["ytd"]) == (Decimal(100), Decimal(100))
    assert r.detail["respondents"] == {"q1": 0, "q2": 1, "ytd": 1}
    with db.reading() as s:
        r = next(x for x in iku_table(s, office, 2026, date(2026, 6, 30)) if x.code == "IKU-2")
    # As of 30 June: 1 June and 10 June pooled (NRR 2.5 -> 62.50); October still out.
    assert r.realisation["ytd"] == Decimal("62.5") and r.detail["respondents"]["ytd"] == 2


def test_freeze_keeps_the_reported_figure_and_shows_the_live_one(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    t = _stage1(db)
    _stage2(db, t)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.url)
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.setattr("bot.cli.iku.recorder", lambda: "cli:camat")
    assert main(["iku", "tutup", "--triwulan", "2026-Q1", "--catatan", "LKjIP TW I"]) == 0
    out = capsys.readouterr().out
    assert "Angka IKU triwulan I 2026 dikunci oleh cli:camat" in out
    assert "- IKU-4: 66,67 (2 dari 3), definisi bawaan" in out
    assert main(["iku", "tutup", "--triwulan", "2026-Q1"]) == 1
    assert "sudah dikunci" in capsys.readouterr().err
    assert main(["iku", "tutup", "--triwulan", "2026-Q5"]) == 1
    assert "TTTT-QN" in capsys.readouterr().err
    # A letter received on 30 March is logged in May: the live Q1 becomes 2 of 4 = 50%.
    with db.transaction() as s:
        late = ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Surat warga",
                              channel="surat", received_at=wib(2026, 3, 30))
        create_complaint(s, late, reporter=None, actor=WARGA, now=wib(2026, 5, 11), policy=POLICY, prefix="TRB")
    assert main(["iku", "report", "--year", "2026", "--per", "2026-06-30", "--json"]) == 0
    iku4 = next(r for r in json.loads(capsys.readouterr().out) if r["code"] == "IKU-4")
    assert iku4["realisation"]["q1"] == 66.67  # as reported
    frozen = iku4["detail"]["frozen"]["q1"]
    assert (frozen["live"], frozen["difference"], frozen["by"]) == (50.0, -16.67, "cli:camat")
    assert main(["iku", "report", "--year", "2026", "--per", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    assert ("Dikunci TW I 2026: 66,67 (oleh cli:camat, " in out
            and "nilai terkini 50,00, selisih -16,67: register berubah sesudah dikunci" in out)
    # A triwulan not over yet cannot be frozen.
    assert main(["iku", "tutup", "--tahun", "2099"]) == 1


def test_iku1_and_iku3_count_only_what_was_dated_by_the_as_of_date(db: Database, office: Office) -> None:
    # IKU 1: documents of 10 Feb and 20 Mar; IKU 3: two activities planned in Q1, one
    # facilitated on 15 Mar. As of 28 Feb, Q1 has 1 document and 0 of 2 facilitated; as of
    # 31 Mar, 2 documents and 1 of 2 (50%).
    from storage import iku
    from storage.models import IkuActivity, IkuDocument

    who, now = "uji", datetime(2026, 4, 1, 2, tzinfo=UTC)
    with db.transaction() as s:
        for d in (date(2026, 2, 10), date(2026, 3, 20)):
            iku.add(s, IkuDocument, {"doc_type": "sop-pelayanan", "title": f"SOP {d}", "doc_date": d}, who, now)
        a = iku.add(s, IkuActivity, {"year": 2026, "name": "Posyandu", "planned_on": date(2026, 2, 2)}, who, now)
        iku.add(s, IkuActivity, {"year": 2026, "name": "Pelatihan", "planned_on": date(2026, 3, 2)}, who, now)
        iku.facilitate(s, a.id, date(2026, 3, 15), "foto kegiatan", who, now)

    def rows(as_of: date) -> dict[str, IkuRow]:
        with db.reading() as s:
            return {r.code: r for r in iku_table(s, office, 2026, as_of)}

    early, end = rows(date(2026, 2, 28)), rows(date(2026, 3, 31))
    assert _real(early["IKU-1"])["q1"] == 1 and _real(end["IKU-1"])["q1"] == 2
    assert _real(early["IKU-3"])["q1"] == 0 and _real(end["IKU-3"])["q1"] == 50
