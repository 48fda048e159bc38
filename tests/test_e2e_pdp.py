# "Hapus identitas" through the chat, end to end (issue 12): a resident files a complaint
# with a photo and a GPS point, it is closed, they erase their data from "Data saya"; after
# the nightly retention run, no table and no file under the data directory carries their
# name, chat id, the photo or a phrase of the description, and IKU 4 counts are unchanged.
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text

from bot.jobs.retention_job import run_retention
from storage.complaint_stats import resolution_counts
from storage.lifecycle import Actor, transition
from storage.models import Complaint, PdpRequest, Photo
from tests.e2e import WARGA, World
from tests.test_e2e_complaint import file_complaint

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

ADMIN = Actor("petugas", 1, "Budi", "petugas")
PHRASE = "warung ujung desa"


def _traces(w: World, data_dir: Path) -> list[str]:
    chat = re.compile(rf"(?<!\d){WARGA}(?!\d)")
    found: list[str] = []
    with w.service.db.reading() as s:
        for name in inspect(s.connection()).get_table_names():
            for row in s.execute(text(f'SELECT * FROM "{name}"')).all():  # noqa: S608 - names from the catalogue
                line = repr(tuple(row))
                if "Siti" in line or PHRASE in line or chat.search(line):
                    found.append(f"{name}: {line[:200]}")
    for path in data_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            if b"Siti" in raw or PHRASE.encode() in raw or path.suffix == ".jpg":
                found.append(f"file {path.name}")
    return found


def _iku4(w: World) -> object:
    now = datetime.now(UTC)
    with w.service.db.reading() as s:
        return resolution_counts(s, now - timedelta(days=2), now + timedelta(days=1), ZoneInfo("Asia/Jakarta"))


async def test_erasure_from_data_saya_leaves_no_trace(world: World, tmp_path: Path) -> None:
    w = world
    ticket = await file_complaint(w, WARGA, rahasia=False, photo=True)
    with w.service.db.transaction() as s:
        c = s.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
        assert c.latitude is not None and PHRASE in c.description
        now = datetime.now(UTC)
        transition(s, c, "verifikasi", ADMIN, now, internal_note="Pelapor: Siti")
        transition(s, c, "tindaklanjuti", ADMIN, now, public_note=f"Dicek ke {PHRASE}")
        transition(s, c, "selesaikan", ADMIN, now, public_note="Sudah ditertibkan")
    before = _iku4(w)
    assert len(_traces(w, tmp_path)) > 5  # the test can fail: the traces are there

    await w.say(WARGA, "/datasaya")
    await w.press(WARGA, "Hapus identitas saya")
    await w.press(WARGA, "Ya, hapus")
    assert "sudah dihapus" in (w.last(WARGA).text or "")
    await w.idle()
    # Right after: only the record of the confirmation just sent to that chat is left.
    left = _traces(w, tmp_path)
    assert all(t.startswith("outbox:") for t in left if not t.startswith("file sigap.db")), left

    report = run_retention(w.service.db, w.service.office, datetime.now(UTC), tmp_path)
    assert report.outbox_cleared >= 1
    assert _traces(w, tmp_path) == []
    assert _iku4(w) == before
    with w.service.db.reading() as s:
        c = s.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
        assert (c.status, c.desa, c.category, c.latitude) == ("selesai", "Sukowiryo", "miras", None)
        assert s.scalars(select(Photo)).all() == []
        # The request is on the register, answered at once.
        req = s.scalars(select(PdpRequest)).one()
        assert (req.kind, req.via, req.answered_by) == ("hapus", "bot", "sistem")
        assert req.answered_at is not None and req.answered_at - req.received_at < timedelta(seconds=1)
