# Login to the web dashboard by the one-time link /dasbor sends, and its sessions, on both
# backends: a forged, expired, reused or revoked link opens nothing; a GET (a chat app's
# link preview) never uses the link up; sessions expire and end at logout; every page checks
# the role on each request.
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config.settings import DashboardSettings, SettingsError, load_settings
from storage import people
from storage.db import Database
from storage.models import DashboardLink, DashboardSession
from tests.dashboard_world import (
    ADMIN,
    BASE,
    KOORDINATOR,
    NOW,
    PETUGAS,
    PIMPINAN,
    WARGA,
    Site,
    make_site,
)

PAGES = ("/dasbor", "/dasbor/iku", "/dasbor/tren", "/dasbor/pengaduan", "/dasbor/skm",
         "/dasbor/unduh/iku.xlsx", "/dasbor/unduh/skm.xlsx")


@pytest.fixture
def site(db: Database) -> Site:
    return make_site(db)


def _as(site: Site, cookie: str | None) -> None:
    """The browser holds exactly this session cookie (or none)."""
    site.client.cookies.clear()
    if cookie:
        site.client.cookies.set("sigap_dasbor", cookie)


def _refused(site: Site, cookie: str | None) -> None:
    _as(site, cookie)
    for path in PAGES:
        response = site.client.get(path)
        assert response.status_code == 401, path
        assert "Silakan masuk" in response.text and "Kirim <code>/dasbor</code>" in response.text
        assert "IKU-4" not in response.text


def test_the_chat_link_shows_a_confirm_page_and_only_its_post_logs_in(site: Site) -> None:
    reply = site.chat(PIMPINAN, "/dasbor")
    assert "Tautan masuk dasbor" in reply and f"{BASE}/dasbor/masuk?t=" in reply
    assert "Berlaku 10 menit (sampai 15 Mei 2026 10.10 WIB) dan hanya sekali pakai" in reply
    token = reply.split("?t=", 1)[1].split()[0]
    # A chat app fetching the link for its preview, twice: a confirm page, nothing used up.
    for _ in range(2):
        page = site.client.get("/dasbor/masuk", params={"t": token})
        assert page.status_code == 200
        assert "Tautan ini untuk <strong>Pak Camat</strong>" in page.text
        assert '<form method="post" action="/dasbor/masuk">' in page.text
        assert "Set-Cookie" not in page.headers
    _refused(site, None)
    response = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dasbor"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dasbor" in cookie
    assert "Secure" not in cookie  # http://: a Secure cookie would never come back
    iku = site.client.get("/dasbor")
    assert iku.status_code == 200 and "Indikator Kinerja Utama Kecamatan Jelbuk tahun 2026" in iku.text
    assert "Pak Camat (pimpinan)" in iku.text


def test_a_used_link_is_refused_the_second_time(site: Site) -> None:
    token = site.link()
    assert site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False).status_code == 303
    site.client.cookies.clear()
    again = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert again.status_code == 400 and "Tautan tidak berlaku" in again.text
    assert "set-cookie" not in again.headers
    assert site.client.get("/dasbor/masuk", params={"t": token}).status_code == 400
    with site.db.reading() as s:
        assert len(s.scalars(select(DashboardSession)).all()) == 1


def test_a_forged_link_or_cookie_opens_nothing(site: Site) -> None:
    real = site.link()
    forged = [secrets.token_urlsafe(32), real[:-1] + ("A" if real[-1] != "A" else "B"), "", "x" * 5000]
    for token in forged:
        assert site.client.get("/dasbor/masuk", params={"t": token}).status_code == 400
        response = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
        assert response.status_code == 400 and "Tautan tidak berlaku" in response.text
    assert site.client.post("/dasbor/masuk", data={}, follow_redirects=False).status_code == 400
    _refused(site, secrets.token_urlsafe(32))
    # The real one still works: the forgeries did not use it up.
    assert site.client.post("/dasbor/masuk", data={"t": real}, follow_redirects=False).status_code == 303


def test_only_hashes_are_stored(site: Site) -> None:
    token = site.link()
    sid = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False).cookies["sigap_dasbor"]
    with site.db.reading() as s:
        link = s.scalars(select(DashboardLink.token_hash)).one()
        session = s.scalars(select(DashboardSession.session_hash)).one()
    assert token not in link and len(link) == 64
    assert sid not in session and len(session) == 64


def test_an_expired_link_is_refused(site: Site) -> None:
    token = site.link()
    site.later(minutes=9, seconds=59)
    assert site.client.get("/dasbor/masuk", params={"t": token}).status_code == 200
    site.later(seconds=2)
    assert site.client.get("/dasbor/masuk", params={"t": token}).status_code == 400
    response = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert response.status_code == 400 and "kedaluwarsa" in response.text


def test_link_validity_is_a_setting(db: Database) -> None:
    site = make_site(db, DashboardSettings(url=BASE, link_minutes=2))
    assert "Berlaku 2 menit" in site.chat(PIMPINAN, "/dasbor")
    token = site.link()
    site.later(minutes=2, seconds=1)
    assert site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False).status_code == 400


def test_a_session_expires(site: Site) -> None:
    cookie = site.login()
    site.later(hours=7, minutes=59)
    assert site.client.get("/dasbor/pengaduan").status_code == 200
    site.later(minutes=2)
    _refused(site, cookie)


def test_logout_ends_the_session_on_the_server(site: Site) -> None:
    cookie = site.login()
    assert site.client.get("/dasbor/skm").status_code == 200
    out = site.client.post("/dasbor/keluar")
    assert out.status_code == 200 and "Anda sudah keluar" in out.text
    assert 'sigap_dasbor=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    # The old cookie, kept by someone, is refused: the session ended, not just the cookie.
    _refused(site, cookie)


def test_dasbor_keluar_in_chat_revokes_links_and_sessions(site: Site) -> None:
    cookie = site.login()
    unused = site.link()
    other = site.login(KOORDINATOR)
    reply = site.chat(PIMPINAN, "/dasbor keluar")
    assert "Semua tautan dan sesi dasbor Anda sudah diakhiri (2)" in reply
    _refused(site, cookie)
    assert site.client.post("/dasbor/masuk", data={"t": unused}, follow_redirects=False).status_code == 400
    # Only the caller's own: the koordinator is still in.
    _as(site, other)
    assert site.client.get("/dasbor").status_code == 200


def test_the_wrong_role_is_refused_in_chat_and_on_every_page(site: Site) -> None:
    assert "Maaf, dasbor hanya untuk peran pimpinan, koordinator, admin. Peran Anda: petugas." in site.chat(
        PETUGAS, "/dasbor")
    assert "hanya untuk petugas yang terdaftar" in site.chat(WARGA, "/dasbor")
    with site.db.reading() as s:
        assert s.scalars(select(DashboardLink)).all() == []
    for user in (ADMIN, KOORDINATOR, PIMPINAN):
        assert "Tautan masuk dasbor" in site.chat(user, "/dasbor")
    # Logged in as koordinator, then demoted to petugas: refused on the next request.
    cookie = site.login(KOORDINATOR)
    with site.db.transaction() as s:
        people.add_officer(s, KOORDINATOR, "Rina", "petugas", NOW)
    _as(site, cookie)
    for path in PAGES:
        response = site.client.get(path)
        assert response.status_code == 403, path
        assert "Dasbor hanya untuk peran pimpinan, koordinator, admin. Peran Anda: petugas." in response.text
    # Deactivated: the session is worth nothing either.
    cookie = site.login(PIMPINAN)
    with site.db.transaction() as s:
        assert people.deactivate_officer(s, PIMPINAN) is not None
    _refused(site, cookie)


def test_a_link_is_never_posted_in_a_group(site: Site) -> None:
    reply = site.chat(PIMPINAN, "/dasbor", group=True)
    assert reply == "Gunakan /dasbor di chat pribadi dengan bot."
    with site.db.reading() as s:
        assert s.scalars(select(DashboardLink)).all() == []


def test_https_address_gives_a_secure_cookie(db: Database) -> None:
    site = make_site(db, DashboardSettings(url="https://sigap.jelbuk.go.id"), base="https://sigap.jelbuk.go.id")
    reply = site.chat(PIMPINAN, "/dasbor")
    assert "https://sigap.jelbuk.go.id/dasbor/masuk?t=" in reply
    token = reply.split("?t=", 1)[1].split()[0]
    response = site.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
    assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_switched_off_the_dashboard_serves_nothing_and_chat_says_so(db: Database) -> None:
    site = make_site(db, DashboardSettings(enabled=False, url=BASE))
    assert "Dasbor web tidak diaktifkan" in site.chat(PIMPINAN, "/dasbor")
    for path in ("/dasbor", "/dasbor/masuk"):
        assert site.client.get(path).status_code == 404
    assert site.client.get("/rapor").status_code == 200  # the report card has its own switch


def test_settings_read_the_switches_and_refuse_bad_values() -> None:
    default = load_settings(env={}, env_file=None).dashboard
    assert default.enabled and default.public_report and default.url is None
    assert (default.link_minutes, default.session_hours) == (10, 8)
    s = load_settings(env={"SIGAP_DASHBOARD": "mati", "SIGAP_PUBLIC_REPORT": "tidak",
                           "SIGAP_DASHBOARD_URL": "https://sigap.example.id/",
                           "SIGAP_DASHBOARD_LINK_MINUTES": "5", "SIGAP_DASHBOARD_SESSION_HOURS": "2"},
                      env_file=None).dashboard
    assert not s.enabled and not s.public_report and s.url == "https://sigap.example.id" and s.secure_cookie
    assert timedelta(minutes=s.link_minutes) == timedelta(minutes=5) and s.session_hours == 2
    for env, key in (({"SIGAP_DASHBOARD": "barangkali"}, "SIGAP_DASHBOARD"),
                     ({"SIGAP_DASHBOARD_URL": "sigap.example.id"}, "SIGAP_DASHBOARD_URL"),
                     ({"SIGAP_DASHBOARD_LINK_MINUTES": "600"}, "SIGAP_DASHBOARD_LINK_MINUTES")):
        with pytest.raises(SettingsError, match=key):
            load_settings(env=env, env_file=None)
