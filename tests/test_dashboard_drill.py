# What is behind each figure of the dashboard, on both backends: the list of complaints
# behind a count (paged in SQL, never the reporter's identity, contact, description or place,
# rahasia and anonim alike), the spread of SKM answers behind each NRR, the map of desa
# (aggregates at the office file's approximate centroids only), the streamed CSV export and
# the kabupaten workbook, and the public report card's grouped queries with the official
# e-SUKMA IKM where one is recorded.
from __future__ import annotations

import html as htmllib
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from bot.config.office import DEFAULT_OFFICE_FILE, OfficeFileError, load_office, load_offices
from bot.config.workcalendar import deadline_policy
from bot.dashboard import pages, routes
from bot.reports.skm_summary import skm_summary
from bot.texts import angka
from kpi.periods import parse_period
from storage import complaint_stats, csv_io, skm, skm_official
from storage.db import Database
from storage.lifecycle import OPEN_STATUSES
from storage.models import Complaint
from tests.dashboard_world import JAKARTA, NOW, Site, complaint, make_site, wib

PERSONAL = ("Siti", "Rahayu", "081234567890", "Darto", "Pesta", "Mawar", "-8.04123", "113.74567")


@pytest.fixture
def site(db: Database) -> Site:
    s = make_site(db)
    s.tickets = [  # type: ignore[attr-defined]
        complaint(db, wib(2026, 2, 2, 9, 0), "selesai"),
        # Verified: follow-up due 6 April, overdue on 15 May.
        complaint(db, wib(2026, 3, 30, 9, 0), "verifikasi", desa="Sucopangepok"),
        # Anonim and rahasia, with a reporter, a place and a telling description.
        complaint(db, wib(2026, 5, 14, 9, 0), None, desa="Panduman", category="miras",
                  reporter=("Siti Rahayu", "081234567890"), description="Pesta miras di rumah Pak Darto"),
        # Verified 6 April: follow-up due 13 April, overdue.
        complaint(db, wib(2026, 4, 6, 9, 0), "verifikasi", desa="Sucopangepok", category="miras"),
        # Received 13 May: verification due 18 May, on time.
        complaint(db, wib(2026, 5, 13, 9, 0), None, desa="Sucopangepok"),
    ]
    with db.transaction() as tx:
        c = tx.scalars(select(Complaint).where(Complaint.ticket == s.tickets[2])).one()  # type: ignore[attr-defined]
        c.anonim, c.rahasia = True, True
        c.latitude, c.longitude, c.address = -8.04123, 113.74567, "Jl. Mawar 7"
    return s


def _numbers(html: str, code: str) -> list[str]:
    row = re.search(rf'data-kode="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    return re.findall(r'<td class="n">(?:<a [^>]*>)?([^<]*)', row.group(1))


def _link(html: str, code: str, which: int) -> str:
    row = re.search(rf'data-kode="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    return htmllib.unescape(re.findall(r'<a href="([^"]+)"', row.group(1))[which])


def _tickets(html: str) -> list[str]:
    table = html[html.index('id="daftar-pengaduan"'):html.index("</table>")]
    return re.findall(r'<th scope="row" class="tiket">([A-Z]+-\d{4}-\d+)</th>', table)


def test_each_count_links_to_the_complaints_behind_it(site: Site) -> None:
    t = site.tickets  # type: ignore[attr-defined]
    site.login()
    summary = site.client.get("/dasbor/pengaduan").text
    assert _numbers(summary, "Sucopangepok") == ["3", "2"]
    open_list = site.client.get(_link(summary, "Sucopangepok", 0))
    assert open_list.status_code == 200
    # Overdue first, the longest overdue first, then the oldest received.
    assert _tickets(open_list.text) == [t[1], t[3], t[4]]
    assert '<span id="jumlah">3</span> laporan' in open_list.text
    assert "desa <strong>Sucopangepok</strong>" in open_list.text
    late = site.client.get(_link(summary, "Sucopangepok", 1)).text
    assert _tickets(late) == [t[1], t[3]] and "(terlambat)" in late
    # The category table and the totals link alike; a zero is not a link.
    miras = site.client.get(_link(summary, "miras", 0)).text
    assert _tickets(miras) == [t[3], t[2]]
    assert _numbers(summary, "Jelbuk") == ["0", "0"] and not re.search(r'data-kode="Jelbuk">[^\n]*<a ', summary)
    # The IKU page's count links to every complaint received in the year, closed ones too.
    iku = site.client.get("/dasbor/iku").text
    href = htmllib.unescape(re.search(r'<a id="daftar-iku4" href="([^"]+)"', iku).group(1))  # type: ignore[union-attr]
    year = site.client.get(href).text
    assert sorted(_tickets(year)) == sorted(t) and "Selesai" in year
    assert htmllib.escape(href) in site.client.get("/dasbor/tren").text
    assert 'aria-label="Daftar 2 laporan terlambat, Sucopangepok"' in summary
    assert site.client.get("/dasbor/pengaduan/daftar", params={"status": "semua", "tahun": "2025"}).text.count(
        "Tidak ada laporan.") == 1


def test_the_list_never_shows_who_reported_or_where(site: Site) -> None:
    site.login()
    for params in ({"status": "semua"}, {"desa": "Panduman"}, {"kategori": "miras", "tahun": "2026"}):
        page = site.client.get("/dasbor/pengaduan/daftar", params=params).text
        assert site.tickets[2] in page  # type: ignore[attr-defined]
        for personal in PERSONAL:
            assert personal not in page, (params, personal)
    summary = site.client.get("/dasbor/pengaduan").text
    for personal in PERSONAL:
        assert personal not in summary, personal


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_the_list_is_paged_in_sql(site: Site, statements: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    t = site.tickets  # type: ignore[attr-defined]
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    site.login()
    statements.clear()
    first = site.client.get("/dasbor/pengaduan/daftar", params={"desa": "Sucopangepok"}).text
    assert _tickets(first) == [t[1], t[3]] and "Halaman 1 dari 2" in first
    listing = [s for s in statements if "FROM complaints" in s and "count(" not in s.lower()]
    # Keyset paging: the overdue part, then (only when the page is not full) the rest; never OFFSET.
    assert 1 <= len(listing) <= 2, listing
    for sql in listing:
        assert "LIMIT" in sql.upper() and "ORDER BY" in sql.upper()
        assert "reporter_id" not in sql and "description" not in sql and "latitude" not in sql
    following = htmllib.unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))  # type: ignore[union-attr]
    offsets: list[Any] = []

    def offset(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # SQLite's dialect writes "LIMIT ? OFFSET ?" even without an offset (then 0); PostgreSQL's
        # writes OFFSET only when there is one.
        if "FROM complaints" in statement and "OFFSET" in statement.upper():
            offsets.append(parameters[-1] if isinstance(parameters, tuple | list) else parameters.get("param_2"))

    event.listen(Engine, "before_cursor_execute", offset)
    try:
        second = site.client.get(following).text
    finally:
        event.remove(Engine, "before_cursor_execute", offset)
    # Keyset: the second page starts from the first page's last row, it does not skip rows.
    assert all(o == 0 for o in offsets), offsets
    assert _tickets(second) == [t[4]] and "Halaman 2 dari 2" in second and 'rel="prev"' in second
    assert 'rel="next"' not in second


def _walk(site: Site, url: str, rel: str) -> list[list[str]]:
    """The tickets of each page, following the `rel` links from `url` to the end."""
    seen: list[list[str]] = []
    while True:
        response = site.client.get(url)
        assert response.status_code == 200, response.text
        seen.append(_tickets(response.text))
        assert len(seen) < 100, "the links go round in a circle"
        found = re.search(rf'<a href="([^"]+)" rel="{rel}"', response.text)
        if found is None:
            return seen
        url = htmllib.unescape(found.group(1))


def test_walking_the_pages_gives_every_complaint_once_in_order(site: Site,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # More complaints of each kind: overdue with the same deadline (ties broken by received,
    # then id), on time, closed; several received at the same instant (ties broken by id).
    for hour in (9, 9, 9, 10):
        complaint(site.db, wib(2026, 3, 30, hour, 0), "verifikasi", desa="Sucopangepok")
    for _ in range(3):
        complaint(site.db, wib(2026, 5, 13, 9, 0), None)
        complaint(site.db, wib(2026, 1, 5, 8, 0), "selesai")
    complaint(site.db, wib(2026, 5, 14, 7, 0), "duplikat")
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    site.login()
    with site.db.reading() as s:
        every = s.execute(select(Complaint.ticket, Complaint.current_due, Complaint.received_at, Complaint.id)).all()
    today = date(2026, 5, 15)
    # The /kasus order, computed here independently of the SQL.
    expected = [r.ticket for r in sorted(every, key=lambda r: (
        (0, r.current_due) if r.current_due is not None and r.current_due < today else (1, date.min),
        r.received_at, r.id))]
    assert len(expected) == 5 + 4 + 7
    forward = _walk(site, "/dasbor/pengaduan/daftar?status=semua", "next")
    assert [t for p in forward for t in p] == expected
    assert all(len(p) == 2 for p in forward) and len(forward) == 8
    last = site.client.get("/dasbor/pengaduan/daftar?status=semua")
    for _ in range(7):
        last = site.client.get(htmllib.unescape(re.search(r'<a href="([^"]+)" rel="next"', last.text).group(1)))  # type: ignore[union-attr]
    assert "Halaman 8 dari 8" in last.text
    back_from = htmllib.unescape(re.search(r'<a href="([^"]+)" rel="prev"', last.text).group(1))  # type: ignore[union-attr]
    backward = _walk(site, back_from, "prev")
    assert backward == forward[-2::-1]
    first_again = site.client.get(back_from)
    # Going back: the page numbers count down with the links.
    assert "Halaman 7 dari 8" in first_again.text
    # Open ones only, and a filter: the key keeps the filter.
    open_pages = _walk(site, "/dasbor/pengaduan/daftar?status=terbuka&desa=Sucopangepok", "next")
    with site.db.reading() as s:
        suco = set(s.scalars(select(Complaint.ticket).where(Complaint.desa == "Sucopangepok",
                                                            Complaint.status.in_(OPEN_STATUSES))))
    assert [t for p in open_pages for t in p] == [t for t in expected if t in suco]


def test_a_changed_page_link_is_refused_in_indonesian(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    site.login()
    first = site.client.get("/dasbor/pengaduan/daftar", params={"status": "semua"}).text
    following = htmllib.unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))  # type: ignore[union-attr]
    key = re.search(r"setelah=([^&]+)", following).group(1)  # type: ignore[union-attr]
    assert site.client.get(following).status_code == 200
    for forged in ("x" + key, key + "9" * 30, key.replace("_", "-"), "2026-02-30_1_1", "-_" + "9" * 18 + "_1",
                   "' OR 1=1 --", "-_1_99999999999999999999"):
        response = site.client.get("/dasbor/pengaduan/daftar", params={"status": "semua", "setelah": forged})
        assert response.status_code == 400, forged
        assert "Tautan halaman ini rusak atau diubah" in response.text, forged
    both = site.client.get("/dasbor/pengaduan/daftar", params={"setelah": key, "sebelum": key})
    assert both.status_code == 400


def test_each_quarter_of_the_trend_links_to_its_complaints(site: Site) -> None:
    t = site.tickets  # type: ignore[attr-defined]
    # 23:30 WIB on 31 March is 16:30 UTC: the first triwulan by the office's clock.
    late_march = complaint(site.db, wib(2026, 3, 31, 23, 30), None)
    site.login()
    trend = site.client.get("/dasbor/tren?tahun=2026").text
    links = [htmllib.unescape(h) for h in re.findall(r'<a class="daftar-triwulan" href="([^"]+)"', trend)]
    assert links == [f"/dasbor/pengaduan/daftar?status=semua&tahun=2026&triwulan={q}" for q in (1, 2, 3, 4)]
    pages_ = [site.client.get(link).text for link in links]
    assert sorted(_tickets(pages_[0])) == sorted([t[0], t[1], late_march])
    assert sorted(_tickets(pages_[1])) == sorted([t[2], t[3], t[4]])
    assert _tickets(pages_[2]) == [] and _tickets(pages_[3]) == []
    assert "triwulan <strong>II</strong> tahun <strong>2026</strong>" in pages_[1]
    for params, says in (({"tahun": "2026", "triwulan": "5"}, "Triwulan &#39;5&#39; tidak dikenal"),
                         ({"triwulan": "2"}, "Triwulan perlu tahunnya")):
        response = site.client.get("/dasbor/pengaduan/daftar", params=params)
        assert response.status_code == 400 and says in response.text, params


def test_bad_list_filters_are_explained(site: Site) -> None:
    site.login()
    for params, says in (({"status": "hilang"}, "Status &#39;hilang&#39; tidak dikenal"),
                         ({"tahun": "20x6"}, "Tahun &#39;20x6&#39; tidak dikenal"),
                         ({"hal": "0"}, "Halaman &#39;0&#39; tidak dikenal")):
        response = site.client.get("/dasbor/pengaduan/daftar", params=params)
        assert response.status_code == 400 and says in response.text, params
    site.client.cookies.clear()
    assert site.client.get("/dasbor/pengaduan/daftar").status_code == 401


def test_the_map_draws_desa_aggregates_at_their_centroids(site: Site) -> None:
    site.login()
    page = site.client.get("/dasbor/pengaduan").text
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 560 380"'):]
    svg = svg[:svg.index("</svg>")]
    assert 'role="img"' in svg and "Peta pengaduan terbuka per desa" in svg
    desc = re.search(r"<desc>(.*?)</desc>", svg).group(1)  # type: ignore[union-attr]
    assert "Sucopangepok: 3 terbuka, 2 terlambat" in desc and "Panduman: 1 terbuka, 0 terlambat" in desc
    assert "Jelbuk: 0 terbuka, 0 terlambat" in desc
    for desa in site.office.desa:
        assert f'font-weight="bold">{desa}</text>' in svg, desa
    # Two thirds of Sucopangepok overdue: one red sector; Panduman none; Jelbuk a hollow ring.
    assert svg.count('fill="#a4262c"') == 1 and svg.count('fill="#fff"') == 4
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "-8.04123" not in page and "113.74567" not in page and "Mawar" not in page
    # The same figures in the table beside it, for a screen reader.
    assert "Angkanya ada di tabel" in page and 'id="per-desa"' in page


def test_every_shipped_office_has_a_point_per_desa_and_a_bad_map_is_refused(tmp_path: Path) -> None:
    for office in load_offices().values():
        assert [p.desa for p in office.desa_map] == list(office.desa), office.name
        assert all(-9 < p.lat < -7 and 113 < p.lon < 115 for p in office.desa_map)
    text = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "kantor.toml"
    bad.write_text(text.replace('nama = "Sukowiryo"', 'nama = "Atlantis"'), encoding="utf-8")
    with pytest.raises(OfficeFileError, match="Atlantis"):
        load_office(bad)
    bare = tmp_path / "lama.toml"
    bare.write_text(text[:text.index("[peta]")], encoding="utf-8")
    assert load_office(bare).desa_map == ()


def _answers(db: Database) -> None:
    service = load_office().services[0].code
    with db.transaction() as s:
        for i, low in enumerate((1, 2, 2)):
            answers = {f"u{j}": 4 for j in range(1, 10)} | {"u6": low, "u3": 3}
            draft = skm.ResponseDraft(service=service, period="2026-Q2", tanggal=date(2026, 5, 2 + i),
                                      answers=answers)
            skm.record_response(s, draft, source="kertas", now=NOW, recorded_by=f"kertas {i}")


def test_the_skm_unsur_links_to_the_spread_of_answers(site: Site) -> None:
    _answers(site.db)
    site.login()
    skm_page = site.client.get("/dasbor/skm", params={"periode": "2026-Q2"}).text
    assert '<a id="ke-sebaran" href="/dasbor/skm/jawaban?periode=2026-Q2">' in skm_page
    page = site.client.get("/dasbor/skm/jawaban", params={"periode": "2026-Q2"}).text
    assert "Sebaran jawaban SKM, Triwulan II 2026" in page and '<span id="responden">3</span>' in page

    def spread(code: str) -> list[str]:
        row = re.search(rf'<tr id="{code}"[^>]*>(.*?)</tr>', page, re.S)
        assert row, code
        return re.findall(r'data-k="\w+"[^>]*>([^<]*)<', row.group(1))

    assert spread("U6") == ["1", "2", "0", "0", "0", "1,667"]
    assert spread("U3") == ["0", "0", "3", "0", "0", "3,000"]
    assert spread("U1") == ["0", "0", "0", "3", "0", "4,000"]
    assert '<tr id="U6" class="lemah">' in page
    assert "kertas" not in page and "2 Mei" not in page
    empty = site.client.get("/dasbor/skm/jawaban", params={"periode": "2026-Q1"}).text
    assert '<span id="responden">0</span>' in empty


def test_the_csv_download_is_the_cli_export_streamed(site: Site) -> None:
    site.login()
    response = site.client.get("/dasbor/unduh/pengaduan.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="pengaduan-2026-05-15.csv"' in response.headers["content-disposition"]
    assert "content-length" not in response.headers  # sent as it is read, not built first
    expected = io.StringIO()
    with site.db.reading() as s:
        n = csv_io.export_complaints(s, expected, policy=deadline_policy(site.office), tz=JAKARTA,
                                     today=date(2026, 5, 15))
    assert n == 5
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff") and body[1:] == expected.getvalue()
    for personal in PERSONAL:
        assert personal not in body, personal


def test_the_csv_stream_hands_over_chunks(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "CSV_CHUNK", 100)
    dash = routes.Dashboard(site.db, site.office, site.settings, site.clock)
    chunks = list(routes._csv_chunks(dash))
    assert len(chunks) > 3 and all(chunks)
    assert b"".join(chunks).decode("utf-8").count("\n") == 6


def test_the_kabupaten_workbook_holds_the_office_column(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    folders: list[str] = []
    real = tempfile.mkdtemp

    def mkdtemp(**kwargs: Any) -> str:
        folders.append(real(**kwargs))
        return folders[-1]

    monkeypatch.setattr(routes.tempfile, "mkdtemp", mkdtemp)
    site.login()
    response = site.client.get("/dasbor/unduh/kabupaten.xlsx", params={"tahun": "2026", "per": "2026-03-31"})
    assert response.status_code == 200
    assert 'filename="iku-kabupaten-2026-per-2026-03-31.xlsx"' in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "KECAMATAN SE-JEMBER" in str(values[0][0])
    assert any(isinstance(c, str) and "Jelbuk" in c for row in values for c in row)
    assert not any(isinstance(c, str) and "Arjasa" in c for row in values for c in row)
    iku4 = next(row for row in values if any(isinstance(c, str) and "penyelesaian" in c.lower() for c in row))
    # TW I to 31 March: 1 resolved of the 2 received (the other still open).
    assert 50.0 in [float(c) for c in iku4 if isinstance(c, int | float)]
    # The temporary file is gone once sent.
    assert folders and not any(Path(f).exists() for f in folders)
    page = site.client.get("/dasbor/iku").text
    assert "/dasbor/unduh/kabupaten.xlsx?tahun=2026&amp;per=2026-05-15" in page
    assert "/dasbor/unduh/pengaduan.csv" in site.client.get("/dasbor/pengaduan").text


def test_the_report_card_is_one_grouped_query_per_figure(site: Site, statements: list[str]) -> None:
    _answers(site.db)
    with site.db.transaction() as s:
        skm_official.set_official(s, "2026-Q1", Decimal("87.50"), 120, "e-SUKMA TW I 2026", "Bu Admin", NOW)
    site.client.cookies.clear()
    statements.clear()
    html = site.client.get("/rapor").text
    assert len([s for s in statements if "FROM complaints" in s]) == 1
    assert len([s for s in statements if "FROM skm_responses" in s]) == 1
    assert len([s for s in statements if "skm_official" in s]) == 1
    rows = dict(re.findall(r'<tr><th scope="row">(\w+)</th>(.*?)</tr>', html))
    tz = JAKARTA
    for m, name in enumerate(("Januari", "Februari", "Maret", "April", "Mei"), start=1):
        with site.db.reading() as s:
            c = complaint_stats.resolution_counts(s, wib(2026, m, 1), wib(2026, m + 1, 1), tz, cutoff=site.clock(),
                                                  definition=site.office.iku4_definition)
        shown = re.findall(r'<td class="n">([^<]*)</td>', rows[name])
        assert shown[:3] == [str(c.received), str(c.resolved), str(c.within_standard)], name
    assert "Juni" not in rows
    ikm = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>',
                          html[html.index('id="rapor-ikm"'):]))
    official = re.findall(r"<td[^>]*>([^<]*)</td>", ikm["Triwulan I 2026"])
    assert official == ["120", "87,50", "B", "resmi e-SUKMA"]
    with site.db.reading() as s:
        q2 = skm_summary(s, site.office, parse_period("2026-Q2"))
    assert q2.result is not None
    computed = re.findall(r"<td[^>]*>([^<]*)</td>", ikm["Triwulan II 2026"])
    assert computed == ["3", angka(q2.result.konversi, 2), q2.result.mutu, "dihitung dari jawaban"]
    for personal in (*PERSONAL, "kertas", "Bu Admin", "e-SUKMA TW I"):
        assert personal not in html, personal
