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


class WorkingDayCount:
    """working_days_between for many pairs of dates (a year's resolution times: thousands of
    (received, resolved) days): each date's count of working days since an anchor is worked
    out once and kept, and a pair is then one subtraction instead of a walk over its days."""

    def __init__(self, holidays: Container[date]) -> None:
        self.holidays = holidays
        self._anchor: date | None = None
        # _since[i]: working days in (anchor, anchor + i days]; _since[0] == 0.
        self._since: list[int] = []

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end <= start (as working_days_between)."""
        if end <= start:
            return 0
        # The earlier day first: it may move the anchor (and every kept count with it); the
        # later one then only extends the counts.
        before = self._count(start)
        return self._count(end) - before

    def _count(self, day: date) -> int:
        if self._anchor is None:
            self._anchor, self._since = day, [0]
        elif day < self._anchor:
            # Re-anchored on the earlier day: the days up to the old anchor, then the old counts shifted.
            head = [0]
            walk = day
            while walk < self._anchor:
                walk += _ONE_DAY
                head.append(head[-1] + is_working_day(walk, self.holidays))
            shift = head.pop()
            self._since = head + [n + shift for n in self._since]
            self._anchor = day
        offset = (day - self._anchor).days
        walk = self._anchor + timedelta(days=len(self._since) - 1)
        while len(self._since) <= offset:
            walk += _ONE_DAY
            self._since.append(self._since[-1] + is_working_day(walk, self.holidays))
        return self._since[offset]


def is_overdue(due: date, today: date) -> bool:
    # The due date itself is still on time: the standard is "by the end of" that day.
    return today > due
