# The dashboard's pages as an officer reads them, on both backends: the IKU table holds the
# IKU report's own figures (bot.reports.iku_report, what `sigap iku laporan` and /iku print)
# for the same register and date; the IKU 4 trend, open/overdue complaints by desa and
# category, SKM per unsur with the weakest one; the xlsx downloads are the CLI's workbooks;
# the public report card needs no login and shows nothing personal.
from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest

from bot.config.settings import DashboardSettings
from bot.reports.iku_report import QUARTER_KEYS, fmt, iku_table
from storage import skm
from storage.db import Database
from tests.dashboard_world import BASE, NOW, Site, complaint, make_site, wib


@pytest.fixture
def site(db: Database) -> Site:
    s = make_site(db)
    # IKU 4, TW I: 3 counted (a duplicate left out), 2 resolved = 66,67; TW II: 1 of 2.
    complaint(db, wib(2026, 2, 2, 9, 0), "selesai")
    complaint(db, wib(2026, 2, 3, 9, 0), "selesai", desa="Sucopangepok", category="miras")
    complaint(db, wib(2026, 2, 4, 9, 0), "duplikat")
    complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok")
    complaint(db, wib(2026, 4, 6, 9, 0), "selesai")
    complaint(db, wib(2026, 5, 14, 9, 0), None, desa="Panduman", category="miras",
              reporter=("Siti Rahayu", "081234567890"), description="Pesta miras di rumah Pak Darto")
    return s


def cells(html: str, code: str) -> dict[str, str]:
    row = re.search(rf'<tr id="{code}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, code
    return dict(re.findall(r'data-k="(\w+)">(?:<strong>)?([^<]*)', row.group(1)))


def test_the_iku_table_holds_the_iku_report_figures(site: Site) -> None:
    site.login()
    for per in (date(2026, 3, 31), date(2026, 5, 15)):
        html = site.client.get("/dasbor/iku", params={"tahun": "2026", "per": per.isoformat()}).text
        with site.db.reading() as s:
            rows = iku_table(s, site.office, 2026, per)
        assert len(rows) == 6
        for r in rows:
            shown = cells(html, r.code)
            expected = {k: fmt(r.realisation[k], r.kind) for k in (*QUARTER_KEYS, "ytd")}
            expected["target"] = fmt(r.target, r.kind)
            expected["capaian"] = (fmt(r.capaian) + "%") if r.capaian is not None else "–"
            assert {k: shown[k] for k in expected} == expected, (per, r.code)
            assert shown["band"] == (r.band or "–") + (" (perlu perhatian)" if r.detail["attention"] else "")
    # The anchor a person would check by hand: TW I of IKU 4 is 2 of 3.
    html = site.client.get("/dasbor/iku", params={"per": "2026-03-31"}).text
    assert cells(html, "IKU-4")["q1"] == "66,67" and cells(html, "IKU-4")["q2"] == "–"
    assert "Keadaan per <strong id=\"per-tanggal\">Selasa, 31 Maret 2026</strong>" in html
    now = site.client.get("/dasbor").text
    assert cells(now, "IKU-4")["q2"] == "50,00" and "selesai 3 dari 5 laporan" in now
    assert '<label for="per">Keadaan per tanggal</label>' in now and 'lang="id"' in now


def test_a_bad_or_future_date_is_explained(site: Site) -> None:
    site.login()
    bad = site.client.get("/dasbor/iku", params={"per": "2026-13-01"})
    assert bad.status_code == 400 and "Tanggal &#39;2026-13-01&#39; tidak dikenal" in bad.text
    future = site.client.get("/dasbor/iku", params={"per": "2026-06-01"})
    assert future.status_code == 400 and "belum terjadi" in future.text


def test_the_iku4_trend_is_an_svg_with_the_target(site: Site) -> None:
    site.login()
    html = site.client.get("/dasbor/tren").text
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<title" in svg and "IKU-4" in svg
    assert "TW I: 66,67; TW II: 50,00; TW III: –; TW IV: –; target 90,00" in svg
    assert "Target 90,00" in svg and "stroke-dasharray" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_open_and_overdue_complaints_by_desa_and_category(site: Site) -> None:
    site.login()
    html = site.client.get("/dasbor/pengaduan").text
    # Open on 15 May: the 30 March one (verified, follow-up due 6 April: overdue) and the
    # 14 May one (verification due 19 May: not overdue).
    assert '<span id="jumlah-terbuka">2</span> laporan terbuka' in html
    assert '<span id="jumlah-terlambat">1</span>' in html
    # Each figure is a link to its list (tests/test_dashboard_drill.py): compare the numbers.
    html = re.sub(r"</?a[^>]*>", "", html)
    desa = html[html.index('id="per-desa"'):html.index('id="per-kategori"')]
    assert re.search(r'data-kode="Sucopangepok"><th scope="row">Sucopangepok</th><td class="n">1</td>'
                     r'<td class="n">1</td>', desa)
    assert re.search(r'data-kode="Panduman">.*?<td class="n">1</td><td class="n">0</td>', desa)
    assert re.search(r'data-kode="Jelbuk">.*?<td class="n">0</td><td class="n">0</td>', desa)
    category = html[html.index('id="per-kategori"'):]
    assert re.search(r'data-kode="miras"><th scope="row">Minuman keras</th><td class="n">1</td>'
                     r'<td class="n">0</td>', category)
    assert "Siti" not in html and "0812" not in html and "Darto" not in html


def _answers(db: Database) -> None:
    with db.transaction() as s:
        for i, low in enumerate((1, 2, 2)):
            answers = {f"u{j}": 4 for j in range(1, 10)} | {"u6": low}
            draft = skm.ResponseDraft(service=site_service(), period="2026-Q2", tanggal=date(2026, 5, 2 + i),
                                      answers=answers)
            skm.record_response(s, draft, source="kertas", now=NOW, recorded_by=f"kertas {i}")


def site_service() -> str:
    from bot.config.office import load_office

    return load_office().services[0].code


def test_skm_per_unsur_names_the_weakest(site: Site) -> None:
    _answers(site.db)
    site.login()
    html = site.client.get("/dasbor/skm", params={"periode": "2026-Q2"}).text
    assert "Survei Kepuasan Masyarakat, Triwulan II 2026" in html
    assert re.search(r'Unsur terlemah: <strong id="terlemah">U6 [^<]+</strong> \(NRR 1,667\)', html)
    assert '<tr class="lemah"><th scope="row"><a href="/dasbor/skm/jawaban?periode=2026-Q2#U6">U6</a></th>' in html
    assert "dari 3 responden" in html
    empty = site.client.get("/dasbor/skm", params={"periode": "2026-Q1"}).text
    assert "Belum ada jawaban survei pada periode ini." in empty


def test_downloads_are_the_cli_workbooks(site: Site) -> None:
    _answers(site.db)
    site.login()
    response = site.client.get("/dasbor/unduh/iku.xlsx", params={"tahun": "2026", "per": "2026-03-31"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="iku-2026-per-2026-03-31.xlsx"' in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    iku4 = next(row for row in values if any(isinstance(c, str) and "penyelesaian" in c.lower() for c in row))
    assert 66.67 in [float(c) for c in iku4 if isinstance(c, int | float)]
    skm_book = site.client.get("/dasbor/unduh/skm.xlsx", params={"periode": "2026-Q2"})
    assert skm_book.status_code == 200
    names = openpyxl.load_workbook(io.BytesIO(skm_book.content)).sheetnames
    assert len(names) == 3


def test_the_public_report_card_needs_no_login_and_shows_nothing_personal(site: Site) -> None:
    _answers(site.db)
    site.client.cookies.clear()
    response = site.client.get("/rapor")
    assert response.status_code == 200
    html = response.text
    assert "Rapor pelayanan Kecamatan Jelbuk tahun 2026" in html and 'lang="id"' in html
    rows = dict(re.findall(r'<tr><th scope="row">(\w+)</th>(.*?)</tr>', html))
    numbers = {m: re.findall(r'<td class="n">([^<]*)</td>', rows[m]) for m in ("Februari", "Maret", "April", "Mei")}
    # Received / resolved / within time / share (the duplicate is received, not counted).
    assert numbers["Februari"] == ["3", "2", "2", "100,00%"]
    assert numbers["Maret"] == ["1", "0", "0", "0,00%"]
    assert numbers["April"] == ["1", "1", "1", "100,00%"]
    assert numbers["Mei"] == ["1", "0", "0", "0,00%"]
    assert "Juni" not in rows
    assert re.search(r"Triwulan II 2026</th><td class=\"n\">3</td><td class=\"n\">\d+,\d\d</td>", html)
    for personal in ("Siti", "Rahayu", "081234567890", "Darto", "miras", "TRB-2026", "Panduman", "kertas"):
        assert personal not in html, personal


def test_the_public_report_card_can_be_switched_off(db: Database) -> None:
    site = make_site(db, DashboardSettings(url=BASE, public_report=False))
    assert site.client.get("/rapor").status_code == 404
