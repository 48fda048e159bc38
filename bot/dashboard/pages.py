# What each dashboard page shows, as template contexts.
# Invariants: no figure is computed here. The IKU table is bot.reports.iku_report's (the one
# `sigap iku laporan` and /iku print), complaints come from storage aggregates (the filters
# of /kasus), SKM from bot.reports.skm_summary; numbers are formatted by the same helpers as
# the chat texts (bot.texts, iku_report.fmt). The public report card holds counts only:
# no ticket, name, phone, description or place finer than the month.
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.config.office import Office
from bot.dashboard.svg import DesaMark, bar_chart, desa_map
from bot.reports import iku_report as rep
from bot.reports.skm_summary import skm_summary, summary_context, survey_periods_in
from bot.texts import angka
from kpi.ikm import NoResponsesError, compute_ikm, grade, weight_from_setting
from kpi.periods import Period
from kpi.resolution import ResolutionCounts, resolution_rate
from kpi.rounding import round_half_up
from kpi.skm_questionnaire import UNSUR_BY_CODE
from storage import dashboard_stats, skm_official
from storage.lifecycle import OPEN_STATUSES, STATUS_LABELS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


def iku_page(rows: list[rep.IkuRow], office: Office, year: int, as_of: date) -> dict[str, Any]:
    """The IKU table of `rows` (rep.iku_table of year and as_of; the routes keep it between
    requests, bot/dashboard/figure_cache.py)."""
    return {**rep.report_context(rows, office, year, as_of), "baris": rows}


def iku4_trend(rows: list[rep.IkuRow], office: Office, year: int, as_of: date) -> dict[str, Any]:
    """IKU 4 per triwulan against its target, from the same IKU table."""
    row = next((r for r in rows if r.detail.get("sumber") == "pengaduan"), None)
    context = rep.report_context(rows, office, year, as_of)
    if row is None:
        return {**context, "iku4": None, "grafik": None, "titik": []}
    points = [(f"TW {roman}", row.realisation[key]) for roman, key in zip(("I", "II", "III", "IV"), rep.QUARTER_KEYS,
                                                                           strict=True)]
    title = f"{row.code} {row.name}, {year}"
    chart = bar_chart(title, [(label, rep.shown(v, row.kind)) for label, v in points],
                      target=rep.shown(row.target, row.kind), fmt=lambda v: rep.fmt(v, row.kind))
    return {**context, "iku4": row, "grafik": chart, "titik": points}


def _named_groups(groups: list[dashboard_stats.OpenGroup], order: tuple[str, ...],
                  name: Any) -> list[dict[str, Any]]:
    found = {g.key: g for g in groups}
    # Every desa or category of the office file, in its order (a zero is a figure too), then
    # any code still in the register that the file no longer lists.
    keys = list(order) + sorted(k for k in found if k not in order)
    out = []
    for key in keys:
        g = found.get(key)
        out.append({"kode": key, "nama": name(key), "terbuka": g.open if g else 0,
                    "terlambat": g.overdue if g else 0})
    return out


def list_link(**params: Any) -> str:
    """The address of the list behind a figure (empty parameters left out)."""
    return "/dasbor/pengaduan/daftar?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def complaints_page(session: Session, office: Office, today: date) -> dict[str, Any]:
    by_desa = dashboard_stats.open_by(session, today, "desa")
    by_category = dashboard_stats.open_by(session, today, "category")
    desa = _named_groups(by_desa, office.desa, lambda k: k)
    counts = {row["kode"]: row for row in desa}
    # Desa aggregates at the office file's approximate centroids only: no complaint's own
    # point (rahasia, anonim or not) is drawn, so the map cannot lead to a reporter's house.
    marks = [DesaMark(p.desa, p.lat, p.lon, counts[p.desa]["terbuka"] if p.desa in counts else 0,
                      counts[p.desa]["terlambat"] if p.desa in counts else 0) for p in office.desa_map]
    chart = desa_map(f"Peta pengaduan terbuka per desa, {office.name}", marks, fmt=lambda n: angka(n, 0)) \
        if marks else None
    return {
        "kantor": office.name,
        "per": today,
        "desa": desa,
        "kategori": _named_groups(by_category, tuple(c.code for c in office.categories), office.category_name),
        "total_terbuka": sum(g.open for g in by_desa),
        "total_terlambat": sum(g.overdue for g in by_desa),
        "peta": chart,
        "daftar": list_link,
    }


LIST_STATUSES: dict[str, str] = {"terbuka": "terbuka", "terlambat": "terlambat (lewat batas waktu langkahnya)",
                                 "semua": "semua status"}
PAGE_SIZE = 50


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY = re.compile(r"(\d{4}-\d{2}-\d{2}|-)_(\d{1,17})_(\d{1,18})")


def list_key(key: dashboard_stats.ListKey) -> str:
    """A row's place in the list's order as it travels in the Berikutnya/Sebelumnya links:
    `deadline-or-dash_received-microseconds-since-1970_id`. Not secret: it only says where a
    page starts; the filters, the role and the kecamatan are checked on every request."""
    micros = (key.received_at - _EPOCH) // timedelta(microseconds=1)
    return f"{key.overdue_due.isoformat() if key.overdue_due else '-'}_{micros}_{key.id}"


def parse_list_key(text: str) -> dashboard_stats.ListKey:
    """The key of list_key, or ValueError for anything else (a changed or cut link)."""
    found = _KEY.fullmatch(text)
    if found is None:
        raise ValueError(text)
    due, micros, row = found.groups()
    try:
        return dashboard_stats.ListKey(None if due == "-" else date.fromisoformat(due),
                                       _EPOCH + timedelta(microseconds=int(micros)), int(row))
    except (ValueError, OverflowError) as exc:
        raise ValueError(text) from exc


def complaint_list_page(session: Session, office: Office, today: date, *, status: dashboard_stats.ListStatus,
                        desa: str | None, category: str | None, year: int | None, page: int,
                        quarter: int | None = None, after: dashboard_stats.ListKey | None = None,
                        before: dashboard_stats.ListKey | None = None) -> dict[str, Any]:
    """One page of the complaints behind a figure: ticket, dates, desa, category, status,
    deadline; never the reporter, contact, description or place (storage.dashboard_stats).
    Paged by key (the links carry the last or first row's place); `page` is only the number
    shown, carried along by the links. `quarter` (1-4, with `year`): received in that triwulan,
    local time, the cohort of the IKU 4 trend's point."""
    tz = ZoneInfo(office.timezone)
    received = (datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)) if year else None
    if year and quarter:
        first = datetime(year, 3 * quarter - 2, 1, tzinfo=tz)
        received = (first, datetime(year + quarter // 4, 3 * quarter % 12 + 1, 1, tzinfo=tz))
    found = dashboard_stats.complaint_list(session, today, status=status, desa=desa, category=category,
                                           received=received, after=after, before=before, page_size=PAGE_SIZE)
    rows, total = found.rows, found.total
    pages = max(1, -(-total // PAGE_SIZE))
    # A page without one before it is the first, whatever number a link carried.
    page = min(page, pages) if found.has_previous else 1
    params = {"status": status, "desa": desa, "kategori": category, "tahun": year, "triwulan": quarter}
    items = [{
        "tiket": r.ticket,
        "diterima": r.received_at.astimezone(tz),
        "hanya_tanggal": bool(r.received_date_only),
        "desa": r.desa,
        "kategori": office.category_name(r.category),
        "status": STATUS_LABELS.get(r.status, r.status),
        "batas": r.current_due if r.status in OPEN_STATUSES else None,
        "terlambat": r.status in OPEN_STATUSES and r.current_due is not None and r.current_due < today,
    } for r in rows]
    return {
        "kantor": office.name,
        "per": today,
        "jenis_status": LIST_STATUSES[status],
        "desa": desa,
        "kategori": office.category_name(category) if category else None,
        "tahun": year,
        "triwulan": ("I", "II", "III", "IV")[quarter - 1] if year and quarter else None,
        "jumlah": total,
        "halaman": page,
        "halaman_akhir": pages,
        "baris": items,
        "sebelumnya": list_link(**params, sebelum=list_key(rows[0].key(today)), hal=page - 1)
        if found.has_previous and rows else None,
        "berikutnya": list_link(**params, setelah=list_key(rows[-1].key(today)), hal=page + 1)
        if found.has_next and rows else None,
    }


def skm_page(session: Session, office: Office, period: Period) -> dict[str, Any]:
    summary = skm_summary(session, office, period)
    context = summary_context(summary, office)
    nrr = [(u["kode"], u["nrr"]) for u in context["unsur"]]
    chart = bar_chart(f"NRR per unsur, {period.label()}", nrr, target=None,
                      fmt=lambda v: angka(v, 3) if v is not None else "–", top=Decimal(4),
                      highlight=context["terendah"]["kode"] if context["terendah"] else None)
    return {**context, "grafik": chart}


def skm_answers_page(session: Session, office: Office, period: Period) -> dict[str, Any]:
    """How many respondents of the period answered 1, 2, 3 and 4 to each unsur: counts only,
    no respondent (what is behind each NRR of the SKM page)."""
    respondents, spreads = dashboard_stats.answer_spread(session, period.first_day(), period.last_day())
    rows: list[dict[str, Any]] = []
    for sp in spreads:
        unsur = UNSUR_BY_CODE[sp.unsur]
        answered = sum(sp.counts)
        total = sum(v * n for v, n in zip((1, 2, 3, 4), sp.counts, strict=True))
        nrr = round_half_up(Decimal(total) / Decimal(answered), 3) if answered else None
        rows.append({"kode": sp.unsur.upper(), "nama": unsur.nama,
                     "jawaban": list(zip(unsur.jawaban, sp.counts, strict=True)), "kosong": sp.blank, "nrr": nrr})
    known = [r for r in rows if r["nrr"] is not None]
    return {"kantor": office.name, "periode": period.label(), "kode_periode": period.code,
            "responden": respondents, "unsur": rows,
            "terendah": min(known, key=lambda r: r["nrr"])["kode"] if known else None}


def _pct(value: Any) -> Decimal | None:
    return None if value is None else round_half_up(value * 100, 2)


def report_card(session: Session, office: Office, year: int, now: datetime) -> dict[str, Any]:
    """Per month of `year` up to now: received, resolved and resolved within the standard
    time (IKU 4's counts, statuses as of now), one grouped query; the IKM of each survey
    period, the official e-SUKMA figure where one is recorded, else computed from the answers
    (one grouped query), labelled which."""
    tz = ZoneInfo(office.timezone)
    today = now.astimezone(tz).date()
    # Statuses as of now: of a month's complaints, those resolved since count too.
    by_month = dashboard_stats.resolution_by_month(session, year, tz, now, office.iku4_definition)
    months = []
    for m in range(1, 13):
        if date(year, m, 1) > today:
            break
        counts = by_month.get(m, ResolutionCounts(0, 0, 0, 0, 0))
        months.append({"bulan": MONTHS[m - 1], "masuk": counts.received, "dihitung": counts.counted,
                       "selesai": counts.resolved, "tepat_waktu": counts.within_standard,
                       "persen": _pct(resolution_rate(counts))})
    started = [p for p in survey_periods_in(office, Period("year", year)) if p.first_day() <= today]
    totals = dashboard_stats.unsur_totals_by_period(session, [(p.code, p.first_day(), p.last_day()) for p in started])
    official = skm_official.official_figures(session, [p.code for p in started])
    weight = weight_from_setting(office.skm_weight)
    periods = []
    for period in started:
        figure = official.get(period.code)
        if figure is not None:
            periods.append({"periode": period.label(), "responden": figure.respondents, "ikm": figure.value,
                            "mutu": grade(figure.value)[0], "sumber": "resmi e-SUKMA"})
            continue
        t = totals.get(period.code)
        konversi = _konversi(t.sums, t.counts, weight) if t else None
        periods.append({"periode": period.label(), "responden": t.respondents if t else 0, "ikm": konversi,
                        "mutu": grade(konversi)[0] if konversi is not None else None,
                        "sumber": "dihitung dari jawaban" if konversi is not None else None})
    return {"kantor": office.name, "tahun": year, "per": today, "bulan": months, "ikm": periods}


def _konversi(sums: dict[str, int], counts: dict[str, int], weight: Fraction) -> Decimal | None:
    try:
        return compute_ikm(sums, counts, weight).konversi
    except NoResponsesError:
        return None
