# Bounded text columns refuse an over-long value on SQLite as PostgreSQL does (storage.lengths),
# and data typed by a person is refused in Indonesian where it enters, on both backends.
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.sigap import main
from storage import people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lengths import TooLong, clip, limit
from storage.lifecycle import Actor, MoveRefused, transition
from storage.models import Complaint, Officer, Person
from tests.conftest import Register

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_an_over_long_value_is_refused_on_both_backends(db: Database) -> None:
    with pytest.raises(TooLong, match=r"people\.name: 201 characters, the column holds 200"), db.transaction() as s:
        s.add(Person(channel="telegram", channel_user_id="1", name="x" * 201, created_at=NOW))
    with db.transaction() as s:
        s.add(Person(channel="telegram", channel_user_id="1", name="x" * 200, created_at=NOW))
    with db.reading() as s:
        assert [len(n or "") for n in s.scalars(select(Person.name))] == [200]


def test_clip_cuts_free_text_to_its_column() -> None:
    assert limit(Person.name) == 200
    assert clip(Person.name, "a" * 300) == "a" * 200
    assert clip(Person.name, "Siti") == "Siti"
    assert clip(Person.name, None) is None


def test_an_officer_name_too_long_is_refused_in_indonesian(db: Database) -> None:
    with pytest.raises(ValueError, match="paling banyak 200 karakter"), db.transaction() as s:
        people.add_officer(s, 7, "B" * 201, "petugas", NOW)


def test_sigap_officers_add_refuses_a_name_too_long(register: Register, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["officers", "add", "--telegram-id", "11", "--name", "B" * 201, "--role", "admin"]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == "Nama petugas harus diisi, paling banyak 200 karakter."
    assert "Traceback" not in out + err
    db = Database(register.url(tmp_path))
    with db.reading() as s:
        assert s.scalars(select(Officer)).all() == []
    db.dispose()


@pytest.mark.parametrize(("old", "new", "where"), [
    ('"Sukowiryo"]', '"' + "Desa" * 17 + '"]', "kantor.desa"),
    ('{ kode = "miras",', '{ kode = "' + "m" * 65 + '",', "pengaduan.kategori.kode"),
])
def test_an_office_file_code_too_long_for_its_column_is_refused(tmp_path: Path, old: str, new: str,
                                                                where: str) -> None:
    # Stored in String(64) columns: PostgreSQL would refuse every complaint using it.
    from bot.config.office import DEFAULT_OFFICE_FILE, OfficeFileError, load_office

    text = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "kantor.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(OfficeFileError, match=rf"{where} .* paling banyak 64 karakter"):
        load_office(path)
    path.write_text(text, encoding="utf-8")
    load_office(path)


def test_a_forwarding_agency_too_long_is_refused_and_changes_nothing(db: Database, policy: DeadlinePolicy) -> None:
    # Typed by an officer in chat ("tulis instansi tujuan penerusan"): Complaint.forwarded_to
    # is String(200); the move is refused in Indonesian on both backends, not failed at flush.
    draft = ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Ribut",
                           channel="lisan", received_at=NOW)
    admin = Actor("petugas", 1, "Pak Admin", "admin")
    with db.transaction() as s:
        c = create_complaint(s, draft, reporter=None, actor=Actor("warga", None, None, "warga"), now=NOW, policy=policy,
                             prefix="TRB")
        cid = c.id
    with pytest.raises(MoveRefused, match="Nama instansi tujuan paling banyak 200 karakter"), db.transaction() as s:
        transition(s, s.get(Complaint, cid), "teruskan", admin, NOW, forwarded_to="P" * 201)
    with db.transaction() as s:
        transition(s, s.get(Complaint, cid), "teruskan", admin, NOW, forwarded_to="P" * 200)
    with db.reading() as s:
        assert s.get(Complaint, cid).forwarded_to == "P" * 200
