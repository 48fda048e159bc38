# `sigap officers add/deactivate/list`, and the last admin cannot be deactivated.
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.sigap import main

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")


def test_officers_add_deactivate_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["officers", "add", "--telegram-id", "11", "--name", "Bu Sekcam", "--role", "admin"]) == 0
    assert main(["officers", "add", "--telegram-id", "12", "--name", "Budi", "--role", "petugas"]) == 0
    assert main(["officers", "deactivate", "--telegram-id", "12"]) == 0
    assert main(["officers", "deactivate", "--telegram-id", "11"]) == 1
    assert "admin aktif terakhir" in capsys.readouterr().err
    assert main(["officers", "deactivate", "--telegram-id", "99"]) == 1
    capsys.readouterr()
    assert main(["officers", "list"]) == 0
    out = capsys.readouterr().out
    assert "11\tadmin\tBu Sekcam\n" in out
    assert "12\tpetugas\tBudi (nonaktif)" in out
