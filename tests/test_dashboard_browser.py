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
from collections.abc import Iterator
from datetime import date
from pathlib import Path

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
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
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
    """Wait until the page shown (after a click that navigates) has `text` in its h1."""
    WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
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
