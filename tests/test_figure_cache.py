# The dashboard's IKU pages and the public report card kept between requests (issue 15), on
# both backends: a repeated page is served without computing the IKU table again; every
# write that can move a figure gives fresh figures (the IKU pages: at once the last ones,
# saying so, and fresh ones once the background recompute is done, and the public card alike;
# tests/test_figure_cache_stale.py
# has the rest of that); a write that cannot leaves them; another kecamatan's figures are
# never served; the stamp follows savepoints.
from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.config.office import load_offices
from bot.dashboard import pages
from bot.dashboard import routes as dashboard_routes
from bot.dashboard.figure_cache import FigureCache
from bot.reports import iku_report as rep
from storage import complaints, figure_stamp, iku, people, skm, skm_official
from storage.db import Database
from storage.lifecycle import transition
from storage.models import Base, IkuDocument
from tests import dashboard_world
from tests.dashboard_world import NOW, OFFICER, PIMPINAN, Site, complaint, make_site, wib
from tests.test_dashboard_kecamatan import _browser

JELBUK, ARJASA = "35.09.25", "35.09.22"
PIMPINAN_A = 31
STALE = "sedang diperbarui"


@pytest.fixture
def caches(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FigureCache]]:
    """The figure cache of every dashboard make_site mounts from now on, so a test can wait
    for its background recomputes (FigureCache.settle). Each is settled at the end, before
    the register (`db`, set up first) is dropped."""
    found: list[FigureCache] = []

    def mounting(app: Any, d: dashboard_routes.Dashboard) -> None:
        found.append(d.figures)
        dashboard_routes.mount_dashboard(app, d)

    monkeypatch.setattr(dashboard_world, "mount_dashboard", mounting)
    yield found
    assert all(c.settle(60) for c in found), "a background recompute did not end"


def settled(caches: list[FigureCache]) -> None:
    assert caches and all(c.settle(30) for c in caches)


@pytest.fixture
def site(db: Database, caches: list[FigureCache]) -> Site:
    offices = load_offices()
    s = make_site(db, offices=offices)
    with db.transaction(ARJASA) as tx:
        people.add_officer(tx, PIMPINAN_A, "Bu Camat Arjasa", "pimpinan", NOW)
    s.tickets = [complaint(db, wib(2026, 3, 30, 9, 0), "selesai"),  # type: ignore[attr-defined]
                 complaint(db, wib(2026, 4, 6, 9, 0), None),
                 complaint(db, wib(2026, 5, 13, 9, 0), "verifikasi", desa="Panduman")]
    complaint(db, wib(2026, 4, 1, 9, 0), "selesai", desa="Biting", kecamatan=ARJASA, prefix="ARJ", category="miras")
    return s


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the IKU table and the report card were computed."""
    counted = {"iku": 0, "rapor": 0}
    iku_table, report_card = rep.iku_table, pages.report_card

    def counting_iku(*args: Any, **kwargs: Any) -> Any:
        counted["iku"] += 1
        return iku_table(*args, **kwargs)

    def counting_card(*args: Any, **kwargs: Any) -> Any:
        counted["rapor"] += 1
        return report_card(*args, **kwargs)

    monkeypatch.setattr(rep, "iku_table", counting_iku)
    monkeypatch.setattr(pages, "report_card", counting_card)
    return counted


def iku4(html: str) -> str:
    found = re.search(r"IKU-4: selesai \d+ dari \d+ laporan", html)
    assert found, html
    return found.group(0)


def test_a_repeated_page_is_served_without_computing_again(site: Site, calls: dict[str, int]) -> None:
    site.login()
    first = site.client.get("/dasbor").text
    assert calls["iku"] == 1 and iku4(first) == "IKU-4: selesai 1 dari 3 laporan"
    assert 'id="dihitung">Angka dihitung pukul 10.00 WIB, 15 Mei 2026;' in first
    site.later(minutes=25)
    again = site.client.get("/dasbor/iku").text
    # The same table from the same figures, and the page says when they were computed.
    assert calls["iku"] == 1 and again.replace("10.25", "10.00") == first.replace("10.25", "10.00")
    assert "Angka dihitung pukul 10.00 WIB, 15 Mei 2026" in again
    trend = site.client.get("/dasbor/tren")
    assert trend.status_code == 200 and "Angka dihitung pukul 10.00 WIB" in trend.text
    assert site.client.get("/dasbor/unduh/iku.xlsx").status_code == 200
    assert calls["iku"] == 1
    # Another year or date is other figures.
    site.client.get("/dasbor/iku", params={"per": "2026-03-31"})
    site.client.get("/dasbor/iku", params={"tahun": "2025"})
    assert calls["iku"] == 3
    site.client.get("/dasbor/iku", params={"per": "2026-03-31"})
    assert calls["iku"] == 3


def _status_change(site: Site) -> None:
    with site.db.transaction() as s:
        c = complaints.by_ticket(s, site.tickets[1])  # type: ignore[attr-defined]
        assert c is not None
        transition(s, c, "verifikasi", OFFICER, site.clock())


def _new_complaint(site: Site) -> None:
    complaint(site.db, wib(2026, 5, 15, 8, 0), None)


def _edit(site: Site) -> None:
    # An UPDATE that adds no row: the desa of a complaint (IKU 4's breakdown by desa).
    with site.db.transaction() as s:
        c = complaints.by_ticket(s, site.tickets[0])  # type: ignore[attr-defined]
        assert c is not None
        c.desa = "Panduman"


def _skm_answer(site: Site) -> None:
    with site.db.transaction() as s:
        draft = skm.ResponseDraft(service=site.office.services[0].code, period="2026-Q2", tanggal=date(2026, 5, 14),
                                  answers={f"u{j}": 3 for j in range(1, 10)})
        skm.record_response(s, draft, source="kertas", now=site.clock(), recorded_by="kertas")


def _skm_bulk(site: Site) -> None:
    # A Core INSERT on the table (paper imports), not an ORM flush.
    with site.db.transaction() as s:
        skm.insert_responses(s, [{"source": "kertas", "service": site.office.services[0].code, "period": "2026-Q2",
                                  "tanggal": date(2026, 5, 14), "answered_at": site.clock(), "created_at": site.clock(),
                                  **{f"u{j}": 2 for j in range(1, 10)}}])


RESPONDENT = skm.respondent_key(b"k" * 32, "telegram", "99")


def _skm_answer_of_respondent(site: Site) -> None:
    with site.db.transaction() as s:
        draft = skm.ResponseDraft(service=site.office.services[0].code, period="2026-Q2", tanggal=date(2026, 5, 14),
                                  answers={f"u{j}": 1 for j in range(1, 10)})
        skm.record_response(s, draft, source="telegram", now=site.clock(), respondent=RESPONDENT,
                            consent_at=site.clock())


def _skm_erased(site: Site) -> None:
    # The respondent withdraws consent: their answers are deleted (a DELETE statement).
    with site.db.transaction() as s:
        assert skm.withdraw_consent(s, RESPONDENT) == 1


def _document(site: Site) -> None:
    with site.db.transaction() as s:
        iku.add(s, IkuDocument, {"doc_type": "lakip", "title": "LKjIP 2025", "doc_date": date(2026, 2, 10)},
                "Bu Admin", site.clock())


def _target(site: Site) -> None:
    with site.db.transaction() as s:
        iku.set_target(s, "IKU-4", 2026, Decimal("95"), "Bu Admin", site.clock())


def _official(site: Site) -> None:
    with site.db.transaction() as s:
        skm_official.set_official(s, "2026-Q1", Decimal("88.5"), 120, "LHE e-SUKMA 1/2026", "Bu Admin", site.clock())


def _frozen(site: Site) -> None:
    with site.db.transaction() as s:
        rep.freeze_period(s, site.office, 2026, 1, date(2026, 5, 15), "Bu Admin", site.clock(), None)


WRITES: dict[str, Callable[[Site], None]] = {
    "status": _status_change, "pengaduan_baru": _new_complaint, "ubah_desa": _edit, "jawaban_skm": _skm_answer,
    "impor_skm": _skm_bulk, "hapus_jawaban": _skm_erased, "dokumen_iku": _document, "target": _target,
    "ikm_resmi": _official, "kunci_triwulan": _frozen,
}


@pytest.mark.parametrize("write", WRITES)
def test_every_write_that_moves_a_figure_gives_fresh_figures(site: Site, calls: dict[str, int], write: str,
                                                              caches: list[FigureCache]) -> None:
    if write == "hapus_jawaban":
        _skm_answer_of_respondent(site)
    site.login()
    url = "/dasbor/iku?per=2026-05-15"
    before = site.client.get(url).text
    site.client.get("/rapor")
    site.client.get(url)
    site.client.get("/rapor")
    assert calls == {"iku": 1, "rapor": 1} and STALE not in before
    WRITES[write](site)
    done = dict(calls)  # `sigap iku tutup` computes the table itself
    # The page at once, from the last figures, saying so; they are computed again meanwhile.
    stale = site.client.get(url).text
    assert f"Angka dihitung pukul 10.00 WIB, 15 Mei 2026; {STALE}" in stale and iku4(stale) == iku4(before)
    # The public card likewise: its last figures at once, saying so (the background may be
    # computing it already, so its count is read once it settled).
    card = site.client.get("/rapor").text
    assert f"Angka dihitung pukul 10.00 WIB, 15 Mei 2026; {STALE}" in card
    settled(caches)
    after = site.client.get(url).text
    assert calls == {"iku": done["iku"] + 1, "rapor": done["rapor"] + 1} and STALE not in after
    assert STALE not in site.client.get("/rapor").text and calls["rapor"] == done["rapor"] + 1
    # And the fresh figures are the ones computed from scratch now.
    with site.db.reading() as s:
        rows = {r.code: r for r in rep.iku_table(s, site.office, 2026, date(2026, 5, 15))}
    counts = rows["IKU-4"].detail["counts"]
    assert iku4(after) == f"IKU-4: selesai {counts.resolved} dari {counts.counted} laporan"


def test_a_write_that_moves_no_figure_keeps_them(site: Site, calls: dict[str, int]) -> None:
    site.login()
    site.client.get("/dasbor")
    site.client.get("/rapor")
    # A login, an officer added, a chat command, a logout of another browser: no figure moves.
    _browser(site, PIMPINAN)
    with site.db.transaction() as s:
        people.add_officer(s, 77, "Dewi", "petugas", site.clock())
    site.chat(PIMPINAN, "/bantuan")
    site.later(hours=3)
    site.client.get("/dasbor")
    site.client.get("/rapor")
    assert (calls["iku"], calls["rapor"]) == (1, 1)
    # The next day is another day's card (its months and statuses as of that day).
    site.later(days=1)
    site.client.get("/rapor")
    assert calls["rapor"] == 2


def test_another_kecamatans_figures_are_never_served(site: Site, calls: dict[str, int],
                                                     caches: list[FigureCache]) -> None:
    jelbuk, arjasa = _browser(site, PIMPINAN), _browser(site, PIMPINAN_A)
    j, a = jelbuk.get("/dasbor").text, arjasa.get("/dasbor").text
    assert calls["iku"] == 2
    assert iku4(j) == "IKU-4: selesai 1 dari 3 laporan" and iku4(a) == "IKU-4: selesai 1 dari 1 laporan"
    assert "Kecamatan Arjasa" in a and "Kecamatan Jelbuk" not in a
    assert iku4(jelbuk.get("/dasbor").text) == iku4(j) and iku4(arjasa.get("/dasbor").text) == iku4(a)
    assert calls["iku"] == 2
    # A write in Arjasa moves Arjasa's figures only: Jelbuk's stay kept.
    complaint(site.db, wib(2026, 5, 14, 9, 0), None, desa="Biting", kecamatan=ARJASA, prefix="ARJ",
              category="miras")
    assert iku4(jelbuk.get("/dasbor").text) == iku4(j) and calls["iku"] == 2
    stale = arjasa.get("/dasbor").text
    assert STALE in stale and iku4(stale) == iku4(a)
    settled(caches)
    assert iku4(arjasa.get("/dasbor").text) == "IKU-4: selesai 1 dari 2 laporan" and calls["iku"] == 3
    assert STALE not in jelbuk.get("/dasbor").text and calls["iku"] == 3
    # The public card by kecamatan likewise.
    assert "Kecamatan Arjasa" in site.client.get("/rapor", params={"kecamatan": ARJASA}).text
    assert "Kecamatan Jelbuk" in site.client.get("/rapor").text
    assert "Kecamatan Arjasa" in site.client.get("/rapor", params={"kecamatan": ARJASA}).text
    assert calls["rapor"] == 2


def test_the_stamp_follows_the_transaction(db: Database) -> None:
    def stamp(kecamatan: str | None = None) -> str | None:
        with db.reading(kecamatan) as s:
            return figure_stamp.read_stamp(s)

    t = complaint(db, wib(2026, 5, 1, 9, 0), None)
    first = stamp()
    assert first is not None and stamp(ARJASA) is None
    # A rolled-back transaction leaves it.
    with pytest.raises(RuntimeError), db.transaction() as s:
        c = complaints.by_ticket(s, t)
        assert c is not None
        c.desa = "Panduman"
        s.flush()
        raise RuntimeError
    assert stamp() == first
    # A write left pending until the commit's own flush bumps too.
    with db.transaction() as s:
        c = complaints.by_ticket(s, t)
        assert c is not None
        c.desa = "Panduman"
    second = stamp()
    assert second not in (None, first)
    # A write in a savepoint that rolled back still bumps at the commit: one bump too many,
    # never one too few.
    with db.transaction() as s:
        c = complaints.by_ticket(s, t)
        assert c is not None
        nested = s.begin_nested()
        c.desa = "Jelbuk"
        s.flush()
        nested.rollback()
    third = stamp()
    assert third not in (None, first, second)
    second = third
    # Nothing that a figure reads: the stamp stays.
    with db.transaction() as s:
        people.add_officer(s, 88, "Eko", "petugas", NOW)
    assert stamp() == second


def test_a_batch_that_steps_through_another_kecamatan_bumps_that_kecamatans_stamp(db: Database) -> None:
    """One handling batch writes for several kecamatan (bot/dialogs/kecamatan.py `scoped`)
    and commits in the scope it started in: the stamp bumped is the one of the kecamatan
    whose figures the write moved, not the one the commit happens in."""
    from bot.dialogs.kecamatan import scoped

    def stamp(kecamatan: str) -> str | None:
        with db.reading(kecamatan) as s:
            return figure_stamp.read_stamp(s)

    t = complaint(db, wib(2026, 5, 1, 9, 0), None)  # Jelbuk's
    with db.transaction(ARJASA) as s:
        people.add_officer(s, 77, "Rina", "admin", NOW)
    jelbuk, arjasa = stamp(JELBUK), stamp(ARJASA)
    # The batch's session, opened in another kecamatan, then a step in Jelbuk's scope.
    with db.transaction(ARJASA) as s, scoped(s, JELBUK):
        c = complaints.by_ticket(s, t)
        assert c is not None
        c.desa = "Panduman"
    assert stamp(JELBUK) not in (None, jelbuk)
    assert stamp(ARJASA) == arjasa


@pytest.fixture
def tables_read(db: Database) -> Iterator[set[str]]:
    names = sorted(Base.metadata.tables, key=len, reverse=True)
    seen: set[str] = set()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.update(n for n in names if re.search(rf"\b{n}\b", statement))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_the_stamp_covers_every_table_the_figures_read(site: Site, tables_read: set[str]) -> None:
    with site.db.reading() as s:
        tables_read.clear()
        rep.iku_table(s, site.office, 2026, date(2026, 5, 15))
        pages.report_card(s, site.office, 2026, site.clock())
    assert {"complaints", "status_history"} <= tables_read
    assert tables_read <= figure_stamp.FIGURE_TABLES, tables_read - figure_stamp.FIGURE_TABLES


def test_the_cache_is_bounded_and_knows_its_office() -> None:
    cache = FigureCache(size=2)
    clock = lambda: datetime(2026, 5, 15, 3, 0, tzinfo=UTC)  # noqa: E731
    office, other = object(), object()
    made: list[str] = []

    def make(name: str) -> Callable[[], list[str]]:
        return lambda: made.append(name) or [name]

    assert cache.get("a", office, make("a"), clock).value == ["a"]
    cache.get("b", office, make("b"), clock)
    cache.get("a", office, make("a"), clock)  # a is the most recent now
    cache.get("c", office, make("c"), clock)  # b goes
    assert len(cache) == 2 and made == ["a", "b", "c"]
    cache.get("a", office, make("a"), clock)
    cache.get("b", office, make("b"), clock)
    assert made == ["a", "b", "c", "b"]
    # The same key for another office (its targets) is computed for it.
    cache.get("b", other, make("b2"), clock)
    assert made[-1] == "b2"
    # What a page does to its copy stays there.
    cache.get("b", other, make("x"), clock).value.append("changed")
    assert cache.get("b", other, make("x"), clock).value == ["b2"]
    # Another stamp without `refresh` (a workbook, the public card): computed here, and kept
    # in place of the old entry (one entry per key).
    assert cache.get("b", other, make("b3"), clock, stamp="s2").value == ["b3"]
    assert cache.get("b", other, make("x"), clock, stamp="s2").value == ["b3"] and len(cache) == 2


def test_one_computation_per_key_at_a_time() -> None:
    cache = FigureCache()
    clock = lambda: datetime(2026, 5, 15, 3, 0, tzinfo=UTC)  # noqa: E731
    office = object()
    started, runs = threading.Event(), []

    def slow() -> str:
        runs.append(1)
        started.set()
        time.sleep(0.2)
        return "angka"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", office, slow, clock).value))
               for _ in range(4)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(5)
    assert results == ["angka"] * 4 and len(runs) == 1

    # A computation that fails leaves nothing behind: the next one computes.
    def failing() -> str:
        raise ValueError("gagal")

    with pytest.raises(ValueError):
        cache.get("f", office, failing, clock)
    assert cache.get("f", office, lambda: "lagi", clock).value == "lagi"


def test_the_time_shown_is_the_offices(db: Database, calls: dict[str, int]) -> None:
    offices = load_offices()
    offices[ARJASA] = dataclasses.replace(offices[ARJASA], timezone="Asia/Makassar")
    s = make_site(db, offices=offices)
    with db.transaction(ARJASA) as tx:
        people.add_officer(tx, PIMPINAN_A, "Bu Camat Arjasa", "pimpinan", NOW)
    html = _browser(s, PIMPINAN_A).get("/dasbor").text
    assert "Angka dihitung pukul 11.00 WITA, 15 Mei 2026" in html
