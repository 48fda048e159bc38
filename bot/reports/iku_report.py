# The six IKU of the office against their targets: realisation per triwulan and for the
# year to date, capaian and band. What `sigap iku report`, /iku and the weekly digest show.
# Invariants:
# - Every figure comes from database aggregates (storage.iku, storage.complaint_stats,
#   bot.reports.skm_summary); nothing loops over complaints, documents or activities.
# - Ratio indicators (IKU 3, 4, 6) are recomputed from summed numerators and denominators
#   (kpi.capaian.ratio_value), never by averaging quarterly percentages; count indicators
#   (IKU 1) sum; IKU 2 is the IKM of the quarter / the year's pooled responses; IKU 5 is the
#   year's SAKIP score (no quarters). A triwulan that has not started on `today` is None.
# - As of a date (`today`, `--per`): the cut-off is the end of that local day, or the
#   period's last moment if earlier. A triwulan's IKU 4 counts the complaints received in it
#   with their status on its last day (storage.complaint_stats, from the status history); the
#   year to date counts the year's complaints with their status on the as-of date; IKU 2
#   counts survey answers by their survey date, never after the as-of date. Re-running a past
#   year gives the figures that were true on its 31 December.
# - Values are exact until here: realisation and capaian are Decimals of 28 significant
#   digits (capaian computed from the exact Fraction); only display rounds (half up).
# - The target of a code and year is the register's (sigap iku target set) if one is
#   current, else the office file's.
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config.office import Office
from bot.reports.skm_official import apply_official
from bot.texts import angka
from kpi.capaian import DEFAULT_BANDS, band, capaian, program_achieved, ratio_value, sum_count
from kpi.ikm import IkmResult, NoResponsesError, compute_ikm, weight_from_setting
from kpi.periods import Period, quarters_of
from kpi.resolution import ResolutionCounts, resolution_rate, within_standard_share
from kpi.rounding import round_half_up, to_decimal
from kpi.sakip import sakip_grade
from storage import complaint_stats, iku, iku4_year, iku_frozen, skm_stats
from storage.complaint_stats import ExcludedComplaint
from storage.iku import RegisterError
from storage.models import ProgramIndicator

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# IKU 1 document types (domain.md section 1), code -> label.
DOC_TYPES: dict[str, str] = {
    "lakip": "LAKIP / LKjIP",
    "anjab-abk": "Analisis jabatan dengan ABK dan peta jabatan",
    "evaluasi-organisasi": "Evaluasi mandiri kematangan organisasi / laporan sistem kerja",
    "standar-pelayanan": "Standar Pelayanan",
    "sop-pelayanan": "SOP pelayanan publik",
    "laporan-skm": "Laporan Survei Kepuasan Masyarakat",
    "laporan-fkp": "Laporan Forum Konsultasi Publik",
    "peta-proses-bisnis": "Peta proses bisnis",
}
QUARTER_KEYS = ("q1", "q2", "q3", "q4")
_ROMAN = ("I", "II", "III", "IV")
# The excluded complaints carried in the IKU 4 detail (the count is always complete).
EXCLUDED_LIST_LIMIT = 100


@dataclass(frozen=True)
class IkuRow:
    code: str
    sasaran: str
    name: str
    unit: str
    higher_is_better: bool
    kind: str
    target: Decimal | None
    realisation: dict[str, Decimal | None]  # keys "q1","q2","q3","q4","ytd"
    capaian: Decimal | None  # of ytd against target, both directions, full precision
    band: str | None
    detail: dict[str, Any]


@dataclass
class _Realisation:
    quarters: dict[int, Fraction | None]
    ytd: Fraction | None
    detail: dict[str, Any]


_Source = Callable[["Session", Office, int, list[int], ZoneInfo, date], _Realisation]


def _pct(value: Fraction | None) -> Fraction | None:
    return None if value is None else value * 100


def _qkey(index: int) -> str:
    return f"q{index}"


def _documents(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
               as_of: date) -> _Realisation:
    counts = iku.document_counts(session, year, as_of)
    quarters = {q: (Fraction(counts[q]) if q in started else None) for q in range(1, 5)}
    ytd = Fraction(sum_count(counts[q] for q in started)) if started else None
    return _Realisation(quarters, ytd, {
        "sumber": "dokumen",
        "counts": {_qkey(q): counts[q] for q in range(1, 5)},
        "by_type": iku.document_counts_by_type(session, year, as_of),
    })


def _ikm_of(office: Office, totals: skm_stats.UnsurTotals) -> IkmResult | None:
    try:
        return compute_ikm(totals.sums, totals.counts, weight_from_setting(office.skm_weight))
    except NoResponsesError:
        return None


def _skm(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
         as_of: date, year_only: bool = False) -> _Realisation:
    # Answers count by their survey date (SkmResponse.tanggal), within the period and not
    # after the as-of date. One grouped read per triwulan gives both the triwulan and the
    # year: the year's IKM pools the year's answers (their totals added up), it is not a
    # mean of quarterly indices.
    quarters: dict[int, Fraction | None] = dict.fromkeys(range(1, 5))
    respondents: dict[str, int] = {}
    ytd: Fraction | None = None
    mutu = kinerja = None
    unsur_ytd: dict[str, dict[str, int]] | None = None
    if started:
        by_q = skm_stats.unsur_totals_by_quarter(session, year, as_of)
        none = skm_stats.add_totals([])
        for q in ([] if year_only else started):
            part = by_q.get(q, none)
            respondents[_qkey(q)] = part.respondents
            result = _ikm_of(office, part)
            quarters[q] = Fraction(result.konversi) if result else None
        totals = skm_stats.add_totals(by_q.values())
        respondents["ytd"] = totals.respondents
        unsur_ytd = {"sums": dict(totals.sums), "counts": dict(totals.counts)}
        result = _ikm_of(office, totals)
        if result is not None:
            ytd = Fraction(result.konversi)
            mutu, kinerja = result.mutu, result.kinerja
    # The official e-SUKMA figure of an ended period takes the place of SIGAP's own (issue 9).
    quarters, ytd, detail = apply_official(session, year, as_of, quarters, ytd, {
        "sumber": "skm", "respondents": respondents, "mutu": mutu, "kinerja": kinerja,
        "unsur_ytd": unsur_ytd,
    })
    return _Realisation(quarters, ytd, detail)


def _activities(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
                as_of: date) -> _Realisation:
    c = iku.activity_counts(session, year, as_of)
    quarters: dict[int, Fraction | None] = {
        q: (_pct(ratio_value([c.facilitated[q]], [c.planned[q]])) if q in started else None)
        for q in range(1, 5)
    }
    ytd = None
    if started:
        # Numerator: facilitated in the started quarters. Denominator: the whole year's plan
        # (every quarter's planned activities plus those without a planned date).
        nums = [c.facilitated[q] if q in started else 0 for q in range(1, 5)] + [0]
        dens = [c.planned[q] for q in range(1, 5)] + [c.planned[0]]
        ytd = _pct(ratio_value(nums, dens))
    return _Realisation(quarters, ytd, {
        "sumber": "kegiatan",
        "numerators": {**{_qkey(q): c.facilitated[q] for q in range(1, 5)},
                       "ytd": sum(c.facilitated[q] for q in started)},
        "denominators": {**{_qkey(q): c.planned[q] for q in range(1, 5)}, "ytd": c.planned_total},
        "planned_undated": c.planned[0],
    })


def cutoff_of(as_of: date, tz: ZoneInfo) -> datetime:
    """The end of the as-of day on the office's wall clock (the next local midnight)."""
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz)


def iku4_cohort(office: Office, year: int, as_of: date) -> complaint_stats.Cohort:
    """IKU 4's year-to-date cohort: the year's complaints (and, under the carry-over rule
    bawa_sisa, those still open on 1 January), as of the as-of date or 31 December."""
    tz = ZoneInfo(office.timezone)
    year_period = Period("year", year)
    cutoff = min(cutoff_of(as_of, tz), year_period.end(tz))
    carry = year_period.start(tz) if office.iku4_carry_over == "bawa_sisa" else None
    return complaint_stats.Cohort(year_period.start(tz), cutoff, cutoff, carry)


def _complaints(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
                as_of: date, year_only: bool = False, ytd: ResolutionCounts | None = None) -> _Realisation:
    definition = office.iku4_definition
    quarters: dict[int, Fraction | None] = dict.fromkeys(range(1, 5))
    detail: dict[str, Any] = {
        "sumber": "pengaduan", "definisi": definition,
        "definisi_rumus": complaint_stats.DEFINITIONS[definition],
        "lintas_tahun": office.iku4_carry_over,
    }
    if not started:
        return _Realisation(quarters, None, detail)
    cohort = iku4_cohort(office, year, as_of)
    if year_only:
        # The digest's line per indicator: the year to date only, from the counts it already
        # has (the same cohort and cut-off), with no breakdown.
        total = ytd if ytd is not None else complaint_stats.cohort_counts(session, cohort, tz, definition)
        detail.update(counts=total, numerators={"ytd": total.resolved}, denominators={"ytd": total.counted})
        return _Realisation(quarters, _pct(resolution_rate(total)), detail)
    # One pass gives the triwulan, the year and its channel and desa breakdowns. The year to
    # date is its own cut-off's count (a complaint received in Q1 and resolved in Q2 is
    # unresolved in Q1 and resolved in the year), not the sum of quarters.
    breakdown = iku4_year.year_breakdown(session, year, tz, cohort, definition)
    by_q = breakdown.by_quarter
    for q in started:
        quarters[q] = _pct(resolution_rate(by_q[q]))
    total = breakdown.total
    share = within_standard_share(total)
    same = (cohort.start, cohort.end)
    as_of_kw: dict[str, Any] = {"cutoff": cohort.cutoff, "definition": definition, "carry_from": cohort.carry_from}
    detail.update(
        counts=total,
        counts_by_quarter={_qkey(q): by_q[q] for q in started},
        numerators={**{_qkey(q): by_q[q].resolved for q in started}, "ytd": total.resolved},
        denominators={**{_qkey(q): by_q[q].counted for q in started}, "ytd": total.counted},
        within_standard_pct=None if share is None else to_decimal(share * 100),
        excluded=complaint_stats.excluded_complaints(session, *same, limit=EXCLUDED_LIST_LIMIT, **as_of_kw),
        excluded_total=total.excluded_duplicate + total.excluded_forwarded,
        by_channel=breakdown.by_channel,
        by_desa=breakdown.by_desa,
    )
    return _Realisation(quarters, _pct(resolution_rate(total)), detail)


def _sakip(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
           as_of: date) -> _Realisation:
    row = iku.sakip_for(session, year)
    quarters: dict[int, Fraction | None] = dict.fromkeys(range(1, 5))
    if row is None:
        return _Realisation(quarters, None, {"sumber": "sakip", "grade": None})
    grade, predikat = sakip_grade(row.score)
    return _Realisation(quarters, Fraction(row.score), {
        "sumber": "sakip", "id": row.id, "score": row.score, "grade": grade, "predikat": predikat,
        "lhe_number": row.lhe_number, "lhe_date": row.lhe_date, "recorded_by": row.recorded_by,
    })


def program_capaian(p: ProgramIndicator) -> Decimal | None:
    if p.realisation is None:
        return None
    return capaian(p.realisation, p.target, p.higher_is_better)


def _programs(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
              as_of: date) -> _Realisation:
    # Program indicators are tens per year and their capaian needs exact decimal arithmetic
    # in both directions, so this one is computed row by row on purpose.
    programs = iku.current(session, ProgramIndicator, year)
    items = []
    for p in programs:
        cap = program_capaian(p)
        items.append({
            "id": p.id, "program": p.program, "name": p.name, "unit": p.unit, "target": p.target,
            "realisation": p.realisation, "higher_is_better": p.higher_is_better,
            "capaian": cap, "achieved": program_achieved(cap, office.iku6_threshold),
        })
    achieved = sum(1 for i in items if i["achieved"])
    ytd = _pct(ratio_value([achieved], [len(items)]))
    return _Realisation(dict.fromkeys(range(1, 5)), ytd, {
        "sumber": "program", "numerators": {"ytd": achieved}, "denominators": {"ytd": len(items)},
        "threshold": office.iku6_threshold, "programs": items,
    })


def _not_computed(session: Session, office: Office, year: int, started: list[int], tz: ZoneInfo,
                  as_of: date) -> _Realisation:
    return _Realisation(dict.fromkeys(range(1, 5)), None, {"sumber": None})


# Where each indicator of the Keputusan Camat comes from, by its code in the office file.
SOURCES: dict[str, _Source] = {
    "IKU-1": _documents,
    "IKU-2": _skm,
    "IKU-3": _activities,
    "IKU-4": _complaints,
    "IKU-5": _sakip,
    "IKU-6": _programs,
}


def iku_table(session: Session, office: Office, year: int, today: date, *, year_only: bool = False,
              iku4_ytd: ResolutionCounts | None = None) -> list[IkuRow]:
    """The six IKU as of `today`. year_only: the year-to-date values without the quarters
    and breakdowns (the digest), IKU 4 from `iku4_ytd` when the caller counted it already
    (for bot.reports.iku_report.iku4_cohort of the same date)."""
    tz = ZoneInfo(office.timezone)
    started = [p.index for p in quarters_of(year) if p.first_day() <= today]
    registered = iku.targets(session, year)
    rows: list[IkuRow] = []
    frozen = iku_frozen.frozen_for_year(session, year)
    for d in office.iku:
        source = SOURCES.get(d.code, _not_computed)
        if source is _complaints:
            real = _complaints(session, office, year, started, tz, today, year_only, iku4_ytd)
        elif source is _skm:
            real = _skm(session, office, year, started, tz, today, year_only)
        else:
            real = source(session, office, year, started, tz, today)
        entry = registered.get(d.code)
        target = entry.value if entry is not None else d.targets.get(year)
        cap = None
        if real.ytd is not None and target is not None:
            cap = capaian(real.ytd, target, d.higher_is_better, office.capaian_floor_zero)
        label = band(cap, office.bands or DEFAULT_BANDS) if cap is not None else None
        detail = dict(real.detail)
        detail["target_source"] = "register" if entry is not None else (
            "berkas kantor" if target is not None else None)
        # On the value as shown, like the band: "76,00" is never flagged as under 76.
        detail["attention"] = cap is not None and shown(cap) < office.attention_threshold  # type: ignore[operator]
        realisation: dict[str, Decimal | None] = {
            _qkey(q): (None if real.quarters[q] is None else to_decimal(real.quarters[q]))  # type: ignore[arg-type]
            for q in range(1, 5)
        }
        realisation["ytd"] = None if real.ytd is None else to_decimal(real.ytd)
        detail["frozen"] = _overlay_frozen(frozen, d.code, d.kind, year, today, realisation)
        if "ytd" in detail["frozen"] and realisation["ytd"] is not None and target is not None:
            # The year as reported: its capaian and band follow the frozen value.
            cap = capaian(realisation["ytd"], target, d.higher_is_better, office.capaian_floor_zero)
            label = band(cap, office.bands or DEFAULT_BANDS) if cap is not None else None
            detail["attention"] = cap is not None and shown(cap) < office.attention_threshold  # type: ignore[operator]
        rows.append(IkuRow(
            code=d.code, sasaran=d.sasaran, name=d.name, unit=d.unit,
            higher_is_better=d.higher_is_better, kind=d.kind, target=target,
            realisation=realisation, capaian=cap, band=label, detail=detail,
        ))
    return rows


def _overlay_frozen(frozen: dict[tuple[str, str], Any], code: str, kind: str, year: int, as_of: date,
                    realisation: dict[str, Decimal | None]) -> dict[str, dict[str, Any]]:
    """Put the frozen value of each period over as of its end in place of the live one, and
    say what the live value is now and by how much it differs (shown values, 2 decimals)."""
    out: dict[str, dict[str, Any]] = {}
    periods = [(_qkey(q.index), q) for q in quarters_of(year)] + [("ytd", Period("year", year))]
    for key, period in periods:
        f = frozen.get((code, period.code))
        if f is None or as_of < period.last_day():
            continue
        live = realisation.get(key)
        differs = shown(live, kind) != shown(f.value, kind)
        out[key] = {
            "period": period.code, "label": _period_label(period), "value": f.value, "live": live,
            "differs": differs,
            "difference": (shown(live, kind) - shown(f.value, kind))  # type: ignore[operator]
            if differs and live is not None and f.value is not None else None,
            "numerator": f.numerator, "denominator": f.denominator, "by": f.frozen_by,
            "at": f.frozen_at, "note": f.note, "definition": f.definition,
        }
        realisation[key] = f.value
    return out


def _period_label(period: Period) -> str:
    return f"TW {_ROMAN[period.index - 1]} {period.year}" if period.kind == "quarter" else f"tahun {period.year}"


def freeze_period(session: Session, office: Office, year: int, quarter: int | None, today: date, by: str,
                  at: datetime, note: str | None) -> list[Any]:
    """`sigap iku tutup`: record the figures of a finished triwulan (or year) as reported,
    i.e. as of its last day."""
    period = Period("quarter", year, quarter) if quarter else Period("year", year)
    if today < period.last_day():
        raise RegisterError(
            f"{_period_label(period).capitalize()} belum berakhir (hari terakhirnya {period.last_day().isoformat()})."
        )
    key = _qkey(quarter) if quarter else "ytd"
    figures = []
    for r in iku_table(session, office, year, period.last_day()):
        if key in r.detail.get("frozen", {}):
            raise RegisterError(f"{r.code} {_period_label(period)} sudah dikunci.")
        nums, dens = r.detail.get("numerators") or {}, r.detail.get("denominators") or {}
        figures.append(iku_frozen.Figure(
            code=r.code, period=period.code, as_of=period.last_day(), value=shown(r.realisation.get(key), r.kind),
            numerator=nums.get(key), denominator=dens.get(key),
            definition=r.detail.get("definisi"),
        ))
    return iku_frozen.freeze(session, figures, by, at, note)


def target_list(session: Session, office: Office, year: int) -> list[dict[str, Any]]:
    registered = iku.targets(session, year)
    out = []
    for d in office.iku:
        entry = registered.get(d.code)
        out.append({
            "kode": d.code, "nama": d.name, "satuan": d.unit, "jenis": d.kind,
            "nilai": entry.value if entry is not None else d.targets.get(year),
            "berkas": d.targets.get(year), "entri": entry,
        })
    return out


# ------------------------------------------------------------------------------------ JSON


def _num(value: Decimal | Fraction | int | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # Rounded exactly first, then the float that prints as that 2-decimal value.
    return float(round_half_up(value, 2))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | Fraction):
        return _num(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, ExcludedComplaint):
        return {"ticket": value.ticket, "status": value.status, "duplicate_of": value.duplicate_of,
                "forwarded_to": value.forwarded_to, "received_at": value.received_at.isoformat(),
                "reason": value.reason}
    if isinstance(value, ResolutionCounts):
        return {**dataclasses.asdict(value), "counted": value.counted}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def iku_json(rows: Sequence[IkuRow]) -> list[dict[str, Any]]:
    """One object per indicator; numbers rounded half up to 2 decimals."""
    out = []
    for r in rows:
        out.append({
            "code": r.code,
            "sasaran": r.sasaran,
            "name": r.name,
            "unit": r.unit,
            "kind": r.kind,
            "higher_is_better": r.higher_is_better,
            "target": _num(r.target),
            "target_source": r.detail.get("target_source"),
            "realisation": {k: _num(r.realisation.get(k)) for k in (*QUARTER_KEYS, "ytd")},
            "capaian": _num(r.capaian),
            "band": r.band,
            "attention": bool(r.detail.get("attention")),
            "detail": _jsonable({k: v for k, v in r.detail.items()
                                 if k not in ("target_source", "attention")}),
        })
    return out


# ------------------------------------------------------------------------- display context


def shown(value: Decimal | None, kind: str = "rasio") -> Decimal | None:
    """A value as the report shows it: counts whole, the rest half up to 2 decimals."""
    if value is None:
        return None
    return round_half_up(value, 0 if kind == "jumlah" else 2)


def fmt(value: Decimal | int | None, kind: str = "rasio") -> str:
    """Indonesian display ("88,31", counts "8"), "–" for no value."""
    if value is None:
        return "–"
    places = 0 if kind == "jumlah" else 2
    return angka(round_half_up(value, places), places)


def base_context() -> dict[str, Any]:
    """What every IKU template needs (the macros of iku_entri.j2)."""
    return {"fmt": fmt, "label_status": iku.status_label, "jenis_dokumen": DOC_TYPES}


def report_context(rows: Sequence[IkuRow], office: Office, year: int, today: date) -> dict[str, Any]:
    started = [p for p in quarters_of(year) if p.first_day() <= today]
    # A past year is reported as of its 31 December (what the figures are as of).
    today = min(today, Period("year", year).last_day())
    return {
        **base_context(),
        "kantor": office.name,
        "tahun": year,
        "per": today,
        "sd": ("s.d. " + started[-1].label().rsplit(" ", 1)[0]) if started else "s.d. triwulan ini",
        "sd_pendek": f"s.d. TW {_ROMAN[started[-1].index - 1]}" if started else "s.d. TW",
        "baris": rows,
        "ambang_program": office.iku6_threshold,
    }


# ----------------------------------------------------------------------- parsing user input
# Shared by `sigap iku ...` and the chat commands; every error is a RegisterError with an
# Indonesian message.


def parse_decimal(text: str, label: str) -> Decimal:
    raw = text.strip().replace(" ", "")
    # Indonesian writing: "72,5" and "1.234,5"; a lone dot is read as a decimal point.
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise RegisterError(f"{label} harus berupa angka (contoh 72,5), bukan {text.strip()!r}.") from exc
    if not value.is_finite():
        raise RegisterError(f"{label} harus berupa angka, bukan {text.strip()!r}.")
    return value


def parse_date(text: str, label: str) -> date:
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise RegisterError(f"{label} harus berbentuk TTTT-BB-HH (contoh 2026-03-01), bukan {raw!r}.")


def parse_year(text: str) -> int:
    raw = text.strip()
    if not raw.isdigit() or not iku.MIN_YEAR <= int(raw) <= iku.MAX_YEAR:
        raise RegisterError(f"Tahun harus {iku.MIN_YEAR}-{iku.MAX_YEAR}, bukan {raw!r}.")
    return int(raw)


def parse_id(text: str) -> int:
    raw = text.strip().lstrip("#")
    if not raw.isdigit():
        raise RegisterError(f"Nomor entri harus berupa angka, bukan {text.strip()!r}.")
    return int(raw)


def check_code(office: Office, code: str) -> str:
    normalised = code.strip().upper()
    if office.iku_def(normalised) is None:
        known = ", ".join(d.code for d in office.iku) or "(tidak ada)"
        raise RegisterError(f"Kode IKU {code.strip()!r} tidak dikenal. Pilihan: {known}.")
    return normalised


def check_doc_type(code: str) -> str:
    normalised = code.strip().lower()
    if normalised not in DOC_TYPES:
        raise RegisterError(
            f"Jenis dokumen {code.strip()!r} tidak dikenal. Pilihan: {', '.join(DOC_TYPES)}."
        )
    return normalised


def check_not_future(d: date, today: date, label: str) -> date:
    if d > today:
        raise RegisterError(f"{label} ({d.isoformat()}) belum terjadi; hari ini {today.isoformat()}.")
    return d


def parse_direction(text: str) -> bool:
    raw = text.strip().lower()
    if raw not in ("naik", "turun"):
        raise RegisterError(f"Arah harus naik atau turun, bukan {text.strip()!r}.")
    return raw == "naik"
