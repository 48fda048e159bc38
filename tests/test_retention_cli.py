# `sigap retensi`: --dry-run reports and changes nothing; without it the data goes.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.sigap import main
from storage import inbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import InboxItem
from tests.conftest import Register


def test_retensi_dry_run_then_real(register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    db = Database(register.url(tmp_path))
    upgrade(db)
    long_ago = datetime.now(UTC) - timedelta(days=90)
    with db.transaction() as s:
        inbox.store(s, "telegram", [("7", {"message": {"text": "Nama saya Budi"}})], long_ago)
        s.scalars(select(InboxItem)).one().handled_at = long_ago
    assert main(["retensi", "--dry-run"]) == 0
    assert "pesan masuk            : 1" in capsys.readouterr().out
    with db.reading() as s:
        assert len(s.scalars(select(InboxItem)).all()) == 1
    assert main(["retensi"]) == 0
    assert "Dihapus:" in capsys.readouterr().out
    with db.reading() as s:
        assert s.scalars(select(InboxItem)).all() == []
    db.dispose()


def test_retensi_padatkan_leaves_no_old_row_version(register: Register, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`--padatkan` on PostgreSQL rewrites the tables: the removed message is not left in a
    page as a dead row version (on SQLite the database file itself is checked)."""
    from tests.pg_pages import compacted_pages

    secret = "Nama saya Budi Santoso, rumah dekat musala"
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    db = Database(register.url(tmp_path))
    upgrade(db)
    long_ago = datetime.now(UTC) - timedelta(days=90)
    with db.transaction() as s:
        inbox.store(s, "telegram", [("7", {"message": {"text": secret}})], long_ago)
        s.scalars(select(InboxItem)).one().handled_at = long_ago
    assert main(["retensi", "--padatkan"]) == 0
    if db.is_sqlite:
        files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    else:
        files = compacted_pages(db, (secret.encode(),), lambda: main(["retensi", "--padatkan"]))
    assert secret.encode() not in files
    db.dispose()
