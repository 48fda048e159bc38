"""A heavy officer report never holds up a resident: /ikm (and /iku), and the /kasus search
with its pages, on a large register are built by the delivery from a read transaction
(bot/dialogs/deferred.py), so a resident's /start sent in the same moment, handled in the
same write batch, is answered first, in the time a /start takes, not in the time the report
takes."""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.dialogs import deferred
from bot.reports.skm_summary import current_skm_period
from storage import skm
from storage.complaint_search import CaseQuery, search_complaints
from storage.models import Complaint, OutboxItem
from storage.tenancy import current
from tests.e2e import PETUGAS, WARGA, World

pytestmark = pytest.mark.usefixtures("register")

# Large enough that the report takes clearly longer than a /start (about 0.2-1 s here).
RESPONSES = 100_000
# Open complaints for /kasus: its search then takes some 0.1-0.3 s here.
COMPLAINTS = 30_000


async def report_sent(w: World, after: int, timeout: float = 60.0) -> None:
    """Until the officer's report (its chart, the last message) arrived: on PostgreSQL an
    item being built is leased, so World.idle does not count it as due."""
    deadline = time.monotonic() + timeout
    while not any(o.chat_id == PETUGAS and o.method == "sendPhoto" for o in w.emu.sent[after:]):
        assert time.monotonic() < deadline, "no report"
        await asyncio.sleep(0.05)
    await w.idle()


def paper_forms(n: int, period: str, today: Any) -> Iterator[dict[str, Any]]:
    rnd = random.Random(7)
    at = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(n):
        yield {
            "source": "kertas", "service": rnd.choice(("surat_keterangan", "kk_ktp")), "period": period,
            "tanggal": today, "answered_at": at, "jenis_kelamin": rnd.choice("LP"), "usia": rnd.randrange(18, 70),
            **{f"u{i}": rnd.choice((2, 3, 3, 4, 4)) for i in range(1, 10)}, "created_at": at,
        }


async def test_resident_start_is_answered_before_a_heavy_report_sent_with_it(world: World) -> None:
    w = world
    office = w.service.rt.office
    now = datetime.now(UTC)
    period = current_skm_period(office, now)
    services = [s.code for s in office.services]
    with w.service.db.transaction() as s:
        rows = ({**r, "service": services[i % len(services)]}
                for i, r in enumerate(paper_forms(RESPONSES, period.code, now.astimezone(w.service.rt.tz).date())))
        skm.insert_responses(s, rows)
    await w.say(WARGA, "/start")  # warm-up: imports, connections, the menu template
    await w.say(PETUGAS, "/ikm")
    await report_sent(w, 0)
    mark = len(w.emu.sent)

    # The officer's report first, the resident's /start right behind it: one batch.
    t0 = time.monotonic()  # the emulator stamps what it receives with time.monotonic()
    w.emu.send_text(PETUGAS, "/ikm")
    w.emu.send_text(WARGA, "/start")
    await report_sent(w, mark)
    out = w.emu.sent[mark:]
    order = [(o.chat_id, o.method) for o in out]
    resident = next(o for o in out if o.chat_id == WARGA)
    report = next(o for o in out if o.chat_id == PETUGAS and o.method == "sendMessage")
    assert order[0] == (WARGA, "sendMessage"), order
    assert "Selamat datang" in (resident.text or ""), resident.text
    assert f"Responden: {RESPONSES} " in (report.text or ""), report.text
    assert any(o.chat_id == PETUGAS and o.method == "sendPhoto" for o in out), order
    # The resident's wait is not the report's: the menu went out while the report was built.
    resident_wait, report_wait = resident.at - t0, report.at - t0
    assert resident_wait < report_wait, (resident_wait, report_wait)
    print(f"resident /start {resident_wait * 1000:.0f} ms, /ikm on {RESPONSES} answers {report_wait * 1000:.0f} ms")
    # Only a request was written in the batch; the texts were built outside it.
    with w.service.db.reading() as s:
        kinds = s.scalars(select(OutboxItem.kind).where(OutboxItem.chat_id == str(PETUGAS))).all()
    assert deferred.KIND in kinds and "photo" not in kinds


def open_complaints(n: int, now: datetime, today: date, kecamatan: str) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        at = now - timedelta(minutes=i)
        yield {
            "ticket": f"TRB-2026-{i:07d}", "year": 2026, "seq": i, "kind": "pengaduan", "category": "miras",
            "desa": ("Jelbuk", "Sukowiryo", "Panduman")[i % 3], "description": f"Pesta miras {i} dekat pasar",
            "channel": "lisan", "anonim": False, "rahasia": False, "status": "diterima", "received_at": at,
            "created_at": at, "verify_due": today, "followup_due": today, "current_due": today - timedelta(days=i % 30),
            "reopen_count": 0, "version": 1, "kecamatan": kecamatan,  # a Core insert names its tenant
        }


def timed_search(w: World, today: date) -> float:
    with w.service.db.reading() as s:
        t = time.perf_counter()
        search_complaints(s, CaseQuery(words=("pasar",)), today)
        return time.perf_counter() - t


async def officer_reads(w: World, after: int, words: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(o.chat_id == PETUGAS and words in (o.text or "") for o in w.emu.sent[after:]):
        assert time.monotonic() < deadline, (words, [o.text for o in w.emu.sent[after:] if o.chat_id == PETUGAS])
        await asyncio.sleep(0.05)
    await w.idle()


async def test_resident_start_is_answered_before_a_kasus_search_sent_with_it(world: World) -> None:
    w = world
    now = datetime.now(UTC)
    today = now.astimezone(w.service.rt.tz).date()
    with w.service.db.transaction() as s:
        s.execute(insert(Complaint), list(open_complaints(COMPLAINTS, now, today, current(s))))
    count = f"{COMPLAINTS:,}".replace(",", ".")  # as the template writes it: 30.000
    pages = f"{COMPLAINTS // 10:,}".replace(",", ".")  # 3.000
    found = f'Hasil pencarian "pasar": {count} laporan (halaman 1 dari {pages})'
    await w.say(WARGA, "/start")  # warm-up: imports, connections, the templates
    await w.say(PETUGAS, "/kasus pasar")
    await officer_reads(w, 0, found)
    search_alone = min(timed_search(w, today) for _ in range(3))
    mark = len(w.emu.sent)

    # The officer's search first, the resident's /start right behind it: one batch.
    t0 = time.monotonic()  # the emulator stamps what it receives with time.monotonic()
    w.emu.send_text(PETUGAS, "/kasus pasar")
    w.emu.send_text(WARGA, "/start")
    await officer_reads(w, mark, found)
    out = w.emu.sent[mark:]
    order = [(o.chat_id, o.method) for o in out]
    resident = next(o for o in out if o.chat_id == WARGA)
    listing = next(o for o in out if o.chat_id == PETUGAS)
    resident_wait, listing_wait = resident.at - t0, listing.at - t0
    print(f"resident /start {resident_wait * 1000:.0f} ms, /kasus pasar on {COMPLAINTS} complaints "
          f"{listing_wait * 1000:.0f} ms (the search alone {search_alone * 1000:.0f} ms)")
    assert order[0] == (WARGA, "sendMessage"), order
    assert "Selamat datang" in (resident.text or ""), resident.text
    # The menu went out while the search ran: well before the list (in the batch, the two
    # went out together, after the search).
    assert listing_wait - resident_wait > search_alone / 2, (resident_wait, listing_wait, search_alone)
    # The page button drawn by the delivery is accepted: the next page, built the same way.
    await w.press(PETUGAS, "Berikutnya ›")
    await officer_reads(w, mark, f"laporan (halaman 2 dari {pages})")
    with w.service.db.reading() as s:
        kinds = s.scalars(select(OutboxItem.kind).where(OutboxItem.chat_id == str(PETUGAS))).all()
    assert deferred.KIND in kinds and "text" not in kinds
