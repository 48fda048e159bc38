# The dashboard's HTTP side: login by the one-time link, sessions, role checks, pages,
# downloads, and the public report card.
# Invariants:
# - GET never changes anything: chat apps (Telegram, WhatsApp) fetch a link to draw its
#   preview, so GET /dasbor/masuk only shows a confirm button; the form's POST uses the link.
# - Every /dasbor page reads the session and the officer's current role on each request
#   (storage.dashboard_access); without both it answers 401/403 with what to do, never data.
# - Each kecamatan its own dashboard: the session's kecamatan is its officer's, and every page,
#   list and download of the request reads in that kecamatan's scope (Database.reading(K))
#   with its office (name, IKU targets, time zone). Nothing in the address chooses it for an
#   officer, so a changed query string cannot show another kecamatan.
# - A kabupaten reader's session (storage.kabupaten_access) belongs to no kecamatan: it reads
#   /dasbor/kabupaten (every kecamatan, each in its own scope) and, read-only, any served
#   kecamatan's pages, chosen by ?kecamatan=KODE, which only such a session honours; every
#   link of those pages carries it on (`alamat`). An officer's session gets a 403 for the
#   kabupaten page and its ?kecamatan= is ignored. No /dasbor page writes anything but the
#   login and the logout, for either kind of session.
# - The session cookie is HttpOnly (no script reads it), SameSite=Lax (another site cannot
#   post a logout or a login with it), Secure when the dashboard's address is https.
# - Handlers are plain functions: FastAPI runs them in its thread pool, so a report on a
#   large register never holds up the event loop that answers residents.
# - Downloads are streamed: a workbook is written to a temporary file (the CLI's writers take
#   a path) and sent from it in chunks, then removed; the CSV export is sent while the
#   register is read (storage.csv_io streams it from the database). Nothing holds a whole file.
# - The IKU table and the report card are kept between requests (bot/dashboard/figure_cache.py)
#   under the register's figure stamp (storage.figure_stamp), read first in the request's read
#   transaction, and each page says when its figures were computed. After a write that can move
#   a figure, the IKU, trend and kabupaten pages show the last figures at once, saying they are
#   being brought up to date ("sedang diperbarui"), while they are computed in the background;
#   so does /rapor; the workbooks compute fresh figures in the request.
from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams

from bot.config.office import Office
from bot.config.settings import DashboardSettings
from bot.dashboard import pages
from bot.dashboard.figure_cache import FigureCache, Figures
from bot.dialogs.dashboard_command import LOGIN_PATH
from bot.reports import iku_report as rep
from bot.reports.skm_summary import current_skm_period, skm_summary
from bot.texts import environment
from kpi.periods import Period, parse_period
from storage import dashboard_access, figure_stamp, kabupaten_access
from storage.dashboard_access import Viewer
from storage.db import Database
from storage.kabupaten_access import Reader
from storage.tenancy import TenantError, check_kode

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

COOKIE = "sigap_dasbor"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Nothing here may be cached by a shared proxy, and pages are not to be framed elsewhere.
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                      "form-action 'self'; frame-ancestors 'none'"}


# Who a page is for: an officer of one kecamatan, or a reader of the kabupaten.
Who = Viewer | Reader


class BadInput(ValueError):
    """A query parameter the page cannot use; the message is shown as is."""


@dataclass(frozen=True)
class Dashboard:
    """The dashboard of one kecamatan: `office` and the register's scope `kecamatan` (None: the
    register's own). `offices` are every office the bot serves by kode wilayah (Runtime.offices);
    a request works on `for_kecamatan(K)` of its session's kecamatan."""

    db: Database
    office: Office
    settings: DashboardSettings
    clock: Callable[[], datetime]
    offices: Mapping[str, Office] = field(default_factory=dict)
    kecamatan: str | None = None
    # One cache for every kecamatan's dashboard of this one (for_kecamatan shares it); its keys
    # name the kecamatan.
    figures: FigureCache = field(default_factory=FigureCache, compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.office.timezone)

    @property
    def scope(self) -> str:
        """The kecamatan whose register this dashboard reads."""
        return self.kecamatan or self.db.kecamatan

    def iku_rows(self, session: Session, year: int, as_of: date, *, stale_ok: bool = False
                 ) -> Figures[list[rep.IkuRow]]:
        """rep.iku_table of the year as of the date, kept while the register's figures stay
        the same (the stamp is read first, in `session`'s transaction). `stale_ok`: for a page
        that says when its figures were computed; after a write it gets the last figures at
        once, marked stale, while they are computed again in the background (a workbook,
        which says nothing of the kind, always gets figures of the stamp it read)."""
        stamp = figure_stamp.read_stamp(session)
        return self.figures.get(("iku", self.scope, year, as_of), self.office,
                                lambda: rep.iku_table(session, self.office, year, as_of), self.clock,
                                stamp=stamp, refresh=self._iku_refresh(year, as_of) if stale_ok else None)

    def _iku_refresh(self, year: int, as_of: date) -> Callable[[], tuple[object, list[rep.IkuRow]]]:
        def refresh() -> tuple[object, list[rep.IkuRow]]:
            # Its own read transaction (the request's is over by then), the stamp read first.
            with self.reading() as s:
                stamp = figure_stamp.read_stamp(s)
                return stamp, rep.iku_table(s, self.office, year, as_of)
        return refresh

    def computed(self, figures: Figures[Any]) -> datetime:
        """When `figures` were computed, on the office's wall clock (what the page says)."""
        return figures.computed_at.astimezone(self.tz)

    def reading(self) -> contextlib.AbstractContextManager[Session]:
        return self.db.reading(self.kecamatan)

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        return self.db.transaction(self.kecamatan)

    def for_kecamatan(self, kode: str) -> Dashboard | None:
        """The dashboard of kecamatan `kode`, or None when this bot serves no office of it."""
        if kode == self.db.kecamatan and kode not in self.offices:
            # One office file (no SIGAP_OFFICE_DIR): the register's own kecamatan is the office's.
            return replace(self, kecamatan=kode)
        office = self.offices.get(kode)
        if office is None and kode == self.office.kode_wilayah:
            office = self.office
        return None if office is None else replace(self, office=office, kecamatan=kode)

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def served(self) -> dict[str, Office]:
        """Every kecamatan this bot serves, by kode wilayah in kode order (with one office
        file, its own): the kecamatan a kabupaten reader reads."""
        if self.offices:
            return dict(self.offices)
        return {self.db.kecamatan or self.office.kode_wilayah: self.office}


def _address(kecamatan: str | None) -> Callable[[str], str]:
    """A link of the dashboard as this page's viewer follows it: in a kabupaten reader's view
    of one kecamatan every link carries ?kecamatan= (their session names none); an officer's
    links are the paths as they are (their session names theirs)."""
    if kecamatan is None:
        return lambda path: path

    def with_kecamatan(path: str) -> str:
        path, mark, fragment = path.partition("#")
        return f"{path}{'&' if '?' in path else '?'}kecamatan={kecamatan}{mark}{fragment}"

    return with_kecamatan


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("kec", None)
    context.setdefault("alamat", _address(context["kec"]))
    html = environment().get_template(f"dasbor/{name}.j2").render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _seen_as(d: Dashboard, viewer: Who) -> dict[str, Any]:
    """What a page needs to know of its viewer: which kecamatan a reader is looking at."""
    return {"viewer": viewer, "kec": d.scope if viewer.kabupaten else None}


def _form(body: bytes) -> dict[str, str]:
    # application/x-www-form-urlencoded by hand: one field, no python-multipart needed.
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), max_num_fields=5).items()}


def _year_and_date(d: Dashboard, tahun: str | None, per: str | None) -> tuple[int, date]:
    today = d.today()
    as_of = today
    if per:
        try:
            as_of = date.fromisoformat(per)
        except ValueError as exc:
            raise BadInput(f"Tanggal {per!r} tidak dikenal; tulis TTTT-BB-HH, misalnya 2026-06-30.") from exc
    if tahun:
        if not tahun.isdigit() or not 2000 <= int(tahun) <= 2100:
            raise BadInput(f"Tahun {tahun!r} tidak dikenal; tulis misalnya 2026.")
        year = int(tahun)
    else:
        year = as_of.year
    if not per:
        as_of = min(today, date(year, 12, 31))
    if as_of > today:
        raise BadInput("Tanggal keadaan belum terjadi; pilih hari ini atau sebelumnya.")
    return year, as_of


def _period(d: Dashboard, periode: str | None) -> Period:
    if not periode:
        return current_skm_period(d.office, d.clock())
    try:
        period = parse_period(periode)
    except ValueError as exc:
        raise BadInput(f"Periode {periode!r} tidak dikenal. Contoh: 2026, 2026-S2, 2026-Q4.") from exc
    if period.kind == "week":
        raise BadInput("Periode SKM tidak bisa per minggu; pilih tahun, semester atau triwulan.")
    return period


def _list_filters(d: Dashboard, q: Any) -> dict[str, Any]:
    """The filters of a list behind a figure, checked: a bad one is explained, never guessed."""
    status = q.get("status") or "terbuka"
    if status not in pages.LIST_STATUSES:
        raise BadInput(f"Status {status!r} tidak dikenal; pilih {', '.join(pages.LIST_STATUSES)}.")
    desa, category = q.get("desa") or None, q.get("kategori") or None
    for name, value in (("Desa", desa), ("Kategori", category)):
        if value is not None and len(value) > 64:
            raise BadInput(f"{name} terlalu panjang.")
    tahun = q.get("tahun") or None
    if tahun is not None and (not tahun.isdigit() or not 2000 <= int(tahun) <= 2100):
        raise BadInput(f"Tahun {tahun!r} tidak dikenal; tulis misalnya 2026.")
    triwulan = q.get("triwulan") or None
    if triwulan is not None and triwulan not in ("1", "2", "3", "4"):
        raise BadInput(f"Triwulan {triwulan!r} tidak dikenal; pilih 1, 2, 3 atau 4.")
    if triwulan is not None and tahun is None:
        raise BadInput("Triwulan perlu tahunnya, misalnya tahun=2026&triwulan=2.")
    hal = q.get("hal") or "1"
    if not hal.isdigit() or not 1 <= int(hal) <= 10_000_000:
        raise BadInput(f"Halaman {hal!r} tidak dikenal.")
    # The Berikutnya/Sebelumnya links carry a row's place in the order (keyset paging); one
    # that was changed or cut is explained, never guessed at.
    keys: dict[str, Any] = {"after": None, "before": None}
    for name, param in (("after", "setelah"), ("before", "sebelum")):
        text = q.get(param)
        if text:
            try:
                keys[name] = pages.parse_list_key(text)
            except ValueError as exc:
                raise BadInput("Tautan halaman ini rusak atau diubah. Buka lagi daftarnya dari ringkasan "
                               "pengaduan.") from exc
    if keys["after"] is not None and keys["before"] is not None:
        raise BadInput("Tautan halaman ini rusak atau diubah. Buka lagi daftarnya dari ringkasan pengaduan.")
    return {"status": status, "desa": desa, "category": category, "year": int(tahun) if tahun else None,
            "quarter": int(triwulan) if triwulan else None, "page": int(hal), **keys}


def mount_dashboard(app: FastAPI, d: Dashboard) -> None:
    """Add /dasbor (when on) and /rapor (when public) to the web server's app."""
    if d.settings.enabled:
        _mount_private(app, d)
    if d.settings.public_report:
        _mount_public(app, d)


def _session(d: Dashboard, request: Request) -> tuple[str | None, Reader | None]:
    """The kecamatan of an officer's session, or the reader of a kabupaten session (the two
    kinds live in tables of their own: a session id is found in one at most)."""
    sid, now = request.cookies.get(COOKIE), d.clock()
    with d.db.reading() as s:
        kode = dashboard_access.session_kecamatan(s, sid, now)
        reader = kabupaten_access.session_reader(s, sid, now) if kode is None else None
    return kode, reader


def _reader_kecamatan(d: Dashboard, reader: Reader, request: Request) -> tuple[Dashboard, Who] | Response:
    """A kabupaten reader's view of the kecamatan of ?kecamatan=, read in its scope; without
    one, the kabupaten page (which lists them)."""
    kode = request.query_params.get("kecamatan")
    if not kode:
        return RedirectResponse("/dasbor/kabupaten", status_code=303, headers=HEADERS)
    try:
        mine = d.for_kecamatan(check_kode(kode))
    except TenantError:
        mine = None
    if mine is None:
        return page("galat", 404, kantor=d.office.name, viewer=reader, menu="",
                    pesan=f"Kecamatan {kode[:20]!r} tidak dilayani di sini. Pilih kecamatan di halaman kabupaten.")
    return mine, reader


def _viewer(d: Dashboard, request: Request) -> tuple[Dashboard, Who] | Response:
    """The session's kecamatan's dashboard and its officer (or a kabupaten reader and the
    kecamatan they asked for), or the page that says why not."""
    sid, now = request.cookies.get(COOKIE), d.clock()
    kode, reader = _session(d, request)
    if reader is not None:
        return _reader_kecamatan(d, reader, request)
    mine = d.for_kecamatan(kode) if kode is not None else None
    if mine is None:
        # No session, or one whose kecamatan this bot no longer serves (its office file gone).
        return page("perlu_masuk", 401, kantor=d.office.name)
    with mine.reading() as s:
        viewer = dashboard_access.session_viewer(s, sid, now)
    if viewer is None:
        return page("perlu_masuk", 401, kantor=mine.office.name)
    if not viewer.allowed:
        return page("ditolak", 403, kantor=mine.office.name, peran=list(dashboard_access.DASHBOARD_ROLES),
                    peran_anda=viewer.role)
    return mine, viewer


def _mount_private(app: FastAPI, d: Dashboard) -> None:
    def guarded(build: Callable[[Dashboard, Who, Request], Response]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            found = _viewer(d, request)
            if isinstance(found, Response):
                return found
            mine, viewer = found
            try:
                return build(mine, viewer, request)
            except BadInput as exc:
                return page("galat", 400, kantor=mine.office.name, pesan=str(exc), menu="", **_seen_as(mine, viewer))

        return endpoint

    def kabupaten_only(build: Callable[[Dashboard, Reader, Request], Response]) -> Callable[[Request], Response]:
        """A page of the kabupaten reader only: an officer's session is refused (403), with
        nothing of any kecamatan but their own office's name."""
        def endpoint(request: Request) -> Response:
            _kode, reader = _session(d, request)
            if reader is None:
                found = _viewer(d, request)
                if isinstance(found, Response):
                    return found  # no session, or an officer no longer allowed: as any page
                mine, viewer = found
                return page("ditolak_kabupaten", 403, kantor=mine.office.name, menu="", **_seen_as(mine, viewer))
            try:
                return build(d, reader, request)
            except BadInput as exc:
                return page("galat", 400, kantor=d.office.name, pesan=str(exc), viewer=reader, menu="")

        return endpoint

    def link_owner(token: str | None) -> Dashboard | None:
        with d.db.reading() as s:
            kode = dashboard_access.link_kecamatan(s, token, d.clock())
        return d.for_kecamatan(kode) if kode is not None else None

    @app.get(LOGIN_PATH)
    def login_confirm(t: str | None = None) -> Response:
        mine = link_owner(t)
        viewer: Who | None = None
        if mine is not None:
            with mine.reading() as s:
                viewer = dashboard_access.peek_link(s, t, d.clock())
        else:
            # Not an officer's: perhaps a kabupaten reader's (a table of their own).
            with d.db.reading() as s:
                viewer = kabupaten_access.peek_link(s, t, d.clock())
        if viewer is None:
            return page("tautan_tidak_berlaku", 400, kantor=d.office.name)
        kantor = mine.office.name if mine is not None else f"Kabupaten {d.office.kabupaten}"
        return page("masuk", kantor=kantor, token=t, nama=viewer.name)

    @app.post(LOGIN_PATH)
    async def login(request: Request) -> Response:
        token = _form(await request.body()).get("t")

        def consume() -> tuple[str, Who] | None:
            # In the link's kecamatan: its officer is read again there (consume_link).
            mine = link_owner(token)
            if mine is None:
                # Not an officer's usable link: a kabupaten reader's, or nobody's.
                with d.db.transaction() as s:
                    return kabupaten_access.consume_link(s, token, d.clock(),
                                                         timedelta(hours=d.settings.session_hours))
            with mine.transaction() as s:
                return dashboard_access.consume_link(s, token, d.clock(),
                                                     timedelta(hours=d.settings.session_hours))

        from starlette.concurrency import run_in_threadpool

        opened = await run_in_threadpool(consume)
        if opened is None:
            return page("tautan_tidak_berlaku", 400, kantor=d.office.name)
        sid, who = opened
        response = RedirectResponse("/dasbor/kabupaten" if who.kabupaten else "/dasbor", status_code=303,
                                    headers=HEADERS)
        response.set_cookie(COOKIE, sid, max_age=d.settings.session_hours * 3600, path="/dasbor",
                            httponly=True, samesite="lax", secure=d.settings.secure_cookie)
        return response

    @app.post("/dasbor/keluar")
    def logout(request: Request) -> Response:
        sid = request.cookies.get(COOKIE)
        with d.db.transaction() as s:
            kode = dashboard_access.session_kecamatan(s, sid, d.clock())
            dashboard_access.end_session(s, sid, d.clock())
            kabupaten_access.end_session(s, sid, d.clock())
        mine = d.for_kecamatan(kode) if kode is not None else None
        response = page("keluar", kantor=(mine or d).office.name)
        response.delete_cookie(COOKIE, path="/dasbor", httponly=True, samesite="lax",
                               secure=d.settings.secure_cookie)
        return response

    def view(template: str, menu: str, build: Callable[[Dashboard, Session, QueryParams], dict[str, Any]]
             ) -> Callable[[Dashboard, Who, Request], Response]:
        """A page: its figures built in one read transaction, in the session's kecamatan (a
        reader's: the one asked for), from the query string."""
        def endpoint(d: Dashboard, viewer: Who, request: Request) -> Response:
            with d.reading() as s:
                context = build(d, s, request.query_params)
            return page(template, menu=menu, **_seen_as(d, viewer), **context)
        return endpoint

    def as_of(d: Dashboard, q: QueryParams) -> tuple[int, date]:
        return _year_and_date(d, q.get("tahun"), q.get("per"))

    def iku_view(build: Callable[[list[rep.IkuRow], Office, int, date], dict[str, Any]]
                 ) -> Callable[[Dashboard, Session, QueryParams], dict[str, Any]]:
        def context(d: Dashboard, s: Session, q: QueryParams) -> dict[str, Any]:
            year, day = as_of(d, q)
            found = d.iku_rows(s, year, day, stale_ok=True)
            return {"hari_ini": d.today(), "dihitung": d.computed(found), "diperbarui": found.stale,
                    **build(found.value, d.office, year, day)}
        return context

    iku = view("iku", "iku", iku_view(pages.iku_page))
    trend = view("tren", "tren", iku_view(pages.iku4_trend))
    complaints = view("pengaduan", "pengaduan", lambda d, s, q: pages.complaints_page(s, d.office, d.today()))
    complaint_list = view("daftar", "pengaduan", lambda d, s, q: pages.complaint_list_page(
        s, d.office, d.today(), **_list_filters(d, q)))
    skm = view("skm", "skm", lambda d, s, q: pages.skm_page(s, d.office, _period(d, q.get("periode"))))
    skm_answers = view("jawaban", "skm", lambda d, s, q: pages.skm_answers_page(
        s, d.office, _period(d, q.get("periode"))))

    def complaints_csv(d: Dashboard, viewer: Who, request: Request) -> Response:
        filename = f"pengaduan-{d.today().isoformat()}.csv"
        return StreamingResponse(_csv_chunks(d), media_type="text/csv; charset=utf-8", headers={
            **HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})

    def kabupaten_xlsx(d: Dashboard, viewer: Who, request: Request) -> Response:
        from bot.reports.kabupaten import KecamatanIku, kabupaten_table
        from bot.reports.kabupaten_xlsx import write_kabupaten_xlsx
        from kpi.ikm import weight_from_setting

        q = request.query_params
        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        with d.reading() as s:
            rows = d.iku_rows(s, year, as_of).value
        # An officer sees no other kecamatan (storage.tenancy): their kabupaten workbook holds
        # the office's own column, as the kabupaten table computes it (a reader's: every one).
        table = kabupaten_table([KecamatanIku(d.office.kode_wilayah, d.office.kecamatan, rows)],
                                weight_from_setting(d.office.skm_weight))
        return _xlsx(f"iku-kabupaten-{year}-per-{as_of.isoformat()}.xlsx",
                     lambda path: write_kabupaten_xlsx(path, table, d.office.kabupaten, year, as_of))

    def kabupaten_figures(q: QueryParams, *, stale_ok: bool = False
                          ) -> tuple[int, date, list[Any], list[dict[str, Any]]]:
        """The kabupaten table of every served kecamatan for the query's year and date: the
        figures of `sigap iku report --kabupaten --tahun Y --per D` (the same function reads
        each kecamatan in its own scope, as bot.reports.kabupaten.kecamatan_tables does); with
        `stale_ok`, also the kecamatan whose figures are the last ones while being recomputed
        (name, when computed on its office's clock)."""
        from bot.reports.kabupaten import KecamatanIku, kabupaten_table
        from kpi.ikm import weight_from_setting

        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        offices = d.served()
        items, stale = [], []
        for kode, office in offices.items():
            # Each kecamatan's table as kecamatan_tables reads it (its own scope and
            # transaction), kept under its own figure stamp: a kecamatan whose register did
            # not change since is not computed again (31 of them in Jember), and on the page
            # one whose register did is shown from its last figures while it is.
            mine = d.for_kecamatan(kode)
            assert mine is not None  # served() lists what for_kecamatan serves
            with mine.reading() as s:
                found = mine.iku_rows(s, year, as_of, stale_ok=stale_ok)
            items.append(KecamatanIku(kode, office.kecamatan, found.value))
            if found.stale:
                stale.append({"kode": kode, "nama": office.kecamatan, "dihitung": mine.computed(found)})
        try:
            table = kabupaten_table(items, weight_from_setting(next(iter(offices.values())).skm_weight))
        except ValueError as exc:  # kecamatan whose office files list other IKU
            raise BadInput(str(exc)) from exc
        return year, as_of, table, stale

    def kabupaten_page(d: Dashboard, reader: Reader, request: Request) -> Response:
        year, as_of, table, stale = kabupaten_figures(request.query_params, stale_ok=True)
        when = f"&tahun={year}&per={as_of.isoformat()}"
        kecamatan = [{"kode": kode, "nama": office.kecamatan, "tautan": f"/dasbor/iku?kecamatan={kode}{when}"}
                     for kode, office in d.served().items()]
        return page("kabupaten", kantor=f"Kabupaten {d.office.kabupaten}", viewer=reader, menu="kabupaten",
                    kabupaten=d.office.kabupaten, tahun=year, per=as_of, hari_ini=d.today(), baris=table,
                    kecamatan=kecamatan, fmt=rep.fmt, diperbarui=stale)

    def kabupaten_xlsx_all(d: Dashboard, reader: Reader, request: Request) -> Response:
        from bot.reports.kabupaten_xlsx import write_kabupaten_xlsx

        year, as_of, table, _stale = kabupaten_figures(request.query_params)
        return _xlsx(f"iku-kabupaten-{year}-per-{as_of.isoformat()}.xlsx",
                     lambda path: write_kabupaten_xlsx(path, table, d.office.kabupaten, year, as_of))

    def kabupaten_download(request: Request) -> Response:
        # A reader's workbook has every kecamatan; an officer's their own column (above).
        _kode, reader = _session(d, request)
        return (kabupaten_only(kabupaten_xlsx_all) if reader is not None else guarded(kabupaten_xlsx))(request)

    def iku_xlsx(d: Dashboard, viewer: Who, request: Request) -> Response:
        from bot.reports.iku_xlsx import write_iku_xlsx

        q = request.query_params
        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        with d.reading() as s:
            rows = d.iku_rows(s, year, as_of).value
        return _xlsx(f"iku-{year}-per-{as_of.isoformat()}.xlsx",
                     lambda path: write_iku_xlsx(path, rows, d.office, year, as_of))

    def skm_xlsx(d: Dashboard, viewer: Who, request: Request) -> Response:
        from bot.reports.skm_xlsx import TooManyRowsError, write_report_xlsx

        period = _period(d, request.query_params.get("periode"))
        with d.reading() as s:
            summary = skm_summary(s, d.office, period)
            try:
                return _xlsx(f"skm-{period.code}.xlsx",
                             lambda path: write_report_xlsx(path, s, d.office, summary, progress=False))
            except TooManyRowsError as exc:
                raise BadInput(str(exc)) from exc

    for path, build in (("/dasbor", iku), ("/dasbor/iku", iku), ("/dasbor/tren", trend),
                        ("/dasbor/pengaduan", complaints), ("/dasbor/pengaduan/daftar", complaint_list),
                        ("/dasbor/skm", skm), ("/dasbor/skm/jawaban", skm_answers),
                        ("/dasbor/unduh/iku.xlsx", iku_xlsx), ("/dasbor/unduh/skm.xlsx", skm_xlsx),
                        ("/dasbor/unduh/pengaduan.csv", complaints_csv)):
        app.add_api_route(path, guarded(build), methods=["GET"], include_in_schema=False)
    app.add_api_route("/dasbor/kabupaten", kabupaten_only(kabupaten_page), methods=["GET"], include_in_schema=False)
    app.add_api_route("/dasbor/unduh/kabupaten.xlsx", kabupaten_download, methods=["GET"], include_in_schema=False)


def _xlsx(filename: str, write: Callable[[Path], object]) -> Response:
    # The writers take a path (the CLI's); a temporary folder keeps each download apart and
    # is removed once the file has been sent (or at once if writing failed).
    folder = tempfile.mkdtemp(prefix="sigap-unduh-")
    try:
        path = Path(folder) / filename
        write(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, media_type=XLSX, filename=filename, headers=HEADERS,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


class _Cancelled(Exception):
    """The browser went away: the export stops reading the register."""


CSV_CHUNK = 64 * 1024


def _csv_chunks(d: Dashboard) -> Iterator[bytes]:
    """The CSV `sigap pengaduan ekspor` writes (storage.csv_io.export_complaints, UTF-8 with
    a BOM for Excel), in chunks while it is written. The export pushes text into a writer,
    so it runs in a thread of its own, in its own read transaction, handing chunks over a
    small queue: memory holds a few chunks, whatever the size of the register."""
    from bot.config.workcalendar import deadline_policy
    from storage.csv_io import export_complaints

    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def hand_over(item: bytes | BaseException | None) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Cancelled

    class Sink:
        def __init__(self) -> None:
            self.parts: list[str] = []
            self.size = 0

        def write(self, text: str) -> int:
            self.parts.append(text)
            self.size += len(text)
            if self.size >= CSV_CHUNK:
                self.flush()
            return len(text)

        def flush(self) -> None:
            if self.parts:
                hand_over("".join(self.parts).encode("utf-8"))
                self.parts, self.size = [], 0

    def produce() -> None:
        try:
            sink = Sink()
            sink.write("\ufeff")
            with d.reading() as s:
                export_complaints(s, cast(Any, sink), policy=deadline_policy(d.office), tz=d.tz, today=d.today())
            sink.flush()
            hand_over(None)
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the response, which stops the download
            try:
                hand_over(exc)
            except _Cancelled:
                return

    worker = threading.Thread(target=produce, name="sigap-ekspor-csv", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _mount_public(app: FastAPI, d: Dashboard) -> None:
    @app.get("/rapor")
    def report_card(tahun: str | None = None, kecamatan: str | None = None) -> Response:
        # Public: the default office's, or ?kecamatan=KODE of an office this bot serves (counts
        # only, nothing personal, so anyone may ask for any served kecamatan's).
        mine = d.for_kecamatan(kecamatan) if kecamatan else replace(d, kecamatan=None)
        if mine is None:
            return page("galat", 400, kantor=d.office.name, viewer=None,
                        pesan=f"Kecamatan {kecamatan[:20]!r} tidak dilayani di sini.")  # type: ignore[index]
        today = mine.today()
        if tahun and (not tahun.isdigit() or not 2000 <= int(tahun) <= today.year):
            return page("galat", 400, kantor=mine.office.name, pesan=f"Tahun {tahun!r} tidak dikenal.", viewer=None)
        year = int(tahun) if tahun else today.year
        with mine.reading() as s:
            # Kept by the day: the card counts statuses as of now, and every status change is
            # a write (a new stamp), stamped with its writer's clock, so none lies between two
            # requests of one day without changing the stamp.
            # After a write the card is served at once from its last figures, saying so, while
            # they are computed again in the background (9 s and more on 1M complaints: a
            # resident opening the public page must not wait for every status change).
            stamp = figure_stamp.read_stamp(s)
            found = mine.figures.get(("rapor", mine.scope, year, today), mine.office,
                                     lambda: pages.report_card(s, mine.office, year, mine.clock()), mine.clock,
                                     stamp=stamp, refresh=_card_refresh(mine, year))
        return page("rapor", hari_ini=today, dihitung=mine.computed(found), diperbarui=found.stale, **found.value)


def _card_refresh(d: Dashboard, year: int) -> Callable[[], tuple[object, dict[str, Any]]]:
    def refresh() -> tuple[object, dict[str, Any]]:
        # Its own read transaction (the request's is over by then), the stamp read first.
        with d.reading() as s:
            stamp = figure_stamp.read_stamp(s)
            return stamp, pages.report_card(s, d.office, year, d.clock())
    return refresh
