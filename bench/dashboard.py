"""The web dashboard's pages on a large register (issue 15): each page and download as a
logged-in pimpinan opens it, through the real web app (bot.app.web.build_app with the
dashboard mounted, as `sigap run` serves it), on registers of N complaints (with their
status history) and N SKM answers (bench/register.py), on SQLite and PostgreSQL.

Printed per page: the wall time of a cold request (the dashboard's figure cache emptied
first: the IKU pages and /rapor compute their figures, as on a key asked for the first time;
bot/dashboard/figure_cache.py); of the first request after a write (the register's figure
stamp bumped: the IKU and trend pages answer from their last figures, saying "sedang
diperbarui", /rapor and the workbooks compute), with how long the background recompute then
took until the cache settled; the median of --repeat requests after it (what a leader opening
the page again waits), the response size, and the peak Python allocation of one cold request (tracemalloc; for the streamed CSV, of the route's chunk
generator read and dropped, since the test client holds a whole response), which must stay flat as the register grows
(no page may pull the register into Python: lists are one page in SQL, figures are grouped
queries, downloads are streamed). The downloads of the SKM workbook are left out above
100k answers (they are bench/reports.py's `skmx`, minutes at 1M).

    python bench/dashboard.py [--sizes 0,100000,1000000] [--backends sqlite,postgresql] [--repeat 3]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.dashboard_world

from measure import peak_memory, timed  # bench/measure.py
from register import NOW, fill, postgres_database  # bench/register.py

from storage import figure_stamp, migrate
from storage.db import Database

WALK = "hal100:"
PAGES = [
    ("IKU (tahun, per tanggal)", "/dasbor/iku?tahun=2026&per=2026-11-29"),
    ("tren IKU 4", "/dasbor/tren?tahun=2026&per=2026-11-29"),
    ("pengaduan per desa, kategori, peta", "/dasbor/pengaduan"),
    ("daftar terlambat, hal. 1", "/dasbor/pengaduan/daftar?status=terlambat"),
    ("daftar semua 2026, hal. 1", "/dasbor/pengaduan/daftar?status=semua&tahun=2026"),
    # Page 100 by its Berikutnya link (keyset paging: the link carries the last row's key);
    # the 99 pages before it are followed once, untimed, to get that link.
    ("daftar semua 2026, hal. 100", f"{WALK}/dasbor/pengaduan/daftar?status=semua&tahun=2026"),
    ("daftar semua, hal. 100", f"{WALK}/dasbor/pengaduan/daftar?status=semua"),
    ("SKM per unsur (tahun)", "/dasbor/skm?periode=2026"),
    ("SKM sebaran jawaban", "/dasbor/skm/jawaban?periode=2026"),
    ("rapor publik", "/rapor?tahun=2026"),
    ("unduh IKU xlsx", "/dasbor/unduh/iku.xlsx?tahun=2026&per=2026-11-29"),
    ("unduh pengaduan CSV", "/dasbor/unduh/pengaduan.csv"),
    ("unduh SKM xlsx (tahun)", "/dasbor/unduh/skm.xlsx?periode=2026"),
]
SKM_XLSX_MAX = 100_000


@contextlib.contextmanager
def register(backend: str) -> Iterator[Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/sigap.db")
            try:
                migrate.upgrade(db)
                yield db
            finally:
                db.dispose()
        return
    with postgres_database() as db:
        yield db


def pages(db: Database, size: int, repeat: int) -> Iterator[str]:
    from bot.dashboard.routes import Dashboard, _csv_chunks
    from tests.dashboard_world import make_site

    site = make_site(db)
    site.clock.now = NOW  # the register's "now": Monday 30 November 2026, 07:00 WIB
    site.login()
    for name, url in PAGES:
        if "skm.xlsx" in url and size > SKM_XLSX_MAX:
            yield f"  {name:<36} skipped above {SKM_XLSX_MAX:,} answers (bench/reports.py --only skmx)"
            continue
        if url.startswith(WALK):
            found = _page_100(site, url.removeprefix(WALK))
            if found is None:
                yield f"  {name:<36} skipped: the register has fewer than 100 pages"
                continue
            url = found
        get: Callable[[], bytes] = lambda url=url: _get(site, url)  # noqa: E731
        figures = site.dashboard.figures  # type: ignore[union-attr]
        figures.clear()
        cold, _ = timed(get, 1)
        _changed(db)
        after_write, _ = timed(get, 1)
        started = time.perf_counter()
        if not figures.settle(timeout=3600):
            raise SystemExit(f"{url}: the background recompute did not finish within an hour")
        background = time.perf_counter() - started
        seconds, body = timed(get, repeat)
        if url.endswith(".csv"):
            # The test client holds a whole response in memory; the server streams it. So the
            # CSV's memory is that of the route's own chunk generator, read and dropped.
            dashboard = Dashboard(db, site.office, site.settings, site.clock)
            peak = peak_memory(lambda d=dashboard: sum(len(chunk) for chunk in _csv_chunks(d)))
        else:
            figures.clear()
            peak = peak_memory(get)
        yield (f"  {name:<36} cold {cold * 1000:9.1f} ms   after a write {after_write * 1000:9.1f} ms "
               f"(+ {background * 1000:7.1f} ms in the background)   again {seconds * 1000:9.1f} ms   "
               f"{len(body) / 1024:9.1f} KiB   peak Python memory {peak / 2**20:7.1f} MiB")


def _changed(db: Database) -> None:
    """A write that can move a figure, as far as the dashboard's cache can tell: a new stamp."""
    with db.transaction() as s:
        figure_stamp.bump(s)


def _page_100(site: object, url: str) -> str | None:
    import html
    import re

    for _ in range(99):
        found = re.search(r'<a href="([^"]+)" rel="next"', _get(site, url).decode())
        if found is None:
            return None
        url = html.unescape(found.group(1))
    return url


def _get(site: object, url: str) -> bytes:
    response = site.client.get(url)  # type: ignore[attr-defined]
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return bytes(response.content)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0,100000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"bench/dashboard.py: sizes {a.sizes}, backends {a.backends}, repeat {a.repeat}; cpus {os.cpu_count()}",
          flush=True)
    for backend in a.backends.split(","):
        for size in (int(x) for x in a.sizes.split(",")):
            with register(backend) as db:
                filled = fill(db, size)
                print(f"\n[{backend}, {size:,} complaints + {size:,} answers, filled in {filled.seconds:.0f} s]",
                      flush=True)
                for line in pages(db, size, a.repeat):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
