# Migration 0012 (tenants) on a register with data in it, on both backends: an existing
# single-office register moves whole into its kecamatan (the office's kode), nothing lost,
# tickets continue; down again gives the single-office register back; a register holding two
# kecamatan refuses to go down (it would merge them).
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from storage import migrate, people, skm
from storage.complaints import ComplaintDraft, DeadlinePolicy, by_ticket, create_complaint
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import Complaint, SkmResponse
from storage.tenancy import DEFAULT_KECAMATAN

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
WARGA = Actor("warga", None, None, "warga")


def old_register(db: Database) -> None:
    """A register as 0011 left it: one office, two complaints, an officer, a setting, an answer."""
    migrate.downgrade(db, "0011")
    rows = [
        "INSERT INTO officers (telegram_id, name, role, active, created_at) "
        "VALUES (1001, 'Bu Admin', 'admin', true, '2026-11-01 01:00:00')",
        "INSERT INTO runtime_settings (key, value, updated_at) VALUES ('trantib_group', '-100', '2026-11-01 01:00:00')",
        "INSERT INTO ticket_counters (year, last_seq) VALUES (2026, 2)",
        "INSERT INTO people (channel, channel_user_id, name, created_at) "
        "VALUES ('telegram', '777', 'Siti', '2026-11-01 01:00:00')",
        *(
            "INSERT INTO complaints (ticket, year, seq, kind, category, desa, description, channel, anonim, "
            "rahasia, reporter_id, status, received_at, created_at, verify_due, followup_due, reopen_count, version) "
            f"VALUES ('TRB-2026-0000{i}', 2026, {i}, 'pengaduan', 'keributan', 'Jelbuk', 'Uraian {i}', "
            "'telegram', false, true, (SELECT id FROM people), 'diterima', '2026-11-02 01:00:00', '2026-11-02 01:00:00', "
            "'2026-11-05', '2026-11-09', 0, 1)"
            for i in (1, 2)
        ),
        "INSERT INTO skm_responses (source, respondent_key, service, period, tanggal, answered_at, "
        "persetujuan_wali, u1, created_at) VALUES ('telegram', 'kunci', 'ktp-kk', '2026-Q4', '2026-11-03', "
        "'2026-11-03 01:00:00', false, 4, '2026-11-03 01:00:00')",
    ]
    with db.engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql))


def test_an_old_register_moves_into_the_default_kecamatan(db: Database, policy: DeadlinePolicy) -> None:
    old_register(db)
    migrate.upgrade(db)
    with db.reading() as s:
        assert s.info["kecamatan"] == DEFAULT_KECAMATAN
        assert [c.ticket for c in s.scalars(select(Complaint).order_by(Complaint.id))] == [
            "TRB-2026-00001", "TRB-2026-00002"]
        c = by_ticket(s, "TRB-2026-00002")
        assert c is not None and c.description == "Uraian 2" and c.reporter is not None and c.reporter.name == "Siti"
        assert people.officer_by_telegram(s, 1001) is not None
        assert people.get_setting(s, "trantib_group") == "-100"
        assert skm.already_answered(s, "kunci", "ktp-kk", "2026-Q4")
    with db.engine.connect() as conn:
        assert set(conn.execute(text("SELECT DISTINCT kecamatan FROM complaints")).scalars()) == {DEFAULT_KECAMATAN}
    # The numbering goes on where it was.
    with db.transaction() as s:
        new = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Baru",
                              channel="telegram", received_at=NOW),
            reporter=None, actor=WARGA, now=NOW, policy=policy, prefix="TRB")
        assert new.ticket == "TRB-2026-00003"
    # And back: one office again, every row kept.
    migrate.downgrade(db, "0011")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM complaints")).scalar_one() == 3
        assert conn.execute(text("SELECT value FROM runtime_settings WHERE key = 'trantib_group'")).scalar_one() == "-100"
        assert conn.execute(text("SELECT last_seq FROM ticket_counters WHERE year = 2026")).scalar_one() == 3
    migrate.upgrade(db)


def test_the_register_moves_into_the_offices_own_kode(db: Database) -> None:
    # A deployment of another kecamatan (its office file names its kode) keeps its rows as its own.
    old_register(db)
    arjasa = Database(db.url, kecamatan="35.09.22")
    try:
        migrate.upgrade(arjasa)
        with arjasa.reading() as s:
            assert s.scalar(select(func.count(Complaint.id))) == 2
            assert s.scalar(select(func.count(SkmResponse.id))) == 1
        with db.reading(DEFAULT_KECAMATAN) as s:
            assert s.scalar(select(func.count(Complaint.id))) == 0
    finally:
        arjasa.dispose()


def test_a_register_of_two_kecamatan_refuses_to_go_down(db: Database) -> None:
    with db.transaction() as s:
        people.add_officer(s, 1, "Jelbuk", "admin", NOW)
    with db.transaction("35.09.22") as s:
        people.add_officer(s, 1, "Arjasa", "admin", NOW)
    with pytest.raises(RuntimeError, match="2 kecamatan"):
        migrate.downgrade(db, "0011")
    with db.reading("35.09.22") as s:
        officer = people.officer_by_telegram(s, 1)
        assert officer is not None and officer.name == "Arjasa"
