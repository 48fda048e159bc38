# The weekly digest: when it is due, and what it says (numbers in, a structure out).
# Invariants: pure (no clock, no SQL, no Telegram: `now` and every count come in as
# arguments); rates are computed exactly (kpi.resolution) and rounded half-up only for
# display; the week's digest is due at the office's weekday and time in the week after it
# and is never owed before the register's digest job first ran (`since`); percentiles of
# resolution times come from a histogram {working days: complaints} and equal
# kpi.resolution.percentile on the expanded list, so the database sends counts, not rows.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from kpi.periods import Period, period_of_date, previous
from kpi.resolution import ResolutionCounts, resolution_rate, within_standard_share
from kpi.rounding import round_half_up

# --- When ------------------------------------------------------------------------------


def due_at(week: Period, tz: tzinfo, weekday: int, at: time) -> datetime:
    """The moment the digest of `week` is due: `weekday` (0 = Monday) of the following week,
    at `at` on the office's wall clock."""
    if week.kind != "week":
        raise ValueError(f"Ringkasan mingguan memerlukan periode minggu, bukan {week}")
    if not 0 <= weekday <= 6:
        raise ValueError(f"Hari harus 0-6 (0 = Senin), bukan {weekday}")
    day = week.end_day() + timedelta(days=weekday)
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)


def latest_due_week(now: datetime, tz: tzinfo, weekday: int, at: time) -> Period:
    """The most recent week whose digest is due at `now` (due moment <= now)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("Waktu harus memiliki zona waktu (aware datetime)")
    local = now.astimezone(tz)
    week = previous(period_of_date("week", local.date()))
    # This week's due moment may still be ahead (Monday 06:00 with a 07:00 digest).
    while due_at(week, tz, weekday, at) > now:
        week = previous(week)
    return week


@dataclass(frozen=True)
class DueWeek:
    week: Period
    due: datetime
    too_late: bool  # past the office's limit: abandoned and logged, never sent


def weeks_due(
    now: datetime,
    tz: tzinfo,
    weekday: int,
    at: time,
    max_late: timedelta,
    since: datetime | None = None,
) -> list[DueWeek]:
    """Weeks whose digest is owed at `now`, oldest first.

    The latest due week is always listed (as too late when it is); older ones only while
    they are within `max_late` (a limit of more than a week can leave two owed). Weeks due
    before `since` (the moment the digest job first ran on this register) are not owed: a
    fresh install does not post the report of a week it never saw.
    """
    found: list[DueWeek] = []
    week = latest_due_week(now, tz, weekday, at)
    while True:
        due = due_at(week, tz, weekday, at)
        if since is not None and due < since:
            break
        late = now - due > max_late
        if late and found:
            break
        found.append(DueWeek(week, due, late))
        if late:
            break
        week = previous(week)
    found.reverse()
    return found


# --- Percentiles from a histogram -------------------------------------------------------


def _nth(counts: Sequence[tuple[int, int]], index: int) -> int:
    """The value at `index` (0-based) of the sorted expansion of (value, count) pairs."""
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def histogram_percentile(histogram: Mapping[int, int], p: int) -> float | None:
    """kpi.resolution.percentile of the list where each value v appears histogram[v] times,
    without building that list (the same inclusive method, the same float arithmetic)."""
    if not 0 <= p <= 100:
        raise ValueError(f"Persentil harus 0-100, bukan {p}")
    for value, n in histogram.items():
        if n < 0:
            raise ValueError(f"Jumlah tidak boleh negatif: {value}: {n}")
    pairs = sorted((v, n) for v, n in histogram.items() if n)
    total = sum(n for _, n in pairs)
    if total == 0:
        return None
    if total == 1:
        return float(pairs[0][0])
    # statistics.quantiles(method="inclusive"), cut p of 100: j, delta = divmod(p*(n-1), 100).
    j, delta = divmod(p * (total - 1), 100)
    low = _nth(pairs, j)
    if delta == 0:
        return float(low)
    high = _nth(pairs, j + 1)
    return (low * (100 - delta) + high * delta) / 100


# --- What it says -----------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """The week's complaints, counted by the database."""

    received: int
    resolved: int  # complaints that reached "selesai" during the week (whenever received)
    by_category: Sequence[tuple[str, int]]  # (name, complaints received in the week)
    by_desa: Sequence[tuple[str, int]]
    open_now: int  # complaints still open when the digest is built
    overdue: int  # of those, past a standard time
    overdue_tickets: Sequence[str]  # the oldest overdue, at most a screenful


@dataclass(frozen=True)
class IndicatorFigures:
    code: str
    name: str
    unit: str
    target: Decimal | None
    realisation: Decimal | None  # year to date
    capaian: Decimal | None
    band: str | None


@dataclass(frozen=True)
class SkmFigures:
    period_label: str
    respondents: int
    required_sample: int | None
    adequate: bool | None
    ikm: Decimal | None  # converted 25-100, as kpi.ikm rounded it
    mutu: str | None
    kinerja: str | None
    weakest: str | None  # name of the unsur with the lowest NRR
    weakest_nrr: Decimal | None  # rounded for display by the caller


@dataclass(frozen=True)
class WeekPoint:
    """One bar pair of the chart: a week's received and resolved complaints, and the share
    of that week's counted complaints resolved by now (IKU 4's definition on one week)."""

    week: Period
    received: int
    resolved: int  # reached "selesai" during the week
    counted: int  # received minus duplicates and forwarded
    cohort_resolved: int  # of the counted, selesai now

    @property
    def rate(self) -> Decimal | None:
        if self.counted == 0:
            return None
        return round_half_up(Fraction(self.cohort_resolved * 100, self.counted), 2)


@dataclass(frozen=True)
class YearSummary:
    year: int
    counts: ResolutionCounts
    rate: Decimal | None  # percent, 2 decimals
    target: Decimal | None
    meets_target: bool | None
    median_days: float | None
    p90_days: float | None
    within_standard: Decimal | None  # percent of the resolved, 2 decimals


@dataclass(frozen=True)
class Attention:
    kind: str  # "terlambat" | "indikator"
    label: str  # ticket list or indicator code
    value: Decimal | None = None  # capaian of an indicator
    count: int = 0


@dataclass(frozen=True)
class DigestContent:
    week: Period
    first_day: date
    last_day: date
    figures: WeekFigures
    year: YearSummary
    skm: SkmFigures | None
    indicators: Sequence[IndicatorFigures]
    attention: Sequence[Attention]
    attention_threshold: Decimal
    series: Sequence[WeekPoint] = field(default_factory=tuple)


def _pct(value: Fraction | None) -> Decimal | None:
    return None if value is None else round_half_up(value * 100, 2)


def _sorted_counts(pairs: Sequence[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    # Most first, then by name, and nothing that did not happen: short lines on a phone.
    return tuple(sorted(((k, n) for k, n in pairs if n), key=lambda kv: (-kv[1], kv[0])))


def assemble(
    *,
    week: Period,
    figures: WeekFigures,
    year: int,
    counts: ResolutionCounts,
    durations: Mapping[int, int],
    iku4_target: Decimal | None,
    skm: SkmFigures | None,
    indicators: Sequence[IndicatorFigures],
    attention_threshold: Decimal,
    series: Sequence[WeekPoint] = (),
) -> DigestContent:
    """The digest of `week` from its figures. `durations` is the histogram of working days
    to resolve over the year's resolved complaints; its total is at most counts.resolved
    (a complaint resolved without a recorded time, from an old import, has no duration)."""
    if week.kind != "week":
        raise ValueError(f"Ringkasan mingguan memerlukan periode minggu, bukan {week}")
    if sum(durations.values()) > counts.resolved:
        raise ValueError(
            f"Histogram waktu penyelesaian ({sum(durations.values())}) melebihi "
            f"jumlah selesai ({counts.resolved})"
        )
    if figures.overdue > figures.open_now:
        raise ValueError("Laporan terlambat melebihi laporan yang masih terbuka")
    rate = _pct(resolution_rate(counts))
    summary = YearSummary(
        year=year,
        counts=counts,
        rate=rate,
        target=iku4_target,
        meets_target=None if rate is None or iku4_target is None else rate >= iku4_target,
        median_days=histogram_percentile(durations, 50),
        p90_days=histogram_percentile(durations, 90),
        within_standard=_pct(within_standard_share(counts)),
    )
    attention: list[Attention] = []
    if figures.overdue:
        attention.append(
            Attention("terlambat", ", ".join(figures.overdue_tickets), count=figures.overdue)
        )
    for ind in indicators:
        # No capaian (no target, or nothing realised yet) is not an alarm: it is shown as "-".
        # On the value as shown (2 decimals), as its band is: "76,00" is not under 76.
        if ind.capaian is not None and round_half_up(ind.capaian, 2) < attention_threshold:
            attention.append(Attention("indikator", ind.code, value=ind.capaian))
    return DigestContent(
        week=week,
        first_day=week.first_day(),
        last_day=week.last_day(),
        figures=WeekFigures(
            received=figures.received,
            resolved=figures.resolved,
            by_category=_sorted_counts(figures.by_category),
            by_desa=_sorted_counts(figures.by_desa),
            open_now=figures.open_now,
            overdue=figures.overdue,
            overdue_tickets=tuple(figures.overdue_tickets),
        ),
        year=summary,
        skm=skm,
        indicators=tuple(indicators),
        attention=tuple(attention),
        attention_threshold=attention_threshold,
        series=tuple(series),
    )
