# Stale while revalidate for the dashboard's IKU figures (issue 15), on both backends: after a
# write that moves a figure, the IKU page is served at once from the last figures with a line
# saying when they were computed and that they are being brought up to date, while one
# background recompute runs; its figures then replace the old ones. Many requests meanwhile
# start no second recompute; a failing one is logged and leaves the old figures, and the next
# request tries again; with no figures yet (and for a workbook) the request computes them
# itself; a past as-of date follows the same rule and comes out as the register says.
from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.dashboard.figure_cache import FigureCache
from bot.reports import iku_report as rep
from storage.db import Database
from tests import test_figure_cache
from tests.dashboard_world import PIMPINAN, Site, complaint, make_site, wib
from tests.test_dashboard_kecamatan import _browser
from tests.test_figure_cache import STALE, iku4, settled

WORKER = "sigap-angka-dasbor"
IKU_TABLE = rep.iku_table  # the real one, for what the test expects (not counted by the gate)
# The fixture giving each dashboard's figure cache, to wait for its background recomputes.
caches = test_figure_cache.caches  # the cache's background thread (figure_cache.FigureCache._work)
LINE = re.compile(r'<p class="([^"]*)" id="dihitung"[^>]*>(.*?)</p>', re.S)


@dataclass
class Gate:
    """rep.iku_table, counted by where it ran, and held in the background thread while
    `closed` (so a test sees the page while a recompute is under way); `fail` makes the
    background's next runs raise."""

    closed: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    fail: int = 0
    here: int = 0
    background: int = 0
    running: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self) -> None:
        self.closed.set()
        self.started.clear()

    def open(self) -> None:
        self.closed.clear()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    real = rep.iku_table

    def gated(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != WORKER:
            g.here += 1
            return real(*args, **kwargs)
        with g.lock:
            g.background += 1
            g.running += 1
            g.most_at_once = max(g.most_at_once, g.running)
        try:
            g.started.set()
            deadline = time.monotonic() + 30
            while g.closed.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
            if g.fail:
                g.fail -= 1
                raise RuntimeError("basis data terputus")
            return real(*args, **kwargs)
        finally:
            with g.lock:
                g.running -= 1

    monkeypatch.setattr(rep, "iku_table", gated)
    yield g
    g.open()  # never leave the worker waiting at the end


@pytest.fixture
def site(db: Database, caches: list[FigureCache]) -> Site:
    s = make_site(db)
    complaint(db, wib(2026, 3, 30, 9, 0), "selesai")
    complaint(db, wib(2026, 4, 6, 9, 0), None)
    return s


def line(html: str) -> tuple[str, str]:
    """The "Angka dihitung" line of a page: its classes and its text."""
    found = LINE.search(html)
    assert found, html
    return found.group(1), re.sub(r"\s+", " ", found.group(2))


def expected_iku4(site: Site, as_of: date) -> str:
    with site.db.reading() as s:
        counts = {r.code: r for r in IKU_TABLE(s, site.office, as_of.year, as_of)}["IKU-4"].detail["counts"]
    return f"IKU-4: selesai {counts.resolved} dari {counts.counted} laporan"


def test_after_a_write_the_last_figures_are_served_at_once_then_the_fresh_ones(
        site: Site, gate: Gate, caches: list[FigureCache]) -> None:
    site.login()
    first = site.client.get("/dasbor").text
    assert gate.here == 1 and iku4(first) == "IKU-4: selesai 1 dari 2 laporan"
    assert line(first) == ("catatan", "Angka dihitung pukul 10.00 WIB, 15 Mei 2026; dihitung ulang setelah ada "
                                      "data baru atau perubahan.")
    gate.hold()
    site.later(minutes=42)
    complaint(site.db, wib(2026, 5, 15, 10, 30), "selesai")
    # Served while the recompute is held in the background: the last figures, the moment they
    # were computed (not now), highlighted and saying they are being brought up to date.
    stale = site.client.get("/dasbor").text
    assert gate.started.wait(10), "no background recompute started"
    assert iku4(stale) == "IKU-4: selesai 1 dari 2 laporan"
    assert line(stale) == ("catatan perhatian", f"Angka dihitung pukul 10.00 WIB, 15 Mei 2026; {STALE} karena ada "
                                                "data baru atau perubahan. Muat ulang halaman ini sebentar lagi "
                                                "untuk angka terbaru.")
    trend = site.client.get("/dasbor/tren").text  # the same table: the same line
    assert f"Angka dihitung pukul 10.00 WIB, 15 Mei 2026; {STALE}" in trend
    assert gate.here == 1 and gate.background == 1
    gate.open()
    settled(caches)
    fresh = site.client.get("/dasbor").text
    assert iku4(fresh) == "IKU-4: selesai 2 dari 3 laporan" == expected_iku4(site, date(2026, 5, 15))
    # Computed by the background, at the moment it started.
    assert line(fresh) == ("catatan", "Angka dihitung pukul 10.42 WIB, 15 Mei 2026; dihitung ulang setelah ada "
                                      "data baru atau perubahan.")
    assert (gate.here, gate.background) == (1, 1)


def test_many_requests_meanwhile_start_one_recompute(site: Site, gate: Gate,
                                                     caches: list[FigureCache]) -> None:
    browsers = [_browser(site, PIMPINAN) for _ in range(6)]
    before = iku4(browsers[0].get("/dasbor").text)
    browsers[0].get("/dasbor?per=2026-04-30")  # a second key of the same kecamatan
    assert gate.here == 2
    gate.hold()
    complaint(site.db, wib(2026, 4, 20, 9, 0), "selesai")
    pages: list[str] = []
    errors: list[BaseException] = []

    def look(client: Any, url: str) -> None:
        try:
            for _ in range(3):
                pages.append(client.get(url).text)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=look, args=(b, "/dasbor" if i % 2 else "/dasbor?per=2026-04-30"))
               for i, b in enumerate(browsers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(pages) == 18
    assert all(STALE in p for p in pages)
    assert gate.started.wait(10)
    gate.open()
    settled(caches)
    # One recompute per key (two keys), one at a time, and none in a request.
    assert (gate.here, gate.background, gate.most_at_once) == (2, 2, 1)
    after = browsers[1].get("/dasbor").text
    assert STALE not in after and iku4(after) != before
    assert iku4(after) == expected_iku4(site, date(2026, 5, 15))
    assert iku4(browsers[2].get("/dasbor?per=2026-04-30").text) == expected_iku4(site, date(2026, 4, 30))
    assert gate.background == 2


def test_a_failing_recompute_keeps_the_last_figures_and_the_next_request_retries(
        site: Site, gate: Gate, caches: list[FigureCache], caplog: pytest.LogCaptureFixture) -> None:
    site.login()
    before = iku4(site.client.get("/dasbor").text)
    complaint(site.db, wib(2026, 5, 14, 9, 0), None)
    gate.fail = 1
    with caplog.at_level(logging.ERROR, logger="bot.dashboard.figure_cache"):
        stale = site.client.get("/dasbor").text
        settled(caches)
    assert iku4(stale) == before and STALE in stale
    failed = [r for r in caplog.records if r.name == "bot.dashboard.figure_cache"]
    assert len(failed) == 1 and "gagal dihitung ulang" in failed[0].getMessage()
    assert failed[0].exc_info and "basis data terputus" in str(failed[0].exc_info[1])
    # The old figures stay, still saying they are being brought up to date; this request
    # schedules the recompute again, and this time it succeeds.
    again = site.client.get("/dasbor").text
    assert iku4(again) == before and STALE in again
    settled(caches)
    assert gate.background == 2 and gate.here == 1
    fresh = site.client.get("/dasbor").text
    assert STALE not in fresh and iku4(fresh) == expected_iku4(site, date(2026, 5, 15)) != before


def test_with_no_figures_yet_the_request_computes_them(site: Site, gate: Gate,
                                                       caches: list[FigureCache]) -> None:
    site.login()
    gate.hold()  # a background recompute would hang here: none may be started
    first = site.client.get("/dasbor").text
    assert gate.here == 1 and gate.background == 0 and STALE not in first
    assert iku4(first) == expected_iku4(site, date(2026, 5, 15))
    # A write, then a date never asked for before: no last figures of that key, so computed
    # in the request, fresh; the key already kept is served stale.
    complaint(site.db, wib(2026, 3, 31, 9, 0), "selesai")
    march = site.client.get("/dasbor/iku?per=2026-03-31").text
    assert gate.here == 2 and STALE not in march and iku4(march) == expected_iku4(site, date(2026, 3, 31))
    assert STALE in site.client.get("/dasbor").text
    gate.open()
    settled(caches)
    assert gate.background == 1


def test_a_workbook_after_a_write_has_the_fresh_figures(site: Site, gate: Gate,
                                                        caches: list[FigureCache]) -> None:
    site.login()
    site.client.get("/dasbor")
    complaint(site.db, wib(2026, 5, 14, 9, 0), "selesai")
    # A workbook says nothing of when its figures were computed: it waits for fresh ones.
    response = site.client.get("/dasbor/unduh/iku.xlsx")
    assert response.status_code == 200 and gate.here == 2 and gate.background == 0
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    iku4_row = next(row for row in sheet.iter_rows(values_only=True) if str(row[2]).startswith("IKU-4 "))
    with site.db.reading() as s:
        row = {r.code: r for r in IKU_TABLE(s, site.office, 2026, date(2026, 5, 15))}["IKU-4"]
    # The year's column (J): 2 of 3 resolved now (1 of 2 before the write), as the register says.
    assert rep.shown(row.realisation["ytd"], row.kind) == Decimal("66.67")
    assert iku4_row[9] == pytest.approx(66.67)
    # Kept under the stamp it read: the page now needs no recompute either.
    assert STALE not in site.client.get("/dasbor").text and gate.background == 0


def test_a_past_date_after_a_late_recorded_complaint(site: Site, gate: Gate,
                                                     caches: list[FigureCache]) -> None:
    """The as-of rule: what was true on 31 March, from the dated history. A complaint received
    in March but recorded only now (lisan, by an officer) moves the figures as of 31 March: the
    stamp says so, as for today's; the page says its figures are being brought up to date, then
    shows what the register says for that date."""
    site.login()
    url = "/dasbor/iku?tahun=2026&per=2026-03-31"
    before = site.client.get(url).text
    assert iku4(before) == "IKU-4: selesai 1 dari 1 laporan"
    complaint(site.db, wib(2026, 3, 20, 9, 0), None)  # received in March, recorded today
    stale = site.client.get(url).text
    assert STALE in stale and iku4(stale) == iku4(before)
    settled(caches)
    fresh = site.client.get(url).text
    assert STALE not in fresh and iku4(fresh) == "IKU-4: selesai 1 dari 2 laporan" == expected_iku4(
        site, date(2026, 3, 31))
    # A later write that does not touch March (a complaint received today)
    # still gives a new stamp; the recompute gives the same March figures.
    complaint(site.db, wib(2026, 5, 15, 8, 0), "selesai")
    assert STALE in site.client.get(url).text
    settled(caches)
    assert iku4(site.client.get(url).text) == "IKU-4: selesai 1 dari 2 laporan"


# --- The cache itself -----------------------------------------------------------------------

CLOCK: Callable[[], datetime] = lambda: datetime(2026, 5, 15, 3, 0, tzinfo=UTC)  # noqa: E731


def test_recomputes_run_one_at_a_time_and_replace_the_entry_whole() -> None:
    cache = FigureCache()
    office = object()
    running, most, order = [0], [0], []
    lock = threading.Lock()

    def refresh(name: str, stamp: str) -> Callable[[], tuple[object, list[str]]]:
        def run() -> tuple[object, list[str]]:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            order.append(name)
            with lock:
                running[0] -= 1
            return stamp, [name, "baru"]
        return run

    for name in "abc":
        cache.get(name, office, lambda n=name: [n, "lama"], CLOCK, stamp="s1")  # type: ignore[misc]
    for name in "abc":
        stale = cache.get(name, office, lambda: ["tidak dipakai"], CLOCK, stamp="s2", refresh=refresh(name, "s2"))
        assert stale.stale and stale.value == [name, "lama"]
    # Asked again while queued or running: not queued twice.
    for name in "abc":
        assert cache.get(name, office, lambda: ["x"], CLOCK, stamp="s2", refresh=refresh(name, "s2")).stale
    assert cache.settle(10)
    assert order == ["a", "b", "c"] and most[0] == 1
    for name in "abc":
        kept = cache.get(name, office, lambda: ["x"], CLOCK, stamp="s2", refresh=refresh(name, "s2"))
        assert not kept.stale and kept.value == [name, "baru"]
    assert order == ["a", "b", "c"]
    # A recompute that read a stamp older than the request's: its figures are kept under the
    # stamp it read, so the next request (newer stamp) asks again.
    cache.get("a", office, lambda: ["x"], CLOCK, stamp="s4", refresh=refresh("a", "s3"))
    assert cache.settle(10)
    assert cache.get("a", office, lambda: ["x"], CLOCK, stamp="s4", refresh=refresh("a", "s4")).stale
    assert cache.settle(10) and order[-2:] == ["a", "a"]


def test_a_request_that_must_compute_waits_for_the_recompute_of_its_key() -> None:
    cache = FigureCache()
    office = object()
    release = threading.Event()
    computed: list[str] = []

    def slow() -> tuple[object, str]:
        release.wait(10)
        return "s2", "dari latar"

    cache.get("k", office, lambda: "lama", CLOCK, stamp="s1")
    assert cache.get("k", office, lambda: "x", CLOCK, stamp="s2", refresh=slow).stale
    got: list[str] = []
    waiting = threading.Thread(target=lambda: got.append(
        cache.get("k", office, lambda: computed.append("di sini") or "di sini", CLOCK, stamp="s2").value))
    waiting.start()
    time.sleep(0.1)
    assert got == []  # a workbook's request waits for the recompute under way
    release.set()
    waiting.join(10)
    assert cache.settle(10)
    assert got == ["dari latar"] and computed == []
