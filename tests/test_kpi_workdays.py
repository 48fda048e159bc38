from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.workdays import (
    WorkingDayCount,
    add_working_days,
    is_overdue,
    is_working_day,
    working_days_between,
)

# Explicit holiday set so these tests do not depend on the holidays package.
CHRISTMAS = date(2026, 12, 25)  # a Friday
HOL = frozenset({CHRISTMAS})
NONE: frozenset[date] = frozenset()


def test_weekdays_are_working_days_weekends_and_holidays_are_not() -> None:
    assert is_working_day(date(2026, 11, 23), HOL)  # Monday
    assert is_working_day(date(2026, 11, 27), HOL)  # Friday
    assert not is_working_day(date(2026, 11, 28), HOL)  # Saturday
    assert not is_working_day(date(2026, 11, 29), HOL)  # Sunday
    assert not is_working_day(CHRISTMAS, HOL)
    assert is_working_day(CHRISTMAS, NONE)


def test_verification_deadline_skips_holiday_and_weekend() -> None:
    received = date(2026, 12, 24)  # Thursday before Christmas
    # Fri 25 (holiday), Sat, Sun skipped: Mon 28, Tue 29, Wed 30.
    assert add_working_days(received, 3, HOL) == date(2026, 12, 30)
    assert add_working_days(received, 3, NONE) == date(2026, 12, 29)


def test_deadline_counts_strictly_after_the_day_received() -> None:
    assert add_working_days(date(2026, 11, 23), 1, NONE) == date(2026, 11, 24)
    # Received on a Saturday: the first working day after it is Monday.
    assert add_working_days(date(2026, 11, 28), 1, NONE) == date(2026, 11, 30)
    # Five working days from a Friday is the next Friday.
    assert add_working_days(date(2026, 11, 27), 5, NONE) == date(2026, 12, 4)


@pytest.mark.parametrize("n", [0, -1])
def test_add_working_days_rejects_non_positive(n: int) -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), n, NONE)


def test_working_days_between_is_half_open() -> None:
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 30), HOL) == 3
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 24), HOL) == 0
    assert working_days_between(date(2026, 12, 30), date(2026, 12, 24), HOL) == 0
    # Start day is not counted, end day is.
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 24), NONE) == 1


def test_holidays_may_be_any_container() -> None:
    class OnlyContains:
        def __contains__(self, item: object) -> bool:
            return item == CHRISTMAS

    assert not is_working_day(CHRISTMAS, OnlyContains())
    assert add_working_days(date(2026, 12, 24), 1, OnlyContains()) == date(2026, 12, 28)


def test_overdue_only_after_the_due_day() -> None:
    due = date(2026, 12, 30)
    assert not is_overdue(due, date(2026, 12, 29))
    assert not is_overdue(due, due)
    assert is_overdue(due, date(2026, 12, 31))


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
holiday_sets = st.frozensets(days, max_size=40)


@given(start=days, n=st.integers(1, 60), holidays=holiday_sets)
def test_add_and_between_are_inverse(start: date, n: int, holidays: frozenset[date]) -> None:
    due = add_working_days(start, n, holidays)
    assert due > start
    assert is_working_day(due, holidays)
    assert working_days_between(start, due, holidays) == n
    # Due is the first day reaching n: the day before has only n - 1.
    assert working_days_between(start, due - timedelta(days=1), holidays) == n - 1


@given(a=days, b=days, c=days, holidays=holiday_sets)
def test_between_is_additive(a: date, b: date, c: date, holidays: frozenset[date]) -> None:
    a, b, c = sorted((a, b, c))
    assert working_days_between(a, c, holidays) == working_days_between(
        a, b, holidays
    ) + working_days_between(b, c, holidays)


@given(start=days)
def test_any_week_without_holidays_has_five_working_days(start: date) -> None:
    assert working_days_between(start, start + timedelta(days=7), NONE) == 5


_DAYS = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31))


@given(st.lists(st.tuples(_DAYS, _DAYS), min_size=1, max_size=40),
       st.frozensets(_DAYS, max_size=12))
def test_the_kept_count_of_many_pairs_is_working_days_between(pairs: list[tuple[date, date]],
                                                              holidays: frozenset[date]) -> None:
    # One counter for all pairs, asked in any order (earlier days re-anchor it).
    count = WorkingDayCount(holidays)
    assert [count.between(a, b) for a, b in pairs] == [working_days_between(a, b, holidays) for a, b in pairs]


def test_the_kept_count_across_christmas_and_a_weekend() -> None:
    count = WorkingDayCount(HOL)
    assert count.between(date(2026, 12, 24), date(2026, 12, 30)) == 3  # Fri 25 holiday, Sat, Sun
    assert count.between(date(2026, 12, 1), date(2026, 12, 24)) == 17  # re-anchored earlier
    assert count.between(date(2026, 12, 30), date(2026, 12, 24)) == 0
