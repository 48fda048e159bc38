# The weekly digest of one ISO week: figures from storage, content from kpi.digest, text from
# bot/templates/digest.j2 and the 12-week chart from bot/charts.
# Invariants: a digest is built inside one read transaction (one consistent snapshot of the
# register); it describes the week [Monday 00:00, next Monday 00:00) in the office's time
# zone; "still open" and "overdue" are as of `now`; the year's figures (IKU 4, resolution
# times, the six IKU) are for the ISO week-year up to the end of the week, so a digest for
# the last days of December does not report the next year's three days.
from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config.office import Office
from bot.config.workcalendar import office_days_off
from bot.reports.charts import weekly_chart
from bot.reports.iku_report import iku4_cohort, iku_table
from bot.reports.skm_summary import current_skm_period, skm_summary
from bot.texts import render, tanggal_sumbu, to_plain
from kpi.digest import (
    DigestContent,
    IndicatorFigures,
    SkmFigures,
    WeekFigures,
    WeekPoint,
    assemble,
)
from kpi.periods import Period, parse_period, period_containing, previous, weeks_back
from kpi.resolution import ResolutionCounts
from kpi.rounding import round_half_up
from kpi.skm_questionnaire import UNSUR_BY_CODE
from storage import digest_stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.dialogs.context import Ctx

CHART_WEEKS = 12
OVERDUE_SHOWN = 10
IKU4 = "IKU-4"


@dataclass(frozen=True)
class Digest:
    week: Period
    content: DigestContent
    text: str  # Telegram HTML
    chart: bytes  # PNG
    chart_caption: str

    @property
    def plain(self) -> str:
        return to_plain(self.text)

    def save_chart(self, folder: Path) -> Path:
        """The chart as a file (the outbox sends photos by path), named by its content so a
        later build never overwrites a photo still waiting to be sent."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.week.code}-{hashlib.sha256(self.chart).hexdigest()[:16]}.png"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(self.chart)
            tmp.replace(path)
        return path


def _indicators(session: Session, office: Office, year: int, today: date,
                iku4_ytd: ResolutionCounts) -> list[IndicatorFigures]:
    return [
        IndicatorFigures(
            code=row.code,
            name=row.name,
            unit=row.unit,
            target=row.target,
            realisation=row.realisation.get("ytd"),
            capaian=row.capaian,
            band=row.band,
        )
        for row in iku_table(session, office, year, today, year_only=True, iku4_ytd=iku4_ytd)
    ]


def _skm(session: Session, office: Office, moment: datetime) -> SkmFigures:
    summary = skm_summary(session, office, current_skm_period(office, moment))
    result = summary.result
    weakest = result.lowest if result is not None else None
    nrr = result.nrr[weakest] if result is not None and weakest is not None else None
    return SkmFigures(
        period_label=summary.period.label(),
        respondents=summary.respondents,
        required_sample=summary.required_sample,
        adequate=summary.sample_adequate,
        ikm=result.konversi if result is not None else None,
        mutu=result.mutu if result is not None else None,
        kinerja=result.kinerja if result is not None else None,
        weakest=UNSUR_BY_CODE[weakest].nama if weakest is not None else None,
        weakest_nrr=round_half_up(nrr, 2) if nrr is not None else None,
    )


def build_digest(
    session: Session,
    office: Office,
    week: Period,
    now: datetime,
    *,
    holidays: Container[date] | None = None,
) -> Digest:
    if week.kind != "week":
        raise ValueError(f"Ringkasan mingguan memerlukan periode minggu, bukan {week}")
    tz = ZoneInfo(office.timezone)
    if holidays is None:
        holidays = office_days_off(office)
    start, end = week.start(tz), week.end(tz)
    today = now.astimezone(tz).date()
    # As of the end of the week, or now if the week is not over yet (`--week` this week).
    as_of = min(today, week.last_day())
    year = week.year  # the ISO week-year

    counts = digest_stats.week_counts(session, start, end)
    open_ = digest_stats.open_counts(session, today, limit=OVERDUE_SHOWN)
    # IKU 4 of the year as of the same date and by the same cohort as the IKU table below,
    # so the digest shows one value for it (bot.reports.iku_report.iku4_cohort).
    cohort = iku4_cohort(office, year, as_of)
    resolution = digest_stats.resolution_figures(
        session, cohort.start, cohort.end, tz, holidays,
        cutoff=cohort.cutoff, definition=office.iku4_definition, carry_from=cohort.carry_from,
    )
    weeks = weeks_back(week, CHART_WEEKS)
    buckets = digest_stats.weekly_series(session, [w.start(tz) for w in weeks] + [end])
    series = [
        WeekPoint(w, b.received, b.resolved, b.counted, b.cohort_resolved)
        for w, b in zip(weeks, buckets, strict=True)
    ]
    indicators = _indicators(session, office, year, as_of, resolution.counts)
    iku4 = next((i for i in indicators if i.code == IKU4), None)
    target = iku4.target if iku4 is not None else None
    definition = office.iku_def(IKU4)
    if target is None and definition is not None:
        target = definition.targets.get(year)
    # The survey period holding the week's last moment, not `now`: on the Monday that opens
    # a new triwulan the digest still reports the one the week belonged to.
    skm = _skm(session, office, min(now, end - timedelta(microseconds=1)))

    content = assemble(
        week=week,
        figures=WeekFigures(
            received=counts.received,
            resolved=series[-1].resolved,
            by_category=[(office.category_name(k), n) for k, n in counts.by_category.items()],
            by_desa=list(counts.by_desa.items()),
            open_now=open_.open_now,
            overdue=open_.overdue,
            overdue_tickets=open_.overdue_tickets,
        ),
        year=year,
        counts=resolution.counts,
        durations=resolution.durations,
        iku4_target=target,
        skm=skm,
        indicators=indicators,
        attention_threshold=office.attention_threshold,
        series=series,
    )
    # The 3 x 24-hour clocks of personal-data requests and breaches, as of now (a section
    # only while one is running).
    text = render("digest", d=content, s=content.skm, p=digest_stats.pdp_figures(session, now), kantor=office.name)
    chart = weekly_chart(
        week_ticks([w.week for w in series]),
        [w.received for w in series],
        [w.resolved for w in series],
        [w.rate for w in series],
        target,
        f"{office.name}: pengaduan {CHART_WEEKS} minggu terakhir",
    )
    caption = f"Pengaduan masuk dan selesai per minggu, {_weeks_label(weeks[0], week)}; garis: tingkat penyelesaian dan target IKU 4."
    return Digest(week, content, text, chart, caption)


def week_ticks(weeks: list[Period]) -> list[str]:
    """The chart's tick under each week: its Monday ("9 Nov"), which a reader places at once,
    where an ISO week number ("W46") has to be worked out."""
    return [tanggal_sumbu(w.first_day()) for w in weeks]


def _weeks_label(first: Period, last: Period) -> str:
    """"minggu ke-37 s.d. ke-48 2026": the words a reader says, not the ISO codes (2026-W37)."""
    if first.year == last.year:
        return f"minggu ke-{first.index} s.d. ke-{last.index} {last.year}"
    return f"minggu ke-{first.index} {first.year} s.d. ke-{last.index} {last.year}"


def default_week(office: Office, now: datetime) -> Period:
    """The week /digest and `sigap digest` show unless told otherwise: the last complete ISO
    week in the office's time zone (the one the Monday post reports)."""
    return previous(period_containing("week", now, ZoneInfo(office.timezone)))


def show_digest(ctx: Ctx) -> None:
    """/digest: the current digest to the chat that asked, at once and without claims (it is
    a look, not the weekly post). Registered officers of any role, pimpinan included.

    Only a request is queued here; the digest is built by the delivery, from a read-only
    transaction: building it reads the whole year's register, and doing that inside this
    step's write transaction would hold SQLite's write lock for as long as it takes."""
    if ctx.officer is None:
        ctx.say("bukan_petugas")
        return
    ctx.queue(ctx.caller.channel, ctx.caller.chat_id, "digest", {"week": default_week(ctx.office, ctx.now).code})


def draw_digest(session: Session, office: Office, week_code: str, now: datetime, data_dir: Path,
                holidays: Container[date] | None) -> tuple[str, Path, str]:
    """What the delivery sends for a queued /digest: the text, the chart file, its caption."""
    digest = build_digest(session, office, parse_period(week_code), now, holidays=holidays)
    return digest.text, digest.save_chart(data_dir / "digests"), digest.chart_caption
