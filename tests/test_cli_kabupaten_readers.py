# `sigap kabupaten pembaca tambah/daftar/nonaktifkan` (English aliases hidden), on both
# backends: a reader is registered, listed and deactivated, which ends their dashboard links.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.sigap import main
from storage import kabupaten_access
from storage.db import Database
from tests.conftest import Register

NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)


def test_readers_add_list_deactivate(register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["kabupaten", "pembaca", "daftar"]) == 0
    assert "Belum ada pembaca kabupaten" in capsys.readouterr().out
    assert main(["kabupaten", "pembaca", "tambah", "--id-telegram", "41", "--nama", "Bu Ani (Inspektorat)"]) == 0
    assert "Pembaca kabupaten Bu Ani (Inspektorat) terdaftar, ID Telegram 41" in capsys.readouterr().out
    assert main(["kabupaten", "readers", "add", "--telegram-id", "42", "--name", "Pak Budi"]) == 0
    assert main(["kabupaten", "pembaca", "tambah", "--id-telegram", "43", "--nama", "   "]) == 1
    assert "Nama pembaca harus diisi" in capsys.readouterr().err
    db = Database(register.url(tmp_path))
    try:
        with db.transaction() as s:
            reader = kabupaten_access.active_reader(s, 41)
            assert reader is not None
            token = kabupaten_access.create_link(s, reader, NOW, timedelta(days=3650))
    finally:
        db.dispose()
    assert main(["kabupaten", "pembaca", "nonaktifkan", "--id-telegram", "41"]) == 0
    assert "dinonaktifkan; tautan dan sesi dasbornya diakhiri" in capsys.readouterr().out
    assert main(["kabupaten", "pembaca", "nonaktif", "--id-telegram", "99"]) == 1
    assert "Tidak ada pembaca kabupaten dengan ID Telegram 99" in capsys.readouterr().err
    assert main(["kabupaten", "pembaca", "daftar"]) == 0
    out = capsys.readouterr().out
    assert "41\tBu Ani (Inspektorat) (nonaktif)\n" in out and "42\tPak Budi\n" in out
    db = Database(register.url(tmp_path))
    try:
        with db.reading() as s:
            assert kabupaten_access.active_reader(s, 41) is None
            assert kabupaten_access.peek_link(s, token, NOW) is None  # revoked with the reader
    finally:
        db.dispose()
    # Help shows the Indonesian options only.
    with pytest.raises(SystemExit):
        main(["kabupaten", "pembaca", "tambah", "--help"])
    shown = capsys.readouterr().out
    assert "--id-telegram" in shown and "--nama" in shown and "--telegram-id" not in shown
