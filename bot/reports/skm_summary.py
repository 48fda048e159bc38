# The SKM summary of a period: what `sigap skm report`, /ikm and the digest show.
# Invariants: the figures come from database aggregates (storage.skm_stats), never from a
# loop over responses; the IKM is kpi.ikm.compute_ikm with the office's weight setting,
# exact to the end; the sample size is only reported, the IKM is computed whatever the
# sample; the JSON form carries the converted value exactly as kpi rounded it (91.48),
# never re-derived from a float.
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config.office import Office
from kpi.ikm import GRADE_TABLE, IkmResult, NoResponsesError, compute_ikm, weight_from_setting
from kpi.periods import KINDS, Period, period_containing, period_of_date
from kpi.rounding import round_half_up
from kpi.sample_size import krejcie_morgan
from kpi.skm_questionnaire import UNSUR_BY_CODE, UNSUR_CODES
from storage import skm as skm_store
from storage import skm_stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Coarsest first: a report period can be made of several survey periods of a finer kind.
_COARSENESS = {"year": 0, "semester": 1, "quarter": 2, "week": 3}
assert set(_COARSENESS) == set(KINDS)


@dataclass(frozen=True)
class SkmSummary:
    period: Period
    service: str | None  # None = all services
    respondents: int
    population: int | None  # entered for the period, else the office default (0 -> None)
    required_sample: int | None  # Krejcie and Morgan minimum for the population
    sample_adequate: bool | None
    result: IkmResult | None  # None when no answer at all in the period
    per_service: dict[str, IkmResult | None]  # by service code (only when service is None)
    # Responses per service code, beside per_service (same keys).
    per_service_respondents: dict[str, int] = field(default_factory=dict)
    weight_setting: str = "1/9"


def current_skm_period(office: Office, now: datetime) -> Period:
    """The office's survey period (triwulan, semester or tahun) that holds `now` locally."""
    return period_containing(office.skm_period, now, ZoneInfo(office.timezone))


def survey_periods_in(office: Office, period: Period) -> list[Period]:
    """The office's survey periods making up `period` when it is coarser (a year of
    triwulan), else just `period`."""
    if _COARSENESS[period.kind] >= _COARSENESS[office.skm_period]:
        return [period]
    parts: list[Period] = []
    current = period_of_date(office.skm_period, period.first_day())
    while current.first_day() <= period.last_day():
        parts.append(current)
        current = period_of_date(office.skm_period, current.end_day())
    return parts


def population_for(session: Session, office: Office, period: Period, service: str | None) -> int | None:
    """Service users in the period: the figure entered for it (`sigap skm populasi`), else
    the sum over the survey periods inside it, each entered or the office default.

    The office default (skm.populasi_bawaan) is the population of all services in one survey
    period, so it is never used for a single service: a service's population is known only
    when entered, otherwise its required sample would be measured against the whole office.
    0 means unknown, as in the office file.
    """
    key = service or ""
    entered = skm_store.get_population(session, period.code, key)
    if entered is not None:
        return entered or None
    parts = survey_periods_in(office, period)
    total = 0
    for part in parts:
        value = skm_store.get_population(session, part.code, key) if part != period else None
        if value is None:
            value = office.skm_population_default if service is None else 0
        if not value:
            return None
        total += value
    return total or None


def _ikm(totals: skm_stats.UnsurTotals, weight: Fraction) -> IkmResult | None:
    try:
        return compute_ikm(totals.sums, totals.counts, weight)
    except NoResponsesError:
        return None


def skm_summary(session: Session, office: Office, period: Period, service: str | None = None) -> SkmSummary:
    """The SKM figures of `period` (its local dates, on SkmResponse.tanggal), for one service
    code or for all: one aggregate query and a few population look-ups."""
    weight = weight_from_setting(office.skm_weight)
    first, last = period.first_day(), period.last_day()
    per_service: dict[str, IkmResult | None] = {}
    per_service_n: dict[str, int] = {}
    if service is None:
        by_service = skm_stats.unsur_totals_by_service(session, first, last)
        # Sums and counts add up across services: the total is the sum of the few groups,
        # so the whole summary is one scan of the period instead of two.
        totals = skm_stats.add_totals(by_service.values())
        # Every service of the office file, in its order, then any code still in the register
        # that the office file no longer lists (its answers are in the total too).
        codes = [sv.code for sv in office.services]
        codes += sorted(code for code in by_service if code not in codes)
        for code in codes:
            t = by_service.get(code)
            per_service[code] = _ikm(t, weight) if t is not None else None
            per_service_n[code] = t.respondents if t is not None else 0
    else:
        totals = skm_stats.unsur_totals(session, first, last, service)
    population = population_for(session, office, period, service)
    required = krejcie_morgan(population) if population else None
    return SkmSummary(
        period=period,
        service=service,
        respondents=totals.respondents,
        population=population,
        required_sample=required,
        sample_adequate=None if required is None else totals.respondents >= required,
        result=_ikm(totals, weight),
        per_service=per_service,
        per_service_respondents=per_service_n,
        weight_setting=office.skm_weight,
    )


# ------------------------------------------------------------------------------------ JSON


def _num(value: Fraction | None, places: int = 4) -> float | None:
    # Rounded exactly first, then turned into the float that prints as that decimal.
    return None if value is None else float(round_half_up(value, places))


def _unsur_ref(code: str, result: IkmResult) -> dict[str, Any]:
    return {"unsur": code, "nama": UNSUR_BY_CODE[code].nama, "nrr": _num(result.nrr[code])}


def _result_json(result: IkmResult | None) -> dict[str, Any]:
    if result is None:
        return {
            "nrr": dict.fromkeys(UNSUR_CODES),
            "nrr_tertimbang": dict.fromkeys(UNSUR_CODES),
            "ikm": None,
            "ikm_konversi": None,
            "mutu": None,
            "kinerja": None,
            "lowest": None,
            "highest": None,
        }
    return {
        "nrr": {code: _num(result.nrr[code]) for code in UNSUR_CODES},
        "nrr_tertimbang": {code: _num(result.nrr_tertimbang[code]) for code in UNSUR_CODES},
        "ikm": _num(result.ikm),
        # float(Decimal("91.48")) is the double that prints as 91.48: the exact 2-decimal value.
        "ikm_konversi": float(result.konversi),
        "mutu": result.mutu,
        "kinerja": result.kinerja,
        "lowest": _unsur_ref(result.lowest, result),
        "highest": _unsur_ref(result.highest, result),
    }


def summary_json(summary: SkmSummary, office: Office | None = None) -> dict[str, Any]:
    """The JSON object of `sigap skm report --json` (keys documented in the README)."""
    weight = weight_from_setting(summary.weight_setting)
    data: dict[str, Any] = {
        "period": summary.period.code,
        "period_label": summary.period.label(),
        "first_day": summary.period.first_day().isoformat(),
        "last_day": summary.period.last_day().isoformat(),
        "service": summary.service,
        "respondents": summary.respondents,
        "population": summary.population,
        "required_sample": summary.required_sample,
        "sample_adequate": summary.sample_adequate,
        **_result_json(summary.result),
        "weight": float(weight),
        "weight_setting": summary.weight_setting,
    }
    if office is not None:
        data["office"] = office.name
        if summary.service is not None:
            data["service_name"] = office.service_name(summary.service)
    if summary.service is None:
        per_service: dict[str, Any] = {}
        for code, result in summary.per_service.items():
            item = _result_json(result)
            per_service[code] = {
                "name": office.service_name(code) if office is not None else code,
                "respondents": summary.per_service_respondents.get(code, 0),
                "ikm": item["ikm"],
                "ikm_konversi": item["ikm_konversi"],
                "mutu": item["mutu"],
                "kinerja": item["kinerja"],
                "nrr": item["nrr"],
            }
        data["per_service"] = per_service
    return data


# ---------------------------------------------------------------------------- template context


def _display(value: Fraction | None, places: int) -> Decimal | None:
    # Half-up once for display; Babel itself would round half-even.
    return None if value is None else round_half_up(value, places)


def summary_context(summary: SkmSummary, office: Office) -> dict[str, Any]:
    """What the skm_report template needs: every number already an exact Decimal rounded
    half-up for display (NRR and IKM to 3 decimals, the converted value as kpi rounded it)."""
    result = summary.result
    unsur = []
    for u in UNSUR_BY_CODE.values():
        unsur.append({
            "kode": u.code.upper(),
            "nama": u.nama,
            "nrr": _display(result.nrr[u.code], 3) if result else None,
            "tertimbang": _display(result.nrr_tertimbang[u.code], 3) if result else None,
        })
    services = []
    for code, res in summary.per_service.items():
        services.append({
            "kode": code,
            "nama": office.service_name(code),
            "responden": summary.per_service_respondents.get(code, 0),
            "konversi": res.konversi if res else None,
            "mutu": res.mutu if res else None,
        })
    return {
        "kantor": office.name,
        "periode": summary.period.label(),
        "kode_periode": summary.period.code,
        "awal": summary.period.first_day(),
        "akhir": summary.period.last_day(),
        "layanan": office.service_name(summary.service) if summary.service else None,
        "responden": summary.respondents,
        "populasi": summary.population,
        "sampel_minimum": summary.required_sample,
        "sampel_memadai": summary.sample_adequate,
        "ada_hasil": result is not None,
        "unsur": unsur,
        # From the rounded converted value, like the grade (kpi.ikm.IkmResult.ikm_shown).
        "ikm": result.ikm_shown if result else None,
        "legenda": legend(),
        "rumus": formula_notes(summary.weight_setting),
        "konversi": result.konversi if result else None,
        "mutu": result.mutu if result else None,
        "kinerja": result.kinerja if result else None,
        "terendah": _unsur_line(result.lowest, result) if result else None,
        "tertinggi": _unsur_line(result.highest, result) if result else None,
        "bobot": summary.weight_setting.replace(".", ","),
        "per_layanan": services,
    }


def formula_notes(weight_setting: str) -> list[str]:
    """The formula notes of the standard processing sheet, with the bobot in use."""
    bobot = weight_setting.replace(".", ",")
    exact = ", tepat 1/9, bukan 0,111" if bobot == "1/9" else ""
    return [
        "NRR per unsur = jumlah nilai jawaban unsur / jumlah responden yang menjawab unsur itu",
        f"NRR tertimbang per unsur = NRR x bobot ({bobot}{exact})",
        "IKM (skala 1-4) = jumlah NRR tertimbang; nilai konversi = IKM x 25",
        "Nilai konversi dibulatkan sekali ke 2 desimal; mutu pelayanan ditetapkan dari nilai itu, "
        "dan IKM skala 1-4 yang dicetak = nilai konversi / 25.",
    ]


def legend() -> list[dict[str, Any]]:
    """The regulation's interval table (kpi.ikm.GRADE_TABLE) for printing, each bound with
    the decimals the regulation writes it with (2,5996 but 2,60)."""
    out = []
    for persepsi, i_from, i_to, k_from, k_to, mutu, kinerja in GRADE_TABLE:
        out.append({
            "persepsi": persepsi, "ikm_dari": i_from, "ikm_sampai": i_to,
            "ikm_dari_desimal": -int(i_from.as_tuple().exponent),
            "ikm_sampai_desimal": -int(i_to.as_tuple().exponent),
            "konversi_dari": k_from, "konversi_sampai": k_to, "mutu": mutu, "kinerja": kinerja,
        })
    return out


def _unsur_line(code: str, result: IkmResult) -> dict[str, Any]:
    return {"kode": code.upper(), "nama": UNSUR_BY_CODE[code].nama, "nrr": _display(result.nrr[code], 3)}


__all__ = ["SkmSummary", "current_skm_period", "formula_notes", "legend", "population_for", "skm_summary", "summary_context",
           "summary_json", "survey_periods_in"]
