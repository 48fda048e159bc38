# The dashboard in a real browser: Debian's chromium (apt: chromium chromium-driver) driven by
# selenium, with JavaScript switched off (the pages must work without it), against a real
# uvicorn server on a loopback port (bot.app.web.WebServer, as `sigap run` serves it). It
# logs in through the link /dasbor sends, presses the confirm button, opens every page, checks
# figures against the register and saves a screenshot of each under $SIGAP_ARTIFACTS (CI keeps
# them) or the test's tmp_path. In CI (CI=true) it must run; elsewhere it skips without chromium.
from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app.web import WebServer
from bot.config.settings import DashboardSettings
from bot.reports.iku_report import fmt, iku_table
from storage import skm
from storage.db import Database
from tests.dashboard_world import NOW, PIMPINAN, Site, complaint, make_site, wib

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
IN_CI = os.environ.get("CI", "").lower() == "true"
if not IN_CI and not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("chromium/chromium-driver not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

OPTIONS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--window-size=1000,1400")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`app` served by WebServer (uvicorn) in a thread of its own, until stop()."""

    def __init__(self, app: object, port: int) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(app, port)), daemon=True)
        self._thread.start()
        assert self._ready.wait(20), "uvicorn did not start"
        if self._error:
            raise self._error

    async def _serve(self, app: object, port: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = WebServer(app, "127.0.0.1", port)  # type: ignore[arg-type]
        try:
            await server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await server.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


@pytest.fixture
def artifacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ["SIGAP_ARTIFACTS"]) if os.environ.get("SIGAP_ARTIFACTS") else tmp_path
    folder = root / "dasbor" / request.node.callspec.id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site_served(db: Database) -> Iterator[tuple[Site, str]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(db, DashboardSettings(url=base), base=base)
    complaint(db, wib(2026, 2, 2, 9, 0), "selesai")
    complaint(db, wib(2026, 2, 3, 9, 0), "selesai", desa="Sucopangepok")
    site.tickets = [complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok")]  # type: ignore[attr-defined]
    complaint(db, wib(2026, 5, 14, 9, 0), None, desa="Panduman", reporter=("Siti Rahayu", "081234567890"))
    service = site.office.services[0].code
    with db.transaction() as s:
        for i, low in enumerate((1, 2, 2)):
            answers = {f"u{j}": 4 for j in range(1, 10)} | {"u6": low}
            skm.record_response(s, skm.ResponseDraft(service=service, period="2026-Q2", tanggal=date(2026, 5, 2 + i),
                                                     answers=answers), source="kertas", now=NOW, recorded_by="kertas")
    served = Served(site.client.app, port)
    try:
        yield site, base
    finally:
        served.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for option in OPTIONS:
        options.add_argument(option)
    # No JavaScript at all: login, forms and pages must work without it.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=DriverService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _heading(driver: webdriver.Chrome, text: str) -> None:
    """Wait until the page shown (after a click that navigates) has `text` in its h1. While
    the old page goes, its h1 may be stale, or chromium may answer "Node with given id does
    not belong to the document" (a plain WebDriverException): both mean look again; a page
    that never shows the text still fails, by the timeout."""
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        lambda d: text in d.find_element(By.TAG_NAME, "h1").text)


def _cell(driver: webdriver.Chrome, code: str, key: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f'tr[id="{code}"] td[data-k="{key}"]').text)


def test_login_by_chat_link_and_every_page_in_chromium(site_served: tuple[Site, str], browser: webdriver.Chrome,
                                                       artifacts: Path) -> None:
    site, base = site_served
    sucopangepok_open = site.tickets[0]  # type: ignore[attr-defined]
    token = site.link(PIMPINAN)  # what /dasbor sends in chat
    # Straight to a page without a session: told how to log in.
    browser.get(base + "/dasbor")
    _heading(browser, "Silakan masuk")
    browser.get(f"{base}/dasbor/masuk?t={token}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert "Pak Camat" in browser.page_source
    browser.save_screenshot(str(artifacts / "01-masuk.png"))
    browser.find_element(By.ID, "masuk").click()

    # The IKU table, as of today and as of 31 March through the GET form.
    _heading(browser, "Indikator Kinerja Utama")
    with site.db.reading() as s:
        rows = {r.code: r for r in iku_table(s, site.office, 2026, site.clock().date())}
    iku4 = rows["IKU-4"]
    for key in ("q1", "q2", "ytd"):
        assert _cell(browser, "IKU-4", key) == fmt(iku4.realisation[key], iku4.kind)
    assert _cell(browser, "IKU-4", "q1") == "66,67"  # 2 of the 3 received in TW I resolved
    browser.save_screenshot(str(artifacts / "02-iku.png"))
    assert browser.find_element(By.ID, "per").get_attribute("type") == "date"
    assert browser.find_element(By.CSS_SELECTOR, 'label[for="per"]').text == "Keadaan per tanggal"
    browser.get(f"{base}/dasbor/iku?tahun=2026&per=2026-03-31")
    assert "Selasa, 31 Maret 2026" in browser.find_element(By.ID, "per-tanggal").text
    assert _cell(browser, "IKU-4", "q2") == "–"
    field = browser.find_element(By.ID, "per")
    assert field.get_attribute("value") == "2026-03-31"

    browser.find_element(By.LINK_TEXT, "Tren IKU 4").click()
    _heading(browser, "Tren IKU 4 per triwulan")
    svg = browser.find_element(By.CSS_SELECTOR, "figure svg")
    assert svg.get_attribute("role") == "img" and svg.size["width"] > 200
    browser.save_screenshot(str(artifacts / "03-tren.png"))

    browser.find_element(By.LINK_TEXT, "Pengaduan").click()
    _heading(browser, "Pengaduan terbuka dan terlambat")
    assert browser.find_element(By.ID, "jumlah-terbuka").text == "2"
    assert browser.find_element(By.ID, "jumlah-terlambat").text == "1"
    assert "Siti" not in browser.page_source and "0812" not in browser.page_source
    # The map of desa: an inline SVG drawn by the browser, one label per desa of the office.
    desa_map = browser.find_element(By.CSS_SELECTOR, 'figure[aria-labelledby="peta-judul"] svg')
    assert desa_map.get_attribute("role") == "img" and desa_map.size["width"] > 200
    assert "Sucopangepok: 1 terbuka, 1 terlambat" in browser.page_source
    browser.save_screenshot(str(artifacts / "04-pengaduan.png"))
    # Each count opens the complaints behind it (a plain link, no script).
    browser.find_element(By.CSS_SELECTOR, 'tr[data-kode="Sucopangepok"] td:nth-of-type(1) a').click()
    _heading(browser, "Daftar pengaduan terbuka")
    listed = browser.find_elements(By.CSS_SELECTOR, "#daftar-pengaduan tbody tr")
    assert [row.find_element(By.TAG_NAME, "th").text for row in listed] == [sucopangepok_open]
    assert "(terlambat)" in listed[0].text and "Sucopangepok" in listed[0].text
    assert "Siti" not in browser.page_source and "0812" not in browser.page_source
    browser.save_screenshot(str(artifacts / "04b-daftar.png"))
    browser.find_element(By.LINK_TEXT, "Kembali ke ringkasan pengaduan").click()
    _heading(browser, "Pengaduan terbuka dan terlambat")

    browser.find_element(By.LINK_TEXT, "SKM").click()
    _heading(browser, "Survei Kepuasan Masyarakat")
    browser.save_screenshot(str(artifacts / "05-skm.png"))
    browser.find_element(By.ID, "ke-sebaran").click()
    _heading(browser, "Sebaran jawaban SKM")
    cells = browser.find_elements(By.CSS_SELECTOR, 'tr[id="U6"] td.n')
    assert [c.text for c in cells] == ["1", "2", "0", "0", "0", "1,667"]
    browser.save_screenshot(str(artifacts / "05b-sebaran.png"))

    browser.find_element(By.LINK_TEXT, "Rapor publik").click()
    _heading(browser, "Rapor pelayanan")
    february = browser.find_element(By.XPATH, "//table[@id='rapor-bulan']//tr[th='Februari']")
    assert february.text.split()[1:4] == ["2", "2", "2"]
    quarter = browser.find_element(By.XPATH, "//table[@id='rapor-ikm']//tr[th='Triwulan II 2026']")
    assert quarter.text.endswith("dihitung dari jawaban")
    browser.save_screenshot(str(artifacts / "06-rapor.png"))

    # Logout by the button (a form POST); the dashboard then asks to log in again.
    browser.get(base + "/dasbor/skm")
    browser.find_element(By.CSS_SELECTOR, "form.keluar button").click()
    _heading(browser, "Anda sudah keluar")
    browser.get(base + "/dasbor")
    _heading(browser, "Silakan masuk")
    # The link was used once: opening it again is refused.
    browser.get(f"{base}/dasbor/masuk?t={token}")
    _heading(browser, "Tautan tidak berlaku")
    assert sorted(p.name for p in artifacts.glob("*.png")) == [
        "01-masuk.png", "02-iku.png", "03-tren.png", "04-pengaduan.png", "04b-daftar.png", "05-skm.png",
        "05b-sebaran.png", "06-rapor.png"]


# --- The kabupaten page (issues 14 and 15) ------------------------------------------------------

READER = 41
PIMPINAN_ARJASA = 31
JELBUK, ARJASA = "35.09.25", "35.09.22"


@pytest.fixture
def kabupaten_served(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Site, str]]:
    """Every office of the shipped office folder (Jelbuk, Arjasa), each with complaints, IKU 3
    activities and (Jelbuk) SKM answers of its own; a kabupaten reader registered as the
    office does it, by `sigap kabupaten pembaca tambah` on this register."""
    from bot.cli.sigap import main
    from bot.config.office import load_offices
    from storage import iku, people
    from storage.models import IkuActivity

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(db, DashboardSettings(url=base), base=base, offices=load_offices())
    with db.transaction(ARJASA) as s:
        people.add_officer(s, PIMPINAN_ARJASA, "Bu Camat Arjasa", "pimpinan", NOW)
    complaint(db, wib(2026, 2, 2, 9, 0), "selesai")
    complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok")
    complaint(db, wib(2026, 4, 7, 9, 0), "duplikat")
    complaint(db, wib(2026, 5, 14, 9, 0), None, desa="Panduman")
    for day, outcome in ((3, "selesai"), (9, "selesai"), (20, None)):
        complaint(db, wib(2026, 4, day, 9, 0), outcome, desa="Biting", kecamatan=ARJASA, prefix="ARJ",
                  category="miras")
    for kode, planned, done in ((JELBUK, 4, 1), (ARJASA, 5, 3)):
        with db.transaction(kode) as s:
            for i in range(planned):
                entry = iku.add(s, IkuActivity, {"year": 2026, "name": f"Kegiatan {i + 1}"}, "uji", NOW)
                if i < done:
                    iku.facilitate(s, entry.id, date(2026, 4, 1), "Daftar hadir", "uji", NOW)
    service = site.office.services[0].code
    with db.transaction() as s:
        for i, low in enumerate((2, 3, 4)):
            answers = {f"u{j}": 3 for j in range(1, 10)} | {"u8": low}
            skm.record_response(s, skm.ResponseDraft(service=service, period="2026-Q2", tanggal=date(2026, 5, 2 + i),
                                                     answers=answers), source="kertas", now=NOW, recorded_by="kertas")
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("SIGAP_DATABASE_URL", db.url)
    monkeypatch.chdir(tmp_path)
    assert main(["kabupaten", "pembaca", "tambah", "--id-telegram", str(READER), "--nama", "Bu Ani (Bagian Organisasi)"]
                ) == 0
    assert "Pembaca kabupaten Bu Ani (Bagian Organisasi) terdaftar" in capsys.readouterr().out
    served = Served(site.client.app, port)
    try:
        yield site, base
    finally:
        served.stop()


def _register_iku4(site: Site, kode: str, as_of: date) -> str:
    """IKU 4 of a kecamatan counted here from its complaints received in the year up to
    `as_of`, by the kpi formula: resolved / (received - duplicates - forwarded), as the page
    shows it. Their statuses now are their statuses then: each moved within an hour of being
    received (tests.dashboard_world.complaint)."""
    from datetime import datetime, timedelta
    from decimal import Decimal

    from sqlalchemy import func, select

    from kpi.resolution import ResolutionCounts, resolution_rate
    from storage.models import Complaint

    tz = site.rt.offices[kode].timezone
    start = datetime(as_of.year, 1, 1, tzinfo=ZoneInfo(tz))
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(tz))
    with site.db.reading(kode) as s:
        statuses = dict(s.execute(select(Complaint.status, func.count())
                                  .where(Complaint.received_at >= start, Complaint.received_at < end)
                                  .group_by(Complaint.status)).all())
    counts = ResolutionCounts(sum(statuses.values()), statuses.get("duplikat", 0), statuses.get("diteruskan", 0),
                              statuses.get("selesai", 0), 0)
    rate = resolution_rate(counts)
    if rate is None:  # nothing received yet: no figure
        return "–"
    return fmt(Decimal(rate.numerator * 100) / Decimal(rate.denominator)) + "%"


def _kabupaten_expected(site: Site, as_of: date) -> list[Any]:
    """The kabupaten table of the register as `sigap iku laporan --kabupaten` computes it."""
    from bot.reports.kabupaten import kabupaten_table, kecamatan_tables
    from kpi.ikm import weight_from_setting

    return kabupaten_table(kecamatan_tables(site.db, site.rt.offices, as_of.year, as_of),
                           weight_from_setting(site.office.skm_weight))


def _shown(value: Any, row: Any) -> str:
    return fmt(value, row.kind) + ("%" if row.unit == "%" and value is not None else "")


def _kabupaten_cells(driver: webdriver.Chrome, site: Site, as_of: date) -> None:
    """Every cell of the kabupaten table in the browser against the register."""
    expected = _kabupaten_expected(site, as_of)
    assert len(expected) == 6
    shown = {(tr.get_attribute("data-kode") or tr.get_attribute("id"), td.get_attribute("data-iku"),
              td.get_attribute("data-k")): td.text
             for tr in driver.find_elements(By.CSS_SELECTOR, "#tabel-kabupaten tbody tr")
             for td in tr.find_elements(By.CSS_SELECTOR, "td[data-iku]")}
    assert len(shown) == 6 * (3 * len(site.rt.offices) + 1)
    for row in expected:
        assert shown[("kabupaten", row.code, "kabupaten")] == _shown(row.kabupaten, row), row.code
        for c in row.cells:
            assert shown[(c.kode, row.code, "realisasi")] == _shown(c.realisation, row), (c.kode, row.code)
            assert shown[(c.kode, row.code, "capaian")] == (fmt(c.capaian) + "%" if c.capaian is not None else "–")
            assert shown[(c.kode, row.code, "peringkat")] == ("–" if c.rank is None else str(c.rank))
    # And IKU 4 of each kecamatan counted straight from its complaints.
    for kode in site.rt.offices:
        assert shown[(kode, "IKU-4", "realisasi")] == _register_iku4(site, kode, as_of), kode


def test_a_kabupaten_reader_reads_every_kecamatan_in_chromium(kabupaten_served: tuple[Site, str],
                                                              browser: webdriver.Chrome, artifacts: Path) -> None:
    site, base = kabupaten_served
    shots = artifacts / "kabupaten"  # beside the officer's pages, which the test above lists
    shots.mkdir(exist_ok=True)
    token = site.link(READER)  # what /dasbor sends the reader in chat
    browser.get(f"{base}/dasbor/masuk?t={token}")
    assert "Bu Ani (Bagian Organisasi)" in browser.page_source
    browser.find_element(By.ID, "masuk").click()
    _heading(browser, "IKU kecamatan se-Jember tahun 2026")
    assert browser.current_url == f"{base}/dasbor/kabupaten"
    today = site.clock().astimezone(site.rt.tz).date()
    _kabupaten_cells(browser, site, today)
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#tabel-kabupaten tbody th a")]
    assert names == [office.kecamatan for _kode, office in sorted(site.rt.offices.items())]  # by kode wilayah
    assert not browser.find_elements(By.ID, "diperbarui")
    browser.save_screenshot(str(shots / "01-kabupaten.png"))

    # As of 31 March (nothing facilitated yet, two complaints received in Jelbuk).
    browser.get(f"{base}/dasbor/kabupaten?tahun=2026&per=2026-03-31")
    assert "Selasa, 31 Maret 2026" in browser.find_element(By.ID, "per-tanggal").text
    _kabupaten_cells(browser, site, date(2026, 3, 31))

    # A write in Arjasa: the page at once from Arjasa's last figures, saying so, then fresh.
    complaint(site.db, wib(2026, 5, 15, 8, 0), "selesai", desa="Biting", kecamatan=ARJASA, prefix="ARJ",
              category="miras")
    browser.get(base + "/dasbor/kabupaten")
    note = browser.find_element(By.ID, "diperbarui")
    assert "Angka Kecamatan Arjasa dihitung pukul 10.00 WIB, 15 Mei 2026; sedang diperbarui" in note.text
    assert "Jelbuk" not in note.text
    browser.save_screenshot(str(shots / "02-kabupaten-diperbarui.png"))
    for _ in range(100):  # a person reloading until the line is gone
        time.sleep(0.1)
        browser.refresh()
        if not browser.find_elements(By.ID, "diperbarui"):
            break
    assert not browser.find_elements(By.ID, "diperbarui"), "Arjasa's figures were not brought up to date"
    _kabupaten_cells(browser, site, today)

    # Read-only into one kecamatan, by its name in the table.
    browser.find_element(By.LINK_TEXT, "Arjasa").click()
    _heading(browser, "Indikator Kinerja Utama Kecamatan Arjasa")
    assert f"kecamatan={ARJASA}" in browser.current_url
    browser.save_screenshot(str(shots / "03-arjasa.png"))

    # A kecamatan's officer, logged in through their own link, is refused the page.
    browser.find_element(By.CSS_SELECTOR, "form.keluar button").click()
    _heading(browser, "Anda sudah keluar")
    browser.get(f"{base}/dasbor/masuk?t={site.link(PIMPINAN)}")
    browser.find_element(By.ID, "masuk").click()
    _heading(browser, "Indikator Kinerja Utama Kecamatan Jelbuk")
    browser.get(base + "/dasbor/kabupaten")
    _heading(browser, "Tidak diizinkan")
    assert "hanya untuk pembaca kabupaten" in browser.page_source
    assert "Arjasa" not in browser.page_source and "IKU-3" not in browser.page_source
    browser.save_screenshot(str(shots / "04-petugas-ditolak.png"))
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "01-kabupaten.png", "02-kabupaten-diperbarui.png", "03-arjasa.png", "04-petugas-ditolak.png"]
