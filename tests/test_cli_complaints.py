# `sigap pengaduan impor/ekspor` from the command line, on both databases: names instead of
# codes and ISO timestamps in, XLSX in and out, CSV out with a BOM and ";" for Excel.
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.cli.sigap import main
from storage.csv_io import IMPORT_COLUMNS, XLSX_HEADERS
from storage.db import Database

ROWS = [
    # A category by its name in the office file (bot/config/office_jelbuk.toml), a channel by label.
    ["TRB-2025-00007", "2025-11-03T08:15:00", "SP4N-LAPOR!", "pengaduan", "MINUMAN KERAS",
     "Jelbuk", "Pesta miras; di pos ronda", "selesai", "2025-11-05T10:00:00"],
]


@pytest.fixture
def cli_env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.url)
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_import_names_then_export_for_excel(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = cli_env / "lama.csv"
    src.write_text(";".join(IMPORT_COLUMNS) + "\n" + "\n".join(
        ";".join(f'"{c}"' if ";" in c else c for c in r) for r in ROWS) + "\n", encoding="utf-8")
    assert main(["pengaduan", "impor", str(src)]) == 0
    assert capsys.readouterr().out == f"1 laporan diimpor dari {src}.\n"

    out = cli_env / "keluar.csv"
    assert main(["pengaduan", "ekspor", "--csv", str(out), "--pemisah", ";"]) == 0
    assert capsys.readouterr().out == f"1 laporan diekspor ke {out}.\n"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfnomor;diterima;kanal;")  # BOM: Excel reads UTF-8
    line = raw.decode("utf-8-sig").splitlines()[1]
    assert line.startswith("TRB-2025-00007;2025-11-03 08:15;sp4n-lapor;pengaduan;miras;Jelbuk;selesai;")

    xlsx = cli_env / "keluar.xlsx"
    assert main(["pengaduan", "ekspor", "--xlsx", str(xlsx)]) == 0
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    header, first = list(sheet.iter_rows(values_only=True))
    row = dict(zip(header, first, strict=True))
    assert header == XLSX_HEADERS
    assert row["Kategori"] == "Minuman keras" and row["Kanal"] == "SP4N-LAPOR!"
    assert row["Uraian"] == "Pesta miras; di pos ronda"
    assert row["Diterima"] == datetime(2025, 11, 3, 8, 15)  # noqa: DTZ001


def test_import_from_xlsx_and_errors_by_row(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(IMPORT_COLUMNS))
    sheet.append(["", datetime(2025, 11, 3, 8, 15), "lisan", "pengaduan", "miras", "Jelbuk", "a", "diterima", None])  # noqa: DTZ001
    sheet.append(["", datetime(2025, 11, 3, 9, 0), "lisan", "pengaduan", "narkoba", "Jelbuk", "b", "diterima", None])  # noqa: DTZ001
    path = cli_env / "lama.xlsx"
    book.save(path)
    assert main(["pengaduan", "impor", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"Berkas {path} berisi 1 kesalahan; tidak ada yang diimpor:" in err
    assert "baris 3, kolom kategori: Kategori tidak dikenal: 'narkoba'" in err
    sheet.delete_rows(3)
    book.save(path)
    assert main(["pengaduan", "impor", str(path)]) == 0
    assert capsys.readouterr().out == f"1 laporan diimpor dari {path}.\n"
