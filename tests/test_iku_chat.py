# The IKU chat commands through bot.dialogs.router.handle (the same entry point every channel
# uses): who may read and who may enter, what is recorded, and the answers queued.
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office
from bot.dialogs import deferred
from bot.dialogs.context import Runtime
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from storage import iku, people
from storage.complaints import DeadlinePolicy
from storage.db import Database
from storage.models import (
    IkuActivity,
    IkuDocument,
    IkuTarget,
    OutboxItem,
    ProgramIndicator,
    SakipScore,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)
ADMIN, KOORDINATOR, PIMPINAN, PETUGAS, WARGA = 11, 12, 13, 14, 99
GROUP = -100123


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return Runtime(office=load_office(), policy=DeadlinePolicy(3, 5, set(), JAKARTA), tz=JAKARTA,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


@pytest.fixture
def officers(db: Database) -> Database:
    with db.transaction() as s:
        people.add_officer(s, ADMIN, "Bu Admin", "admin", NOW)
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
        people.add_officer(s, PIMPINAN, "Pak Camat", "pimpinan", NOW)
        people.add_officer(s, PETUGAS, "Budi", "petugas", NOW)
    return db


def say(db: Database, rt: Runtime, user: int, text: str, chat: int | None = None) -> str:
    """Send one command; return the plain text of every message queued in reply."""
    name, _, args = text.lstrip("/").partition(" ")
    caller = Caller("telegram", str(chat if chat is not None else user), str(user), None,
                    "private" if chat is None else "group")
    with db.transaction() as s:
        last = s.scalar(select(func.max(OutboxItem.id))) or 0
        handle(rt, s, caller, Event(kind="command", command=name, args=args, text=text), NOW)
        rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
        # As a person reads it: Telegram renders the HTML (quotes arrive as &#39;); a report
        # request (deferred.KIND) as the delivery builds it.
        return "\n".join(to_plain(p["text"]) for r in rows for _, p in deferred.expand(rt, s, r.kind, r.payload))


def count(db: Database, model: type) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count(model.id))) or 0)


def test_iku_table_for_officers_only(officers: Database, rt: Runtime) -> None:
    db = officers
    text = say(db, rt, PETUGAS, "/iku")
    assert "IKU Kecamatan Jelbuk tahun 2026" in text and "IKU-4 Persentase tingkat penyelesaian" in text
    assert "Target 90,00%" in text  # the office file's target
    assert "IKU-6" in say(db, rt, PIMPINAN, "/iku", chat=GROUP)  # in the group too
    assert say(db, rt, WARGA, "/iku") == "Maaf, tindakan ini hanya untuk petugas yang terdaftar."
    assert "Tahun harus" in say(db, rt, PETUGAS, "/iku duaribu")
    # As of a date, like `sigap iku report --per` (today is 15 May 2026 here).
    assert "per Selasa, 31 Maret 2026" in say(db, rt, PETUGAS, "/iku 2026 2026-03-31")
    assert "belum terjadi" in say(db, rt, PETUGAS, "/iku 2026 2026-06-30")


def test_iku_target_admin_only(officers: Database, rt: Runtime) -> None:
    db = officers
    refused = say(db, rt, PETUGAS, "/iku_target IKU-4 2026 85")
    assert "hanya untuk peran admin" in refused and "Peran Anda: petugas" in refused
    assert "hanya untuk peran admin" in say(db, rt, KOORDINATOR, "/iku_target IKU-4 2026 85")
    assert count(db, IkuTarget) == 0

    done = say(db, rt, ADMIN, "/iku_target iku-4 2026 85,5")
    assert "Tercatat" in done and "IKU-4 tahun 2026: 85,5" in done
    with db.reading() as s:
        (target,) = iku.current(s, IkuTarget)
        assert target.value == Decimal("85.5") and target.recorded_by == f"Bu Admin (telegram {ADMIN})"
    assert "Target 85,50%" in say(db, rt, PETUGAS, "/iku")
    # Anyone may look at the targets; the list says where each comes from.
    listing = say(db, rt, PETUGAS, "/iku_target")
    assert "register #1" in listing and "dari berkas kantor" in listing

    bad = say(db, rt, ADMIN, "/iku_target IKU-4 2026")
    assert "perlu KODE, TAHUN dan NILAI" in bad and "/iku_target KODE TAHUN NILAI" in bad
    assert "tidak dikenal" in say(db, rt, ADMIN, "/iku_target IKU-7 2026 80")
    assert count(db, IkuTarget) == 1


def test_register_entries_by_role(officers: Database, rt: Runtime) -> None:
    db = officers
    assert "hanya untuk peran koordinator, pimpinan, admin" in say(
        db, rt, PETUGAS, "/iku_dokumen lakip | LKjIP 2025 | 050/1 | 2026-03-01")
    assert count(db, IkuDocument) == 0
    assert "Tercatat" in say(db, rt, KOORDINATOR, "/iku_dokumen lakip | LKjIP 2025 | 050/1 | 2026-03-01")
    fixed = say(db, rt, PIMPINAN, "/iku_dokumen koreksi 1 lakip | LKjIP Tahun 2025 | - | 2026-03-02")
    assert "#2 menggantikan #1" in fixed
    history = say(db, rt, PETUGAS, "/iku_dokumen riwayat 2")
    assert "[dikoreksi] #1" in history and "[berlaku] #2" in history
    bad = say(db, rt, KOORDINATOR, "/iku_dokumen buku | Judul | - | 2026-03-01")
    assert "Jenis dokumen 'buku' tidak dikenal" in bad and "Format:" in bad
    assert "belum terjadi" in say(db, rt, KOORDINATOR, "/iku_dokumen lakip | X | - | 2026-12-01")

    assert "Tercatat" in say(db, rt, KOORDINATOR, "/iku_kegiatan tambah 2026 | Pelatihan UMKM | 2026-02-10")
    assert "difasilitasi" in say(db, rt, KOORDINATOR, "/iku_kegiatan fasilitasi 1 2026-02-11 | foto dan daftar hadir")
    assert "tidak lengkap" in say(db, rt, KOORDINATOR, "/iku_kegiatan fasilitasi 2 2026-02-11")
    assert "Tercatat" in say(db, rt, PIMPINAN, "/iku_sakip 2026 90,01 | 700/12/35.09/2026 | 2026-02-20")
    assert "Tercatat" in say(db, rt, ADMIN, "/iku_program tambah 2026 | Program Trantib | Patroli | kali | 12")
    assert "realisasi 12" in say(db, rt, ADMIN, "/iku_program realisasi 1 12")
    assert "dihapus" in say(db, rt, ADMIN, "/iku_program hapus 2 salah program")
    with db.reading() as s:
        (activity,) = iku.current(s, IkuActivity, 2026)
        assert activity.facilitated_on == date(2026, 2, 11) and activity.recorded_by == f"Rina (telegram {KOORDINATOR})"
        score = iku.sakip_for(s, 2026)
        assert score is not None and score.score == Decimal("90.01")
        assert iku.current(s, ProgramIndicator, 2026) == []
    assert count(db, SakipScore) == 1
    table = say(db, rt, PETUGAS, "/iku")
    assert "Predikat AA" in table and "Difasilitasi 1 dari 1 kegiatan" in table
