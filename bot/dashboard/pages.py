# What each dashboard page shows, as template contexts.
# Invariants: no figure is computed here. The IKU table is bot.reports.iku_report's (the one
# `sigap iku laporan` and /iku print), complaints come from storage aggregates (the filters
# of /kasus), SKM from bot.reports.skm_summary; numbers are formatted by the same helpers as
# the chat texts (bot.texts, iku_report.fmt). The public report card holds counts only:
# no ticket, name, phone, description or place finer than the month.
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config.office import Office
from bot.dashboard.svg import bar_chart
from bot.reports import iku_report as rep
from bot.reports.skm_summary import skm_summary, summary_context, survey_periods_in
from bot.texts import angka
from kpi.periods import Period
from kpi.resolution import resolution_rate
from kpi.rounding import round_half_up
from storage import complaint_stats, dashboard_stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


def iku_page(session: Session, office: Office, year: int, as_of: date) -> dict[str, Any]:
    rows = rep.iku_table(session, office, year, as_of)
    return {**rep.report_context(rows, office, year, as_of), "baris": rows}


def iku4_trend(session: Session, office: Office, year: int, as_of: date) -> dict[str, Any]:
    """IKU 4 per triwulan against its target, from the same IKU table."""
    rows = rep.iku_table(session, office, year, as_of)
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


def complaints_page(session: Session, office: Office, today: date) -> dict[str, Any]:
    by_desa = dashboard_stats.open_by(session, today, "desa")
    by_category = dashboard_stats.open_by(session, today, "category")
    return {
        "kantor": office.name,
        "per": today,
        "desa": _named_groups(by_desa, office.desa, lambda k: k),
        "kategori": _named_groups(by_category, tuple(c.code for c in office.categories), office.category_name),
        "total_terbuka": sum(g.open for g in by_desa),
        "total_terlambat": sum(g.overdue for g in by_desa),
    }


def skm_page(session: Session, office: Office, period: Period) -> dict[str, Any]:
    summary = skm_summary(session, office, period)
    context = summary_context(summary, office)
    nrr = [(u["kode"], u["nrr"]) for u in context["unsur"]]
    chart = bar_chart(f"NRR per unsur, {period.label()}", nrr, target=None,
                      fmt=lambda v: angka(v, 3) if v is not None else "–", top=Decimal(4),
                      highlight=context["terendah"]["kode"] if context["terendah"] else None)
    return {**context, "grafik": chart}


def _pct(value: Any) -> Decimal | None:
    return None if value is None else round_half_up(value * 100, 2)


def report_card(session: Session, office: Office, year: int, now: datetime) -> dict[str, Any]:
    """Per month of `year` up to now: received, resolved and resolved within the standard
    time (IKU 4's counts, statuses as of now); the IKM of each survey period."""
    tz = ZoneInfo(office.timezone)
    today = now.astimezone(tz).date()
    months = []
    for m in range(1, 13):
        first = date(year, m, 1)
        if first > today:
            break
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        following = date(year + (m == 12), m % 12 + 1, 1)
        end = datetime.combine(following, datetime.min.time(), tzinfo=tz)
        # Statuses as of now: of a month's complaints, those resolved since count too.
        counts = complaint_stats.resolution_counts(session, start, end, tz, cutoff=now,
                                                   definition=office.iku4_definition)
        months.append({"bulan": MONTHS[m - 1], "masuk": counts.received, "dihitung": counts.counted,
                       "selesai": counts.resolved, "tepat_waktu": counts.within_standard,
                       "persen": _pct(resolution_rate(counts))})
    periods = []
    for period in survey_periods_in(office, Period("year", year)):
        if period.first_day() > today:
            break
        summary = skm_summary(session, office, period)
        periods.append({"periode": period.label(), "responden": summary.respondents,
                        "ikm": summary.result.konversi if summary.result else None,
                        "mutu": summary.result.mutu if summary.result else None})
    return {"kantor": office.name, "tahun": year, "per": today, "bulan": months, "ikm": periods}
