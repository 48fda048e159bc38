from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.periods import (
    KINDS,
    Kind,
    Period,
    following,
    parse_period,
    period_containing,
    previous,
    quarter_of_date,
    quarters_of,
    weeks_back,
)

WIB = ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("text", "expected", "label"),
    [
        ("2026", Period("year", 2026), "Tahun 2026"),
        ("2026-S1", Period("semester", 2026, 1), "Semester I 2026"),
        ("2026-S2", Period("semester", 2026, 2), "Semester II 2026"),
        ("2026-Q1", Period("quarter", 2026, 1), "Triwulan I 2026"),
        ("2026-Q4", Period("quarter", 2026, 4), "Triwulan IV 2026"),
        ("2026-W48", Period("week", 2026, 48), "Minggu ke-48 2026"),
        ("2026-W53", Period("week", 2026, 53), "Minggu ke-53 2026"),
    ],
)
def test_parse_canonical_codes_and_labels(text: str, expected: Period, label: str) -> None:
    period = parse_period(text)
    assert period == expected
    assert str(period) == text
    assert period.code == text
    assert period.label() == label


def test_parse_is_lenient_on_case_space_and_week_padding() -> None:
    assert parse_period(" 2026-q3 ") == Period("quarter", 2026, 3)
    assert parse_period("2026-w5") == Period("week", 2026, 5)
    assert str(parse_period("2026-W5")) == "2026-W05"


def test_bad_period_message_is_indonesian_with_examples() -> None:
    with pytest.raises(ValueError) as info:
        parse_period("2026-Q5")
    assert str(info.value) == (
        "Periode tidak dikenal: '2026-Q5'. Contoh: 2026, 2026-S2, 2026-Q4, 2026-W48."
    )


@pytest.mark.parametrize(
    "text",
    ["", "26", "2026-", "2026-Q0", "2026-S3", "2026-W0", "2025-W53", "2026-M1", "2026Q1", "٢٠٢٦"],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="Periode tidak dikenal"):
        parse_period(text)


def test_period_construction_is_validated() -> None:
    with pytest.raises(ValueError):
        Period("quarter", 2026, 5)
    with pytest.raises(ValueError):
        Period("year", 2026, 1)
    with pytest.raises(ValueError):
        Period("month", 2026, 1)  # type: ignore[arg-type]


def test_start_and_end_are_local_midnights_half_open() -> None:
    q4 = parse_period("2026-Q4")
    assert q4.start(WIB) == datetime(2026, 10, 1, tzinfo=WIB)
    assert q4.end(WIB) == datetime(2027, 1, 1, tzinfo=WIB)
    assert q4.start(WIB).utcoffset() == timedelta(hours=7)
    # In UTC, the WIB year starts the evening before.
    assert parse_period("2027").start(WIB).astimezone(UTC) == datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert parse_period("2026-S1").end(WIB) == datetime(2026, 7, 1, tzinfo=WIB)


def test_iso_weeks_start_monday_and_cross_the_year() -> None:
    w53 = parse_period("2026-W53")
    assert w53.start(WIB) == datetime(2026, 12, 28, tzinfo=WIB)
    assert w53.start(WIB).weekday() == 0
    assert w53.end(WIB) == datetime(2027, 1, 4, tzinfo=WIB)
    assert parse_period("2026-W01").start(WIB) == datetime(2025, 12, 29, tzinfo=WIB)


def test_moment_is_converted_to_local_time_first() -> None:
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 2027-01-01 00:30 WIB
    assert period_containing("quarter", moment, WIB) == Period("quarter", 2027, 1)
    assert period_containing("year", moment, WIB) == Period("year", 2027)
    assert period_containing("semester", moment, WIB) == Period("semester", 2027, 1)
    assert period_containing("week", moment, WIB) == Period("week", 2026, 53)
    assert period_containing("quarter", moment, UTC) == Period("quarter", 2026, 4)


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        period_containing("quarter", datetime(2026, 1, 1), WIB)  # noqa: DTZ001


def test_previous_and_lists() -> None:
    assert previous(parse_period("2026-Q1")) == parse_period("2025-Q4")
    assert previous(parse_period("2026-S1")) == parse_period("2025-S2")
    assert previous(parse_period("2026")) == parse_period("2025")
    assert previous(parse_period("2027-W01")) == parse_period("2026-W53")
    assert previous(parse_period("2026-W01")) == parse_period("2025-W52")
    assert [str(q) for q in quarters_of(2026)] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [str(w) for w in weeks_back(parse_period("2027-W02"), 4)] == [
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]
    assert weeks_back(parse_period("2027-W02"), 0) == []
    with pytest.raises(ValueError):
        weeks_back(parse_period("2027-Q1"), 2)
    assert quarter_of_date(date(2026, 9, 30)) == Period("quarter", 2026, 3)
    assert quarter_of_date(date(2026, 10, 1)) == Period("quarter", 2026, 4)


def test_extreme_years_have_an_end_and_no_previous_before_year_one() -> None:
    assert parse_period("9998-Q4").end(UTC) == datetime(9999, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        previous(Period("year", 1))


zones = st.sampled_from([WIB, UTC, timezone(timedelta(hours=-10)), ZoneInfo("Europe/Berlin")])
moments = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds must be naive
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=zones,
)
kinds = st.sampled_from(KINDS)


@given(kind=kinds, moment=moments, tz=zones)
def test_containing_period_contains_the_moment(kind: Kind, moment: datetime, tz: ZoneInfo) -> None:
    period = period_containing(kind, moment, tz)
    assert period.start(tz) <= moment < period.end(tz)
    assert parse_period(str(period)) == period


@given(kind=kinds, moment=moments)
def test_periods_tile_time(kind: Kind, moment: datetime) -> None:
    period = period_containing(kind, moment, WIB)
    before = previous(period)
    assert before.end(WIB) == period.start(WIB)
    assert following(before) == period
    assert following(period).start(WIB) == period.end(WIB)
