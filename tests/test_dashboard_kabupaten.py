# The kabupaten view of the web dashboard (issues 14 and 15), on both backends: a registered
# kabupaten reader's /dasbor link opens /dasbor/kabupaten (the six IKU of every kecamatan,
# ranks and the kabupaten figure, exactly kabupaten_table of the register) and, read-only,
# each kecamatan's pages by ?kecamatan=; an officer's session never sees another kecamatan;
# a deactivated reader, a forged, expired, reused or revoked reader link opens nothing.
from __future__ import annotations

import dataclasses
import html
import io
import re
import secrets
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from bot.config.office import load_offices
from bot.dashboard.routes import COOKIE
from bot.reports.iku_report import fmt, iku_table
from bot.reports.kabupaten import KecamatanIku, kabupaten_table
from kpi.ikm import weight_from_setting
from storage import iku, kabupaten_access, people
from storage.db import Database
from storage.models import IkuActivity, KabupatenLink, KabupatenSession
from tests.dashboard_world import BASE, NOW, PIMPINAN, Site, complaint, make_site, wib

JELBUK, ARJASA = "35.09.25", "35.09.22"
PIMPINAN_A = 31
READER, READER_OFFICER = 41, PIMPINAN  # Pak Camat of Jelbuk is also registered as a reader in one test
KECAMATAN_PAGES = ("/dasbor/iku", "/dasbor/tren", "/dasbor/pengaduan", "/dasbor/pengaduan/daftar?status=semua",
                   "/dasbor/skm", "/dasbor/skm/jawaban")


def _activities(db: Database, kode: str, planned: int, done: int) -> None:
    with db.transaction(kode) as s:
        for i in range(planned):
            entry = iku.add(s, IkuActivity, {"year": 2026, "name": f"Kegiatan {i + 1}"}, "uji", NOW)
            if i < done:
                iku.facilitate(s, entry.id, date(2026, 4, 1), "Daftar hadir", "uji", NOW)


@pytest.fixture
def site(db: Database) -> Site:
    offices = load_offices()
    offices[ARJASA] = dataclasses.replace(offices[ARJASA], timezone="Asia/Makassar")
    s = make_site(db, offices=offices)
    with db.transaction(ARJASA) as tx:
        people.add_officer(tx, PIMPINAN_A, "Bu Camat Arjasa", "pimpinan", NOW)
    with db.transaction() as tx:
        kabupaten_access.add_reader(tx, READER, "Bu Ani (Bagian Organisasi)", NOW)
    s.jelbuk = [complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok"),  # type: ignore[attr-defined]
                complaint(db, wib(2026, 5, 13, 9, 0), None, desa="Panduman")]
    s.arjasa = [complaint(db, wib(2026, 4, 1, 9, 0), None, desa="Biting", kecamatan=ARJASA,  # type: ignore[attr-defined]
                          prefix="ARJ", category="miras") for _ in range(3)]
    _activities(db, JELBUK, 4, 1)  # IKU 3: Jelbuk 1 of 4 (25 %), Arjasa 4 of 4: kabupaten 5 of 8
    _activities(db, ARJASA, 4, 4)
    return s


def _token(reply: str) -> str:
    found = re.search(re.escape(BASE) + r"/dasbor/masuk\?t=([A-Za-z0-9_-]+)", reply)
    assert found, reply
    return found.group(1)


def _browser(site: Site, user: int, text: str = "/dasbor") -> TestClient:
    """A browser of its own, logged in by `user`'s /dasbor link."""
    client = TestClient(site.client.app, base_url=BASE)
    response = client.post("/dasbor/masuk", data={"t": _token(site.chat(user, text))}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert COOKIE in response.cookies
    return client


def _expected(site: Site, year: int, as_of: date) -> list:  # type: ignore[type-arg]
    """kabupaten_table of the register, each kecamatan read here in its own scope."""
    items = []
    for kode, office in site.rt.offices.items():
        with site.db.reading(kode) as s:
            items.append(KecamatanIku(kode, office.kecamatan, iku_table(s, office, year, as_of)))
    return kabupaten_table(items, weight_from_setting(site.office.skm_weight))


def _cells(text: str) -> dict[tuple[str, str, str], str]:
    """(kecamatan kode or "kabupaten", IKU code, k) -> the cell's text, from the page."""
    out: dict[tuple[str, str, str], str] = {}
    for row in re.finditer(r'<tr (?:data-kode="([^"]+)"|id="(kabupaten)")>(.*?)</tr>', text, re.S):
        who = row.group(1) or row.group(2)
        for cell in re.finditer(r'data-iku="([^"]+)" data-k="([^"]+)">(.*?)</td>', row.group(3), re.S):
            out[(who, cell.group(1), cell.group(2))] = html.unescape(re.sub(r"<[^>]+>", "", cell.group(3)))
    return out


def _shown(value: object, row: object) -> str:
    kind, unit = row.kind, row.unit  # type: ignore[attr-defined]
    return fmt(value, kind) + ("%" if unit == "%" and value is not None else "")  # type: ignore[arg-type]


def test_a_reader_link_opens_the_kabupaten_page_with_the_registers_figures(site: Site) -> None:
    reply = site.chat(READER, "/dasbor")
    assert "Tautan masuk dasbor kabupaten" in reply and "Bu Ani (Bagian Organisasi)" in reply
    assert "Berlaku 10 menit" in reply and "hanya sekali pakai" in reply
    token = _token(reply)
    client = TestClient(site.client.app, base_url=BASE)
    confirm = client.get("/dasbor/masuk", params={"t": token})
    assert confirm.status_code == 200 and "Bu Ani (Bagian Organisasi)" in confirm.text
    response = client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dasbor/kabupaten"
    for query, year, as_of in (({}, 2026, date(2026, 5, 15)), ({"tahun": "2026", "per": "2026-03-31"}, 2026,
                                                                 date(2026, 3, 31))):
        page = client.get("/dasbor/kabupaten", params=query)
        assert page.status_code == 200, page.text
        assert "IKU kecamatan se-Jember tahun 2026" in page.text and "Bu Ani (Bagian Organisasi) (pembaca kabupaten)" in page.text
        cells = _cells(page.text)
        expected = _expected(site, year, as_of)
        assert len(expected) == 6
        for row in expected:
            assert cells[("kabupaten", row.code, "kabupaten")] == _shown(row.kabupaten, row), row.code
            for c in row.cells:
                assert cells[(c.kode, row.code, "realisasi")] == _shown(c.realisation, row)
                assert cells[(c.kode, row.code, "peringkat")] == ("–" if c.rank is None else str(c.rank))
        # The "per" form as the IKU page has, and the links into each kecamatan.
        assert f'value="{as_of.isoformat()}"' in page.text and 'name="per"' in page.text
        for kode in (JELBUK, ARJASA):
            assert f'href="/dasbor/iku?kecamatan={kode}&amp;tahun={year}&amp;per={as_of.isoformat()}"' in page.text
    # Pooled, not averaged: 5 of 8 activities (62,50 %), Jelbuk's 25 % ranks second. Before
    # 1 April nothing was facilitated yet.
    cells = _cells(client.get("/dasbor/kabupaten").text)
    assert cells[("kabupaten", "IKU-3", "kabupaten")] == "62,50%"
    assert (cells[(ARJASA, "IKU-3", "peringkat")], cells[(JELBUK, "IKU-3", "peringkat")]) == ("1", "2")
    early = _cells(client.get("/dasbor/kabupaten", params={"per": "2026-03-31"}).text)
    assert early[("kabupaten", "IKU-3", "kabupaten")] == "0,00%"
    bad = client.get("/dasbor/kabupaten", params={"per": "kemarin"})
    assert bad.status_code == 400 and "Tanggal 'kemarin' tidak dikenal" in html.unescape(bad.text)


def test_the_kabupaten_page_computes_only_the_kecamatan_whose_register_changed(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kecamatan's table is kept under its own figure stamp (bot/dashboard/figure_cache.py):
    a second look computes nothing, and after a write in Arjasa only Arjasa is computed again,
    in the background: the page shows Arjasa's last figures at once, saying so, then its new
    figure."""
    from bot.reports import iku_report

    computed: list[str] = []
    real = iku_report.iku_table

    def counting(session: object, office: object, *args: object, **kwargs: object) -> object:
        computed.append(office.kode_wilayah)  # type: ignore[attr-defined]
        return real(session, office, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(iku_report, "iku_table", counting)
    client = _browser(site, READER)
    first = _cells(client.get("/dasbor/kabupaten").text)
    assert sorted(computed) == [ARJASA, JELBUK]
    assert _cells(client.get("/dasbor/kabupaten").text) == first
    assert sorted(computed) == [ARJASA, JELBUK]
    assert 'id="diperbarui"' not in client.get("/dasbor/kabupaten").text
    _activities(site.db, ARJASA, 2, 0)  # Arjasa: 4 of 6 facilitated now; kabupaten 5 of 10
    stale = client.get("/dasbor/kabupaten").text
    assert _cells(stale) == first
    # Arjasa's figures on its own office's clock (WITA), Jelbuk's not named: they are current.
    assert re.search(r'<p data-kode="35\.09\.22">Angka Kecamatan Arjasa dihitung pukul 11\.00 WITA, 15 Mei 2026; '
                     r"sedang diperbarui", stale) and "Kecamatan Jelbuk dihitung" not in stale
    # Looked at again until Arjasa's recompute is done (a person reloading the page).
    deadline = time.monotonic() + 30
    while 'id="diperbarui"' in (page := client.get("/dasbor/kabupaten").text) and time.monotonic() < deadline:
        time.sleep(0.05)
    after = _cells(page)
    assert sorted(computed) == [ARJASA, ARJASA, JELBUK]
    assert after[("kabupaten", "IKU-3", "kabupaten")] == "50,00%" != first[("kabupaten", "IKU-3", "kabupaten")]


def test_the_reader_downloads_every_kecamatan_in_one_workbook(site: Site) -> None:
    reader = _browser(site, READER)
    response = reader.get("/dasbor/unduh/kabupaten.xlsx", params={"tahun": "2026", "per": "2026-05-15"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/vnd.openxml")
    cells = {c.value for row in load_workbook(io.BytesIO(response.content)).active.iter_rows() for c in row
             if c.value is not None}
    assert {"Jelbuk (35.09.25)", "Arjasa (35.09.22)"} <= cells
    # An officer's download of the same address still holds their own column only.
    officer = _browser(site, PIMPINAN_A)
    own = officer.get("/dasbor/unduh/kabupaten.xlsx", params={"tahun": "2026", "per": "2026-05-15"})
    cells = {c.value for row in load_workbook(io.BytesIO(own.content)).active.iter_rows() for c in row
             if c.value is not None}
    assert "Arjasa (35.09.22)" in cells and "Jelbuk (35.09.25)" not in cells


def test_a_reader_reads_each_kecamatan_read_only(site: Site) -> None:
    reader = _browser(site, READER)
    j_tickets, a_tickets = site.jelbuk, site.arjasa  # type: ignore[attr-defined]
    for kode, mine, other, name in ((JELBUK, j_tickets, a_tickets, "Kecamatan Jelbuk"),
                                    (ARJASA, a_tickets, j_tickets, "Kecamatan Arjasa")):
        for url in ("/dasbor/pengaduan/daftar?status=semua", "/dasbor/unduh/pengaduan.csv"):
            text = reader.get(url, params={"kecamatan": kode}).text
            assert all(t in text for t in mine) and not any(t in text for t in other), (kode, url)
        for url in KECAMATAN_PAGES:
            page = reader.get(url, params={"kecamatan": kode})
            assert page.status_code == 200, (kode, url, page.text)
            assert name in page.text
            # Every link into the dashboard carries the kecamatan on; no form posts but logout.
            for href in re.findall(r'href="(/dasbor[^"]*)"', page.text):
                assert href.startswith("/dasbor/kabupaten") or f"kecamatan={kode}" in href, (url, href)
            assert re.findall(r'<form[^>]*method="post"[^>]*>', page.text) == [
                '<form class="keluar" method="post" action="/dasbor/keluar">']
            assert 'href="/dasbor/kabupaten"' in page.text
        assert reader.get("/dasbor/unduh/iku.xlsx", params={"kecamatan": kode}).status_code == 200
        assert reader.get("/dasbor/unduh/skm.xlsx", params={"kecamatan": kode}).status_code == 200
    # The year form keeps the kecamatan.
    assert f'<input type="hidden" name="kecamatan" value="{ARJASA}">' in reader.get(
        "/dasbor/iku", params={"kecamatan": ARJASA}).text
    # Without a kecamatan: to the kabupaten page; one this bot does not serve: explained.
    home = reader.get("/dasbor", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/dasbor/kabupaten"
    for bad in ("35.09.99", "jelbuk", "35.09.25' OR 1=1"):
        page = reader.get("/dasbor/pengaduan", params={"kecamatan": bad})
        assert page.status_code == 404 and "tidak dilayani di sini" in page.text
        assert not any(t in page.text for t in j_tickets + a_tickets)


def test_an_officer_session_never_sees_another_kecamatan(site: Site) -> None:
    jelbuk = _browser(site, PIMPINAN)
    refused = jelbuk.get("/dasbor/kabupaten")
    assert refused.status_code == 403 and "hanya untuk pembaca kabupaten" in refused.text
    assert "Arjasa" not in refused.text and "IKU-3" not in refused.text
    a_tickets = site.arjasa  # type: ignore[attr-defined]
    for url in KECAMATAN_PAGES + ("/dasbor/unduh/pengaduan.csv",):
        sep = "&" if "?" in url else "?"
        page = jelbuk.get(f"{url}{sep}kecamatan={ARJASA}")
        assert page.status_code == 200, url
        assert "Kecamatan Arjasa" not in page.text and not any(t in page.text for t in a_tickets), url
        assert "kecamatan=" not in page.text  # an officer's links carry no kecamatan
        assert 'href="/dasbor/kabupaten"' not in page.text
    # Nor does a reader's chat command help an officer who is no reader.
    assert "Tautan masuk dasbor kabupaten" not in site.chat(PIMPINAN_A, "/dasbor")
    # No session at all: asked to log in, nothing shown.
    anonymous = TestClient(site.client.app, base_url=BASE)
    page = anonymous.get("/dasbor/kabupaten")
    assert page.status_code == 401 and "IKU-3" not in page.text


def test_a_deactivated_reader_is_refused_with_a_session_open(site: Site) -> None:
    reader = _browser(site, READER)
    unused = _token(site.chat(READER, "/dasbor"))
    assert reader.get("/dasbor/kabupaten").status_code == 200
    with site.db.transaction() as s:
        gone = kabupaten_access.deactivate_reader(s, READER, site.clock())
        assert gone is not None and not gone.active
    for url in ("/dasbor/kabupaten", f"/dasbor/pengaduan?kecamatan={JELBUK}", "/dasbor/unduh/kabupaten.xlsx"):
        page = reader.get(url)
        assert page.status_code == 401 and "IKU-3" not in page.text, url
    assert site.client.post("/dasbor/masuk", data={"t": unused}, follow_redirects=False).status_code == 400
    # And chat no longer gives a link: a reader no more is a resident to the bot.
    assert "Tautan masuk dasbor" not in site.chat(READER, "/dasbor")
    # Even if their session were not revoked (a row changed by hand), the reader is read again.
    with site.db.transaction() as s:
        kabupaten_access.add_reader(s, READER, "Bu Ani", NOW)
    again = _browser(site, READER)
    with site.db.transaction() as s:
        s.scalars(select(kabupaten_access.KabupatenReader)).one().active = False
    assert again.get("/dasbor/kabupaten").status_code == 401


def test_forged_expired_reused_and_revoked_reader_links_open_nothing(site: Site) -> None:
    client = site.client
    real = _token(site.chat(READER, "/dasbor"))
    for token in (secrets.token_urlsafe(32), real[:-1] + ("A" if real[-1] != "A" else "B"), "", "x" * 5000):
        assert client.get("/dasbor/masuk", params={"t": token}).status_code == 400
        assert client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False).status_code == 400
    client.cookies.set(COOKIE, secrets.token_urlsafe(32))
    assert client.get("/dasbor/kabupaten").status_code == 401
    client.cookies.clear()
    # Used once: refused the second time.
    assert client.post("/dasbor/masuk", data={"t": real}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.post("/dasbor/masuk", data={"t": real}, follow_redirects=False).status_code == 400
    # Expired after the link's minutes.
    late = _token(site.chat(READER, "/dasbor"))
    site.later(minutes=10, seconds=1)
    assert client.post("/dasbor/masuk", data={"t": late}, follow_redirects=False).status_code == 400
    # Revoked by /dasbor keluar: the unused links (the expired one too) and the open sessions
    # (the first login's and this browser's): four.
    browser = _browser(site, READER)
    unused = _token(site.chat(READER, "/dasbor"))
    assert "Semua tautan dan sesi dasbor Anda sudah diakhiri (4)" in site.chat(READER, "/dasbor keluar")
    assert browser.get("/dasbor/kabupaten").status_code == 401
    assert client.post("/dasbor/masuk", data={"t": unused}, follow_redirects=False).status_code == 400
    # Only hashes are kept.
    with site.db.reading() as s:
        hashes = set(s.scalars(select(KabupatenLink.token_hash))) | set(s.scalars(select(KabupatenSession.session_hash)))
    assert all(len(h) == 64 for h in hashes) and real not in hashes and unused not in hashes


def test_logout_ends_a_reader_session(site: Site) -> None:
    reader = _browser(site, READER)
    cookie = reader.cookies[COOKIE]
    assert reader.post("/dasbor/keluar").status_code == 200
    reader.cookies.set(COOKIE, cookie)
    assert reader.get("/dasbor/kabupaten").status_code == 401


def test_an_officer_who_is_also_a_reader_gets_the_kabupaten_link(site: Site) -> None:
    with site.db.transaction() as s:
        kabupaten_access.add_reader(s, READER_OFFICER, "Pak Camat (juga pembaca)", NOW)
    reply = site.chat(READER_OFFICER, "/dasbor")
    assert "Tautan masuk dasbor kabupaten" in reply and "/dasbor kecamatan" in reply
    kabupaten = _browser(site, READER_OFFICER)
    assert kabupaten.get("/dasbor/kabupaten").status_code == 200
    own = _browser(site, READER_OFFICER, "/dasbor kecamatan")
    assert own.get("/dasbor/kabupaten").status_code == 403
    assert "Pak Camat (pimpinan)" in own.get("/dasbor").text
    # /dasbor keluar ends both kinds: the first link (never used) and the two sessions.
    assert "sudah diakhiri (3)" in site.chat(READER_OFFICER, "/dasbor keluar")
    assert kabupaten.get("/dasbor/kabupaten").status_code == 401
    assert own.get("/dasbor").status_code == 401


def test_a_reader_link_is_never_posted_in_a_group(site: Site) -> None:
    assert site.chat(READER, "/dasbor", group=True) == "Gunakan /dasbor di chat pribadi dengan bot."
    with site.db.reading() as s:
        assert s.scalars(select(KabupatenLink)).all() == []


def test_with_one_office_file_the_reader_sees_that_kecamatan(db: Database) -> None:
    site = make_site(db)
    with db.transaction() as s:
        kabupaten_access.add_reader(s, READER, "Bu Ani", NOW)
    _activities(db, JELBUK, 4, 1)
    reader = _browser(site, READER)
    cells = _cells(reader.get("/dasbor/kabupaten").text)
    assert cells[(JELBUK, "IKU-3", "realisasi")] == "25,00%" == cells[("kabupaten", "IKU-3", "kabupaten")]
    assert reader.get("/dasbor/pengaduan", params={"kecamatan": JELBUK}).status_code == 200
