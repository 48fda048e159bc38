# `sigap iku report --kabupaten`: every kecamatan's IKU table built in its own scope, one
# register, side by side with the kabupaten figure; on both backends.
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli.sigap import main
from storage import iku
from storage.db import Database
from storage.models import IkuActivity
from tests.conftest import Register

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _activities(db: Database, kode: str, planned: int, done: int) -> None:
    with db.transaction(kode) as s:
        for i in range(planned):
            entry = iku.add(s, IkuActivity, {"year": 2026, "name": f"Kegiatan {i + 1}"}, "uji", NOW)
            if i < done:
                iku.facilitate(s, entry.id, date(2026, 6, 1), "Daftar hadir", "uji", NOW)


def test_the_kabupaten_table_shows_each_kecamatan_in_its_own_scope(
    register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.delenv("SIGAP_OFFICE_DIR", raising=False)  # the shipped folder: Jelbuk and Arjasa
    monkeypatch.chdir(tmp_path)
    assert main(["iku", "target", "list", "--year", "2026"]) == 0  # creates the register
    db = Database(register.url(tmp_path))
    try:
        _activities(db, "35.09.25", 4, 1)  # Jelbuk 1 of 4: 25 %
        _activities(db, "35.09.22", 4, 4)  # Arjasa 4 of 4: 100 %
    finally:
        db.dispose()
    capsys.readouterr()
    assert main(["iku", "report", "--kabupaten", "--year", "2026", "--per", "2026-11-30"]) == 0
    out = capsys.readouterr().out
    iku3 = out[out.index("IKU-3"):out.index("IKU-4")]
    # Pooled from the registers, 5 of 8, not the mean of 25 % and 100 %; best first.
    assert "Kabupaten: 62,50%" in iku3
    assert "1. Arjasa: 100,00%, capaian 100,00% (Sangat baik)" in iku3
    assert "2. Jelbuk: 25,00%, capaian 25,00% (Sangat kurang)" in iku3
    assert "<b>" not in out
    book = tmp_path / "kab.xlsx"
    assert main(["iku", "report", "--kabupaten", "--year", "2026", "--per", "2026-11-30", "--xlsx", str(book)]) == 0
    cells = {c.value for row in load_workbook(book).active.iter_rows() for c in row if c.value is not None}
    assert {"Jelbuk (35.09.25)", "Arjasa (35.09.22)"} <= cells
    # A single-office report still reads only its own kecamatan: Jelbuk's 1 of 4.
    capsys.readouterr()
    assert main(["iku", "report", "--year", "2026", "--per", "2026-11-30"]) == 0
    own = capsys.readouterr().out
    assert "25,00" in own and "62,50" not in own
