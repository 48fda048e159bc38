"""kpi.digest: when a week's digest is owed, and what it says, from numbers only."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.digest import (
    IndicatorFigures,
    WeekFigures,
    WeekPoint,
    assemble,
    due_at,
    histogram_percentile,
    latest_due_week,
    weeks_due,
)
from kpi.periods import Period, parse_period
from kpi.resolution import ResolutionCounts, percentile

WIB = ZoneInfo("Asia/Jakarta")
SEVEN = time(7, 0)
W48 = parse_period("2026-W48")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


# --- When -------------------------------------------------------------------------------


def test_due_monday_0700_wib_after_the_week() -> None:
    due = due_at(W48, WIB, 0, SEVEN)
    assert due == wib(2026, 11, 30, 7, 0)
    assert due.astimezone(UTC) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    # Another weekday and time from the office file.
    assert due_at(W48, WIB, 2, time(9, 30)) == wib(2026, 12, 2, 9, 30)


def test_latest_due_week_turns_at_the_due_minute() -> None:
    assert latest_due_week(wib(2026, 11, 30, 6, 59, 59), WIB, 0, SEVEN).code == "2026-W47"
    assert latest_due_week(wib(2026, 11, 30, 7, 0), WIB, 0, SEVEN).code == "2026-W48"
    assert latest_due_week(wib(2026, 12, 6, 23, 59), WIB, 0, SEVEN).code == "2026-W48"
    # The same instant given in UTC (Sunday 23:59 UTC is already Monday 06:59 WIB).
    assert latest_due_week(datetime(2026, 11, 29, 23, 59, tzinfo=UTC), WIB, 0, SEVEN).code == "2026-W47"
    assert latest_due_week(datetime(2026, 11, 30, 0, 0, tzinfo=UTC), WIB, 0, SEVEN).code == "2026-W48"


def test_latest_due_week_across_new_year() -> None:
    # 2026 has 53 ISO weeks; W53 runs 28 Dec 2026 - 3 Jan 2027.
    assert latest_due_week(wib(2027, 1, 4, 7, 0), WIB, 0, SEVEN).code == "2026-W53"
    assert latest_due_week(wib(2027, 1, 11, 7, 0), WIB, 0, SEVEN).code == "2027-W01"


def test_naive_now_refused() -> None:
    with pytest.raises(ValueError):
        latest_due_week(datetime(2026, 11, 30, 7, 0), WIB, 0, SEVEN)  # noqa: DTZ001


def test_weeks_due_on_time_late_and_too_late() -> None:
    limit = timedelta(hours=48)
    on_time = weeks_due(wib(2026, 11, 30, 7, 0), WIB, 0, SEVEN, limit)
    assert [(d.week.code, d.too_late) for d in on_time] == [("2026-W48", False)]
    # 47 hours late: still sent.
    late = weeks_due(wib(2026, 12, 2, 6, 0), WIB, 0, SEVEN, limit)
    assert [(d.week.code, d.too_late) for d in late] == [("2026-W48", False)]
    # Exactly at the limit still counts; one second after, it is abandoned.
    assert not weeks_due(wib(2026, 12, 2, 7, 0), WIB, 0, SEVEN, limit)[0].too_late
    too_late = weeks_due(wib(2026, 12, 2, 7, 0, 1), WIB, 0, SEVEN, limit)
    assert [(d.week.code, d.too_late) for d in too_late] == [("2026-W48", True)]


def test_weeks_due_respects_since_and_long_limits() -> None:
    now = wib(2026, 11, 30, 8, 0)
    # Installed on Sunday: Monday's digest is owed. Installed after 07:00: it is not.
    assert [d.week.code for d in weeks_due(now, WIB, 0, SEVEN, timedelta(hours=48), wib(2026, 11, 29, 12, 0))] == ["2026-W48"]
    assert weeks_due(now, WIB, 0, SEVEN, timedelta(hours=48), wib(2026, 11, 30, 7, 30)) == []
    # A limit of ten days leaves last week's digest owed too (bot down for a week).
    owed = weeks_due(now, WIB, 0, SEVEN, timedelta(days=10))
    assert [(d.week.code, d.too_late) for d in owed] == [("2026-W47", False), ("2026-W48", False)]


# --- Percentiles from a histogram -----------------------------------------------------------


@given(st.dictionaries(st.integers(0, 60), st.integers(0, 40), max_size=12), st.integers(0, 100))
def test_histogram_percentile_equals_percentile_of_the_expanded_list(hist: dict[int, int], p: int) -> None:
    expanded = sorted(v for v, n in hist.items() for _ in range(n))
    assert histogram_percentile(hist, p) == percentile(expanded, p)


def test_histogram_percentile_examples() -> None:
    assert histogram_percentile({}, 50) is None
    assert histogram_percentile({3: 0}, 90) is None
    assert histogram_percentile({4: 1}, 90) == 4.0
    assert histogram_percentile({1: 1, 2: 1}, 50) == 1.5
    # 0..9 once each: p90 interpolates between 8 and 9.
    assert histogram_percentile(dict.fromkeys(range(10), 1), 90) == pytest.approx(8.1)
    with pytest.raises(ValueError):
        histogram_percentile({1: -1}, 50)


# --- What it says ---------------------------------------------------------------------------


def figures(**kw: object) -> WeekFigures:
    base: dict[str, object] = dict(
        received=5,
        resolved=3,
        by_category=[("Minuman keras", 2), ("Perjudian", 3), ("Lainnya", 0)],
        by_desa=[("Jelbuk", 4), ("Panduman", 1)],
        open_now=4,
        overdue=2,
        overdue_tickets=["TRB-2026-00001", "TRB-2026-00004"],
    )
    base.update(kw)
    return WeekFigures(**base)  # type: ignore[arg-type]


def indicator(code: str, capaian: str | None) -> IndicatorFigures:
    return IndicatorFigures(code, "nama", "%", Decimal(90), Decimal(80), None if capaian is None else Decimal(capaian), "x")


def build(**kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = dict(
        week=W48,
        figures=figures(),
        year=2026,
        counts=ResolutionCounts(received=12, excluded_duplicate=1, excluded_forwarded=1, resolved=7, within_standard=5),
        durations={1: 2, 3: 4, 10: 1},
        iku4_target=Decimal(90),
        skm=None,
        indicators=[indicator("IKU-1", "75.99"), indicator("IKU-2", "76"), indicator("IKU-3", None)],
        attention_threshold=Decimal(76),
    )
    args.update(kw)
    return assemble(**args)  # type: ignore[arg-type]


def test_year_figures_are_exact_and_rounded_once() -> None:
    d = build()
    # 7 / (12 - 2) = 70,00 %; within standard 5 / 7 = 71,428... -> 71,43.
    assert d.year.rate == Decimal("70.00")
    assert d.year.meets_target is False
    assert d.year.within_standard == Decimal("71.43")
    # Durations 1,1,3,3,3,3,10: median 3, p90 = 3 + 0.4 * 7.
    assert d.year.median_days == 3.0
    assert d.year.p90_days == pytest.approx(5.8)
    assert (d.first_day.isoformat(), d.last_day.isoformat()) == ("2026-11-23", "2026-11-29")


def test_meets_target_at_exactly_the_target() -> None:
    counts = ResolutionCounts(received=10, excluded_duplicate=0, excluded_forwarded=0, resolved=9, within_standard=9)
    assert build(counts=counts, durations={2: 9}).year.meets_target is True
    assert build(counts=counts, durations={2: 9}, iku4_target=None).year.meets_target is None


def test_nothing_counted_gives_no_rate_and_no_times() -> None:
    counts = ResolutionCounts(received=1, excluded_duplicate=1, excluded_forwarded=0, resolved=0, within_standard=0)
    d = build(counts=counts, durations={})
    assert (d.year.rate, d.year.meets_target, d.year.median_days, d.year.within_standard) == (None, None, None, None)


def test_attention_lists_overdue_and_indicators_strictly_under_the_threshold() -> None:
    d = build()
    assert [(a.kind, a.label) for a in d.attention] == [
        ("terlambat", "TRB-2026-00001, TRB-2026-00004"),
        ("indikator", "IKU-1"),  # 75,99 < 76; IKU-2 at exactly 76 is not; IKU-3 has no capaian
    ]
    assert d.attention[0].count == 2
    assert build(figures=figures(overdue=0, overdue_tickets=[]), indicators=[]).attention == ()


def test_counts_sorted_most_first_without_zeros() -> None:
    d = build()
    assert list(d.figures.by_category) == [("Perjudian", 3), ("Minuman keras", 2)]
    assert list(d.figures.by_desa) == [("Jelbuk", 4), ("Panduman", 1)]


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="Histogram"):
        build(durations={1: 8})  # 8 durations for 7 resolved
    with pytest.raises(ValueError):
        build(figures=figures(open_now=1, overdue=2))
    with pytest.raises(ValueError):
        build(week=Period("quarter", 2026, 4))


def test_week_point_rate() -> None:
    assert WeekPoint(W48, 3, 1, 3, 2).rate == Decimal("66.67")
    assert WeekPoint(W48, 1, 0, 0, 0).rate is None
