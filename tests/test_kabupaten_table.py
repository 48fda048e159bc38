# The kabupaten IKU table built from each kecamatan's own IKU table (bot.reports.kabupaten).
# Until every query is scoped to a kecamatan (issue 14, next step), two kecamatan are two
# registers on the backend under test.
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.config.office import Office, load_office
from bot.reports.iku_report import iku_table, shown
from bot.reports.kabupaten import NOT_POOLED_OFFICIAL, KecamatanIku, kabupaten_table, kabupaten_text
from bot.reports.kabupaten_xlsx import write_kabupaten_xlsx
from bot.texts import to_plain
from storage import skm
from storage.db import Database
from tests.conftest import drop_database, make_database
from tests.test_iku_report import NOW, complaint, wib

TODAY = date(2026, 5, 15)


@pytest.fixture
def arjasa(db: Database, tmp_path: Path) -> Iterator[Database]:
    (tmp_path / "arjasa").mkdir()
    backend = "postgresql" if str(db.url).startswith("postgresql") else "sqlite"
    database, handle = make_database(backend, tmp_path / "arjasa")
    try:
        yield database
    finally:
        drop_database(database, handle)


def _answers(db: Database, office: Office, n: int, value: int) -> None:
    with db.transaction() as s:
        for i in range(n):
            draft = skm.ResponseDraft(service=office.services[0].code, period="2026-Q1", tanggal=date(2026, 2, 1),
                                      answers={f"u{j}": value for j in range(1, 10)})
            skm.record_response(s, draft, source="kertas", now=NOW, recorded_by=f"kertas {i}")


def _tables(jelbuk: Database, arjasa: Database, office: Office) -> list[KecamatanIku]:
    with jelbuk.reading() as s:
        a = iku_table(s, office, 2026, TODAY)
    with arjasa.reading() as s:
        b = iku_table(s, office, 2026, TODAY)
    return [KecamatanIku("35.09.25", "Jelbuk", a), KecamatanIku("35.09.22", "Arjasa", b)]


def _seeded(db: Database, arjasa: Database) -> list[KecamatanIku]:
    office = load_office()
    with db.transaction() as s:
        for day in (2, 3, 4):
            complaint(s, wib(2026, 2, day, 9, 0), "selesai")
    with arjasa.transaction() as s:
        complaint(s, wib(2026, 2, 5, 9, 0))
    _answers(db, office, 3, 4)
    _answers(arjasa, office, 1, 1)
    return _tables(db, arjasa, office)


def test_the_kabupaten_pools_and_ranks_the_kecamatan(db: Database, arjasa: Database) -> None:
    # IKU 4: Jelbuk resolved 3 of 3 (100%), Arjasa 0 of 1 (0%). The kabupaten resolved 3 of 4
    # (75%); the mean of the percentages would be 50%.
    # IKU 2: 3 respondents answering 4 in Jelbuk (100,00), 1 answering 1 in Arjasa (25,00):
    # NRR (3x4 + 1x1) / 4 = 3,25 on every unsur, IKM 81,25; the mean would be 62,50.
    rows = {r.code: r for r in kabupaten_table(_seeded(db, arjasa))}

    iku4 = rows["IKU-4"]
    assert iku4.kabupaten == Decimal(75)
    assert [(c.nama, c.realisation, c.rank) for c in iku4.cells] == [
        ("Jelbuk", Decimal(100), 1), ("Arjasa", Decimal(0), 2)]
    iku2 = rows["IKU-2"]
    assert iku2.kabupaten == Decimal("81.25") and iku2.note is None
    assert [(c.realisation, c.rank) for c in iku2.cells] == [(Decimal(100), 1), (Decimal(25), 2)]
    # IKU 1 counts sum (none registered); IKU 5 has no SAKIP score anywhere yet.
    assert rows["IKU-1"].kabupaten == Decimal(0)
    assert rows["IKU-5"].kabupaten is None and [c.rank for c in rows["IKU-5"].cells] == [None, None]
    assert list(rows) == ["IKU-1", "IKU-2", "IKU-3", "IKU-4", "IKU-5", "IKU-6"]


def test_an_official_ikm_is_not_pooled_with_answers(db: Database, arjasa: Database) -> None:
    office = load_office()
    _answers(db, office, 2, 4)
    tables = _tables(db, arjasa, office)
    # As if Arjasa's year IKM were the official e-SUKMA figure (bot.reports.skm_official).
    iku2 = next(r for r in tables[1].rows if r.code == "IKU-2")
    iku2.detail["nilai_sumber"] = {"ytd": "e-SUKMA"}
    row = next(r for r in kabupaten_table(tables) if r.code == "IKU-2")
    assert row.kabupaten is None and row.note == NOT_POOLED_OFFICIAL


def test_kecamatan_with_another_decree_shape_are_refused(db: Database, arjasa: Database) -> None:
    office = load_office()
    tables = _tables(db, arjasa, office)
    short = KecamatanIku("35.09.22", "Arjasa", tables[1].rows[:5])
    with pytest.raises(ValueError, match="tidak sama"):
        kabupaten_table([tables[0], short])


def test_the_kabupaten_text_reads_best_first(db: Database, arjasa: Database) -> None:
    rows = kabupaten_table(_seeded(db, arjasa))
    text = to_plain(kabupaten_text(rows, "Kabupaten Jember", 2026, TODAY))
    lines = text.splitlines()
    assert lines[0] == "IKU kecamatan se-Kabupaten Jember tahun 2026"
    assert lines[1] == "per Jumat, 15 Mei 2026; peringkat menurut capaian"
    at = lines.index(next(line for line in lines if line.startswith("IKU-4 ")))
    assert lines[at + 1] == "Kabupaten: 75,00%"
    assert lines[at + 2].startswith("1. Jelbuk: 100,00%, capaian 111,11% (")
    assert lines[at + 3].startswith("2. Arjasa: 0,00%, capaian 0,00% (")
    at = lines.index(next(line for line in lines if line.startswith("IKU-5 ")))
    assert lines[at + 1:at + 4] == ["Kabupaten: –", "–. Arjasa: belum ada angka", "–. Jelbuk: belum ada angka"]


def test_the_kabupaten_workbook_holds_the_shown_figures(db: Database, arjasa: Database, tmp_path: Path) -> None:
    rows = kabupaten_table(_seeded(db, arjasa))
    out = tmp_path / "kabupaten.xlsx"
    write_kabupaten_xlsx(out, rows, "Kabupaten Jember", 2026, TODAY)
    ws = load_workbook(out).active
    assert ws is not None
    assert ws["A1"].value == "PENGUKURAN KINERJA KECAMATAN SE-KABUPATEN JEMBER"
    assert ws["D4"].value == "Jelbuk (35.09.25)" and ws["G4"].value == "Arjasa (35.09.22)"
    assert [ws.cell(row=5, column=c).value for c in range(4, 7)] == ["Realisasi", "Capaian (%)", "Peringkat"]
    by_code = {str(ws.cell(row=r, column=2).value).split()[0]: r for r in range(6, 6 + len(rows))}
    line = by_code["IKU-4"]
    iku4 = next(r for r in rows if r.code == "IKU-4")
    assert [ws.cell(row=line, column=c).value for c in (4, 6, 7, 9, 10)] == [100, 1, 0, 2, 75]
    assert ws.cell(row=line, column=5).value == float(shown(iku4.cells[0].capaian))
    line = by_code["IKU-2"]
    assert ws.cell(row=line, column=10).value == 81.25
    assert ws.cell(row=by_code["IKU-5"], column=10).value is None
