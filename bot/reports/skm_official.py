# IKU 2 from the source the decree names: the official e-SUKMA figure of a period replaces
# SIGAP's own in the IKU table, and SIGAP's own stays beside it with the difference.
# Invariants:
# - An official figure applies to a column only when its period has ended on the as-of date
#   (e-SUKMA publishes whole periods): a triwulan column takes the official figure of that
#   triwulan (2026-Q1), the year column the official figure of the year (2026). Semester
#   figures have no column in the IKU table; they are listed by `sigap skm resmi daftar`.
# - The difference is official - SIGAP, exact (Decimals as typed / as kpi rounded them).
# - The grade of an official figure is kpi.ikm.grade of the typed value.
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kpi.ikm import grade
from kpi.periods import Period
from storage import skm_official
from storage.iku import RegisterError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config.office import Office

SOURCE_OFFICIAL = "e-SUKMA"
SOURCE_OWN = "SIGAP"


def _as_decimal(value: Fraction | None) -> Decimal | None:
    # SIGAP's figures here are converted values kpi already rounded to 2 decimals.
    return None if value is None else Decimal(value.numerator) / Decimal(value.denominator)


def apply_official(session: Session, year: int, as_of: date, quarters: dict[int, Fraction | None],
                   ytd: Fraction | None, detail: dict[str, Any],
                   ) -> tuple[dict[int, Fraction | None], Fraction | None, dict[str, Any]]:
    """The IKU 2 realisation with the official figures put in (quarters 1-4 and the year).

    `detail` gains "nilai_sumber" (column -> e-SUKMA or SIGAP) and "resmi" (column -> the
    official figure, SIGAP's own, the difference, respondents and source document)."""
    columns = {f"q{q}": Period("quarter", year, q) for q in range(1, 5)}
    columns["ytd"] = Period("year", year)
    figures = skm_official.official_figures(session, [p.code for p in columns.values()])
    quarters = dict(quarters)
    detail = dict(detail)
    sources: dict[str, str] = {}
    official: dict[str, Any] = {}
    for key, period in columns.items():
        own = ytd if key == "ytd" else quarters[int(key[1])]
        fig = figures.get(period.code)
        if fig is None or period.last_day() > as_of:
            sources[key] = SOURCE_OWN
            continue
        own_value = _as_decimal(own)
        mutu, kinerja = grade(fig.value)
        official[key] = {
            "periode": period.code,
            "periode_label": period.label(),
            "nilai": fig.value,
            "sigap": own_value,
            "selisih": None if own_value is None else fig.value - own_value,
            "responden": fig.respondents,
            "responden_sigap": (detail.get("respondents") or {}).get(key),
            "dokumen": fig.document,
            "mutu": mutu,
            "kinerja": kinerja,
            "entri": fig.id,
        }
        sources[key] = SOURCE_OFFICIAL
        value = Fraction(fig.value)
        if key == "ytd":
            ytd = value
            detail["mutu"], detail["kinerja"] = mutu, kinerja
        else:
            quarters[int(key[1])] = value
    detail["nilai_sumber"] = sources
    detail["resmi"] = official
    return quarters, ytd, detail


def official_rows(rows: Any) -> list[dict[str, Any]]:
    """The official figures used in an IKU table (IkuRow list), column order, for the xlsx."""
    out: list[dict[str, Any]] = []
    for r in rows:
        if r.detail.get("sumber") == "skm":
            out.extend(r.detail.get("resmi", {}).values())
    return out


def add_official_sheet(wb: Any, rows: Any) -> None:
    """A sheet "IKU 2 e-SUKMA" beside the IKU table: each official figure used, SIGAP's own
    and the difference (numbers, 2 decimals as shown)."""
    from openpyxl.styles import Font

    from kpi.rounding import round_half_up

    ws = wb.create_sheet("IKU 2 e-SUKMA")
    headers = ("Periode", "Nilai resmi e-SUKMA", "Mutu", "Responden e-SUKMA", "Dokumen sumber",
               "Nilai SIGAP", "Responden SIGAP", "Selisih (resmi - SIGAP)")
    for col, title in enumerate(headers, start=1):
        ws.cell(row=1, column=col, value=title).font = Font(bold=True)
    for line, o in enumerate(official_rows(rows), start=2):
        values = (o["periode_label"], o["nilai"], o["mutu"], o["responden"], o["dokumen"],
                  o["sigap"], o["responden_sigap"], o["selisih"])
        for col, value in enumerate(values, start=1):
            if isinstance(value, Decimal):
                value = round_half_up(value, 2)
            cell = ws.cell(row=line, column=col, value=value)
            if col in (2, 6, 8):
                cell.number_format = "#,##0.00"


# --------------------------------------------------- recording (shared by CLI and chat)


def _mutu(value: Decimal) -> str:
    return grade(value)[0]


def parse_official_period(text: str) -> Period:
    from kpi.periods import parse_period

    try:
        period = parse_period(text.strip())
    except ValueError as exc:
        raise RegisterError(f"Periode tidak dikenal: {text.strip()!r}. Contoh: 2026, 2026-S1, 2026-Q1.") from exc
    if period.kind == "week":
        raise RegisterError("Nilai resmi e-SUKMA dicatat per tahun, semester atau triwulan, bukan per minggu.")
    return period


def parse_respondents(text: str) -> int:
    raw = text.strip().replace(".", "")
    if not raw.isdigit() or int(raw) < 1:
        raise RegisterError(f"Jumlah responden harus bilangan bulat positif, bukan {text.strip()!r}.")
    return int(raw)


def record_official(session: Session, office: Office, period: Period, value: Decimal, respondents: int,
                    document: str, who: str, now: datetime, note: str | None = None) -> dict[str, Any]:
    """Record the figure and return the confirmation's context (template skm_resmi, aksi
    catat), with SIGAP's own figure of the same period and the difference."""
    from bot.reports.skm_summary import skm_summary

    entry = skm_official.set_official(session, period.code, value, respondents, document, who, now, note)
    own = skm_summary(session, office, period)
    own_value = own.result.konversi if own.result is not None else None
    return {"aksi": "catat", "e": entry, "periode": period.label(), "sigap": own_value,
            "responden_sigap": own.respondents,
            "selisih": None if own_value is None else value - own_value, "mutu": _mutu}


def remove_context(session: Session, period: Period, who: str, now: datetime,
                   note: str | None = None) -> dict[str, Any]:
    entry = skm_official.remove_official(session, period.code, who, now, note)
    return {"aksi": "hapus", "e": entry, "mutu": _mutu}


def list_context(session: Session, year: int | None) -> dict[str, Any]:
    return {"aksi": "daftar", "tahun": year, "entri": skm_official.current_list(session, year), "mutu": _mutu}


def history_context(session: Session, period: Period) -> dict[str, Any]:
    return {"aksi": "riwayat", "periode": period.label(),
            "entri": skm_official.history(session, period.code), "mutu": _mutu}



__all__ = ["SOURCE_OFFICIAL", "SOURCE_OWN", "add_official_sheet", "apply_official", "history_context",
           "list_context", "official_rows", "parse_official_period", "parse_respondents",
           "record_official", "remove_context"]
