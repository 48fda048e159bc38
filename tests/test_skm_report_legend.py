# `sigap skm report` under the processing table: the grade legend and the formula notes of
# the standard processing sheet, and at a grade edge the printed 1-4 IKM taken from the same
# rounded figure as the grade (issue 9). Both databases.
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli.sigap import main
from kpi.skm_questionnaire import UNSUR_CODES
from storage.db import Database
from storage.skm import insert_responses

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def form(score: int) -> dict[str, Any]:
    return {
        "source": "kertas", "respondent_key": None, "service": "skck", "period": "2026-Q3",
        "tanggal": date(2026, 8, 3), "answered_at": NOW, "consent_at": None, "jenis_kelamin": None,
        "usia": None, "pendidikan": None, "pekerjaan": None, "saran": None, "recorded_by": "tes",
        "created_at": NOW, **dict.fromkeys(UNSUR_CODES, score),
    }


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    yield db


def test_edge_88_305_prints_a_and_3_5324_with_legend(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    # 2661 forms all 4 and 2339 all 3: every unsur sums to 17661 over 5000, NRR 3,5322, the
    # exact IKM 3,5322, x 25 = 88,305 -> 88,31 -> A. Printed 1-4: 88,31 / 25 = 3,5324.
    with cli.transaction() as s:
        insert_responses(s, [form(4)] * 2661 + [form(3)] * 2339)
    code = main(["skm", "report", "--period", "2026-Q3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    # Not the exact IKM to 3 decimals (3,532: the B interval of the table below).
    assert "IKM (skala 1-4): 3,5324\n" in out
    assert "Nilai konversi (25-100): 88,31" in out and "Mutu pelayanan: A (Sangat baik)" in out
    lines = out.splitlines()
    start = lines.index("Keterangan (PermenPANRB 14/2017)")
    legend = [" ".join(line.split()) for line in lines[start + 2:start + 6]]
    assert legend == [
        "1 1,00 - 2,5996 25,00 - 64,99 D Tidak baik",
        "2 2,60 - 3,064 65,00 - 76,60 C Kurang baik",
        "3 3,0644 - 3,532 76,61 - 88,30 B Baik",
        "4 3,5324 - 4,00 88,31 - 100,00 A Sangat baik",
    ]
    assert ("NRR per unsur = jumlah nilai jawaban unsur / jumlah responden yang menjawab unsur itu"
            in out)
    assert "NRR tertimbang per unsur = NRR x bobot (1/9, tepat 1/9, bukan 0,111)" in out
    assert "IKM (skala 1-4) = jumlah NRR tertimbang; nilai konversi = IKM x 25" in out
    assert "IKM skala 1-4 yang dicetak = nilai konversi / 25" in out
