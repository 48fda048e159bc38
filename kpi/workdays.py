# Working days of the kecamatan office.
# Invariants: pure (holidays come in as any Container[date], built by the caller from the
# `holidays` package plus local cuti bersama); Monday-Friday are the only working weekdays;
# intervals are (start, end]: the day something arrives never counts, the day it is done does.

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)


def is_working_day(d: date, holidays: Container[date]) -> bool:
    return d.weekday() < 5 and d not in holidays


def add_working_days(start: date, n: int, holidays: Container[date]) -> date:
    """The n-th working day strictly after `start` (n >= 1).

    A complaint received on D with a 3-working-day standard is due by the end of
    add_working_days(D, 3, holidays), whether or not D itself is a working day.
    """
    if n < 1:
        raise ValueError(f"n harus >= 1, bukan {n}")
    day = start
    remaining = n
    while remaining:
        day += _ONE_DAY
        if is_working_day(day, holidays):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, holidays: Container[date]) -> int:
    """Working days in (start, end]; 0 when end <= start.

    Inverse of add_working_days: working_days_between(d, add_working_days(d, n, h), h) == n.
    """
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        if is_working_day(day, holidays):
            count += 1
    return count


def is_overdue(due: date, today: date) -> bool:
    # The due date itself is still on time: the standard is "by the end of" that day.
    return today > due
