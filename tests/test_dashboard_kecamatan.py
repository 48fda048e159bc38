# The dashboard per kecamatan (issue 14), on both backends: with several office files, the
# link /dasbor gives an officer opens their own kecamatan's dashboard; every page, list and
# download of that session reads that kecamatan only, with its office (name, time zone);
# nothing in the address can choose another; the public report card takes ?kecamatan=.
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from bot.config.office import load_offices
from bot.dashboard.routes import COOKIE
from storage import people
from storage.db import Database
from tests.dashboard_world import BASE, NOW, PIMPINAN, Site, complaint, make_site, wib

JELBUK, ARJASA = "35.09.25", "35.09.22"
PIMPINAN_A, PETUGAS_A = 31, 34


@pytest.fixture
def site(db: Database) -> Site:
    offices = load_offices()
    # Arjasa an hour ahead (WITA), so a page's date shows whose time zone it used.
    offices[ARJASA] = dataclasses.replace(offices[ARJASA], timezone="Asia/Makassar")
    s = make_site(db, offices=offices)
    with db.transaction(ARJASA) as tx:
        people.add_officer(tx, PIMPINAN_A, "Bu Camat Arjasa", "pimpinan", NOW)
        people.add_officer(tx, PETUGAS_A, "Andi", "petugas", NOW)
    s.jelbuk = [complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok"),  # type: ignore[attr-defined]
                complaint(db, wib(2026, 5, 13, 9, 0), None, desa="Panduman")]
    s.arjasa = [complaint(db, wib(2026, 4, 1, 9, 0), None, desa="Biting", kecamatan=ARJASA,  # type: ignore[attr-defined]
                          prefix="ARJ", category="miras") for _ in range(3)]
    return s


def _browser(site: Site, user: int) -> TestClient:
    """A browser of its own, logged in by `user`'s /dasbor link."""
    client = TestClient(site.client.app, base_url=BASE)
    token = site.link(user)
    response = client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert COOKIE in response.cookies
    return client


def test_each_session_reads_its_own_kecamatan(site: Site) -> None:
    jelbuk, arjasa = _browser(site, PIMPINAN), _browser(site, PIMPINAN_A)
    j_tickets, a_tickets = site.jelbuk, site.arjasa  # type: ignore[attr-defined]
    for url in ("/dasbor/pengaduan/daftar?status=semua", "/dasbor/pengaduan/daftar?status=semua&tahun=2026",
                "/dasbor/unduh/pengaduan.csv"):
        j, a = jelbuk.get(url), arjasa.get(url)
        assert j.status_code == a.status_code == 200, url
        assert all(t in j.text for t in j_tickets) and not any(t in j.text for t in a_tickets), url
        assert all(t in a.text for t in a_tickets) and not any(t in a.text for t in j_tickets), url
    # The same summary URL, each its own figures and office.
    j, a = jelbuk.get("/dasbor/pengaduan").text, arjasa.get("/dasbor/pengaduan").text
    assert 'data-kode="Sucopangepok"' in j and 'data-kode="Biting"' not in j and "Kecamatan Jelbuk" in j
    assert 'data-kode="Biting"' in a and 'data-kode="Sucopangepok"' not in a and "Kecamatan Arjasa" in a
    assert "Kecamatan Jelbuk" not in a
    for url in ("/dasbor", "/dasbor/tren", "/dasbor/skm"):
        page = arjasa.get(url)
        assert page.status_code == 200 and "Kecamatan Arjasa" in page.text and "Kecamatan Jelbuk" not in page.text
    assert arjasa.get("/dasbor/unduh/iku.xlsx").status_code == 200


def test_a_kecamatan_in_the_address_changes_nothing(site: Site) -> None:
    arjasa = _browser(site, PIMPINAN_A)
    plain = arjasa.get("/dasbor/pengaduan/daftar?status=semua").text
    for forged in ({"kecamatan": JELBUK}, {"kode_wilayah": JELBUK}, {"kantor": JELBUK}):
        page = arjasa.get("/dasbor/pengaduan/daftar", params={"status": "semua", **forged}).text
        assert page == plain and not any(t in page for t in site.jelbuk), forged  # type: ignore[attr-defined]
        assert "Kecamatan Jelbuk" not in arjasa.get("/dasbor/pengaduan", params=forged).text


def test_the_office_of_the_kecamatan_gives_the_time_zone(site: Site) -> None:
    # 16:30 UTC on 15 May: 23:30 WIB in Jelbuk, 00:30 WITA on 16 May in (this) Arjasa.
    site.clock.now = datetime(2026, 5, 15, 16, 30, tzinfo=UTC)
    jelbuk, arjasa = _browser(site, PIMPINAN), _browser(site, PIMPINAN_A)
    assert "15 Mei 2026" in jelbuk.get("/dasbor/pengaduan").text
    a = arjasa.get("/dasbor/pengaduan").text
    assert "16 Mei 2026" in a and "15 Mei 2026" not in a


def test_login_pages_and_roles_are_the_kecamatans(site: Site) -> None:
    token = site.link(PIMPINAN_A)
    confirm = site.client.get("/dasbor/masuk", params={"t": token}).text
    assert "Kecamatan Arjasa" in confirm and "Bu Camat Arjasa" in confirm
    # A petugas of Arjasa gets no link (the role check is the same in every kecamatan).
    assert "/dasbor/masuk?t=" not in site.chat(PETUGAS_A, "/dasbor")
    arjasa = _browser(site, PIMPINAN_A)
    assert "Kecamatan Arjasa" in arjasa.post("/dasbor/keluar").text
    assert arjasa.get("/dasbor").status_code == 401


def test_the_public_report_card_takes_a_served_kecamatan(site: Site) -> None:
    assert "Kecamatan Jelbuk" in site.client.get("/rapor").text
    a = site.client.get("/rapor", params={"kecamatan": ARJASA})
    assert a.status_code == 200 and "Kecamatan Arjasa" in a.text
    for bad in ("35.09.99", "x" * 200):
        refused = site.client.get("/rapor", params={"kecamatan": bad})
        assert refused.status_code == 400 and "tidak dilayani" in refused.text
