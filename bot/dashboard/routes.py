# The dashboard's HTTP side: login by the one-time link, sessions, role checks, pages,
# downloads, and the public report card.
# Invariants:
# - GET never changes anything: chat apps (Telegram, WhatsApp) fetch a link to draw its
#   preview, so GET /dasbor/masuk only shows a confirm button; the form's POST uses the link.
# - Every /dasbor page reads the session and the officer's current role on each request
#   (storage.dashboard_access); without both it answers 401/403 with what to do, never data.
# - The session cookie is HttpOnly (no script reads it), SameSite=Lax (another site cannot
#   post a logout or a login with it), Secure when the dashboard's address is https.
# - Handlers are plain functions: FastAPI runs them in its thread pool, so a report on a
#   large register never holds up the event loop that answers residents.
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.config.office import Office
from bot.config.settings import DashboardSettings
from bot.dashboard import pages
from bot.dialogs.dashboard_command import LOGIN_PATH
from bot.reports import iku_report as rep
from bot.reports.skm_summary import current_skm_period, skm_summary
from bot.texts import environment
from kpi.periods import Period, parse_period
from storage import dashboard_access
from storage.dashboard_access import Viewer
from storage.db import Database

COOKIE = "sigap_dasbor"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Nothing here may be cached by a shared proxy, and pages are not to be framed elsewhere.
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                      "form-action 'self'; frame-ancestors 'none'"}


class BadInput(ValueError):
    """A query parameter the page cannot use; the message is shown as is."""


@dataclass(frozen=True)
class Dashboard:
    db: Database
    office: Office
    settings: DashboardSettings
    clock: Callable[[], datetime]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.office.timezone)

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(f"dasbor/{name}.j2").render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


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


def mount_dashboard(app: FastAPI, d: Dashboard) -> None:
    """Add /dasbor (when on) and /rapor (when public) to the web server's app."""
    if d.settings.enabled:
        _mount_private(app, d)
    if d.settings.public_report:
        _mount_public(app, d)


def _viewer(d: Dashboard, request: Request) -> Viewer | Response:
    with d.db.reading() as s:
        viewer = dashboard_access.session_viewer(s, request.cookies.get(COOKIE), d.clock())
    if viewer is None:
        return page("perlu_masuk", 401, kantor=d.office.name)
    if not viewer.allowed:
        return page("ditolak", 403, kantor=d.office.name, peran=list(dashboard_access.DASHBOARD_ROLES),
                    peran_anda=viewer.role)
    return viewer


def _mount_private(app: FastAPI, d: Dashboard) -> None:
    def guarded(build: Callable[[Viewer, Request], Response]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            viewer = _viewer(d, request)
            if isinstance(viewer, Response):
                return viewer
            try:
                return build(viewer, request)
            except BadInput as exc:
                return page("galat", 400, kantor=d.office.name, pesan=str(exc), viewer=viewer, menu="")

        return endpoint

    @app.get(LOGIN_PATH)
    def login_confirm(t: str | None = None) -> Response:
        with d.db.reading() as s:
            viewer = dashboard_access.peek_link(s, t, d.clock())
        if viewer is None:
            return page("tautan_tidak_berlaku", 400, kantor=d.office.name)
        return page("masuk", kantor=d.office.name, token=t, nama=viewer.name)

    @app.post(LOGIN_PATH)
    async def login(request: Request) -> Response:
        token = _form(await request.body()).get("t")

        def consume() -> tuple[str, Viewer] | None:
            with d.db.transaction() as s:
                return dashboard_access.consume_link(s, token, d.clock(),
                                                     timedelta(hours=d.settings.session_hours))

        from starlette.concurrency import run_in_threadpool

        opened = await run_in_threadpool(consume)
        if opened is None:
            return page("tautan_tidak_berlaku", 400, kantor=d.office.name)
        sid, _viewer_ = opened
        response = RedirectResponse("/dasbor", status_code=303, headers=HEADERS)
        response.set_cookie(COOKIE, sid, max_age=d.settings.session_hours * 3600, path="/dasbor",
                            httponly=True, samesite="lax", secure=d.settings.secure_cookie)
        return response

    @app.post("/dasbor/keluar")
    def logout(request: Request) -> Response:
        with d.db.transaction() as s:
            dashboard_access.end_session(s, request.cookies.get(COOKIE), d.clock())
        response = page("keluar", kantor=d.office.name)
        response.delete_cookie(COOKIE, path="/dasbor", httponly=True, samesite="lax",
                               secure=d.settings.secure_cookie)
        return response

    def iku(viewer: Viewer, request: Request) -> Response:
        q = request.query_params
        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        with d.db.reading() as s:
            context = pages.iku_page(s, d.office, year, as_of)
        return page("iku", viewer=viewer, hari_ini=d.today(), menu="iku", **context)

    def trend(viewer: Viewer, request: Request) -> Response:
        q = request.query_params
        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        with d.db.reading() as s:
            context = pages.iku4_trend(s, d.office, year, as_of)
        return page("tren", viewer=viewer, hari_ini=d.today(), menu="tren", **context)

    def complaints(viewer: Viewer, request: Request) -> Response:
        with d.db.reading() as s:
            context = pages.complaints_page(s, d.office, d.today())
        return page("pengaduan", viewer=viewer, menu="pengaduan", **context)

    def skm(viewer: Viewer, request: Request) -> Response:
        period = _period(d, request.query_params.get("periode"))
        with d.db.reading() as s:
            context = pages.skm_page(s, d.office, period)
        return page("skm", viewer=viewer, menu="skm", **context)

    def iku_xlsx(viewer: Viewer, request: Request) -> Response:
        from bot.reports.iku_xlsx import write_iku_xlsx

        q = request.query_params
        year, as_of = _year_and_date(d, q.get("tahun"), q.get("per"))
        with d.db.reading() as s:
            rows = rep.iku_table(s, d.office, year, as_of)
        return _xlsx(f"iku-{year}-per-{as_of.isoformat()}.xlsx",
                     lambda path: write_iku_xlsx(path, rows, d.office, year, as_of))

    def skm_xlsx(viewer: Viewer, request: Request) -> Response:
        from bot.reports.skm_xlsx import TooManyRowsError, write_report_xlsx

        period = _period(d, request.query_params.get("periode"))
        with d.db.reading() as s:
            summary = skm_summary(s, d.office, period)
            try:
                return _xlsx(f"skm-{period.code}.xlsx",
                             lambda path: write_report_xlsx(path, s, d.office, summary, progress=False))
            except TooManyRowsError as exc:
                raise BadInput(str(exc)) from exc

    for path, build in (("/dasbor", iku), ("/dasbor/iku", iku), ("/dasbor/tren", trend),
                        ("/dasbor/pengaduan", complaints), ("/dasbor/skm", skm),
                        ("/dasbor/unduh/iku.xlsx", iku_xlsx), ("/dasbor/unduh/skm.xlsx", skm_xlsx)):
        app.add_api_route(path, guarded(build), methods=["GET"], include_in_schema=False)


def _xlsx(filename: str, write: Callable[[Path], object]) -> Response:
    # The writers take a path (the CLI's); a temporary folder keeps each download apart.
    with tempfile.TemporaryDirectory(prefix="sigap-unduh-") as folder:
        path = Path(folder) / filename
        write(path)
        content = path.read_bytes()
    return Response(content, media_type=XLSX, headers={
        **HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


def _mount_public(app: FastAPI, d: Dashboard) -> None:
    @app.get("/rapor")
    def report_card(tahun: str | None = None) -> Response:
        today = d.today()
        if tahun and (not tahun.isdigit() or not 2000 <= int(tahun) <= today.year):
            return page("galat", 400, kantor=d.office.name, pesan=f"Tahun {tahun!r} tidak dikenal.", viewer=None)
        year = int(tahun) if tahun else today.year
        with d.db.reading() as s:
            context = pages.report_card(s, d.office, year, d.clock())
        return page("rapor", hari_ini=today, **context)
